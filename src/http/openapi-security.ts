/**
 * The OpenAPI document says which operations need a session: the global `security` (session
 * cookie or bearer token) is the default, and every route that does not run the session guard
 * states `security: []`. Derived from the route's own preHandlers when it is registered, so a
 * new public route cannot be documented as needing sign-in (or the reverse) by forgetting a
 * line: clients generated from the document and `/docs` then attach credentials only where
 * the server asks for them.
 */
import type { RouteOptions } from 'fastify'

const SESSION_GUARD = Symbol('latchkey.sessionGuard')

/** Marks the preHandler that refuses a request without a valid session (`unauthenticated`). */
export function markSessionGuard<T extends object>(guard: T): T {
  Object.defineProperty(guard, SESSION_GUARD, { value: true })
  return guard
}

export function isSessionGuard(handler: unknown): boolean {
  return typeof handler === 'function' && (handler as unknown as Record<symbol, unknown>)[SESSION_GUARD] === true
}

/** Whether the route runs the session guard before its handler. */
export function requiresSession(route: Pick<RouteOptions, 'preHandler' | 'onRequest' | 'preValidation'>): boolean {
  return [route.onRequest, route.preValidation, route.preHandler].flat().some(isSessionGuard)
}

/** onRoute: a documented route without the session guard is public (`security: []`). */
export function documentRouteSecurity(route: RouteOptions): void {
  const schema = route.schema as (Record<string, unknown> & { hide?: boolean; security?: unknown }) | undefined
  if (!schema || schema.security !== undefined || requiresSession(route)) return
  // A copy: route schemas may be shared objects, and only this route is public.
  route.schema = { ...schema, security: [] }
}
