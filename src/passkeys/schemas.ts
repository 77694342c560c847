/** WebAuthn request and answer shapes, shared by passkey registration, sign-in and re-authentication. */
import { Type, type Static } from 'typebox'

/** What a browser's `PublicKeyCredential.toJSON()` sends. */
export const WebAuthnResponse = Type.Object(
  {
    id: Type.String({ maxLength: 1024 }),
    rawId: Type.String({ maxLength: 1024 }),
    type: Type.Literal('public-key'),
    response: Type.Record(Type.String(), Type.Unknown()),
    authenticatorAttachment: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    clientExtensionResults: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
)

export const PasskeyAssertion = Type.Object({ challengeId: Type.String({ maxLength: 64 }), response: WebAuthnResponse }, { additionalProperties: false })

export const PasskeyOptions = Type.Object({
  challengeId: Type.String(),
  options: Type.Record(Type.String(), Type.Unknown(), { description: 'Pass to `navigator.credentials.get()` (PublicKeyCredentialRequestOptionsJSON).' }),
})

/** A passkey of the account, as its owner's settings list it. */
export const PasskeyView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    synced: Type.Boolean({ description: 'Backed up by the platform (e.g. iCloud Keychain, Google Password Manager).' }),
    deviceType: Type.String(),
  },
  { $id: 'Passkey' },
)

export type PasskeyView = Static<typeof PasskeyView>
export type PasskeyOptions = Static<typeof PasskeyOptions>

export const PasskeyList = Type.Object({ passkeys: Type.Array(Type.Ref('Passkey')) })
// A `Type.Ref` has no static type of its own: the registered schema it names gives it one.
export type PasskeyList = { passkeys: PasskeyView[] }
