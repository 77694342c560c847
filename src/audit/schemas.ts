/**
 * The security log's shape (routes: ./routes.ts). Imports only typebox, so src/web and the tests
 * take the `Static<>` type without pulling in server code (scripts/check-imports.ts checks that).
 */
import { Type, type Static } from 'typebox'

export const SecurityEvent = Type.Object({
  id: Type.String(),
  type: Type.String(),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  at: Type.String({ format: 'date-time' }),
})
export const SecurityLog = Type.Object({ events: Type.Array(SecurityEvent), nextCursor: Type.Union([Type.String(), Type.Null()]) })

export type SecurityEvent = Static<typeof SecurityEvent>
export type SecurityLog = Static<typeof SecurityLog>
