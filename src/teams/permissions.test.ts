/**
 * SPEC §7's permission table, from the outside: every team endpoint called by a member holding
 * each single role, by a signed-in non-member and signed out, with the exact answer each must
 * get. The expectations are written from the SPEC here, not read from TEAM_PERMISSIONS, so a
 * wrong entry in the map fails this suite. Then the cross-team rule: no team-B identifier
 * works through team A, and team B's data never comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { errorOf, expectError, expectErrorCode, signedUpUser, testApp, type TestApp } from '../../test/helpers/app.ts'
import type { TeamRole } from './roles.ts'
import { addMember, invitationToken, newSlug, teamWithAdmin, type Person } from '../../test/helpers/teams.ts'
import { DnsServer } from '../../test/helpers/dns.ts'
import { newDomain, personAt } from '../../test/helpers/discovery.ts'
import type { DiscoverableTeams, Discovery, Domain, DomainsPage, JoinRequests, MyJoinRequest, VerifyResult } from './discovery/schemas.ts'
import type { InviteLinks, NewInviteLink } from './invitations/schemas.ts'
import type { Invitations, JoinedTeam, SeatUsage, TeamList, TeamPage, TeamSummary } from './schemas.ts'
import type { Profile, PublicTeam } from './profile/schemas.ts'

const ROLES: TeamRole[] = ['admin', 'billing', 'developer', 'community_manager']
type Caller = TeamRole | 'non-member' | 'signed-out'
const EVERYONE: TeamRole[] = ROLES

interface Fixture {
  slug: string
  members: Record<TeamRole, Person>
  target: Person
  invitationId: string
  suggestionIds: { approve: string; decline: string }
  /** Set by an endpoint's `prepare` (discovery endpoints). */
  domainId?: string
  joinRequestId?: string
  /** Set by `prepare`: an invite link the team's first Admin made. */
  inviteLinkId?: string
}

interface Endpoint {
  name: string
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: (f: Fixture) => string
  body?: (f: Fixture, caller: Caller) => unknown
  /** Who the SPEC lets do it; every other member gets 403. */
  allowed: readonly TeamRole[]
  status: number
  /** Extra state the endpoint needs, made by the team's Admin before the callers run. */
  prepare?: (t: TestApp, f: Fixture) => Promise<void>
}

// Discovery fixtures: a domain (verified on the test DNS server when `verify`), discovery on,
// and a pending request from a person at the domain.
let dns: DnsServer
async function withDomain(f: Fixture, options: { verify?: boolean } = {}) {
  const admin = f.members.admin.client
  const added = await admin.post<Domain>(`/api/v1/teams/${f.slug}/domains`, { domain: newDomain('matrix') })
  expect(added.status, JSON.stringify(added.body)).toBe(201)
  f.domainId = added.body.id
  dns.setTxt(added.body.record.name, [added.body.record.value])
  if (options.verify) expect((await admin.post<VerifyResult>(`/api/v1/teams/${f.slug}/domains/${f.domainId}/verify`)).body.outcome).toBe('verified')
  return added.body.domain
}
async function withJoinRequest(t: TestApp, f: Fixture) {
  const domain = await withDomain(f, { verify: true })
  expect((await f.members.admin.client.put<Discovery>(`/api/v1/teams/${f.slug}/discovery`, { enabled: true })).status).toBe(200)
  const requester = await personAt(t, domain)
  const asked = await requester.client.post<MyJoinRequest>('/api/v1/me/join-requests', { team: f.slug })
  expect(asked.status, JSON.stringify(asked.body)).toBe(201)
  f.joinRequestId = asked.body.id
}

