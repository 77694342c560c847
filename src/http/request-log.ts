/**
 * Fastify logs every request twice at `info` ("incoming request", "request completed"). On
 * the session check that was more than half of the server's CPU per request (two JSON lines,
 * each serialised and redacted), for lines a proxy's access log already holds. Here they are
 * `debug` lines (LOG_LEVEL=debug brings them back); errors and 5xx stay at `error`, with the
 * request id every response carries in `x-request-id`.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

/** Tokens that ride in a URL path (shareable invite links: `/join/<token>`) never reach a log line. */
const PATH_TOKENS = /(\/(?:api\/v1\/invite-links|join)\/)[^/?#]+/g

/** OAuth credentials that a client might put in a query string (RFC 6749 forbids most; some do). */
const QUERY_SECRETS = /([?&](?:code|code_verifier|user_code|access_token|refresh_token|id_token|id_token_hint|client_secret|token)=)[^&#]*/gi

export function redactUrl(url: string): string {
  return url.replace(PATH_TOKENS, '$1[redacted]').replace(QUERY_SECRETS, '$1[redacted]')
}

export class DebugRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    // Fastify's `req` serializer reads these fields; only the URL is changed.
    const req = { method: request.method, url: redactUrl(request.url), headers: request.headers, host: request.host, ip: request.ip, socket: request.socket }
    request.log.debug({ req }, 'incoming request')
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply)
    reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed')
  }
}
