/**
 * Several accounts in one browser (SPEC §3): the session cookie carries up to five session
 * tokens, the first being the active account. Each session is still listed, revoked and
 * expired on its own; this module only keeps the cookie's list in step with the server.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AppContext } from '../context.ts'
import { hashToken } from '../crypto.ts'
import { AppError } from '../errors.ts'
import { cookieTokens, MAX_BROWSER_ACCOUNTS, writeSessionCookie } from '../http/auth.ts'
import { authenticate, evictCachedSessions, type Authenticated } from './sessions.ts'

interface LiveToken {
  token: string
  auth: Authenticated
}

/** The cookie's tokens whose sessions are still live, in cookie order. */
export async function liveCookieSessions(ctx: AppContext, request: FastifyRequest): Promise<LiveToken[]> {
  const live: LiveToken[] = []
  const tokens = cookieTokens(ctx, request)
  for (const [i, token] of tokens.entries()) {
    // Only the active account's request counts as its activity.
    const result = await authenticate(ctx, token, { touch: i === 0 })
    if (result.auth) live.push({ token, auth: result.auth })
  }
  return live
}

function persistent(live: LiveToken[]): boolean {
  return live.some((l) => l.auth.session.stay_signed_in === 1)
}

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
  writeSessionCookie(ctx, reply, [token, ...others.map((l) => l.token)], staySignedIn || persistent(others))
}

/** Rewrites the cookie with only the sessions that still live (after a sign-out or revocation). */
export async function pruneSessionCookie(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, replace?: { from: string; to: string }): Promise<LiveToken[]> {
  const tokens = cookieTokens(ctx, request).map((t) => (replace && t === replace.from ? replace.to : t))
  const live: LiveToken[] = []
  for (const [i, token] of tokens.entries()) {
    const result = await authenticate(ctx, token, { touch: i === 0 })
    if (result.auth) live.push({ token, auth: result.auth })
  }
  if (live.length !== cookieTokens(ctx, request).length || replace) writeSessionCookie(ctx, reply, live.map((l) => l.token), persistent(live))
  return live
}

export async function switchAccount(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, accountId: string): Promise<Authenticated> {
  const live = await liveCookieSessions(ctx, request)
  const target = live.find((l) => l.auth.account.id === accountId)
  if (!target) throw new AppError('not_found', { message: 'That account is not signed in in this browser.' })
  const ordered = [target, ...live.filter((l) => l !== target)]
  writeSessionCookie(ctx, reply, ordered.map((l) => l.token), persistent(live))
  return target.auth
}
