/**
 * The session cookie's format (SPEC §3): one HttpOnly cookie holding up to five session tokens
 * joined by "." (tokens are base64url, so never contain one); the first is the active account.
 * Each token is still its own session on the server; this module only reads and writes the list.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AppContext } from '../context.ts'
import { authenticate, STAY_SIGNED_IN_MS, type Authenticated } from './sessions.ts'

/** One browser may hold up to this many signed-in accounts in its one session cookie. */
export const MAX_BROWSER_ACCOUNTS = 5
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/

export function sessionCookieName(ctx: AppContext): string {
  // __Host- binds the cookie to this exact origin (no Domain, Path=/, Secure): only over https.
  return ctx.config.publicUrl.protocol === 'https:' ? '__Host-latchkey_session' : 'latchkey_session'
}

/** Every well-formed token in the cookie, the active account's first. */
export function cookieTokens(ctx: AppContext, request: FastifyRequest): string[] {
  const raw = request.cookies[sessionCookieName(ctx)]
  if (!raw) return []
  return raw.split('.').filter((t) => TOKEN_RE.test(t)).slice(0, MAX_BROWSER_ACCOUNTS)
}

/** The active account's token, without splitting the whole list (the per-request path). */
export function activeCookieToken(ctx: AppContext, request: FastifyRequest): string | undefined {
  const raw = request.cookies[sessionCookieName(ctx)]
  if (!raw) return undefined
  const end = raw.indexOf('.')
  return end === -1 ? raw : raw.slice(0, end)
}

/** Writes the cookie's token list; an empty list removes the cookie. */
export function writeSessionCookie(ctx: AppContext, reply: FastifyReply, tokens: string[], persistent: boolean): void {
  if (tokens.length === 0) return clearSessionCookie(ctx, reply)
  reply.setCookie(sessionCookieName(ctx), tokens.join('.'), {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.config.publicUrl.protocol === 'https:',
    // Without "stay signed in" the cookie dies with the browser; the server's idle rule still applies.
    ...(persistent ? { maxAge: STAY_SIGNED_IN_MS / 1000 } : {}),
  })
}

/** A single-session cookie, for callers that know nothing of other accounts in the browser. */
export function setSessionCookie(ctx: AppContext, reply: FastifyReply, token: string, staySignedIn: boolean): void {
  writeSessionCookie(ctx, reply, [token], staySignedIn)
}

export function clearSessionCookie(ctx: AppContext, reply: FastifyReply): void {
  reply.clearCookie(sessionCookieName(ctx), { path: '/', httpOnly: true, sameSite: 'lax', secure: ctx.config.publicUrl.protocol === 'https:' })
}

export interface LiveToken {
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

/** Whether any of these sessions asked to stay signed in: then the cookie outlives the browser. */
export function persistentCookie(live: LiveToken[]): boolean {
  return live.some((l) => l.auth.session.stay_signed_in === 1)
}

/** Rewrites the cookie with only the sessions that still live (after a sign-out or revocation). */
export async function pruneSessionCookie(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, replace?: { from: string; to: string }): Promise<LiveToken[]> {
  const tokens = cookieTokens(ctx, request).map((t) => (replace && t === replace.from ? replace.to : t))
  const live: LiveToken[] = []
  for (const [i, token] of tokens.entries()) {
    const result = await authenticate(ctx, token, { touch: i === 0 })
    if (result.auth) live.push({ token, auth: result.auth })
  }
  if (live.length !== cookieTokens(ctx, request).length || replace) writeSessionCookie(ctx, reply, live.map((l) => l.token), persistentCookie(live))
  return live
}
