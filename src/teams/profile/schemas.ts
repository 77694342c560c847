/**
 * Shapes of the team URL and public profile routes (./routes.ts), and of the invitation preview.
 * Imports only typebox and import-free modules, so src/web takes the `Static<>` types without
 * pulling in server code (scripts/check-imports.ts checks that).
 */
import { Type, type Static } from 'typebox'
import { DESCRIPTION_MAX_LENGTH } from '../limits.ts'
import { Role } from '../schemas.ts'

export const Profile = Type.Object({
  description: Type.String({ description: `Plain text (line breaks kept), at most ${DESCRIPTION_MAX_LENGTH} characters; render it as text.` }),
  website: Type.Union([Type.String(), Type.Null()], { description: 'An https URL, or null.' }),
  public: Type.Boolean({ description: 'Shown at /t/<slug> and by GET /api/v1/public/teams/{slug}.' }),
})
export const SlugAvailability = Type.Object({
  available: Type.Boolean(),
  reason: Type.Optional(Type.Union([Type.Literal('taken'), Type.Literal('reserved'), Type.Literal('invalid')])),
  detail: Type.Optional(Type.String()),
  suggestions: Type.Array(Type.String()),
})
export const SlugChange = Type.Object({ slug: Type.String(), name: Type.String(), previousSlug: Type.Union([Type.String(), Type.Null()]) })
export const PublicTeam = Type.Object({ slug: Type.String(), name: Type.String(), logoUrl: Type.Union([Type.String(), Type.Null()]), description: Type.String(), website: Type.Union([Type.String(), Type.Null()]), memberCount: Type.Integer() })
export const InvitationPreview = Type.Object({
  team: Type.Object({ name: Type.String(), logoUrl: Type.Union([Type.String(), Type.Null()]) }),
  inviter: Type.Union([Type.String(), Type.Null()], { description: 'Display name (or username) of who invited.' }),
  roles: Type.Array(Role),
  emailMatches: Type.Union([Type.Boolean(), Type.Null()], { description: "Signed in: whether this account's email was invited. Null when signed out." }),
  alreadyMember: Type.Union([Type.Boolean(), Type.Null()]),
  invitedEmail: Type.Union([Type.String(), Type.Null()], { description: 'Signed out only: the invited address, to fill in the sign-up form (the token was sent there). Null when signed in.' }),
})

export type Profile = Static<typeof Profile>
export type SlugAvailability = Static<typeof SlugAvailability>
export type SlugChange = Static<typeof SlugChange>
export type PublicTeam = Static<typeof PublicTeam>
export type InvitationPreview = Static<typeof InvitationPreview>
