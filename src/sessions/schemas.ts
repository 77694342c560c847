/**
 * The session as the API shows it (routes: ./routes.ts; sign-in answers carry it too).
 * Imports only typebox and import-free modules, so src/web takes the `Static<>` types without
 * pulling in server code (scripts/check-imports.ts checks that).
 */
import { Type, type Static } from 'typebox'

export const SessionView = Type.Object(
  {
    id: Type.String(),
    current: Type.Boolean(),
    kind: Type.String({ description: '`web` for browsers, `api` for apps and scripts.' }),
    deviceName: Type.Optional(Type.String({ description: 'For an app signed in through OAuth: the name it gave (`device_name`).' })),
    browser: Type.String(),
    os: Type.String(),
    ip: Type.String(),
    staySignedIn: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
    lastActiveAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Session' },
)

export type SessionView = Static<typeof SessionView>

export const SessionList = Type.Object({ sessions: Type.Array(Type.Ref('Session')) })
export const SessionsRevoked = Type.Object({ revoked: Type.Integer() })
// A `Type.Ref` has no static type of its own: the registered schema it names gives it one.
export type SessionList = { sessions: SessionView[] }
export type SessionsRevoked = Static<typeof SessionsRevoked>
