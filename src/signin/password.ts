/**
 * Signing in with a password (SPEC §3): the login is an email or a username. Every failure that
 * could tell an attacker whether an account exists looks the same from outside: same error,
 * status and argon2 time. Distinct errors (deactivated, locked) go only to someone who proved
 * the password. With two-factor authentication on, the answer is a ticket for the second step
 * (src/signin/second-factor.ts) instead of a session.
 */
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import { canonicalEmail, normalizeEmail } from '../accounts/emails.ts'
import { normalizeUsername } from '../accounts/usernames.ts'
import type { Account } from '../accounts/queries.ts'
import type { AppContext } from '../context.ts'
import { AppError } from '../errors.ts'
import { normalizePassword } from '../passwords/policy.ts'
import { evictCachedSessions, type Session } from '../sessions/sessions.ts'
import { completeSignIn } from './complete.ts'
import { issueSignInTicket } from './second-factor.ts'

export interface SignInContext {
  staySignedIn: boolean
  meta: RequestMeta
  /** Identifies the browser or app for "new device" notices: a device cookie, or UA + IP. */
  deviceKey: string
  /** `api` when the token goes to an app or script instead of a browser cookie. */
  kind?: 'web' | 'api'
}

export type SignInResult =
  | { kind: 'session'; token: string; session: Session; account: Account }
  | { kind: 'two_factor'; ticket: string; expiresAt: number; methods: ('totp' | 'recovery_code' | 'passkey')[] }

function loginKey(login: string): { column: 'email_normalized' | 'username_normalized'; value: string } | null {
  const trimmed = login.trim()
  if (trimmed.includes('@')) {
    try {
      return { column: 'email_normalized', value: normalizeEmail(canonicalEmail(trimmed)) }
    } catch {
      return null
    }
  }
  return { column: 'username_normalized', value: normalizeUsername(trimmed) }
}

/** The account a login names, and whether it has 2FA on: one query on the sign-in path. */
export async function findAccountByLogin(ctx: AppContext, login: string): Promise<(Account & { two_factor_enabled_at: number | null }) | undefined> {
  const key = loginKey(login)
  if (!key) return undefined
  return ctx.db
    .selectFrom('accounts')
    .leftJoin('two_factor', 'two_factor.account_id', 'accounts.id')
    .selectAll('accounts')
    .select('two_factor.enabled_at as two_factor_enabled_at')
    .where(`accounts.${key.column}`, '=', key.value)
    .executeTakeFirst()
}

export async function signIn(ctx: AppContext, input: SignInContext & { login: string; password: string }): Promise<SignInResult> {
  await ctx.limits.consume('signin_ip', input.meta.ip)
  const password = normalizePassword(input.password)
  const key = loginKey(input.login)
  const account = await findAccountByLogin(ctx, input.login)
  // One bucket per account (its email and username share it), or per typed login when there is
  // none. Spent before the hash, so a burst of parallel guesses cannot all pass a check made
  // before any failure was counted; a success gives the point back.
  const failureKey = account ? `account:${account.id}` : key ? `${key.column}:${key.value}` : `raw:${input.login}`
  await ctx.limits.consume('signin_failures_account', failureKey)
  const passwordOk = await ctx.hasher.verify(account?.password_hash ?? null, password)

  // A locked account answers the same whatever the password, so the lock is no guessing oracle.
  if (account?.password_signin_locked) throw new AppError('signin_locked')
  if (!account || !passwordOk) {
    await recordFailure(ctx, account ?? null, input.meta)
    throw new AppError('invalid_credentials', { fields: { login: 'invalid', password: 'invalid' } })
  }
  if (account.status !== 'active') throw new AppError('account_deactivated')
  await ctx.limits.reset('signin_failures_account', failureKey)

  const rehash = account.password_hash && ctx.hasher.needsRehash(account.password_hash) ? await ctx.hasher.hash(password) : null
  if (account.failed_signins > 0 || rehash) {
    await ctx.db.updateTable('accounts').set({ failed_signins: 0, ...(rehash ? { password_hash: rehash } : {}) }).where('id', '=', account.id).execute()
    await evictCachedSessions(ctx, account.id)
  }

  if (account.two_factor_enabled_at != null) {
    return { kind: 'two_factor', ...(await issueSignInTicket(ctx, account, input)) }
  }
  return { kind: 'session', ...(await completeSignIn(ctx, account, { ...input, method: 'password' })) }
}

/**
 * Counts a failed password. Unknown logins get an audit row too: operators see the attempts,
 * and both outcomes do comparable database work before answering (no timing tell).
 */
async function recordFailure(ctx: AppContext, account: Account | null, meta: RequestMeta): Promise<void> {
  const lockAfter = ctx.config.rateLimits.signinLockAfterFailures
  await ctx.db.transaction().execute(async (trx) => {
    const now = ctx.clock.now()
    if (!account) {
      await recordAudit(trx, { accountId: null, type: 'signin.failed', meta, at: now, details: { reason: 'unknown_login' } })
      return
    }
    // One conditional update: concurrent failures each count, none is lost.
    const updated = await trx
      .updateTable('accounts')
      .set((eb) => ({ failed_signins: eb('failed_signins', '+', 1) }))
      .where('id', '=', account.id)
      .returning(['failed_signins', 'password_signin_locked'])
      .executeTakeFirst()
    await recordAudit(trx, { accountId: account.id, type: 'signin.failed', meta, at: now })
    if (updated && updated.failed_signins >= lockAfter && !updated.password_signin_locked) {
      await trx.updateTable('accounts').set({ password_signin_locked: 1 }).where('id', '=', account.id).execute()
      await recordAudit(trx, { accountId: account.id, type: 'account.signin_locked', meta, at: now, details: { failedSignins: updated.failed_signins } })
    }
  })
  // No cache eviction: the failure count and the lock change nothing a live session shows.
}
