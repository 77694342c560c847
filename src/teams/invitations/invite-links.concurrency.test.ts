/**
 * Invite links under parallel joins (ARCHITECTURE "Storage"): the 30-join limit and the seats
 * bought hold when many people use one link at the same moment, on separate sessions (and on
 * PostgreSQL separate pool connections). Each join takes the person's lock, then the team's,
 * and raises `uses` with one conditional UPDATE.
 */
import { describe, expect, it } from 'vitest'
import { DIALECTS } from '../../../test/helpers/databases.ts'
import { errorOf, expectErrorCode, signedUpUser, testApp } from '../../../test/helpers/app.ts'
import { teamWithAdmin } from '../../../test/helpers/teams.ts'
import type { JoinedTeam, TeamPage } from '../schemas.ts'
import type { InviteLinks, NewInviteLink } from './schemas.ts'
import type { SignedIn } from '../../signin/schemas.ts'

const MANY_PEOPLE = { RATE_LIMIT_SIGNUP_PER_IP_PER_HOUR: '100000', RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '100000' }

describe.each(DIALECTS)('invite links under concurrency on %s', (dialect) => {
  it('never lets parallel joins pass the 30-use limit', async () => {
    const t = await testApp(dialect, MANY_PEOPLE)
    const { admin, slug } = await teamWithAdmin(t, { seats: 50 })
    const link = (await admin.client.post<NewInviteLink>(`/api/v1/teams/${slug}/invite-links`, { roles: ['developer'] })).body
    const people = await Promise.all(Array.from({ length: 36 }, () => signedUpUser(t)))
    const results = await Promise.all(people.map((p) => p.client.post<JoinedTeam>(`/api/v1/invite-links/${link.token}/join`)))
    expect(results.filter((r) => r.status === 200)).toHaveLength(30)
    for (const refused of results.filter((r) => r.status !== 200)) expect(errorOf(refused)).toMatchObject({ code: 'invite_link_invalid', reason: 'used_up' })
    expect((await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.members).toHaveLength(31)
    expect((await admin.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`)).body.links[0]).toMatchObject({ uses: 30, state: 'used_up' })
  })

  it('never lets parallel joins take more seats than were bought', async () => {
    const t = await testApp(dialect, MANY_PEOPLE)
    const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
    const link = (await admin.client.post<NewInviteLink>(`/api/v1/teams/${slug}/invite-links`, { roles: ['developer'] })).body
    const people = await Promise.all(Array.from({ length: 8 }, () => signedUpUser(t)))
    const results = await Promise.all(people.map((p) => p.client.post<JoinedTeam>(`/api/v1/invite-links/${link.token}/join`)))
    expect(results.filter((r) => r.status === 200)).toHaveLength(3)
    for (const refused of results.filter((r) => r.status !== 200)) expectErrorCode(refused, 'no_seats_available')
    expect((await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.seats).toMatchObject({ bought: 3, takenByMembers: 3, available: 0 })
    // Refused joins spent no uses.
    expect((await admin.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`)).body.links[0].uses).toBe(3)
  })

  it('lets one of two parallel joins by the same person through', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
    const link = (await admin.client.post<NewInviteLink>(`/api/v1/teams/${slug}/invite-links`, { roles: ['developer'] })).body
    const bo = await signedUpUser(t)
    const other = t.client()
    await other.post<SignedIn>('/api/v1/signin', { login: bo.email, password: bo.password })
    const results = await Promise.all([bo.client.post<JoinedTeam>(`/api/v1/invite-links/${link.token}/join`), other.post<JoinedTeam>(`/api/v1/invite-links/${link.token}/join`)])
    expect(results.map((r) => r.status).sort()).toEqual([200, 409])
    expectErrorCode(results.find((r) => r.status === 409)!, 'already_team_member')
    expect((await admin.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`)).body.links[0].uses).toBe(1)
  })
})
