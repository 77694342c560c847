/**
 * Shapes of the SSO routes (./routes.ts). Imports only typebox and import-free modules, so
 * src/web can take the `Static<>` types without server code.
 */
import { Type, type Static } from 'typebox'

const Timestamp = Type.String({ format: 'date-time' })
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
