/**
 * Password sign-in (SPEC §3). Every failure that could tell an attacker whether an account
 * exists looks the same from outside: same error, same status, same argon2 time. Distinct
 * errors (deactivated) are only given to someone who proved the password.
 */
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import { canonicalEmail, normalizeEmail } from '../accounts/emails.ts'
import { normalizeUsername } from '../accounts/usernames.ts'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { AppError } from '../errors.ts'
import { normalizePassword } from '../passwords/policy.ts'
import { createSession, type Account, type Session } from './sessions.ts'

export interface SignInInput {
  login: string
  password: string
  staySignedIn: boolean
  meta: RequestMeta
}

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

export async function findAccountByLogin(ctx: AppContext, login: string): Promise<Account | undefined> {
  const key = loginKey(login)
  if (!key) return undefined
  return ctx.db.selectFrom('accounts').selectAll().where(key.column, '=', key.value).executeTakeFirst()
}

export async function signIn(ctx: AppContext, input: SignInInput): Promise<{ token: string; session: Session; account: Account }> {
  await ctx.limits.consume('signin_ip', input.meta.ip)
  const password = normalizePassword(input.password)
  const key = loginKey(input.login)
  // Keyed by what was typed, not by account id, so unknown logins are throttled identically.
  const failureKey = key ? `${key.column}:${key.value}` : `raw:${input.login}`
  await ctx.limits.check('signin_failures_account', failureKey)

  const account = await findAccountByLogin(ctx, input.login)
  const passwordOk = await ctx.hasher.verify(account?.password_hash ?? null, password)

  if (!account || !passwordOk) {
    await ctx.limits.consume('signin_failures_account', failureKey).catch(() => {})
    if (account) await recordFailure(ctx, account, input.meta)
    throw new AppError('invalid_credentials', { fields: { login: 'invalid', password: 'invalid' } })
  }
  if (account.password_signin_locked) throw new AppError('signin_locked')
  if (account.status !== 'active') throw new AppError('account_deactivated')

  await ctx.limits.reset('signin_failures_account', failureKey)
  const rehash = account.password_hash && ctx.hasher.needsRehash(account.password_hash) ? await ctx.hasher.hash(password) : null
  const { token, session } = await inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now()
    if (account.failed_signins > 0 || rehash) {
      await trx
        .updateTable('accounts')
        .set({ failed_signins: 0, ...(rehash ? { password_hash: rehash } : {}) })
        .where('id', '=', account.id)
        .execute()
    }
    const created = await createSession(ctx, trx, { accountId: account.id, staySignedIn: input.staySignedIn, meta: input.meta })
    await recordAudit(trx, { accountId: account.id, type: 'signin.succeeded', meta: input.meta, at: now, details: { sessionId: created.session.id } })
    return created
  })
  return { token, session, account }
}

async function recordFailure(ctx: AppContext, account: Account, meta: RequestMeta): Promise<void> {
  const lockAfter = ctx.config.rateLimits.signinLockAfterFailures
  await ctx.db.transaction().execute(async (trx) => {
    const now = ctx.clock.now()
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
}
