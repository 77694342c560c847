import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { AppError } from '../errors.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { errors } from '../http/schemas.ts'
import { SecurityLog } from './schemas.ts'

/** SPEC §11: the person can read their own security log (sign-ins, failures, changes), newest first. */
export function auditRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  api.get('/api/v1/me/security-log', {
    schema: {
      tags: ['accounts'],
      summary: 'My security log',
      description: 'Sign-ins and failures, password, email and 2FA changes, session revocations, with time, IP and device. Paginated with `cursor`.',
      querystring: Type.Object(
        { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })), cursor: Type.Optional(Type.String({ maxLength: 100 })) },
        { additionalProperties: false },
      ),
      response: { 200: SecurityLog, ...errors(400, 401) },
    },
    preHandler: [requireAuth(ctx)],
  }, async (request) => {
    const limit = request.query.limit ?? 50
    let query = ctx.db.selectFrom('audit_events').select(['id', 'type', 'ip', 'user_agent', 'details', 'at']).where('account_id', '=', authOf(request).account.id)
    if (request.query.cursor) {
      const [at, id] = request.query.cursor.split('|')
      const atMs = Number(at)
      // Whole epoch milliseconds only: anything else would reach a bigint comparison.
      if (!/^\d{1,15}$/.test(at ?? '') || !id) throw new AppError('invalid_request', { fields: { cursor: 'invalid' } })
      query = query.where((eb) => eb.or([eb('at', '<', atMs), eb.and([eb('at', '=', atMs), eb('id', '<', id)])]))
    }
    const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute()
    const page = rows.slice(0, limit)
    const last = page.at(-1)
    return {
      events: page.map((r) => ({ id: r.id, type: r.type, ip: r.ip, userAgent: r.user_agent, details: JSON.parse(r.details) as Record<string, unknown>, at: new Date(r.at).toISOString() })),
      nextCursor: rows.length > limit && last ? `${last.at}|${last.id}` : null,
    }
  })
}
