/**
 * "Trouble signing in?" (SPEC §6): the email gets the username and a single-use, one-hour
 * reset link. The answer is the same whether or not the account exists, and a reset never
 * signs anyone in; it ends every session and lifts a sign-in lock.
 */
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import { canonicalEmail, normalizeEmail } from '../accounts/emails.ts'
import { findAccount, localeOf } from '../accounts/accounts.ts'
import { consumeToken, issueToken, peekTokenAccount, retireOutstandingLinks } from '../accounts/tokens.ts'
import type { AppContext } from '../context.ts'
import { inTransaction, link } from '../context.ts'
import { AppError } from '../errors.ts'
import { checkNewPassword, passwordContextWords } from '../passwords/policy.ts'
import { revokeAllSessions } from '../sessions/sessions.ts'
import { notifySecurity } from '../notifications/notifications.ts'
import { findAccountByEmail, resetPasswordHash } from '../accounts/queries.ts'

/**
 * The operator starts a reset for someone (`latchkey accounts send-reset`, ASVS 5.0 V6.4.6): the
 * same one-hour link goes to the account's own address, and the operator neither sees it nor
 * chooses the password.
 */
export async function sendResetLinkByOperator(ctx: AppContext, login: string, meta: RequestMeta): Promise<{ username: string; email: string }> {
  return inTransaction(ctx, async (trx) => {
    const account = await findAccount(trx, login)
    if (account.status !== 'active') throw new AppError('account_deactivated', { message: `${account.username} is deactivated: reactivate the account first.` })
    const token = await issueToken(trx, ctx.clock, { accountId: account.id, purpose: 'password_reset' })
    await ctx.mailer.enqueue(trx, { to: account.email, template: 'recovery', locale: localeOf(account), vars: { username: account.username, link: link(ctx, '/reset-password', { token }) } })
    await recordAudit(trx, { accountId: account.id, type: 'account.recovery_requested', meta, at: ctx.clock.now(), details: { byOperator: true } })
    return { username: account.username, email: account.email }
  })
}

export async function requestRecovery(ctx: AppContext, input: { email: string; captcha: string; meta: RequestMeta }): Promise<void> {
  await ctx.limits.consume('recovery_ip', input.meta.ip)
  const email = canonicalEmail(input.email)
  await ctx.captcha.verify(input.captcha)
  // Per address, after the captcha: a flood at one victim's inbox is capped, silently.
  try {
    await ctx.limits.consume('recovery_email', normalizeEmail(email))
  } catch {
    return
  }
  await inTransaction(ctx, async (trx) => {
    const account = await findAccountByEmail(trx, normalizeEmail(email))
    if (!account || account.status !== 'active') return
    const token = await issueToken(trx, ctx.clock, { accountId: account.id, purpose: 'password_reset' })
    await ctx.mailer.enqueue(trx, {
      to: account.email,
      template: 'recovery',
      locale: localeOf(account),
      vars: { username: account.username, link: link(ctx, '/reset-password', { token }) },
    })
    await recordAudit(trx, { accountId: account.id, type: 'account.recovery_requested', meta: input.meta, at: ctx.clock.now() })
  })
}

export async function resetPassword(ctx: AppContext, input: { token: string; password: string; meta: RequestMeta }): Promise<void> {
  // The policy check runs before the token is spent, so a weak password does not burn the link.
  const probe = (await peekTokenAccount(ctx.db, input.token)) ?? undefined
  const password = checkNewPassword(input.password, 'password', passwordContextWords(ctx.config.publicUrl, probe))
  const passwordHash = await ctx.hasher.hash(password)
  await inTransaction(ctx, async (trx) => {
    const row = await consumeToken(trx, ctx.clock, input.token, ['password_reset'])
    if (!row) throw new AppError('token_invalid', { fields: { token: 'invalid' } })
    const now = ctx.clock.now()
    const account = await resetPasswordHash(ctx, trx, row.account_id, passwordHash, now)
    const revoked = await revokeAllSessions(ctx, trx, { accountId: account.id })
    // A pending email change or 2FA ticket started by whoever knew the old password dies here.
    const { cancelledEmailChange } = await retireOutstandingLinks(ctx, trx, account.id)
    await recordAudit(trx, { accountId: account.id, type: 'account.password_reset', meta: input.meta, at: now, details: { sessionsRevoked: revoked } })
    await notifySecurity(ctx, trx, account, 'password_changed', { username: account.username, recoveryUrl: link(ctx, '/trouble-signing-in'), cancelledEmailChange })
  })
}
