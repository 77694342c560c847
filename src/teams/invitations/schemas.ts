/**
 * Shapes of the invite-link and CSV invitation routes (./routes.ts).
 * Imports only typebox and import-free modules, so src/web takes the `Static<>` types without
 * pulling in server code (scripts/check-imports.ts checks that).
 */
import { Type, type Static } from 'typebox'
import { Role, Timestamp } from '../schemas.ts'

export const LinkParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }), linkId: Type.String({ minLength: 1, maxLength: 64 }) })
export const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 128, description: 'The last part of the link `/join/<token>`.' }) })

export const InviteLink = Type.Object({
  id: Type.String(),
  roles: Type.Array(Role),
  state: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked'), Type.Literal('used_up')], {
    description: '`revoked` also when its creator may no longer create it (removed, left, or no longer holding the role it needs); `revokedAt` is then null.',
  }),
  createdBy: Type.Union([Type.String(), Type.Null()], { description: 'Username of the member who created it.' }),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  maxUses: Type.Integer(),
  uses: Type.Integer(),
  usesLeft: Type.Integer({ description: '0 unless the link is active.' }),
  revokedAt: Type.Union([Timestamp, Type.Null()]),
  revokedBy: Type.Union([Type.String(), Type.Null()]),
  noFreeSeat: Type.Boolean({ description: 'True for an active link through which nobody can join now: a join needs a paid seat and none is free (links hold no seats). Add seats or free one.' }),
})
export const NewInviteLink = Type.Object({
  ...InviteLink.properties,
  url: Type.String({ description: '`${PUBLIC_URL}/join/<token>`: shown only now; Latchkey keeps only a hash of the token.' }),
  token: Type.String(),
})
export const InviteLinkPreview = Type.Object({
  team: Type.Object({ slug: Type.String(), name: Type.String(), logoUrl: Type.Union([Type.String(), Type.Null()]) }),
  roles: Type.Array(Role),
  expiresAt: Timestamp,
  usesLeft: Type.Integer(),
  alreadyMember: Type.Union([Type.Boolean(), Type.Null()], { description: 'Null when signed out.' }),
  emailConfirmed: Type.Union([Type.Boolean(), Type.Null()], { description: 'Joining needs a confirmed email. Null when signed out.' }),
})

/** One problem of a CSV of invitations: the `rows` of a `csv_invalid` refusal (line 0: the whole file). */
/** An invitation waiting for the signed-in person (`GET /api/v1/me/invitations`). */
export const MyInvitation = Type.Object({
  id: Type.String(),
  team: Type.Object({ name: Type.String(), logoUrl: Type.Union([Type.String(), Type.Null()]) }),
  inviter: Type.Union([Type.String(), Type.Null()], { description: 'Display name (or username) of who invited.' }),
  roles: Type.Array(Role),
  sentAt: Type.Union([Timestamp, Type.Null()]),
})
export const InvitationIdParams = Type.Object({ invitationId: Type.String({ minLength: 1, maxLength: 64 }) })

export const CsvProblem = Type.Object({
  line: Type.Integer(),
  column: Type.Union([Type.Literal('email'), Type.Literal('roles'), Type.Literal('row'), Type.Literal('file')]),
  code: Type.String(),
  message: Type.String(),
})

export type CsvProblem = Static<typeof CsvProblem>
export type InviteLink = Static<typeof InviteLink>
export type MyInvitation = Static<typeof MyInvitation>
export type NewInviteLink = Static<typeof NewInviteLink>
export type InviteLinkPreview = Static<typeof InviteLinkPreview>

export const InviteLinks = Type.Object({ links: Type.Array(InviteLink) })
export const MyInvitations = Type.Object({ invitations: Type.Array(MyInvitation) })
export type InviteLinks = Static<typeof InviteLinks>
export type MyInvitations = Static<typeof MyInvitations>