let emails = 0
/** A 1×1 PNG. */
const TINY_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='
async function withInviteLink(_t: TestApp, f: Fixture) {
  const made = await f.members.admin.client.post<NewInviteLink>(`/api/v1/teams/${f.slug}/invite-links`, { roles: ['developer'] })
  expect(made.status, JSON.stringify(made.body)).toBe(201)
  f.inviteLinkId = made.body.id
}
const ENDPOINTS: Endpoint[] = [
  { name: 'see the team page', method: 'GET', path: (f) => `/api/v1/teams/${f.slug}`, allowed: EVERYONE, status: 200 },
  { name: 'rename the team', method: 'PATCH', path: (f) => `/api/v1/teams/${f.slug}`, body: () => ({ name: 'Renamed' }), allowed: ['admin'], status: 200 },
  // SPEC: Billing changes seats; Admins may too until billing exists (see TEAM_PERMISSIONS).
  { name: 'set seats', method: 'PUT', path: (f) => `/api/v1/teams/${f.slug}/seats`, body: () => ({ seats: 20 }), allowed: ['admin', 'billing'], status: 200 },
  // Giving the Billing role: Admin and Billing (SPEC row "assign the Billing role").
  { name: 'give a member the Billing role', method: 'PUT', path: (f) => `/api/v1/teams/${f.slug}/members/${f.target.accountId}/roles`, body: () => ({ roles: ['developer', 'billing'] }), allowed: ['admin', 'billing'], status: 200 },
  // Any other role: Admin only (SPEC row "assign roles").
  { name: 'give a member another role', method: 'PUT', path: (f) => `/api/v1/teams/${f.slug}/members/${f.target.accountId}/roles`, body: () => ({ roles: ['developer', 'community_manager'] }), allowed: ['admin'], status: 200 },
  { name: 'remove a member', method: 'DELETE', path: (f) => `/api/v1/teams/${f.slug}/members/${f.target.accountId}`, allowed: ['admin'], status: 204 },
  { name: 'leave', method: 'POST', path: (f) => `/api/v1/teams/${f.slug}/leave`, allowed: EVERYONE, status: 200 },
  { name: 'list invitations', method: 'GET', path: (f) => `/api/v1/teams/${f.slug}/invitations`, allowed: EVERYONE, status: 200 },
  // SPEC rows "invite members" (Admin) and "invite Developers" (Developer, Community Manager).
  { name: 'invite a Developer', method: 'POST', path: (f) => `/api/v1/teams/${f.slug}/invitations`, body: () => ({ emails: [`matrix${++emails}@example.com`], roles: ['developer'] }), allowed: ['admin', 'developer', 'community_manager'], status: 201 },
  { name: 're-send an invitation', method: 'POST', path: (f) => `/api/v1/teams/${f.slug}/invitations/${f.invitationId}/resend`, allowed: ['admin'], status: 200 },
  { name: 'cancel an invitation', method: 'DELETE', path: (f) => `/api/v1/teams/${f.slug}/invitations/${f.invitationId}`, allowed: ['admin'], status: 204 },
  { name: 'approve a suggestion', method: 'POST', path: (f) => `/api/v1/teams/${f.slug}/suggestions/${f.suggestionIds.approve}/approve`, allowed: ['admin'], status: 200 },
  { name: 'decline a suggestion', method: 'POST', path: (f) => `/api/v1/teams/${f.slug}/suggestions/${f.suggestionIds.decline}/decline`, allowed: ['admin'], status: 204 },
  { name: 'read the activity log', method: 'GET', path: (f) => `/api/v1/teams/${f.slug}/activity`, allowed: ['admin', 'community_manager'], status: 200 },
  // Invite links follow email invitations: whoever may invite Developers may see and make Developer links.
  { name: 'list invite links', method: 'GET', path: (f) => `/api/v1/teams/${f.slug}/invite-links`, allowed: ['admin', 'developer', 'community_manager'], status: 200 },
  { name: 'create a Developer invite link', method: 'POST', path: (f) => `/api/v1/teams/${f.slug}/invite-links`, body: () => ({ roles: ['developer'] }), allowed: ['admin', 'developer', 'community_manager'], status: 201 },
  { name: 'create an Admin invite link', method: 'POST', path: (f) => `/api/v1/teams/${f.slug}/invite-links`, body: () => ({ roles: ['admin'] }), allowed: ['admin'], status: 201 },
  // Revoking: Admins, and the link's creator (an Admin here, so no one else).
  { name: "revoke an Admin's invite link", method: 'DELETE', path: (f) => `/api/v1/teams/${f.slug}/invite-links/${f.inviteLinkId}`, prepare: withInviteLink, allowed: ['admin'], status: 200 },
  { name: 'invite Developers from a CSV file', method: 'POST', path: (f) => `/api/v1/teams/${f.slug}/invitations/csv`, body: () => ({ csv: `email,roles\nmatrix-csv${++emails}@example.com,developer\n` }), allowed: ['admin', 'developer', 'community_manager'], status: 201 },
  // SPEC row "team settings": the logo is the Admins'.
  { name: 'set the team logo', method: 'PUT', path: (f) => `/api/v1/teams/${f.slug}/logo`, body: () => ({ image: TINY_PNG }), allowed: ['admin'], status: 200 },
  { name: 'remove the team logo', method: 'DELETE', path: (f) => `/api/v1/teams/${f.slug}/logo`, allowed: ['admin'], status: 204 },
  // SPEC row "team settings, SSO/SCIM, domains": Admin only, discovery and join requests too.
  { name: 'list email domains', method: 'GET', path: (f) => `/api/v1/teams/${f.slug}/domains`, allowed: ['admin'], status: 200 },
  { name: 'add an email domain', method: 'POST', path: (f) => `/api/v1/teams/${f.slug}/domains`, body: () => ({ domain: newDomain('matrix') }), allowed: ['admin'], status: 201 },
  { name: 'check a domain in DNS', method: 'POST', path: (f) => `/api/v1/teams/${f.slug}/domains/${f.domainId}/verify`, prepare: async (_t, f) => void (await withDomain(f)), allowed: ['admin'], status: 200 },
  { name: 'remove an email domain', method: 'DELETE', path: (f) => `/api/v1/teams/${f.slug}/domains/${f.domainId}`, prepare: async (_t, f) => void (await withDomain(f)), allowed: ['admin'], status: 200 },
  { name: 'turn discovery on', method: 'PUT', path: (f) => `/api/v1/teams/${f.slug}/discovery`, body: () => ({ enabled: true, question: 'Which team?' }), prepare: async (_t, f) => void (await withDomain(f, { verify: true })), allowed: ['admin'], status: 200 },
  { name: 'list join requests', method: 'GET', path: (f) => `/api/v1/teams/${f.slug}/join-requests`, allowed: ['admin'], status: 200 },
  { name: 'approve a join request', method: 'POST', path: (f) => `/api/v1/teams/${f.slug}/join-requests/${f.joinRequestId}/approve`, prepare: withJoinRequest, allowed: ['admin'], status: 200 },
  // SPEC row "team settings": the URL is the Admins'.
  { name: "change the team's URL", method: 'PUT', path: (f) => `/api/v1/teams/${f.slug}/slug`, body: () => ({ slug: newSlug('moved') }), allowed: ['admin'], status: 200 },
  { name: 'read the public profile settings', method: 'GET', path: (f) => `/api/v1/teams/${f.slug}/profile`, allowed: EVERYONE, status: 200 },
  // SPEC row "edit the team's public profile": Admin and Community Manager.
  { name: 'edit the public profile', method: 'PUT', path: (f) => `/api/v1/teams/${f.slug}/profile`, body: (_f, caller) => ({ description: `Edited by ${caller}`, public: true }), allowed: ['admin', 'community_manager'], status: 200 },
  { name: 'deny a join request', method: 'POST', path: (f) => `/api/v1/teams/${f.slug}/join-requests/${f.joinRequestId}/deny`, prepare: withJoinRequest, allowed: ['admin'], status: 204 },
]

