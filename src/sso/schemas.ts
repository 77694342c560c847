/**
 * The Enterprise sign-in controls' and IT set-up links' shapes (routes: ./policy-routes.ts,
 * ./setup-link-routes.ts). Imports only typebox and ./limits.ts, so the web app reads the same
 * `Static<>` types (scripts/check-imports.ts checks that).
 */
import { Type, type Static } from 'typebox'
import { MAX_SESSION_MINUTES_MAX, MAX_SESSION_MINUTES_MIN } from './limits.ts'

const Timestamp = Type.String({ format: 'date-time' })

export const SigninPolicy = Type.Object({
  jitEnabled: Type.Boolean({ description: '"Automatically add new users": a first SSO sign-in creates the account and joins it as Developer if a seat is free.' }),
  passwordSigninDisabled: Type.Boolean({ description: 'Members (not Admins) cannot sign in with a password or a passkey: they must use SSO.' }),
  googleSigninDisabled: Type.Boolean({ description: 'Members (not Admins) cannot sign in with Google: they must use SSO.' }),
  requireTwoFactor: Type.Boolean({ description: 'Every member who signs in with a password must have two-factor authentication; one without it sets it up to finish signing in.' }),
  maxSessionMinutes: Type.Union([Type.Integer(), Type.Null()], { description: 'Members\' sessions end at most this many minutes after sign-in; null: no team limit.' }),
  googleWorkspaceDomain: Type.Union([Type.String(), Type.Null()], { description: 'Google sign-in of members only from this Google Workspace domain (`hd`); null: any.' }),
  hasEnabledConnection: Type.Boolean({ description: 'Whether the team has an enabled SSO connection: turning password or Google sign-in off needs one.' }),
  updatedAt: Type.Union([Timestamp, Type.Null()]),
})
export type SigninPolicy = Static<typeof SigninPolicy>

export const SigninPolicyChange = Type.Object({
  jitEnabled: Type.Optional(Type.Boolean()),
  passwordSigninDisabled: Type.Optional(Type.Boolean()),
  googleSigninDisabled: Type.Optional(Type.Boolean()),
  requireTwoFactor: Type.Optional(Type.Boolean()),
  maxSessionMinutes: Type.Optional(Type.Union([Type.Integer({ minimum: MAX_SESSION_MINUTES_MIN, maximum: MAX_SESSION_MINUTES_MAX }), Type.Null()])),
  googleWorkspaceDomain: Type.Optional(Type.Union([Type.String({ minLength: 3, maxLength: 253, pattern: '^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$' }), Type.Null()])),
}, { additionalProperties: false, minProperties: 1 })
export type SigninPolicyChange = Static<typeof SigninPolicyChange>

export const SetupLink = Type.Object({
  id: Type.String(),
  state: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  revokedAt: Type.Union([Timestamp, Type.Null()]),
})
export type SetupLink = Static<typeof SetupLink>

export const CreatedSetupLink = Type.Intersect([SetupLink, Type.Object({
  url: Type.String({ description: 'Shown once: only its hash is stored. The token rides in the fragment (#token=…), which browsers send neither to servers nor in Referer.' }),
})])
export type CreatedSetupLink = Static<typeof CreatedSetupLink>

export const SetupLinks = Type.Object({ links: Type.Array(SetupLink) })
export type SetupLinks = Static<typeof SetupLinks>

export const SetupLinkParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }), linkId: Type.String({ minLength: 1, maxLength: 64 }) })

/** What the link holder's page shows: the team it may set up, and until when. */
export const SetupSession = Type.Object({
  team: Type.Object({ slug: Type.String(), name: Type.String() }),
  expiresAt: Type.Union([Timestamp, Type.Null()], { description: 'When the set-up link stops working; null for an Admin.' }),
  via: Type.Union([Type.Literal('admin'), Type.Literal('setup_link')]),
})
export type SetupSession = Static<typeof SetupSession>

// ---------------------------------------------------------------- SAML connections (./routes.ts)

export const ConnectionParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }), connectionId: Type.String({ minLength: 1, maxLength: 64 }) })
export const PublicConnectionParams = Type.Object({ connectionId: Type.String({ minLength: 1, maxLength: 64 }) })

export const IdpInput = Type.Object(
  {
    metadataXml: Type.Optional(Type.String({ minLength: 1, maxLength: 1_000_001, description: "The IdP's SAML metadata XML (no DTD), at most 1 MB." })),
    metadataUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'An https:// URL on the public internet answering with the metadata (no redirect, 1 MB, 8 s).' })),
    manual: Type.Optional(
      Type.Object(
        {
          entityId: Type.String({ minLength: 1, maxLength: 1024, description: "The IdP's entity ID (its Issuer)." }),
          ssoUrl: Type.String({ minLength: 1, maxLength: 2048, description: 'Where browsers are sent to sign in (HTTP-Redirect binding).' }),
          certificates: Type.Array(Type.String({ minLength: 1, maxLength: 20_000 }), { minItems: 1, maxItems: 2, description: 'One or two signing certificates (PEM or base64); two during a key rollover.' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: 'Exactly one of metadataXml, metadataUrl or manual.' },
)

export const CreateConnection = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), idp: IdpInput }, { additionalProperties: false })
export const PatchConnection = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    enabled: Type.Optional(Type.Boolean({ description: 'Members can sign in with it only when on.' })),
    idpInitiated: Type.Optional(Type.Boolean({ description: 'Accept responses the IdP sends unasked (from its app dashboard). Off by default: such a sign-in then needs a confirmation click (login CSRF).' })),
    idp: Type.Optional(IdpInput),
  },
  { additionalProperties: false },
)

export const SamlConnection = Type.Object({
  id: Type.String(),
  protocol: Type.Literal('saml'),
  name: Type.String(),
  enabled: Type.Boolean(),
  idpInitiated: Type.Boolean(),
  idp: Type.Object({
    entityId: Type.String(),
    ssoUrl: Type.String(),
    certificates: Type.Array(Type.Object({ pem: Type.String(), fingerprintSha256: Type.String(), subject: Type.String(), notAfter: Timestamp })),
  }),
  sp: Type.Object(
    {
      entityId: Type.String({ description: 'Give this to the IdP as the SP entity ID / audience.' }),
      acsUrl: Type.String({ description: 'Give this to the IdP as the ACS (reply) URL.' }),
      metadataUrl: Type.String({ description: 'The SP metadata XML (public).' }),
      startUrl: Type.String({ description: 'Where members start signing in.' }),
    },
  ),
  testedAt: Type.Union([Timestamp, Type.Null()]),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})
export type SamlConnection = Static<typeof SamlConnection>

export const TestStarted = Type.Object({ url: Type.String({ description: 'Open this in the same browser: the IdP, then a page with the attributes it sent.' }) })

export const SsoMethods = Type.Object({
  teams: Type.Array(
    Type.Object({
      slug: Type.String(),
      name: Type.String(),
      methods: Type.Array(Type.Object({ protocol: Type.Literal('saml'), connectionId: Type.String(), name: Type.String(), startUrl: Type.String() })),
    }),
  ),
})
