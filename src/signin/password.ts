/**
 * Signing in with a password (SPEC §3): the login is an email or a username. Every failure that
 * could tell an attacker whether an account exists looks the same from outside: same error,
 * status and argon2 time. Distinct errors (deactivated, locked) go only to someone who proved
 * the password. With two-factor authentication on, the answer is a ticket for the second step
 * (src/signin/second-factor.ts) instead of a session.
 */
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import { countFailedSignIn, findAccountByLogin, loginKey, markSignedIn, type Account } from '../accounts/queries.ts'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { AppError } from '../errors.ts'
import { normalizePassword } from '../passwords/policy.ts'
import type { Session } from '../sessions/sessions.ts'
import { isTwoFactorEnabled } from '../two-factor/two-factor.ts'
import { completeSignIn } from './complete.ts'
import { issueSignInTicket } from './second-factor.ts'
import { issueTwoFactorSetupTicket } from './two-factor-setup.ts'
import { passwordSigninRules } from '../sso/policies.ts'

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

export async function signIn(ctx: AppContext, input: SignInContext & { login: string; password: string }): Promise<SignInResult> {
  await ctx.limits.consume('signin_ip', input.meta.ip)
  const password = normalizePassword(input.password)
  const key = loginKey(input.login)
  const account = await findAccountByLogin(ctx.db, input.login)
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
  // After the password, like the errors above: only its owner learns which teams require SSO.
  const { requiringTwoFactor: requiring } = await passwordSigninRules(ctx, account.id)

  const rehash = account.password_hash && ctx.hasher.needsRehash(account.password_hash) ? await ctx.hasher.hash(password) : null
  await markSignedIn(ctx, account, rehash)

  if (await isTwoFactorEnabled(ctx.db, account.id)) {
    return { kind: 'two_factor', ...(await issueSignInTicket(ctx, account, input)) }
  }
  // A team requires 2FA and there is none: no session, a ticket to set it up (./two-factor-setup.ts).
  if (requiring.length) {
    throw new AppError('team_requires_two_factor', { details: { ...(await issueTwoFactorSetupTicket(ctx, account, input)), teams: requiring } })
  }
  return { kind: 'session', ...(await completeSignIn(ctx, account, { ...input, method: 'password' })) }
}

/**
 * Counts a failed password. Unknown logins get an audit row too: operators see the attempts,
 * and both outcomes do comparable database work before answering (no timing tell).
 */
async function recordFailure(ctx: AppContext, account: Account | null, meta: RequestMeta): Promise<void> {
  const lockAfter = ctx.config.rateLimits.signinLockAfterFailures
  await inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now()
    if (!account) {
      await recordAudit(trx, { accountId: null, type: 'signin.failed', meta, at: now, details: { reason: 'unknown_login' } })
      return
    }
    const counted = await countFailedSignIn(trx, account.id, lockAfter)
    await recordAudit(trx, { accountId: account.id, type: 'signin.failed', meta, at: now })
    if (counted?.lockedNow) {
      await recordAudit(trx, { accountId: account.id, type: 'account.signin_locked', meta, at: now, details: { failedSignins: counted.failedSignins } })
    }
  })
  // No cache eviction: the failure count and the lock change nothing a live session shows.
}
