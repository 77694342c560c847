/**
 * Unsafe requests that could come from a browser must carry an Origin equal to PUBLIC_URL
 * (CSRF defence, OWASP ASVS V3.5). A request "could come from a browser" when it has an Origin
 * header or carries the session cookie; the caller says how to tell the cookie, so this plugin
 * knows nothing of sessions.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../errors.ts'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** onRequest: refuse cross-site unsafe requests before any work is done. */
export function originCheck(expectedOrigin: string, carriesSessionCookie: (request: FastifyRequest) => boolean, exempt: (request: FastifyRequest) => boolean = () => false) {
  return (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    if (SAFE_METHODS.has(request.method) || exempt(request)) return done()
    const origin = request.headers.origin
    const fromBrowser = origin !== undefined || carriesSessionCookie(request)
    done(fromBrowser && origin !== expectedOrigin ? new AppError('forbidden_origin') : undefined)
  }
}
