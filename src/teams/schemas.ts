/**
 * The team API's shapes (routes: ./routes.ts and the sub-folders' routes.ts): each drives the
 * route's validation and the OpenAPI document, and its `Static<>` type is what the web app's
 * team pages read. Imports only typebox and import-free modules (./limits.ts,
 * ./permission-map.ts), so src/web takes it without pulling in server code
 * (scripts/check-imports.ts checks that).
 */
import { Type, type Static } from 'typebox'
import { TEAM_ROLES } from './permission-map.ts'
import { TEAM_NAME_MAX_LENGTH } from './limits.ts'

export const Role = Type.Enum([...TEAM_ROLES])
export const Roles = Type.Array(Role, { minItems: 1, maxItems: TEAM_ROLES.length, uniqueItems: true })
// No control characters; the domain trims and counts the precise 50.
export const TeamName = Type.String({ minLength: 1, maxLength: TEAM_NAME_MAX_LENGTH * 2, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })
export const Timestamp = Type.String({ format: 'date-time' })

export const SlugParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }) })
export const MemberParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }), accountId: Type.String({ minLength: 1, maxLength: 64 }) })
export const InvitationParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }), invitationId: Type.String({ minLength: 1, maxLength: 64 }) })

export const LogoUrl = Type.Union([Type.String(), Type.Null()], { description: 'The logo (256×256 PNG), a path on this server; null without one.' })
export const TeamSummary = Type.Object({ slug: Type.String(), name: Type.String(), roles: Type.Array(Role), memberCount: Type.Integer(), joinedAt: Timestamp, logoUrl: LogoUrl })
export const SeatUsage = Type.Object({
  bought: Type.Integer(),
  takenByMembers: Type.Integer({ description: 'Paid seats taken by members.' }),
  heldByInvitations: Type.Integer({ description: 'Paid seats held by pending invitations.' }),
  available: Type.Integer(),
  supportMembers: Type.Integer({ description: 'Members with only Admin and/or Billing roles.' }),
  freeSupportMembers: Type.Integer({ description: 'Support members who take no seat.' }),
})
export const Member = Type.Object({ accountId: Type.String(), username: Type.String(), displayName: Type.String(), roles: Type.Array(Role), supportMember: Type.Boolean(), joinedAt: Timestamp, avatarUrl: Type.Union([Type.String(), Type.Null()]) })
export const Invitation = Type.Object({
  id: Type.String(),
  email: Type.String(),
  roles: Type.Array(Role),
  status: Type.Union([Type.Literal('pending'), Type.Literal('suggested')], { description: '`suggested`: waits for an Admin to approve it.' }),
  invitedBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  sentAt: Type.Union([Timestamp, Type.Null()]),
})
export const Invitations = Type.Object({ invitations: Type.Array(Invitation), suggestions: Type.Array(Invitation) })
export const TeamPage = Type.Object({
  slug: Type.String(),
  name: Type.String(),
  createdAt: Timestamp,
  logoUrl: LogoUrl,
  myRoles: Type.Array(Role),
  seats: SeatUsage,
  members: Type.Array(Member),
  invitations: Type.Array(Invitation),
  suggestions: Type.Array(Invitation),
})
export const ActivityEvent = Type.Object({
    id: Type.String(),
    type: Type.String(),
    actor: Type.Union([Type.Object({
      accountId: Type.String(),
      username: Type.String({ description: 'The current username (at the time, when the account has been deleted).' }),
      formerUsername: Type.Optional(Type.String({ description: 'The username at the time of the event, when the account has been renamed since. `details.username` and `details.formerUsername` follow the same rule for the member the event is about (`details.accountId`).' })),
    }), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    at: Timestamp,
  details: Type.Record(Type.String(), Type.Unknown()),
})
export const ActivityPage = Type.Object({ events: Type.Array(ActivityEvent), nextCursor: Type.Union([Type.String(), Type.Null()]) })

/** A team and its new URL after a rename or a join: what the caller goes to next. */
export const TeamRef = Type.Object({ slug: Type.String(), name: Type.String() })
/** Leaving: whether the team went with it (its last member left). */
export const LeaveResult = Type.Object({ teamDeleted: Type.Boolean() })
export const JoinedTeam = Type.Object({ slug: Type.String(), name: Type.String(), roles: Type.Array(Role) })

export type TeamSummary = Static<typeof TeamSummary>
export type SeatUsage = Static<typeof SeatUsage>
export type Member = Static<typeof Member>
export type Invitation = Static<typeof Invitation>
export type TeamPage = Static<typeof TeamPage>
export type ActivityEvent = Static<typeof ActivityEvent>
export type ActivityPage = Static<typeof ActivityPage>
export type JoinedTeam = Static<typeof JoinedTeam>
export type TeamRef = Static<typeof TeamRef>
export type LeaveResult = Static<typeof LeaveResult>
export type Invitations = Static<typeof Invitations>

export const TeamList = Type.Object({ teams: Type.Array(TeamSummary) })
export const LogoSet = Type.Object({ logoUrl: Type.String() })
export type TeamList = Static<typeof TeamList>
export type LogoSet = Static<typeof LogoSet>
