/**
 * The second step of signing in (SPEC §3): an authenticator code, a recovery code or a passkey,
 * within the 5 minutes of the ticket the password step issued, on the device that typed the
 * password.
 */
import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import { findAccountById, type Account } from '../accounts/queries.ts'
import { MINUTE_MS } from '../clock.ts'
import type { AppContext } from '../context.ts'
import { hashToken, newId, newToken } from '../crypto.ts'
import type { Queryable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { hasPasskey, verifyPasskeyAssertion } from '../passkeys/passkeys.ts'
import type { Session } from '../sessions/sessions.ts'
import { verifySecondFactor, type SecondFactor } from '../two-factor/two-factor.ts'
import { completeSignIn } from './complete.ts'

/** Open second-step tickets stop working after a credential change (accounts' credentialsChanged). */
export async function retireOpenTickets(db: Queryable, accountId: string): Promise<void> {
  await db.deleteFrom('signin_tickets').where('account_id', '=', accountId).where('used_at', 'is', null).execute()
}

export const TICKET_LIFETIME_MS = 5 * MINUTE_MS
export const TICKET_MAX_ATTEMPTS = 5

/** After the password: a ticket for the second step, bound to this device, with the methods the account has. */
export async function issueSignInTicket(ctx: AppContext, account: Account, input: { staySignedIn: boolean; deviceKey: string }): Promise<{ ticket: string; expiresAt: number; methods: ('totp' | 'recovery_code' | 'passkey')[] }> {
  const ticket = newToken()
  const now = ctx.clock.now()
  await ctx.db
    .insertInto('signin_tickets')
    .values({ id: newId(), token_hash: hashToken(ticket), account_id: account.id, stay_signed_in: input.staySignedIn ? 1 : 0, device_hash: hashToken(input.deviceKey), created_at: now, expires_at: now + TICKET_LIFETIME_MS, used_at: null })
    .execute()
  return { ticket, expiresAt: now + TICKET_LIFETIME_MS, methods: (await hasPasskey(ctx, account.id)) ? ['totp', 'recovery_code', 'passkey'] : ['totp', 'recovery_code'] }
}

/** The account an open ticket is for (to offer a passkey challenge as its second factor), or undefined. */
export async function openTicketAccount(ctx: AppContext, ticket: string): Promise<string | undefined> {
  const row = await ctx.db
    .selectFrom('signin_tickets')
    .select('account_id')
    .where('token_hash', '=', hashToken(ticket))
    .where('used_at', 'is', null)
    .where('expires_at', '>', ctx.clock.now())
    .executeTakeFirst()
  return row?.account_id
}

/** The second step: an authenticator code, a recovery code, or a passkey, within the ticket's 5 minutes. */
export async function signInSecondFactor(
  ctx: AppContext,
  input: { ticket: string; factor: SecondFactor | { passkey: { challengeId: string; response: AuthenticationResponseJSON } }; meta: RequestMeta; deviceKey: string; kind?: 'web' | 'api' },
): Promise<{ token: string; session: Session; account: Account }> {
  const now = ctx.clock.now()
  // Each attempt is reserved before the code is checked: parallel guesses on one ticket cannot
  // exceed its five attempts. The ticket only works on the device that typed the password, so a
  // leaked ticket is useless elsewhere.
  const ticket = await ctx.db
    .updateTable('signin_tickets')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('token_hash', '=', hashToken(input.ticket))
    .where('device_hash', '=', hashToken(input.deviceKey))
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .where('attempts', '<', TICKET_MAX_ATTEMPTS)
    .returning(['id', 'account_id', 'stay_signed_in'])
    .executeTakeFirst()
  if (!ticket) throw new AppError('ticket_invalid', { fields: { ticket: 'invalid' } })
  const account = await findAccountById(ctx.db, ticket.account_id)
  if (!account || account.status !== 'active') throw new AppError('ticket_invalid', { fields: { ticket: 'invalid' } })
  // Spent up front for the same reason; a success gives it back.
  const limitKey = `2fa:${account.id}`
  await ctx.limits.consume('two_factor_account', limitKey)

  let method: string
  try {
    if ('passkey' in input.factor) {
      await verifyPasskeyAssertion(ctx, { ...input.factor.passkey, purpose: 'second_factor', accountId: account.id })
      method = 'passkey'
    } else {
      method = await verifySecondFactor(ctx, account, input.factor)
    }
  } catch (err) {
    await recordAudit(ctx.db, { accountId: account.id, type: 'two_factor.failed', meta: input.meta, at: now })
    throw err
  }
  // The ticket is single use even if two requests race with valid codes.
  const spent = await ctx.db.updateTable('signin_tickets').set({ used_at: now }).where('id', '=', ticket.id).where('used_at', 'is', null).executeTakeFirst()
  if (Number(spent.numUpdatedRows) !== 1) throw new AppError('ticket_invalid', { fields: { ticket: 'invalid' } })
  await ctx.limits.reset('two_factor_account', limitKey)
  return completeSignIn(ctx, account, { staySignedIn: ticket.stay_signed_in === 1, meta: input.meta, deviceKey: input.deviceKey, kind: input.kind, method: `password+${method}` })
}

