/** The notification preferences grid as the API shows and takes it (routes: src/accounts/notification-preferences-routes.ts). */
import { Type } from 'typebox'
import { CATEGORIES } from './notifications.ts'

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