/** Callers in the order they run: refusals first, so an allowed change cannot hide one. */
function callersOf(endpoint: Endpoint): Caller[] {
  const denied = ROLES.filter((r) => !endpoint.allowed.includes(r))
  return ['signed-out', 'non-member', ...denied, ...endpoint.allowed]
}

function expectedFor(endpoint: Endpoint, caller: Caller): { status: number; code?: string } {
  if (caller === 'signed-out') return { status: 401, code: 'unauthenticated' }
  if (caller === 'non-member') return { status: 404, code: 'not_found' }
  return endpoint.allowed.includes(caller) ? { status: endpoint.status } : { status: 403, code: 'team_permission_denied' }
}

/** People join at most 10 teams: a fresh group every few fixtures. */
class People {
  #t: TestApp
  #group?: { owner: Person; members: Record<TeamRole, Person>; target: Person; uses: number }
  outsider?: Person
  constructor(t: TestApp) {
    this.#t = t
  }
  async group() {
    if (!this.#group || this.#group.uses >= 9) {
      const t = this.#t
      this.#group = {
        owner: await signedUpUser(t),
        members: { admin: await signedUpUser(t), billing: await signedUpUser(t), developer: await signedUpUser(t), community_manager: await signedUpUser(t) },
        target: await signedUpUser(t),
        uses: 0,
      }
    }
    this.#group.uses += 1
    return this.#group
  }
}

