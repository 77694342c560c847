/**
 * "Sudo mode" as a guard: sensitive actions need a password, authenticator code or passkey
 * confirmation within the last 5 minutes of the session (how one confirms: src/signin/reauthenticate.ts).
 */
import type { preHandlerAsyncHookHandler } from 'fastify'
import { MINUTE_MS } from '../clock.ts'
import type { AppContext } from '../context.ts'
import { AppError } from '../errors.ts'
import type { Authenticated } from './sessions.ts'

export const REAUTH_WINDOW_MS = 5 * MINUTE_MS

export function recentlyAuthenticated(ctx: AppContext, auth: Authenticated): boolean {
  return ctx.clock.now() - auth.session.reauthenticated_at < REAUTH_WINDOW_MS
}

/** preHandler, after requireAuth: refuses with `reauthentication_required` outside the window. */
export function requireRecentAuth(ctx: AppContext): preHandlerAsyncHookHandler {
  return async function recentAuthentication(request) {
    if (!request.auth) throw new AppError('unauthenticated')
    if (!recentlyAuthenticated(ctx, request.auth)) {
      throw new AppError('reauthentication_required', { details: { reauthenticate: 'POST /api/v1/me/reauthenticate', methods: ['password', 'code', 'passkey'] } })
    }
  }
}

/**
 * For routes whose body carries the password, which the handler checks before anything else:
 * that password is itself the fresh proof, so outside the window the request goes on to be
 * checked instead of being refused and re-asked for the very same password (SPEC §6 "signing
 * in again within the last 5 minutes" is what entering it does).
 */
export function requireRecentAuthOrPassword(ctx: AppContext, field = 'password'): preHandlerAsyncHookHandler {
  const recent = requireRecentAuth(ctx)
  return async function recentAuthenticationOrPassword(request, reply) {
    const body = request.body as Record<string, unknown> | undefined
    if (request.auth && typeof body?.[field] === 'string') return
    await recent.call(this, request, reply)
  }
}
