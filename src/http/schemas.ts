/**
 * Schemas shared across capabilities; each one drives validation, types and the OpenAPI doc.
 * The web app imports this module's types, so it imports nothing but typebox and the error catalog.
 */
import { Type, type Static } from 'typebox'
import { ERROR_CATALOG, type ErrorCode } from '../errors.ts'

export const ErrorResponse = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.Enum(Object.keys(ERROR_CATALOG) as ErrorCode[], { description: 'Stable machine-readable code; see the README for the catalog.' }),
        message: Type.String({ description: 'Human-readable, safe to show.' }),
        fields: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Per-field reasons, keyed by field path.' })),
        retryAt: Type.Optional(Type.String({ format: 'date-time' })),
        retryAfterSeconds: Type.Optional(Type.Integer()),
        suggestions: Type.Optional(Type.Array(Type.String())),
        requestId: Type.Optional(Type.String()),
        maxBytes: Type.Optional(Type.Integer({ description: 'The size limit a 413 (`payload_too_large`, `image_too_large`) was over, in bytes.' })),
        publicUrl: Type.Optional(Type.String({ description: 'Where this server answers (`wrong_host`).' })),
        teams: Type.Optional(Type.Array(Type.Object({ slug: Type.String(), name: Type.String() }), { description: 'The teams whose sign-in rule refused it (`team_requires_sso`, `team_requires_two_factor`); only after the password was right.' })),
        setupTicket: Type.Optional(Type.String({ description: 'Opens the two-factor set-up a team requires (`team_requires_two_factor`): `POST /api/v1/signin/two-factor-setup`.' })),
        method: Type.Optional(Type.String({ description: 'The sign-in method a team turned off (`team_requires_sso`): password, passkey or google.' })),
      },
      { additionalProperties: true },
    ),
  },
  { $id: 'ErrorResponse' },
)

export type ErrorBody = Static<typeof ErrorResponse>['error']

export const errorRef = Type.Ref('ErrorResponse')

/** Standard error responses, so every route documents what it can answer. */
export function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, errorRef]))
}

export const Accepted = Type.Object({ status: Type.String() }, { additionalProperties: false })
