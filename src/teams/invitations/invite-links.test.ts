/**
 * Invite links (SPEC §7) through the API on both databases: who may create, list and revoke
 * them; opening one (preview) and each precise reason a link cannot be used; joining under the
 * same rules as accepting an invitation (confirmed email, 10 teams, seats, already a member);
 * the 7-day expiry on the ManualClock and the 30-join limit.
 */
import { describe, expect, it } from 'vitest'
import { DIALECTS } from '../../../test/helpers/databases.ts'
import { errorOf, expectError, expectErrorCode, signedUpUser, testApp, type TestApp } from '../../../test/helpers/app.ts'
import { hashToken } from '../../crypto.ts'
import { addMember, teamWithAdmin, type Person } from '../../../test/helpers/teams.ts'
import type { InviteLink, InviteLinkPreview, InviteLinks, NewInviteLink } from './schemas.ts'
import type { ActivityPage, Invitations, JoinedTeam, Member, SeatUsage, TeamList, TeamPage, TeamSummary } from '../schemas.ts'
import type { SignedIn } from '../../signin/schemas.ts'

const MANY_PEOPLE = { RATE_LIMIT_SIGNUP_PER_IP_PER_HOUR: '100000', RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '100000' }

async function createLink(by: Person, slug: string, roles: string[] = ['developer']) {
  const res = await by.client.post<NewInviteLink>(`/api/v1/teams/${slug}/invite-links`, { roles })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body
}

