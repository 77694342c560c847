/**
 * "Require 2FA for password sign-in" (SPEC §7 Enterprise controls), in a way a member can comply
 * with: a member of such a team who has no 2FA and proves the password gets no session but a
 * set-up ticket (`team_requires_two_factor`), bound to the device that typed the password, valid
 * 15 minutes. With it, and only for that account, the sign-in page shows the authenticator key,
 * takes the first code, turns 2FA on (every older session ends, as turning it on always does),
 * shows the recovery codes, and only then signs in. Nothing else is reachable before 2FA is on,
 * so there is no half-signed-in session to guard on every route (GitHub's and Postman's "sign in,
 * then forced set-up" does the same with a restricted session).
 *
 * The ticket lives in `signin_tickets` beside the second-step tickets. The two cannot stand in
 * for each other: a second-step ticket is issued only to accounts with 2FA on, which the set-up
 * refuses (`two_factor_already_enabled`); a set-up ticket's account has no 2FA, so the second
 * step has no code to accept (a passkey the account already has is a second factor, and is
 * accepted there as for anyone).
 */
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import { findAccountById, type Account } from '../accounts/queries.ts'
import { MINUTE_MS } from '../clock.ts'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { hashToken, newId, newToken } from '../crypto.ts'
import { AppError } from '../errors.ts'
import { checkSetupCode, startTwoFactorSetup, turnOnTwoFactor } from '../two-factor/two-factor.ts'
import { completeSignIn } from './complete.ts'

/** Long enough to install an authenticator app; the set-up itself needs the ticket's device. */
export const SETUP_TICKET_LIFETIME_MS = 15 * MINUTE_MS
/** Wrong codes per ticket, as for the second step. */
export const SETUP_TICKET_MAX_ATTEMPTS = 5

export async function issueTwoFactorSetupTicket(ctx: AppContext, account: Account, input: { staySignedIn: boolean; deviceKey: string }): Promise<{ setupTicket: string; expiresAt: string }> {
  const ticket = newToken()
  const now = ctx.clock.now()
  await ctx.db
    .insertInto('signin_tickets')
    .values({ id: newId(), token_hash: hashToken(ticket), account_id: account.id, stay_signed_in: input.staySignedIn ? 1 : 0, device_hash: hashToken(input.deviceKey), created_at: now, expires_at: now + SETUP_TICKET_LIFETIME_MS, used_at: null })
    .execute()
  return { setupTicket: ticket, expiresAt: new Date(now + SETUP_TICKET_LIFETIME_MS).toISOString() }
}

function ticketInvalid(): AppError {
  return new AppError('ticket_invalid', { fields: { ticket: 'invalid' } })
}

/** The open ticket's row and account, counting one attempt (so a ticket cannot be hammered). */
async function openTicket(ctx: AppContext, input: { ticket: string; deviceKey: string }) {
  const ticket = await ctx.db
    .updateTable('signin_tickets')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('token_hash', '=', hashToken(input.ticket))
    .where('device_hash', '=', hashToken(input.deviceKey))
    .where('used_at', 'is', null)
    .where('expires_at', '>', ctx.clock.now())
    .where('attempts', '<', SETUP_TICKET_MAX_ATTEMPTS * 2)
    .returning(['id', 'account_id', 'stay_signed_in'])
    .executeTakeFirst()
  if (!ticket) throw ticketInvalid()
  const account = await findAccountById(ctx.db, ticket.account_id)
  if (!account || account.status !== 'active') throw ticketInvalid()
  return { ticket, account }
}

/** The authenticator key for the ticket's account (the same key again after a reload). */
export async function beginTwoFactorSetupWithTicket(ctx: AppContext, input: { ticket: string; deviceKey: string }) {
  const { account } = await openTicket(ctx, input)
  return startTwoFactorSetup(ctx, account)
}

/** The first code: 2FA on, recovery codes, and the sign-in the team's rule held back. */
export async function confirmTwoFactorSetupWithTicket(ctx: AppContext, input: { ticket: string; code: string; deviceKey: string; meta: RequestMeta; kind?: 'web' | 'api' }) {
  const { ticket, account } = await openTicket(ctx, input)
  const step = await checkSetupCode(ctx, account.id, input.code)
  const recoveryCodes = await inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now()
    // Single use even if two confirmations race.
    const spent = await trx.updateTable('signin_tickets').set({ used_at: now }).where('id', '=', ticket.id).where('used_at', 'is', null).executeTakeFirst()
    if (Number(spent.numUpdatedRows) !== 1) throw ticketInvalid()
    const { recoveryCodes, revoked } = await turnOnTwoFactor(ctx, trx, account, step, now)
    await recordAudit(trx, { accountId: account.id, type: 'two_factor.enabled', meta: input.meta, at: now, details: { sessionsRevoked: revoked, requiredByTeam: true } })
    return recoveryCodes
  })
  const signedIn = await completeSignIn(ctx, account, { staySignedIn: ticket.stay_signed_in === 1, meta: input.meta, deviceKey: input.deviceKey, kind: input.kind, method: 'password+totp' })
  return { ...signedIn, recoveryCodes }
}
