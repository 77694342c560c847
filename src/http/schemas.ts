/** Schemas shared across capabilities; each one drives validation, types and the OpenAPI doc. */
import { Type } from 'typebox'

export const ErrorResponse = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'Stable machine-readable code; see the README for the catalog.' }),
        message: Type.String({ description: 'Human-readable, safe to show.' }),
        fields: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Per-field reasons, keyed by field path.' })),
        retryAt: Type.Optional(Type.String({ format: 'date-time' })),
        retryAfterSeconds: Type.Optional(Type.Integer()),
        suggestions: Type.Optional(Type.Array(Type.String())),
        requestId: Type.Optional(Type.String()),
      },
      { additionalProperties: true },
    ),
  },
  { $id: 'ErrorResponse' },
)

export const errorRef = Type.Ref('ErrorResponse')

/** Standard error responses, so every route documents what it can answer. */
export function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, errorRef]))
}

export const Accepted = Type.Object({ status: Type.String() }, { additionalProperties: false })
