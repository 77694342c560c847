/**
 * Shapes of the discovery routes (./routes.ts): domains, the discovery switch, requests to join.
 * Imports only typebox and import-free modules, so src/web takes the `Static<>` types without
 * pulling in server code (scripts/check-imports.ts checks that).
 */
import { Type, type Static } from 'typebox'
import { Role, Timestamp } from '../schemas.ts'

export const Slug = Type.String({ minLength: 1, maxLength: 64 })
export const Id = Type.String({ minLength: 1, maxLength: 64 })
export const DomainParams = Type.Object({ slug: Slug, domainId: Id })
export const RequestParams = Type.Object({ slug: Slug, requestId: Id })

export const CheckOutcome = Type.Union([Type.Literal('verified'), Type.Literal('record_not_found'), Type.Literal('wrong_value'), Type.Literal('dns_error')])
export const Domain = Type.Object({
  id: Type.String(),
  domain: Type.String({ description: 'Lower-case; internationalised names in punycode (xn--…).' }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('verified')]),
  record: Type.Object(
    { type: Type.Literal('TXT'), name: Type.String({ description: '`_latchkey-challenge.<domain>`' }), value: Type.String({ description: '`latchkey-verification=<token>`' }) },
    { description: 'The DNS record to publish at the domain’s DNS provider.' },
  ),
  createdAt: Timestamp,
  verifiedAt: Type.Union([Timestamp, Type.Null()]),
  lastCheck: Type.Union([Type.Object({ at: Timestamp, outcome: CheckOutcome }), Type.Null()]),
})
export const Discovery = Type.Object({
  enabled: Type.Boolean(),
  question: Type.Union([Type.String(), Type.Null()], { description: 'Asked of everyone who requests to join; null: none.' }),
})
export const DomainsPage = Type.Object({ domains: Type.Array(Domain), discovery: Discovery })
export const VerifyResult = Type.Object({
  outcome: Type.Union([CheckOutcome], { description: '`verified`; `record_not_found` (no TXT record at the name); `wrong_value` (TXT records there, none with the value); `dns_error` (the lookup failed; nothing changed).' }),
  message: Type.String({ description: 'What happened, in words to show.' }),
  found: Type.Array(Type.String(), { description: 'TXT values found at the name when none matched (at most 10).' }),
  domain: Domain,
})
export const JoinRequest = Type.Object({
  id: Type.String(),
  accountId: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  email: Type.String(),
  question: Type.Union([Type.String(), Type.Null()], { description: 'The question as it was when they asked.' }),
  answer: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
})
/** The new member an approved request made (the team page's Member without the avatar). */
export const ApprovedMember = Type.Object({ accountId: Type.String(), username: Type.String(), displayName: Type.String(), roles: Type.Array(Role), supportMember: Type.Boolean(), joinedAt: Timestamp })
export const MyJoinRequest = Type.Object({ id: Type.String(), team: Type.Object({ slug: Type.String(), name: Type.String() }), status: Type.Literal('pending'), createdAt: Timestamp })
export const DiscoverableTeam = Type.Object({
  slug: Type.String(),
  name: Type.String(),
  logoUrl: Type.Union([Type.String(), Type.Null()]),
  memberCount: Type.Integer(),
  question: Type.Union([Type.String(), Type.Null()], { description: 'When set, a request must answer it.' }),
  requestPending: Type.Boolean(),
  requestId: Type.Union([Type.String(), Type.Null()], { description: 'The pending request, to withdraw it.' }),
})

export const DomainRemoval = Type.Object({ discoveryTurnedOff: Type.Boolean() })

export type Domain = Static<typeof Domain>
export type DomainRemoval = Static<typeof DomainRemoval>
export type Discovery = Static<typeof Discovery>
export type ApprovedMember = Static<typeof ApprovedMember>
export type DomainsPage = Static<typeof DomainsPage>
export type VerifyResult = Static<typeof VerifyResult>
export type JoinRequest = Static<typeof JoinRequest>
export type MyJoinRequest = Static<typeof MyJoinRequest>
export type DiscoverableTeam = Static<typeof DiscoverableTeam>

export const JoinRequests = Type.Object({ requests: Type.Array(JoinRequest) })
export const MyJoinRequests = Type.Object({ requests: Type.Array(MyJoinRequest) })
export const DiscoverableTeams = Type.Object({ teams: Type.Array(DiscoverableTeam) })
export type JoinRequests = Static<typeof JoinRequests>
export type MyJoinRequests = Static<typeof MyJoinRequests>
export type DiscoverableTeams = Static<typeof DiscoverableTeams>