async function activity(admin: Person, slug: string) {
  return (await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity?limit=100`)).body.events as { type: string; actor: { username: string } | null; details: Record<string, unknown> }[]
}

describe.each(DIALECTS)('team invite links on %s', (dialect) => {
  it('creates a link an Admin shares; the token is shown once and stored only as a hash', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
    const link = await createLink(admin, slug, ['developer', 'billing'])
    expect(link.url).toBe(`http://latchkey.test/join/${link.token}`)
    expect(link.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(link).toMatchObject({ roles: ['billing', 'developer'], state: 'active', maxUses: 30, uses: 0, usesLeft: 30, createdBy: admin.username, revokedAt: null })
    expect(Date.parse(link.expiresAt) - t.clock.now()).toBe(7 * 24 * 3600 * 1000)

    const stored = await t.app.ctx.db.selectFrom('team_invite_links').selectAll().where('id', '=', link.id).executeTakeFirstOrThrow()
    expect(stored.token_hash).toBe(hashToken(link.token))
    expect(JSON.stringify(stored)).not.toContain(link.token)

    const list = (await admin.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`)).body.links
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ id: link.id, createdBy: admin.username, uses: 0, usesLeft: 30, state: 'active' })
    expect(JSON.stringify(list)).not.toContain(link.token)
    const created = (await activity(admin, slug)).find((e) => e.type === 'invite_link.created')
    expect(created?.details).toMatchObject({ inviteLinkId: link.id, roles: ['billing', 'developer'] })
  })

  it('lets Developers and Community Managers create Developer links only; Billing members cannot use links', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 5 })
    const dev = await addMember(t, admin, slug, ['developer'])
    const cm = await addMember(t, admin, slug, ['community_manager'])
    const billing = await addMember(t, admin, slug, ['billing'])
    await createLink(dev, slug, ['developer'])
    await createLink(cm, slug, ['developer'])
    for (const member of [dev, cm]) {
      const res = await member.client.post<NewInviteLink>(`/api/v1/teams/${slug}/invite-links`, { roles: ['admin'] })
      expect(res.status).toBe(403)
      expect(errorOf(res)).toMatchObject({ code: 'team_permission_denied', fields: { roles: 'not_allowed' } })
    }
    for (const res of [await billing.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`), await billing.client.post<NewInviteLink>(`/api/v1/teams/${slug}/invite-links`, { roles: ['developer'] })]) {
      expectError(res, 403, 'team_permission_denied')
    }
    // Bad input is a 400 with fields, never a 500.
    for (const body of [{ roles: [] }, { roles: ['owner'] }, { roles: ['developer', 'developer'] }, {}, { roles: ['developer'], extra: 1 }]) {
      const res = await admin.client.post<NewInviteLink>(`/api/v1/teams/${slug}/invite-links`, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expectErrorCode(res, 'invalid_request')
    }
  })

  it('revokes: an Admin any link, a Developer only their own; the link then says so', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 5 })
    const dev = await addMember(t, admin, slug, ['developer'])
    const adminLink = await createLink(admin, slug)
    const devLink = await createLink(dev, slug)
    const denied = await dev.client.delete<InviteLink>(`/api/v1/teams/${slug}/invite-links/${adminLink.id}`)
    expectError(denied, 403, 'team_permission_denied')
    const own = await dev.client.delete<InviteLink>(`/api/v1/teams/${slug}/invite-links/${devLink.id}`)
    expect(own.status).toBe(200)
    expect(own.body).toMatchObject({ state: 'revoked', revokedBy: dev.username, usesLeft: 0 })
    const revoked = await admin.client.delete<InviteLink>(`/api/v1/teams/${slug}/invite-links/${adminLink.id}`)
    expect(revoked.body).toMatchObject({ state: 'revoked', revokedBy: admin.username })
    expect((await admin.client.delete<InviteLink>(`/api/v1/teams/${slug}/invite-links/${adminLink.id}`)).body.state).toBe('revoked')
    expect((await admin.client.delete<InviteLink>(`/api/v1/teams/${slug}/invite-links/no-such-link`)).status).toBe(404)

    const joiner = await signedUpUser(t)
    for (const res of [await joiner.client.get<InviteLinkPreview>(`/api/v1/invite-links/${adminLink.token}`), await joiner.client.post<JoinedTeam>(`/api/v1/invite-links/${adminLink.token}/join`)]) {
      expect(res.status).toBe(400)
      expect(errorOf(res)).toMatchObject({ code: 'invite_link_invalid', reason: 'revoked', teamName: `Team ${slug}`, fields: { token: 'revoked' } })
    }
    const log = await activity(admin, slug)
    expect(log.filter((e) => e.type === 'invite_link.revoked').map((e) => e.actor?.username).sort()).toEqual([admin.username, dev.username].sort())
  })

  it("stops working when its creator may no longer make it: demoted or removed, a member's links die with their rights", async () => {
    const t = await testApp(dialect, MANY_PEOPLE)
    const { admin, slug } = await teamWithAdmin(t, { seats: 10 })
    const second = await addMember(t, admin, slug, ['admin'])
    const dev = await addMember(t, admin, slug, ['developer'])
    const adminLink = await createLink(second, slug, ['admin'])
    const devBySecond = await createLink(second, slug, ['developer'])
    const devLink = await createLink(dev, slug)
    const kept = await createLink(admin, slug, ['admin'])

    // The second Admin is demoted to Developer: their Admin link would still make Admins.
    expect((await admin.client.put<Member>(`/api/v1/teams/${slug}/members/${second.accountId}/roles`, { roles: ['developer'] })).status).toBe(200)
    // The Developer is removed: the link they hold would still let people in.
    expect((await admin.client.delete(`/api/v1/teams/${slug}/members/${dev.accountId}`)).status).toBe(204)

    const joiner = await signedUpUser(t)
    for (const link of [adminLink, devLink]) {
      for (const res of [await joiner.client.get<InviteLinkPreview>(`/api/v1/invite-links/${link.token}`), await joiner.client.post<JoinedTeam>(`/api/v1/invite-links/${link.token}/join`)]) {
        expect(res.status, JSON.stringify(res.body)).toBe(400)
        expect(errorOf(res)).toMatchObject({ code: 'invite_link_invalid', reason: 'revoked', teamName: `Team ${slug}` })
      }
    }
    const states = Object.fromEntries(((await admin.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`)).body.links as { id: string; state: string; usesLeft: number }[]).map((l) => [l.id, [l.state, l.usesLeft]]))
    expect(states).toEqual({ [adminLink.id]: ['revoked', 0], [devLink.id]: ['revoked', 0], [devBySecond.id]: ['active', 30], [kept.id]: ['active', 30] })
    expect((await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.members.map((m: { username: string }) => m.username)).not.toContain(joiner.username)

    // A Developer link of the (now Developer) second member, and the first Admin's Admin link, still work.
    expect((await joiner.client.post<JoinedTeam>(`/api/v1/invite-links/${devBySecond.token}/join`)).body.roles).toEqual(['developer'])
    const other = await signedUpUser(t)
    expect((await other.client.post<JoinedTeam>(`/api/v1/invite-links/${kept.token}/join`)).body.roles).toEqual(['admin'])
  })

  it('bounds how many links a team makes: 100 a day, so a member cannot fill the database by creating and revoking', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
    const dev = await addMember(t, admin, slug, ['developer'])
    for (let i = 0; i < 100; i++) {
      const link = await createLink(i % 2 ? dev : admin, slug)
      expect((await (i % 2 ? dev : admin).client.delete<InviteLink>(`/api/v1/teams/${slug}/invite-links/${link.id}`)).status).toBe(200)
    }
    const refused = await dev.client.post<NewInviteLink>(`/api/v1/teams/${slug}/invite-links`, { roles: ['developer'] })
    expect(refused.status).toBe(429)
    expect(errorOf(refused)).toMatchObject({ code: 'too_many_requests', limit: 'invite_links_team', retryAt: expect.any(String) })
    expect(Date.parse(errorOf(refused).retryAt!)).toBe(t.clock.now() + 24 * 3600 * 1000)
    const count = await t.app.ctx.db.selectFrom('team_invite_links').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    expect(Number(count.n)).toBe(100)
    // A day later (moving the links back: a day on the clock would also end the sessions) it works again.
    await t.app.ctx.db.updateTable('team_invite_links').set({ created_at: t.clock.now() - 24 * 3600 * 1000 }).execute()
    await createLink(admin, slug)
  }, 120_000)

  it('previews a link and joins with its roles; the activity log names the link', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
    const link = await createLink(admin, slug, ['developer', 'community_manager'])
    const joiner = await signedUpUser(t)
    const preview = await joiner.client.get<InviteLinkPreview>(`/api/v1/invite-links/${link.token}`)
    expect(preview.status).toBe(200)
    expect(preview.body).toEqual({
      team: { slug, name: `Team ${slug}`, logoUrl: null },
      roles: ['developer', 'community_manager'],
      expiresAt: link.expiresAt,
      usesLeft: 30,
      alreadyMember: false,
      emailConfirmed: true,
    })
    const joined = await joiner.client.post<JoinedTeam>(`/api/v1/invite-links/${link.token}/join`)
    expect(joined.status, JSON.stringify(joined.body)).toBe(200)
    expect(joined.body).toEqual({ slug, name: `Team ${slug}`, roles: ['developer', 'community_manager'] })

    const page = (await joiner.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body
    expect(page.members.find((m) => m.username === joiner.username)!.roles).toEqual(['developer', 'community_manager'])
    expect(page.seats).toMatchObject({ takenByMembers: 1 })
    expect((await joiner.client.get<InviteLinkPreview>(`/api/v1/invite-links/${link.token}`)).body.alreadyMember).toBe(true)
    const again = await joiner.client.post<JoinedTeam>(`/api/v1/invite-links/${link.token}/join`)
    expectError(again, 409, 'already_team_member')

    const list = (await admin.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`)).body.links
    expect(list[0]).toMatchObject({ uses: 1, usesLeft: 29 })
    const joinedEvent = (await activity(admin, slug)).find((e) => e.type === 'member.joined' && e.details.username === joiner.username)
    expect(joinedEvent?.details).toMatchObject({ via: 'invite_link', inviteLinkId: link.id, linkCreatedBy: admin.username, roles: ['developer', 'community_manager'] })
  })

  it('says precisely why a link cannot be used: unknown, or expired after 7 days on the clock', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
    const joiner = await signedUpUser(t)
    for (const token of ['A'.repeat(43), 'short', 'x'.repeat(128)]) {
      const res = await joiner.client.post<JoinedTeam>(`/api/v1/invite-links/${token}/join`)
      expect(res.status).toBe(400)
      expect(errorOf(res)).toMatchObject({ code: 'invite_link_invalid', reason: 'unknown' })
      expect(errorOf(res)).not.toHaveProperty('teamName')
    }
    const link = await createLink(admin, slug)
    t.clock.advance(7 * 24 * 3600 * 1000 - 1000)
    // Sessions idle out long before; both sign in again.
    await signInAgain(t, admin)
    await signInAgain(t, joiner)
    expect((await joiner.client.get<InviteLinkPreview>(`/api/v1/invite-links/${link.token}`)).status).toBe(200)
    t.clock.advance(1000)
    for (const res of [await joiner.client.get<InviteLinkPreview>(`/api/v1/invite-links/${link.token}`), await joiner.client.post<JoinedTeam>(`/api/v1/invite-links/${link.token}/join`)]) {
      expect(res.status).toBe(400)
      expect(errorOf(res)).toMatchObject({ code: 'invite_link_invalid', reason: 'expired', teamName: `Team ${slug}` })
    }
    expect((await admin.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`)).body.links[0]).toMatchObject({ state: 'expired', usesLeft: 0 })
    expect((await joiner.client.get<TeamList>('/api/v1/teams')).body.teams).toEqual([])
    // Signed out: the same answer for the preview, and no join.
    expect(errorOf(await t.client().get<InviteLinkPreview>(`/api/v1/invite-links/${link.token}`))).toMatchObject({ code: 'invite_link_invalid', reason: 'expired' })
    expect((await t.client().post<JoinedTeam>(`/api/v1/invite-links/${link.token}/join`)).status).toBe(401)
  })

  it('names the team to a signed-out visitor, and nothing about them', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t)
    const link = await createLink(admin, slug)
    const preview = await t.client().get<InviteLinkPreview>(`/api/v1/invite-links/${link.token}`)
    expect(preview.status).toBe(200)
    expect(preview.body).toMatchObject({ team: { slug, name: `Team ${slug}` }, roles: ['developer'], usesLeft: 30, alreadyMember: null, emailConfirmed: null })
    expect(errorOf(await t.client().get<InviteLinkPreview>(`/api/v1/invite-links/${'x'.repeat(43)}`))).toMatchObject({ code: 'invite_link_invalid', reason: 'unknown' })
  })

  it('warns when a link is created, and while it is listed, that nobody can join through it for lack of a free seat', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 1 })
    const devLink = await createLink(admin, slug, ['developer'])
    expect(devLink.noFreeSeat).toBe(false)
    await addMember(t, admin, slug, ['developer'])
    // No paid seat is free: a Developer link cannot be used, a support link still can (2 free places, 1 taken).
    const full = await createLink(admin, slug, ['developer'])
    expect(full.noFreeSeat).toBe(true)
    const support = await createLink(admin, slug, ['billing'])
    expect(support.noFreeSeat).toBe(false)
    const listed = (await admin.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`)).body.links as { id: string; noFreeSeat: boolean }[]
    expect(Object.fromEntries(listed.map((l) => [l.id, l.noFreeSeat]))).toEqual({ [devLink.id]: true, [full.id]: true, [support.id]: false })
    // The second free support place taken, a support link needs a paid seat too.
    await addMember(t, admin, slug, ['billing'])
    const afterSupport = (await admin.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`)).body.links as { id: string; noFreeSeat: boolean }[]
    expect(afterSupport.find((l) => l.id === support.id)?.noFreeSeat).toBe(true)
    expect((await admin.client.put<SeatUsage>(`/api/v1/teams/${slug}/seats`, { seats: 2 })).status).toBe(200)
    const afterSeats = (await admin.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`)).body.links as { noFreeSeat: boolean }[]
    expect(afterSeats.every((l) => !l.noFreeSeat)).toBe(true)
  })

  it('accepts 30 people and refuses the 31st', async () => {
    const t = await testApp(dialect, MANY_PEOPLE)
    const { admin, slug } = await teamWithAdmin(t, { seats: 40 })
    const link = await createLink(admin, slug)
    const people = await Promise.all(Array.from({ length: 31 }, () => signedUpUser(t)))
    for (const p of people.slice(0, 30)) expect((await p.client.post<JoinedTeam>(`/api/v1/invite-links/${link.token}/join`)).status).toBe(200)
    const last = await people[30].client.post<JoinedTeam>(`/api/v1/invite-links/${link.token}/join`)
    expect(last.status).toBe(400)
    expect(errorOf(last)).toMatchObject({ code: 'invite_link_invalid', reason: 'used_up' })
    expect((await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.members).toHaveLength(31)
    expect((await admin.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`)).body.links[0]).toMatchObject({ uses: 30, usesLeft: 0, state: 'used_up' })
  })

  it('needs a free seat: support members are free up to 2, pending invitations hold seats, and the error says who adds seats', async () => {
    const t = await testApp(dialect)
    // One seat; the creator (Admin + Billing) is the first free support member.
    const { admin, slug } = await teamWithAdmin(t, { seats: 1 })
    const adminLink = await createLink(admin, slug, ['admin'])
    const devLink = await createLink(admin, slug, ['developer'])
    const secondSupport = await signedUpUser(t)
    expect((await secondSupport.client.post<JoinedTeam>(`/api/v1/invite-links/${adminLink.token}/join`)).status).toBe(200)
    // A pending invitation holds the one seat.
    expect((await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['held@example.com'], roles: ['developer'] })).status).toBe(201)
    const third = await signedUpUser(t)
    for (const token of [adminLink.token, devLink.token]) {
      const res = await third.client.post<JoinedTeam>(`/api/v1/invite-links/${token}/join`)
      expectError(res, 409, 'no_seats_available')
      expect(errorOf(res).message).toContain('Ask an Admin or a Billing member of the team to add seats')
    }
    // A refused join spends no use.
    expect((await admin.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`)).body.links.map((l: { uses: number }) => l.uses).sort()).toEqual([0, 1])
    expect((await admin.client.put<SeatUsage>(`/api/v1/teams/${slug}/seats`, { seats: 2 })).status).toBe(200)
    expect((await third.client.post<JoinedTeam>(`/api/v1/invite-links/${devLink.token}/join`)).status).toBe(200)
    expect((await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.seats).toMatchObject({ bought: 2, takenByMembers: 1, heldByInvitations: 1, available: 0, supportMembers: 2 })
  })

  it("settles the joiner's own pending invitation, so its held seat passes to them", async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 1 })
    const joiner = await signedUpUser(t)
    expect((await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [joiner.email], roles: ['developer'] })).status).toBe(201)
    const link = await createLink(admin, slug)
    expect((await joiner.client.post<JoinedTeam>(`/api/v1/invite-links/${link.token}/join`)).status).toBe(200)
    const page = (await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body
    expect(page.invitations).toEqual([])
    expect(page.seats).toMatchObject({ bought: 1, takenByMembers: 1, heldByInvitations: 0 })
  })

  it('refuses an unconfirmed email and an eleventh team', async () => {
    const t = await testApp(dialect, MANY_PEOPLE)
    const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
    const link = await createLink(admin, slug)
    const unconfirmed = await signedUpUser(t, { confirm: false })
    const preview = await unconfirmed.client.get<InviteLinkPreview>(`/api/v1/invite-links/${link.token}`)
    expect(preview.body.emailConfirmed).toBe(false)
    const refused = await unconfirmed.client.post<JoinedTeam>(`/api/v1/invite-links/${link.token}/join`)
    expectError(refused, 403, 'email_not_confirmed')

    const busy = await signedUpUser(t)
    for (let i = 0; i < 10; i++) await teamOf(t, busy)
    const full = await busy.client.post<JoinedTeam>(`/api/v1/invite-links/${link.token}/join`)
    expectError(full, 409, 'team_limit_reached')
    expect((await admin.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`)).body.links[0].uses).toBe(0)
  })
})

let made = 0
async function teamOf(t: TestApp, person: Person): Promise<void> {
  made += 1
  const slug = `own-${made}-${Math.random().toString(36).slice(2, 7)}`
  expect((await person.client.post<TeamSummary>('/api/v1/teams', { name: slug, slug })).status).toBe(201)
}

async function signInAgain(t: TestApp, person: Person): Promise<void> {
  const client = t.client()
  expect((await client.post<SignedIn>('/api/v1/signin', { login: person.email, password: person.password })).status).toBe(200)
  person.client = client
}
