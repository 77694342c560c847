import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { errors } from '../http/schemas.ts'
import { listNotifications, markAllRead, markRead } from './notifications.ts'
import { MarkedRead, NotificationPage } from './schemas.ts'

export function notificationRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)

  api.get('/api/v1/me/notifications', {
    schema: {
      tags: ['notifications'],
      summary: 'In-app notifications, newest first',
      querystring: Type.Object(
        { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })), cursor: Type.Optional(Type.String({ maxLength: 100 })), unread: Type.Optional(Type.Boolean()) },
        { additionalProperties: false },
      ),
      response: {
        200: NotificationPage,
        ...errors(400, 401),
      },
    },
    preHandler: [signedIn],
  }, async (request) => listNotifications(ctx, authOf(request).account.id, { limit: request.query.limit ?? 20, cursor: request.query.cursor, unreadOnly: request.query.unread }))

  api.post('/api/v1/me/notifications/:id/read', {
    schema: { tags: ['notifications'], summary: 'Mark one notification read', params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: { 204: Type.Null(), ...errors(400, 401, 404) } },
    preHandler: [signedIn],
  }, async (request, reply) => {
    await markRead(ctx, authOf(request).account.id, request.params.id)
    return reply.status(204).send(null)
  })

  api.post('/api/v1/me/notifications/read-all', {
    schema: { tags: ['notifications'], summary: 'Mark every notification read', response: { 200: MarkedRead, ...errors(401) } },
    preHandler: [signedIn],
  }, async (request) => ({ marked: await markAllRead(ctx, authOf(request).account.id) }))
}
