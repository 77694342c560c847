import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { errors } from '../http/schemas.ts'
import { ALWAYS_EMAILED, CATEGORIES, CHANNELS, listNotifications, markAllRead, markRead, preferencesOf, updatePreferences } from './notifications.ts'

const ChannelFlags = Type.Object({ email: Type.Boolean(), inApp: Type.Boolean() })
const Grid = Type.Object(Object.fromEntries(CATEGORIES.map((c) => [c, ChannelFlags])) as Record<(typeof CATEGORIES)[number], typeof ChannelFlags>)
const GridPatch = Type.Object(
  Object.fromEntries(CATEGORIES.map((c) => [c, Type.Optional(Type.Object({ email: Type.Optional(Type.Boolean()), inApp: Type.Optional(Type.Boolean()) }, { additionalProperties: false }))])),
  { additionalProperties: false },
)
const PreferencesView = Type.Object({
  categories: Type.Array(Type.String()),
  channels: Type.Array(Type.String()),
  preferences: Grid,
  alwaysEmailed: Type.Array(Type.String(), { description: 'Security emails sent whatever the grid says.' }),
})

export function notificationRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)
  const view = (preferences: ReturnType<typeof preferencesOf>) => ({ categories: [...CATEGORIES], channels: [...CHANNELS], preferences, alwaysEmailed: [...ALWAYS_EMAILED] })

  api.get('/api/v1/me/notification-preferences', {
    schema: { tags: ['notifications'], summary: 'Notification preferences (categories × channels)', response: { 200: PreferencesView, ...errors(401) } },
    preHandler: [signedIn],
  }, async (request) => view(preferencesOf(authOf(request).account)))

  api.put('/api/v1/me/notification-preferences', {
    schema: {
      tags: ['notifications'],
      summary: 'Change notification preferences',
      description: 'Send the whole grid or only the cells that change. Critical security emails (`alwaysEmailed`) are sent regardless.',
      body: Type.Object({ preferences: GridPatch }, { additionalProperties: false }),
      response: { 200: PreferencesView, ...errors(400, 401) },
    },
    preHandler: [signedIn],
  }, async (request) => view(await updatePreferences(ctx, authOf(request).account, request.body.preferences)))

  api.get('/api/v1/me/notifications', {
    schema: {
      tags: ['notifications'],
      summary: 'In-app notifications, newest first',
      querystring: Type.Object(
        { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })), cursor: Type.Optional(Type.String({ maxLength: 100 })), unread: Type.Optional(Type.Boolean()) },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          notifications: Type.Array(Type.Object({ id: Type.String(), category: Type.String(), kind: Type.String(), title: Type.String(), body: Type.String(), createdAt: Type.String({ format: 'date-time' }), read: Type.Boolean() })),
          unreadCount: Type.Integer(),
          nextCursor: Type.Union([Type.String(), Type.Null()]),
        }),
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
    schema: { tags: ['notifications'], summary: 'Mark every notification read', response: { 200: Type.Object({ marked: Type.Integer() }), ...errors(401) } },
    preHandler: [signedIn],
  }, async (request) => ({ marked: await markAllRead(ctx, authOf(request).account.id) }))
}