async function fixture(t: TestApp, people: People): Promise<Fixture> {
  const group = await people.group()
  const slug = newSlug('matrix')
  expect((await group.owner.client.post<TeamSummary>('/api/v1/teams', { name: `Team ${slug}`, slug })).status).toBe(201)
  expect((await group.owner.client.put<SeatUsage>(`/api/v1/teams/${slug}/seats`, { seats: 20 })).status).toBe(200)
  for (const role of ROLES) await addMember(t, group.owner, slug, [role], group.members[role])
  await addMember(t, group.owner, slug, ['developer'], group.target)
  const invited = await group.owner.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [`pending-${slug}@example.com`], roles: ['developer'] })
  const suggest = (email: string) => group.members.developer.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [email], roles: ['billing'] })
  const approve = (await suggest(`approve-${slug}@example.com`)).body.suggestions[0].id
  const decline = (await suggest(`decline-${slug}@example.com`)).body.suggestions[0].id
  return { slug, members: group.members, target: group.target, invitationId: invited.body.invitations[0].id, suggestionIds: { approve, decline } }
}

describe.each(DIALECTS)('team permissions on %s', (dialect) => {
  let t: TestApp
  let people: People
  beforeAll(async () => {
    dns = await new DnsServer().start()
    t = await testApp(dialect, { RATE_LIMIT_SIGNUP_PER_IP_PER_HOUR: '100000', RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '100000', DNS_SERVERS: dns.address }, { manualTeardown: true })
    people = new People(t)
    people.outsider = await signedUpUser(t)
  })
  afterAll(async () => {
    await t?.close()
    await dns?.stop()
  })

  for (const endpoint of ENDPOINTS) {
    describe(`${endpoint.name} (${endpoint.method})`, () => {
      let f: Fixture
      beforeAll(async () => {
        f = await fixture(t, people)
        await endpoint.prepare?.(t, f)
      })
      for (const caller of callersOf(endpoint)) {
        const expected = expectedFor(endpoint, caller)
        it(`${caller}: ${expected.code ?? expected.status}`, async () => {
          const client = caller === 'signed-out' ? t.client() : caller === 'non-member' ? people.outsider!.client : f.members[caller].client
          const res = await client.request(endpoint.method, endpoint.path(f), endpoint.body?.(f, caller) ?? (endpoint.method === 'POST' ? {} : undefined))
          expect(res.status, JSON.stringify(res.body)).toBe(expected.status)
          if (expected.code) expect(errorOf(res).code).toBe(expected.code)
        })
      }
    })
  }

  it('asks for a session on the routes outside a team: create, list, accept, discovery, join requests and joining by invite link (its preview is public)', async () => {
    const anonymous = t.client()
    for (const [method, url, body] of [
      ['POST', '/api/v1/teams', { name: 'x', slug: 'xyz' }], ['GET', '/api/v1/teams', undefined], ['POST', '/api/v1/invitations/accept', { token: 'A'.repeat(43) }],
      ['GET', '/api/v1/me/discoverable-teams', undefined], ['GET', '/api/v1/me/join-requests', undefined], ['POST', '/api/v1/me/join-requests', { team: 'xyz' }], ['DELETE', '/api/v1/me/join-requests/abc', undefined],
      ['POST', `/api/v1/invite-links/${'A'.repeat(43)}/join`, {}],
      ['GET', '/api/v1/team-slugs/some-team', undefined],
    ] as const) {
      const res = await anonymous.request(method, url, body)
      expect(res.status, url).toBe(401)
      expectErrorCode(res, 'unauthenticated')
    }
  })

  describe('across teams', () => {
    it('gives an Admin of team A nothing of team B through any endpoint or identifier', async () => {
      const a = await teamWithAdmin(t, { seats: 5 })
      const b = await teamWithAdmin(t, { seats: 5 })
      const bDev = await addMember(t, b.admin, b.slug, ['developer'])
      const bInvitation = (await b.admin.client.post<Invitations>(`/api/v1/teams/${b.slug}/invitations`, { emails: [`secret-${b.slug}@example.com`], roles: ['developer'] })).body.invitations[0].id
      const bSuggestion = (await bDev.client.post<Invitations>(`/api/v1/teams/${b.slug}/invitations`, { emails: [`hidden-${b.slug}@example.com`], roles: ['billing'] })).body.suggestions[0].id
      // Team B's discovery: a verified domain, discovery on, and a pending request.
      const bDomain = newDomain('secret')
      const bDomainRecord = (await b.admin.client.post<Domain>(`/api/v1/teams/${b.slug}/domains`, { domain: bDomain })).body
      dns.setTxt(bDomainRecord.record.name, [bDomainRecord.record.value])
      expect((await b.admin.client.post<VerifyResult>(`/api/v1/teams/${b.slug}/domains/${bDomainRecord.id}/verify`)).body.outcome).toBe('verified')
      expect((await b.admin.client.put<Discovery>(`/api/v1/teams/${b.slug}/discovery`, { enabled: true, question: 'Secret question?' })).status).toBe(200)
      const bRequester = await personAt(t, bDomain)
      const bRequest = (await bRequester.client.post<MyJoinRequest>('/api/v1/me/join-requests', { team: b.slug, answer: 'Secret answer' })).body.id
      const bLink = (await b.admin.client.post<NewInviteLink>(`/api/v1/teams/${b.slug}/invite-links`, { roles: ['admin'] })).body
      const secrets = [`Team ${b.slug}`, bDev.username, `secret-${b.slug}`, `hidden-${b.slug}`, bDomain, bRequester.username, 'Secret question', 'Secret answer']

      const asAdminOfA: [Endpoint['method'], string, unknown?][] = []
      for (const slug of [b.slug, a.slug]) {
        const member = slug === a.slug ? bDev.accountId : b.admin.accountId
        asAdminOfA.push(
          ['PUT', `/api/v1/teams/${slug}/members/${member}/roles`, { roles: ['developer'] }],
          ['DELETE', `/api/v1/teams/${slug}/members/${member}`],
          ['POST', `/api/v1/teams/${slug}/invitations/${bInvitation}/resend`, {}],
          ['DELETE', `/api/v1/teams/${slug}/invitations/${bInvitation}`],
          ['POST', `/api/v1/teams/${slug}/suggestions/${bSuggestion}/approve`, {}],
          ['POST', `/api/v1/teams/${slug}/suggestions/${bSuggestion}/decline`, {}],
          ['POST', `/api/v1/teams/${slug}/domains/${bDomainRecord.id}/verify`, {}],
          ['DELETE', `/api/v1/teams/${slug}/domains/${bDomainRecord.id}`],
          ['POST', `/api/v1/teams/${slug}/join-requests/${bRequest}/approve`, {}],
          ['POST', `/api/v1/teams/${slug}/join-requests/${bRequest}/deny`, {}],
          ['DELETE', `/api/v1/teams/${slug}/invite-links/${bLink.id}`],
        )
      }
      asAdminOfA.push(
        ['GET', `/api/v1/teams/${b.slug}`],
        ['PATCH', `/api/v1/teams/${b.slug}`, { name: 'Hijacked' }],
        ['PUT', `/api/v1/teams/${b.slug}/seats`, { seats: 1 }],
        ['POST', `/api/v1/teams/${b.slug}/leave`, {}],
        ['GET', `/api/v1/teams/${b.slug}/invitations`],
        ['POST', `/api/v1/teams/${b.slug}/invitations`, { emails: ['intruder@example.com'], roles: ['admin'] }],
        ['GET', `/api/v1/teams/${b.slug}/activity`],
        ['GET', `/api/v1/teams/${b.slug}/domains`],
        ['POST', `/api/v1/teams/${b.slug}/domains`, { domain: newDomain('intruder') }],
        ['PUT', `/api/v1/teams/${b.slug}/discovery`, { enabled: false }],
        ['GET', `/api/v1/teams/${b.slug}/join-requests`],
        ['GET', `/api/v1/teams/${b.slug}/invite-links`],
        ['POST', `/api/v1/teams/${b.slug}/invite-links`, { roles: ['admin'] }],
        ['POST', `/api/v1/teams/${b.slug}/invitations/csv`, { csv: 'intruder@example.com,admin' }],
        ['PUT', `/api/v1/teams/${b.slug}/logo`, { image: TINY_PNG }],
        ['DELETE', `/api/v1/teams/${b.slug}/logo`],
        ['PUT', `/api/v1/teams/${b.slug}/slug`, { slug: newSlug('hijacked') }],
        ['GET', `/api/v1/teams/${b.slug}/profile`],
        ['PUT', `/api/v1/teams/${b.slug}/profile`, { description: 'Hijacked', public: true }],
        // The person's side: team B is not discoverable to A's Admin, and B's request is not theirs.
        ['POST', '/api/v1/me/join-requests', { team: b.slug }],
        ['DELETE', `/api/v1/me/join-requests/${bRequest}`],
      )
      for (const [method, url, body] of asAdminOfA) {
        const res = await a.admin.client.request(method, url, body)
        expect(res.status, `${method} ${url}`).toBe(404)
        expectErrorCode(res, 'not_found')
        for (const secret of secrets) expect(JSON.stringify(res.body), `${method} ${url}`).not.toContain(secret)
      }

      const bToken = await invitationToken(t, `secret-${b.slug}@example.com`)
      const accept = await a.admin.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: bToken })
      expectError(accept, 403, 'invitation_email_mismatch')
      for (const secret of secrets) expect(JSON.stringify(accept.body)).not.toContain(secret)

      // Team B is untouched.
      expect((await a.admin.client.get<DiscoverableTeams>('/api/v1/me/discoverable-teams')).body.teams).toEqual([])
      expect((await b.admin.client.get<DomainsPage>(`/api/v1/teams/${b.slug}/domains`)).body).toMatchObject({ domains: [{ id: bDomainRecord.id, status: 'verified' }], discovery: { enabled: true } })
      expect((await b.admin.client.get<JoinRequests>(`/api/v1/teams/${b.slug}/join-requests`)).body.requests.map((r: { id: string }) => r.id)).toEqual([bRequest])
      const page = (await b.admin.client.get<TeamPage>(`/api/v1/teams/${b.slug}`)).body
      expect(page).toMatchObject({ name: `Team ${b.slug}`, seats: { bought: 5 } })
      // Members who joined in the same millisecond are listed by username, which is random here.
      expect(page.members.map((m: { accountId: string }) => m.accountId).sort()).toEqual([b.admin.accountId, bDev.accountId].sort())
      expect(page.invitations.map((i: { id: string }) => i.id)).toEqual([bInvitation])
      expect(page.suggestions.map((i: { id: string }) => i.id)).toEqual([bSuggestion])
      expect(page.logoUrl).toBeNull()
      // B's profile stayed private and its URL unchanged.
      expect((await t.client().get<PublicTeam>(`/api/v1/public/teams/${b.slug}`)).status).toBe(404)
      expect((await b.admin.client.get<Profile>(`/api/v1/teams/${b.slug}/profile`)).body).toEqual({ description: '', website: null, public: false })
      expect((await b.admin.client.get<InviteLinks>(`/api/v1/teams/${b.slug}/invite-links`)).body.links.map((l: { id: string; state: string }) => [l.id, l.state])).toEqual([[bLink.id, 'active']])
      expect((await a.admin.client.get<TeamList>('/api/v1/teams')).body.teams.map((x: { slug: string }) => x.slug)).toEqual([a.slug])
    })
  })
})
