/**
 * New-device notices (SPEC §3): a sign-in from a device the account has not used before sends a
 * security notice with a "this wasn't me" link, which ends the session and starts a password reset.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import { localeOf } from '../accounts/accounts.ts'
import type { Account } from '../accounts/queries.ts'
import { consumeToken, issueToken, retireOutstandingLinks } from '../accounts/tokens.ts'
import type { AppContext } from '../context.ts'
import { inTransaction, link } from '../context.ts'
import { newToken } from '../crypto.ts'
import type { Queryable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { requestMeta } from '../http/request-meta.ts'
import { notifySecurity } from '../notifications/notifications.ts'
import { evictCachedSessions, revokeAllSessions, type Session } from '../sessions/sessions.ts'

const DEVICE_COOKIE_MAX_AGE_SECONDS = 400 * 24 * 3600

function deviceCookieName(ctx: AppContext): string {
  return ctx.config.publicUrl.protocol === 'https:' ? '__Host-latchkey_device' : 'latchkey_device'
}

/**
 * What "the same device" means for new-device notices: a long-lived random cookie in a
 * browser; for apps and scripts (no cookie jar) the user agent and IP address.
 */
export function deviceKey(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): string {
  const existing = request.cookies[deviceCookieName(ctx)]
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return `cookie:${existing}`
  if (request.headers.origin) {
    const fresh = newToken()
    reply.setCookie(deviceCookieName(ctx), fresh, { path: '/', httpOnly: true, sameSite: 'lax', secure: ctx.config.publicUrl.protocol === 'https:', maxAge: DEVICE_COOKIE_MAX_AGE_SECONDS })
    return `cookie:${fresh}`
  }
  const meta = requestMeta(request)
  return `agent:${meta.userAgent}|${meta.ip}`
}

/** The notice, queued in the sign-in's transaction; its link ends this session. */
export async function warnOfNewDevice(ctx: AppContext, trx: Queryable, account: Account, session: Session, now: number): Promise<void> {
  const token = await issueToken(trx, ctx.clock, { accountId: account.id, purpose: 'signin_disavow', sessionId: session.id })
  await notifySecurity(ctx, trx, account, 'signin_new_device', {
    username: account.username,
    browser: session.browser,
    os: session.os,
    ip: session.ip,
    at: new Date(now).toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
    disavowLink: link(ctx, '/signin/disavow', { token }),
  })
}

/** "This wasn't me": ends the session the email was about and sends a password reset link. */
export async function disavowSignIn(ctx: AppContext, token: string, meta: RequestMeta): Promise<void> {
  const row = await inTransaction(ctx, async (trx) => consumeToken(trx, ctx.clock, token, ['signin_disavow']))
  if (!row) throw new AppError('token_invalid', { fields: { token: 'invalid' } })
  await inTransaction(ctx, async (trx) => {
    const account = await trx.selectFrom('accounts').selectAll().where('id', '=', row.account_id).executeTakeFirst()
    if (!account) return
    // Whoever signed in may have more than one session, and the device must not stay trusted:
    // every session ends, that device is forgotten, and older links and tickets die.
    const revoked = await revokeAllSessions(trx, { accountId: account.id })
    await trx.deleteFrom('known_devices').where('account_id', '=', account.id).execute()
    await retireOutstandingLinks(trx, account.id)
    await recordAudit(trx, { accountId: account.id, type: 'signin.disavowed', meta, at: ctx.clock.now(), details: { sessionId: row.session_id, sessionsRevoked: revoked } })
    const resetToken = await issueToken(trx, ctx.clock, { accountId: account.id, purpose: 'password_reset' })
    await ctx.mailer.enqueue(trx, { to: account.email, template: 'recovery', locale: localeOf(account), vars: { username: account.username, link: link(ctx, '/reset-password', { token: resetToken }) } })
  })
  await evictCachedSessions(ctx, row.account_id)
}

