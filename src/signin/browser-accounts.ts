/**
 * Several accounts in one browser (SPEC §3): the session cookie carries up to five session
 * tokens, the first being the active account (format: src/sessions/cookie.ts). Each session is
 * still listed, revoked and expired on its own; this module only keeps the cookie's list in
 * step with sign-ins and switches.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AppContext } from '../context.ts'
import { hashToken } from '../crypto.ts'
import { AppError } from '../errors.ts'
import { cookieTokens, liveCookieSessions, MAX_BROWSER_ACCOUNTS, persistentCookie, writeSessionCookie } from '../sessions/cookie.ts'
import { evictCachedSessions, type Authenticated } from '../sessions/sessions.ts'

/** Refuses an added sign-in when the browser already holds the maximum; checked before any work. */
export async function assertRoomForAccount(ctx: AppContext, request: FastifyRequest): Promise<void> {
  if (cookieTokens(ctx, request).length < MAX_BROWSER_ACCOUNTS) return
  if ((await liveCookieSessions(ctx, request)).length >= MAX_BROWSER_ACCOUNTS) {
    throw new AppError('too_many_accounts', { message: `This browser is signed in to ${MAX_BROWSER_ACCOUNTS} accounts already. Sign out of one first.` })
  }
}

/**
 * After a sign-in: the new token becomes the active one. A previous session of the same
 * account in this browser is replaced (and ended), so an account appears once.
 */
export async function addSessionToCookie(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, token: string, accountId: string, staySignedIn: boolean): Promise<void> {
  const live = (await liveCookieSessions(ctx, request)).filter((l) => l.token !== token)
  const replaced = live.filter((l) => l.auth.account.id === accountId)
  for (const old of replaced) await ctx.db.deleteFrom('sessions').where('token_hash', '=', hashToken(old.token)).execute()
  // Ended sessions must fail at once on every instance, not when a cached copy expires.
  if (replaced.length) await evictCachedSessions(ctx, accountId)
  const others = live.filter((l) => l.auth.account.id !== accountId).slice(0, MAX_BROWSER_ACCOUNTS - 1)
  writeSessionCookie(ctx, reply, [token, ...others.map((l) => l.token)], staySignedIn || persistentCookie(others))
}

export async function switchAccount(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, accountId: string): Promise<Authenticated> {
  const live = await liveCookieSessions(ctx, request)
  const target = live.find((l) => l.auth.account.id === accountId)
  if (!target) throw new AppError('not_found', { message: 'That account is not signed in in this browser.' })
  const ordered = [target, ...live.filter((l) => l !== target)]
  writeSessionCookie(ctx, reply, ordered.map((l) => l.token), persistentCookie(live))
  return target.auth
}
