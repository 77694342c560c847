/**
 * Fastify logs every request twice at `info` ("incoming request", "request completed"). On
 * the session check that was more than half of the server's CPU per request (two JSON lines,
 * each serialised and redacted), for lines a proxy's access log already holds. Here they are
 * `debug` lines (LOG_LEVEL=debug brings them back); errors and 5xx stay at `error`, with the
 * request id every response carries in `x-request-id`.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

export class DebugRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request')
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply)
    reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed')
  }
}
