/**
 * How a request proves who it is, as the `preHandler`s routes list: the HttpOnly session cookie
 * for browsers, or `Authorization: Bearer <token>` for apps and scripts.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { AppContext } from '../context.ts'
import { AppError } from '../errors.ts'
import { markSessionGuard } from '../http/openapi-security.ts'
import { activeCookieToken, pruneSessionCookie } from './cookie.ts'
import { authenticate, type Authenticated } from './sessions.ts'

declare module 'fastify' {
  interface FastifyRequest {
    auth: Authenticated | null
  }
}

/** Another kind of bearer token that stands for a session (an app's OAuth access token). */
export type BearerAuthenticator = (ctx: AppContext, token: string) => Promise<Authenticated | null>

const otherBearers = new WeakMap<AppContext, BearerAuthenticator>()

/**
 * Lets a capability accept its own bearer tokens on the account API (src/oauth/bearer.ts), tried
 * when a bearer token is no session token. Registered once when the server is built, so this
 * folder needs to know nothing of OAuth.
 */
export function acceptBearerTokens(ctx: AppContext, authenticator: BearerAuthenticator): void {
  otherBearers.set(ctx, authenticator)
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (!header) return undefined
  const match = /^Bearer ([A-Za-z0-9_-]+)$/.exec(header)
  return match?.[1]
}

/** Whether this request authenticated with a bearer token (so a rotated token goes in the body). */
export function usesBearer(request: FastifyRequest): boolean {
  return bearerToken(request) !== undefined
}

/** Whether the request carries a session cookie (the Origin check treats it as a browser's). */
export function carriesSessionCookie(ctx: AppContext, request: FastifyRequest): boolean {
  return activeCookieToken(ctx, request) !== undefined
}

/** Resolves the session once per request; a bearer token wins over a cookie. */
async function resolve(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): Promise<Authenticated | null> {
  const bearer = bearerToken(request)
  const token = bearer ?? activeCookieToken(ctx, request)
  if (!token) return null
  const result = await authenticate(ctx, token)
  if (!result.auth && bearer) {
    const other = otherBearers.get(ctx)
    const app = other ? await other(ctx, bearer) : null
    if (app) return app
  }
  if (!result.auth) {
    // Drop only the dead token; other accounts in this browser stay signed in.
    if (!bearer) await pruneSessionCookie(ctx, request, reply)
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
