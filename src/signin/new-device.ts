/**
 * New-device notices (SPEC §3): a sign-in from a device the account has not used before sends a
 * security notice with a "this wasn't me" link, which ends the session and starts a password reset.
 */
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import { localeOf } from '../accounts/accounts.ts'
import { findAccountById, type Account } from '../accounts/queries.ts'
import { consumeToken, issueToken, retireOutstandingLinks } from '../accounts/tokens.ts'
import type { AppContext } from '../context.ts'
import { inTransaction, link } from '../context.ts'
import type { Queryable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { notifySecurity } from '../notifications/notifications.ts'
import { revokeAllSessions, type Session } from '../sessions/sessions.ts'

/**
 * Records a sign-in from a device (the hash of what identifies it: a browser's device cookie,
 * an app's name) at `now`. `known`: seen before; `new`: not seen before; `first`: the account's
 * first device ever (the one that signed up). known_devices belongs to sign-in: every sign-in
 * method, Latchkey's own OAuth included, records devices through this.
 */
export async function rememberDevice(db: Queryable, accountId: string, deviceHash: string, now: number): Promise<'known' | 'new' | 'first'> {
  const known = await db.updateTable('known_devices').set({ last_seen_at: now }).where('account_id', '=', accountId).where('device_hash', '=', deviceHash).executeTakeFirst()
  if (Number(known.numUpdatedRows) > 0) return 'known'
  const anyKnown = await db.selectFrom('known_devices').select('device_hash').where('account_id', '=', accountId).executeTakeFirst()
  await db.insertInto('known_devices').values({ account_id: accountId, device_hash: deviceHash, first_seen_at: now, last_seen_at: now }).execute()
  return anyKnown ? 'new' : 'first'
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
    const account = await findAccountById(trx, row.account_id)
    if (!account) return
    // Whoever signed in may have more than one session, and the device must not stay trusted:
    // every session ends, that device is forgotten, and older links and tickets die.
    const revoked = await revokeAllSessions(ctx, trx, { accountId: account.id })
    await trx.deleteFrom('known_devices').where('account_id', '=', account.id).execute()
    await retireOutstandingLinks(ctx, trx, account.id)
    await recordAudit(trx, { accountId: account.id, type: 'signin.disavowed', meta, at: ctx.clock.now(), details: { sessionId: row.session_id, sessionsRevoked: revoked } })
    const resetToken = await issueToken(trx, ctx.clock, { accountId: account.id, purpose: 'password_reset' })
    await ctx.mailer.enqueue(trx, { to: account.email, template: 'recovery', locale: localeOf(account), vars: { username: account.username, link: link(ctx, '/reset-password', { token: resetToken }) } })
  })
}

