/**
 * Accounts and identity providers (SPEC §2 "sign up with Google", §6 "set a password for
 * accounts made with Google"): the changes to `accounts` that signing in with Google (and later
 * team SSO) makes, kept here because this folder owns the table.
 */
import { sql } from 'kysely'
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import type { AppContext } from '../context.ts'
import { inTransaction, link } from '../context.ts'
import { newId } from '../crypto.ts'
import { isUniqueViolation } from '../db/errors.ts'
import type { Queryable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { pickLocale } from '../mail/templates.ts'
import { notifySecurity } from '../notifications/notifications.ts'
import { checkNewPassword, passwordContextWords } from '../passwords/policy.ts'
import { evictAfterCommit, markReauthenticated, revokeAllSessions, type Authenticated } from '../sessions/sessions.ts'
import { canonicalEmail, normalizeEmail } from './emails.ts'
import type { Account } from './queries.ts'
import { issueToken, retireOutstandingLinks } from './tokens.ts'
import { checkUsername, normalizeUsername, usernameTakenError } from './usernames.ts'

export interface ProviderSignUp {
  email: string
  /** The provider vouches for the address (Google's `email_verified`). Otherwise it is confirmed by link, as any sign-up. */
  emailVerified: boolean
  username: string
  displayName: string
  acceptTerms: boolean
  locale?: string
  method: string
  meta: RequestMeta
}

/**
 * An account without a password, made from an identity provider's answer, in the caller's
 * transaction (the identity is linked in the same one). The address comes confirmed only when
 * the provider verified it; an unverified one gets the usual confirmation link.
 */
export async function createProviderAccount(ctx: AppContext, trx: Queryable, input: ProviderSignUp): Promise<Account> {
  if (input.acceptTerms !== true) throw new AppError('terms_not_accepted', { fields: { acceptTerms: 'required' } })
  const email = canonicalEmail(input.email)
  const username = checkUsername(input.username)
  const locale = pickLocale(input.locale)
  const now = ctx.clock.now()
  const taken = await trx.selectFrom('accounts').select('id').where('username_normalized', '=', normalizeUsername(username)).executeTakeFirst()
  if (taken) throw await usernameTakenError(trx, username, now)
  let account: Account
  // A savepoint, so a lost race leaves the caller's transaction usable for the answer below:
  // PostgreSQL refuses every further statement of a transaction after a failed one.
  await sql`savepoint provider_account`.execute(trx)
  try {
    account = await trx
      .insertInto('accounts')
      .values({
        id: newId(),
        email,
        email_normalized: normalizeEmail(email),
        email_confirmed_at: input.emailVerified ? now : null,
        username,
        username_normalized: normalizeUsername(username),
        password_hash: null,
        display_name: input.displayName.trim().slice(0, 100),
        job_role: null,
        locale,
        terms_version: ctx.config.termsVersion,
        terms_accepted_at: now,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
    await sql`release savepoint provider_account`.execute(trx)
  } catch (err) {
    if (!isUniqueViolation(err)) throw err
    await sql`rollback to savepoint provider_account`.execute(trx)
    // A race for the username or the address (the address was checked by the caller).
    const raced = await trx.selectFrom('accounts').select('id').where('username_normalized', '=', normalizeUsername(username)).executeTakeFirst()
    if (raced) throw await usernameTakenError(trx, username, now)
    throw new AppError('email_taken')
  }
  if (!input.emailVerified) {
    const token = await issueToken(trx, ctx.clock, { accountId: account.id, purpose: 'email_confirm', email, newAccount: true })
    await ctx.mailer.enqueue(trx, { to: email, template: 'confirm_email', locale, vars: { username, link: link(ctx, '/confirm-email', { token }) } })
  }
  await recordAudit(trx, { accountId: account.id, type: 'account.created', meta: input.meta, at: now, details: { termsVersion: ctx.config.termsVersion, method: input.method } })
  return account
}

/** The provider verified the address and the person proved the account is theirs: it counts as confirmed. */
export async function confirmEmailByProvider(ctx: AppContext, trx: Queryable, account: Account, meta: RequestMeta, method: string): Promise<void> {
  if (account.email_confirmed_at !== null) return
  const now = ctx.clock.now()
  await trx.updateTable('accounts').set({ email_confirmed_at: now, updated_at: now }).where('id', '=', account.id).where('email_confirmed_at', 'is', null).execute()
  await evictAfterCommit(ctx, trx, account.id)
  await recordAudit(trx, { accountId: account.id, type: 'account.email_confirmed', meta, at: now, details: { method } })
}

/**
 * The address of an account that never confirmed it goes to the person whose provider verified
 * it (Google's `email_verified`), so a sign-up that merely typed someone's Gmail address cannot
 * lock its real owner out. The squatting row is not taken over — its password, passkeys or
 * authenticator could still open it — it only loses the address: it keeps its username and
 * password, gets a placeholder at the reserved `.invalid` domain (RFC 2606), and its
 * confirmation links stop working. Returns false when the row confirmed it meanwhile.
 */
export async function releaseUnconfirmedEmail(ctx: AppContext, trx: Queryable, accountId: string, meta: RequestMeta): Promise<boolean> {
  const now = ctx.clock.now()
  const row = await trx.selectFrom('accounts').select(['id', 'email']).where('id', '=', accountId).where('email_confirmed_at', 'is', null).executeTakeFirst()
  if (!row) return false
  const placeholder = `released-${accountId}@unconfirmed.invalid`
  // Conditional: a confirmation that lands in between keeps the address where it is.
  const released = await trx.updateTable('accounts').set({ email: placeholder, email_normalized: placeholder, updated_at: now }).where('id', '=', accountId).where('email_confirmed_at', 'is', null).executeTakeFirst()
  if (Number(released.numUpdatedRows) !== 1) return false
  await retireOutstandingLinks(ctx, trx, accountId)
  await evictAfterCommit(ctx, trx, accountId)
  await recordAudit(trx, { accountId, type: 'account.email_released', meta, at: now, details: { email: row.email, reason: 'verified_by_identity_provider' } })
  return true
}

/**
 * SPEC §6: an account made with Google (no password yet) sets one. The route asks for a recent
 * sign-in instead of a current password, which such an account does not have. Other sessions
 * end, as with any change of password (SPEC §4).
 */
export async function setFirstPassword(ctx: AppContext, auth: Authenticated, input: { newPassword: string }, meta: RequestMeta): Promise<{ otherSessionsRevoked: number }> {
  const { account, session } = auth
  if (account.password_hash !== null) throw new AppError('password_already_set')
  const password = checkNewPassword(input.newPassword, 'newPassword', passwordContextWords(ctx.config.publicUrl, account))
  const passwordHash = await ctx.hasher.hash(password)
  return inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now()
    // Conditional: two requests racing cannot both set it.
    const updated = await trx.updateTable('accounts').set({ password_hash: passwordHash, failed_signins: 0, password_signin_locked: 0, updated_at: now }).where('id', '=', account.id).where('password_hash', 'is', null).executeTakeFirst()
    if (Number(updated.numUpdatedRows) !== 1) throw new AppError('password_already_set')
    const revoked = await revokeAllSessions(ctx, trx, { accountId: account.id, exceptSessionId: session.id })
    await markReauthenticated(ctx, trx, session, now)
    await recordAudit(trx, { accountId: account.id, type: 'account.password_set', meta, at: now, details: { otherSessionsRevoked: revoked } })
    await notifySecurity(ctx, trx, account, 'password_changed', { username: account.username, recoveryUrl: link(ctx, '/trouble-signing-in') })
    await evictAfterCommit(ctx, trx, account.id)
    return { otherSessionsRevoked: revoked }
  })
}

