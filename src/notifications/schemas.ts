/**
 * Notifications as the API shows them (routes: ./routes.ts), and the preferences grid as it
 * shows and takes it (routes: src/accounts/notification-preferences-routes.ts).
 * Imports only typebox and import-free modules, so src/web takes the `Static<>` types without
 * pulling in server code (scripts/check-imports.ts checks that).
 */
import { Type, type Static } from 'typebox'

/** What a notification is about; each is a row of the preferences grid. */
export const CATEGORIES = ['security', 'usage', 'monitors', 'comments', 'team', 'billing'] as const
// Slack joins when teams have a Slack integration.
export const CHANNELS = ['email', 'inApp'] as const
export type Category = (typeof CATEGORIES)[number]
export type Channel = (typeof CHANNELS)[number]

const ChannelFlags = Type.Object({ email: Type.Boolean(), inApp: Type.Boolean() })
const Grid = Type.Object(Object.fromEntries(CATEGORIES.map((c) => [c, ChannelFlags])) as Record<(typeof CATEGORIES)[number], typeof ChannelFlags>)
export const GridPatch = Type.Object(
  Object.fromEntries(CATEGORIES.map((c) => [c, Type.Optional(Type.Object({ email: Type.Optional(Type.Boolean()), inApp: Type.Optional(Type.Boolean()) }, { additionalProperties: false }))])),
  { additionalProperties: false },
)
export const PreferencesView = Type.Object({
  categories: Type.Array(Type.String()),
  channels: Type.Array(Type.String()),
  preferences: Grid,
  alwaysEmailed: Type.Array(Type.String(), { description: 'Security emails sent whatever the grid says.' }),
})

export const Notification = Type.Object({ id: Type.String(), category: Type.String(), kind: Type.String(), title: Type.String(), body: Type.String(), createdAt: Type.String({ format: 'date-time' }), read: Type.Boolean() })
export const NotificationPage = Type.Object({
  notifications: Type.Array(Notification),
  unreadCount: Type.Integer(),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})
export const MarkedRead = Type.Object({ marked: Type.Integer() })

export type Notification = Static<typeof Notification>
export type NotificationPage = Static<typeof NotificationPage>
export type PreferencesView = Static<typeof PreferencesView>
export type MarkedRead = Static<typeof MarkedRead>
