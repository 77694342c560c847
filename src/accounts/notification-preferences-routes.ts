/**
 * The person's notification preferences (SPEC §8). The grid's meaning belongs to src/notifications;
 * it is stored on the account row, so the routes that change it live with the row's owner.
 */
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { errors } from '../http/schemas.ts'
import { ALWAYS_EMAILED, CATEGORIES, CHANNELS, preferencesOf, type Preferences } from '../notifications/notifications.ts'
import { GridPatch, PreferencesView } from '../notifications/schemas.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { updatePreferences } from './notification-preferences.ts'

export function notificationPreferenceRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)
  const view = (preferences: Preferences) => ({ categories: [...CATEGORIES], channels: [...CHANNELS], preferences, alwaysEmailed: [...ALWAYS_EMAILED] })

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
}
