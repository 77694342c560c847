/**
 * How a request proves who it is: the HttpOnly session cookie for browsers, or
 * `Authorization: Bearer <token>` for apps and scripts. Unsafe requests that could come from
 * a browser must carry an Origin equal to PUBLIC_URL (CSRF defence, OWASP ASVS V3.5).
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { RequestMeta } from '../audit/audit.ts'
import type { AppContext } from '../context.ts'
import { newToken } from '../crypto.ts'
import { AppError } from '../errors.ts'
import { markSessionGuard } from './openapi-security.ts'
import { authenticate, STAY_SIGNED_IN_MS, type Authenticated } from '../sessions/sessions.ts'

declare module 'fastify' {
  interface FastifyRequest {
    auth: Authenticated | null
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export function sessionCookieName(ctx: AppContext): string {
  // __Host- binds the cookie to this exact origin (no Domain, Path=/, Secure): only over https.
  return ctx.config.publicUrl.protocol === 'https:' ? '__Host-latchkey_session' : 'latchkey_session'
}

export function requestMeta(request: FastifyRequest): RequestMeta {
  return { ip: request.ip, userAgent: String(request.headers['user-agent'] ?? '').slice(0, 512) }
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (!header) return undefined
  const match = /^Bearer ([A-Za-z0-9_-]+)$/.exec(header)
  return match?.[1]
}

/** One browser may hold up to this many signed-in accounts in its one session cookie. */
export const MAX_BROWSER_ACCOUNTS = 5
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/

/**
 * The session cookie holds up to five tokens joined by "." (tokens are base64url, so never
 * contain one); the first is the active account. Each is still its own session on the server.
 */
export function cookieTokens(ctx: AppContext, request: FastifyRequest): string[] {
  const raw = request.cookies[sessionCookieName(ctx)]
  if (!raw) return []
  return raw.split('.').filter((t) => TOKEN_RE.test(t)).slice(0, MAX_BROWSER_ACCOUNTS)
}

function cookieToken(ctx: AppContext, request: FastifyRequest): string | undefined {
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

/** Whether this request authenticated with a bearer token (so a rotated token goes in the body). */
export function usesBearer(request: FastifyRequest): boolean {
  return bearerToken(request) !== undefined
}

/** onRequest: refuse cross-site unsafe requests before any work is done. */
export function originCheck(ctx: AppContext) {
  const expected = ctx.config.publicUrl.origin
  return (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    if (SAFE_METHODS.has(request.method)) return done()
    const origin = request.headers.origin
    const fromBrowser = origin !== undefined || cookieToken(ctx, request) !== undefined
    done(fromBrowser && origin !== expected ? new AppError('forbidden_origin') : undefined)
  }
}

/** Resolves the session once per request; a bearer token wins over a cookie. */
async function resolve(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): Promise<Authenticated | null> {
  const bearer = bearerToken(request)
  const token = bearer ?? cookieToken(ctx, request)
  if (!token) return null
  const result = await authenticate(ctx, token)
  if (!result.auth && bearer) {
    // The CLI's OIDC access token stands for its app session (src/oauth/bearer.ts).
    const { authenticateAppAccessToken } = await import('../oauth/bearer.ts')
    const app = await authenticateAppAccessToken(ctx, bearer)
    if (app) return app
  }
  if (!result.auth) {
    // Drop only the dead token; other accounts in this browser stay signed in.
    if (!bearer) {
      const { pruneSessionCookie } = await import('../sessions/browser-accounts.ts')
      await pruneSessionCookie(ctx, request, reply)
    }
    if (result.expired) throw new AppError('session_expired')
    return null
  }
  return result.auth
}

export function requireAuth(ctx: AppContext): preHandlerAsyncHookHandler {
  // Marked so the OpenAPI document knows which routes need a session (http/openapi-security.ts).
  return markSessionGuard(async function requireSession(request: FastifyRequest, reply: FastifyReply) {
    const auth = await resolve(ctx, request, reply)
    if (!auth) throw new AppError('unauthenticated')
    request.auth = auth
  })
}

export function optionalAuth(ctx: AppContext): preHandlerAsyncHookHandler {
  return async function optionalSession(request, reply) {
    request.auth = await resolve(ctx, request, reply).catch(() => null)
  }
}

/** For handlers behind `requireAuth`: the session is there or the route never ran. */
export function authOf(request: FastifyRequest): Authenticated {
  if (!request.auth) throw new AppError('unauthenticated')
  return request.auth
}
