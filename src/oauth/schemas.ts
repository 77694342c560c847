/**
 * Shapes of the OAuth routes of Latchkey's own (./routes.ts): the sign-in and consent page's
 * interaction, and the authorized apps in the settings.
 * Imports only typebox and import-free modules, so src/web takes the `Static<>` types without
 * pulling in server code (scripts/check-imports.ts checks that).
 */
import { Type, type Static } from 'typebox'

export const InteractionView = Type.Object(
  {
    uid: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('expired')], { description: '`expired`: more than 5 minutes since the app started; `returnTo` hands the app its error.' }),
    flow: Type.Union([Type.Literal('code'), Type.Literal('device')]),
    client: Type.Object({ id: Type.String(), name: Type.String(), firstParty: Type.Boolean() }),
    deviceName: Type.Union([Type.String(), Type.Null()]),
    scopes: Type.Array(Type.String()),
    consentRequired: Type.Boolean({ description: 'A third-party app the signed-in account has not allowed these scopes yet.' }),
    expiresAt: Type.String({ format: 'date-time' }),
    returnTo: Type.Optional(Type.String()),
    account: Type.Union([Type.Object({ id: Type.String(), username: Type.String(), displayName: Type.String(), email: Type.String() }), Type.Null()], { description: 'The active account in this browser, if any.' }),
  },
  { $id: 'OAuthInteraction' },
)

/** An app's earlier session that signing in ended (an app keeps at most MAX_APP_SESSIONS). */
export const SignedOutDevice = Type.Object({ sessionId: Type.String(), deviceName: Type.String(), createdAt: Type.String({ format: 'date-time' }) })
export const InteractionDone = Type.Object({ returnTo: Type.String(), signedOut: Type.Array(SignedOutDevice) })
export const InteractionAborted = Type.Object({ returnTo: Type.String() })

export const AuthorizedApp = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  grantedAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.String({ format: 'date-time' }),
})
export const AuthorizedApps = Type.Object({ apps: Type.Array(AuthorizedApp) })

export type InteractionView = Static<typeof InteractionView>
export type SignedOutDevice = Static<typeof SignedOutDevice>
export type InteractionDone = Static<typeof InteractionDone>
export type InteractionAborted = Static<typeof InteractionAborted>
export type AuthorizedApp = Static<typeof AuthorizedApp>
export type AuthorizedApps = Static<typeof AuthorizedApps>
