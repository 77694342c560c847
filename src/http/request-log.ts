/**
 * Fastify logs every request twice at `info` ("incoming request", "request completed"). On
 * the session check that was more than half of the server's CPU per request (two JSON lines,
 * each serialised and redacted), for lines a proxy's access log already holds. Here they are
 * `debug` lines (LOG_LEVEL=debug brings them back); errors and 5xx stay at `error`, with the
 * request id every response carries in `x-request-id`.
 */
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger as PinoLogger } from 'pino'

/** Tokens that ride in a URL path (shareable invite links: `/join/<token>`) never reach a log line. */
const PATH_TOKENS = /(\/(?:api\/v1\/invite-links|join)\/)[^/?#]+/g

/** OAuth credentials that a client might put in a query string (RFC 6749 forbids most; some do). */
const QUERY_SECRETS = /([?&](?:code|code_verifier|user_code|access_token|refresh_token|id_token|id_token_hint|client_secret|token)=)[^&#]*/gi

export function redactUrl(url: string): string {
  return url.replace(PATH_TOKENS, '$1[redacted]').replace(QUERY_SECRETS, '$1[redacted]')
}

export class DebugRequestLog extends LogController {
  #debug: () => boolean

  /** `logger`: the server's pino logger, asked per request whether `debug` is on (it can change at run time). */
  constructor(logger: FastifyBaseLogger) {
    super()
    this.#debug = () => (logger as unknown as PinoLogger).isLevelEnabled('debug')
  }

  override incomingRequest(request: FastifyRequest): void {
    // Nothing is built (no redacted URL, no object) for a line nobody reads.
    if (!this.#debug()) return
    // Fastify's `req` serializer reads these fields; only the URL is changed.
    const req = { method: request.method, url: redactUrl(request.url), headers: request.headers, host: request.host, ip: request.ip, socket: request.socket }
    request.log.debug({ req }, 'incoming request')
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply)
    if (!this.#debug()) return
    reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed')
  }
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

/**
 * Fastify gives each request a child logger carrying its id. pino serialises a child's bindings
 * when the child is made, so every request paid for it (a few percent of a session check) even
 * though a request almost never logs. This one becomes a real pino child at its first line at
 * an enabled level; until then it is one small object (methods on the prototype, no closures).
 */
class LazyChildLogger {
  #parent: PinoLogger
  #bindings: Record<string, unknown>
  #options: object
  #child: FastifyBaseLogger | undefined

  constructor(parent: FastifyBaseLogger, bindings: Record<string, unknown>, options: object) {
    // Latchkey's logger is pino (src/app.ts), which can say whether a level is on.
    this.#parent = parent as unknown as PinoLogger
    this.#bindings = bindings
    this.#options = options
  }

  #real(): FastifyBaseLogger {
    return (this.#child ??= (this.#parent as unknown as FastifyBaseLogger).child(this.#bindings, this.#options))
  }

  #log(level: Level, args: unknown[]): void {
    const target = this.#child ?? (this.#parent.isLevelEnabled(level) ? this.#real() : undefined)
    ;(target?.[level] as ((...a: unknown[]) => void) | undefined)?.apply(target, args)
  }

  get level(): string {
    return this.#child?.level ?? this.#parent.level
  }

  set level(value: string) {
    this.#real().level = value
  }

  child(more: Record<string, unknown>, moreOptions?: object): FastifyBaseLogger {
    return this.#real().child(more, moreOptions)
  }

  silent(): void {}
  fatal(...args: unknown[]): void {
    this.#log('fatal', args)
  }
  error(...args: unknown[]): void {
    this.#log('error', args)
  }
  warn(...args: unknown[]): void {
    this.#log('warn', args)
  }
  info(...args: unknown[]): void {
    this.#log('info', args)
  }
  debug(...args: unknown[]): void {
    this.#log('debug', args)
  }
  trace(...args: unknown[]): void {
    this.#log('trace', args)
  }
}

export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Record<string, unknown>, options: object): FastifyBaseLogger {
  return new LazyChildLogger(parent, bindings, options) as unknown as FastifyBaseLogger
}
