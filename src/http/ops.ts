/** Operator endpoints: liveness, readiness and Prometheus metrics (SPEC §11). */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { sql } from 'kysely'
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client'
import type { AppContext } from '../context.ts'
import { constantTimeEqual } from '../crypto.ts'
import { AppError } from '../errors.ts'

/** Processes whose shutdown has begun (see `startDraining`). */
const draining = new WeakSet<AppContext>()

/**
 * Shutdown has begun: `/readyz` answers 503 from now on, so a load balancer's health check
 * takes this instance out of rotation while it still serves what arrives, and every response
 * says `Connection: close`, so no keep-alive connection outlives its request in flight.
 */
export function startDraining(ctx: AppContext): void {
  draining.add(ctx)
}

export function opsRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.addHook('onRequest', (_request, reply, done) => {
    if (draining.has(ctx)) reply.header('connection', 'close')
    done()
  })
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'latchkey_' })
  const duration = new Histogram({
    name: 'latchkey_http_request_duration_seconds',
    help: 'HTTP request duration by route and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  const total = new Counter({ name: 'latchkey_http_requests_total', help: 'HTTP requests by route and status.', labelNames: ['method', 'route', 'status'], registers: [registry] })

  // Label lookups hash the label set on every call; the children for each (method, route,
  // status) are looked up once instead.
  const children = new Map<string, { duration: ReturnType<typeof duration.labels>; total: ReturnType<typeof total.labels> }>()
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the raw URL: no tokens or usernames in labels, bounded cardinality.
    const route = request.routeOptions.url ?? 'unmatched'
    const key = `${request.method} ${reply.statusCode} ${route}`
    let child = children.get(key)
    if (!child) {
      const labels = { method: request.method, route, status: String(reply.statusCode) }
      children.set(key, (child = { duration: duration.labels(labels), total: total.labels(labels) }))
    }
    child.duration.observe(reply.elapsedTime / 1000)
    child.total.inc()
    done()
  })

  const hide = { schema: { hide: true } }
  app.get('/healthz', hide, async () => ({ status: 'ok' }))
  app.get('/readyz', hide, async () => {
    if (draining.has(ctx)) throw new AppError('service_unavailable', { message: 'This instance is shutting down.' })
    try {
      await sql`select 1`.execute(ctx.db)
    } catch (err) {
      throw new AppError('service_unavailable', { message: 'The database is not reachable.', cause: err })
    }
    return { status: 'ready', database: ctx.dialect }
  })
  app.get('/metrics', hide, async (request, reply) => {
    if (!mayReadMetrics(ctx, request)) throw new AppError('unauthenticated', { message: 'Metrics need the METRICS_TOKEN bearer token, or a request made on this machine.' })
    reply.header('Content-Type', registry.contentType)
    return registry.metrics()
  })
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1'])

/**
 * Metrics show traffic by route and the process's state, so they are not public: with
 * METRICS_TOKEN set they need it as a bearer token; without it, only a scraper on the same
 * machine is answered, and never through a proxy (which would make every visitor local).
 */
function mayReadMetrics(ctx: AppContext, request: FastifyRequest): boolean {
  const token = ctx.config.metricsToken
  if (token) {
    const header = request.headers.authorization ?? ''
    return header.startsWith('Bearer ') && constantTimeEqual(header.slice('Bearer '.length), token)
  }
  const proxied = request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined
  return !proxied && LOOPBACK.has(request.socket.remoteAddress ?? '')
}
