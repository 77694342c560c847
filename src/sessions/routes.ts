import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { requestMeta } from '../http/request-meta.ts'
import { errors } from '../http/schemas.ts'
import { recordAudit } from '../audit/audit.ts'
import { AppError } from '../errors.ts'
import { pruneSessionCookie } from './cookie.ts'
import { authOf, requireAuth } from './guard.ts'
import { listSessions, revokeAllSessions, revokeSession, type Session } from './sessions.ts'
import { SessionList, SessionsRevoked, SessionView } from './schemas.ts'

export function sessionView(session: Session, currentId: string) {
  return {
    id: session.id,
    current: session.id === currentId,
    kind: session.kind,
    browser: session.browser,
    os: session.os,
    ip: session.ip,
    staySignedIn: session.stay_signed_in === 1,
    createdAt: new Date(session.created_at).toISOString(),
    lastActiveAt: new Date(session.last_active_at).toISOString(),
    expiresAt: new Date(session.expires_at).toISOString(),
  }
}

/** Names some sessions carry beyond browser and OS: session id → name (an app's `device_name`). */
export type SessionNames = (ctx: AppContext, accountId: string) => Promise<Map<string, string>>

const sessionNamers = new WeakMap<AppContext, SessionNames>()

/** Lets OAuth name its app sessions in the list without this folder knowing OAuth (wired in src/app.ts). */
export function nameSessionsWith(ctx: AppContext, namer: SessionNames): void {
  sessionNamers.set(ctx, namer)
}

export function sessionRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)
  app.addSchema(SessionView)

  api.post('/api/v1/signout', {
    schema: { tags: ['sessions'], summary: 'Sign out this session', response: { 204: Type.Null(), ...errors(401) } },
    preHandler: [signedIn],
  }, async (request, reply) => {
    const { session, account } = authOf(request)
    await revokeSession(ctx, { accountId: account.id, sessionId: session.id, meta: requestMeta(request), type: 'session.signed_out' })
    // Other accounts signed in in this browser stay; the next one becomes active.
    await pruneSessionCookie(ctx, request, reply)
    return reply.status(204).send(null)
  })

  api.get('/api/v1/me/sessions', {
    schema: { tags: ['sessions'], summary: 'Active sessions', response: { 200: SessionList, ...errors(401) } },
    preHandler: [signedIn],
  }, async (request) => {
    const { session, account } = authOf(request)
    const names = (await sessionNamers.get(ctx)?.(ctx, account.id)) ?? new Map<string, string>()
    return { sessions: (await listSessions(ctx, account.id)).map((s) => ({ ...sessionView(s, session.id), ...(names.has(s.id) ? { deviceName: names.get(s.id) } : {}) })) }
  })

  api.delete('/api/v1/me/sessions/:id', {
    schema: {
      tags: ['sessions'],
      summary: 'Revoke one session',
      description: 'The revoked session fails on its very next request.',
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      response: { 204: Type.Null(), ...errors(400, 401, 404) },
    },
    preHandler: [signedIn],
  }, async (request, reply) => {
    const { session, account } = authOf(request)
    const revoked = await revokeSession(ctx, { accountId: account.id, sessionId: request.params.id, meta: requestMeta(request) })
    if (!revoked) throw new AppError('not_found', { message: 'No such session.' })
    if (request.params.id === session.id) await pruneSessionCookie(ctx, request, reply)
    return reply.status(204).send(null)
  })

  api.delete('/api/v1/me/sessions', {
    schema: {
      tags: ['sessions'],
      summary: 'Revoke all sessions',
      description: 'Signs out everywhere, this session included; with `?keepCurrent=true` every session but this one.',
      querystring: Type.Object({ keepCurrent: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      response: { 200: SessionsRevoked, ...errors(400, 401) },
    },
    preHandler: [signedIn],
  }, async (request, reply) => {
    const { session, account } = authOf(request)
    const keepCurrent = request.query.keepCurrent === true
    const revoked = await inTransaction(ctx, async (trx) => {
      const count = await revokeAllSessions(ctx, trx, { accountId: account.id, exceptSessionId: keepCurrent ? session.id : undefined })
      await recordAudit(trx, { accountId: account.id, type: 'sessions.revoked_all', meta: requestMeta(request), at: ctx.clock.now(), details: { count, keepCurrent } })
      return count
    })
    if (!keepCurrent) await pruneSessionCookie(ctx, request, reply)
    return { revoked }
  })
}
