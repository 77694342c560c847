/**
 * The invariants that must hold when requests race (ARCHITECTURE "Storage"): they are enforced
 * in the transaction under the team row lock, so parallel requests on separate sessions (and,
 * on PostgreSQL, separate pool connections) cannot both pass a check that only one may pass.
 */
import { describe, expect, it } from 'vitest'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { errorOf, expectErrorCode, signedUpUser, testApp, type TestApp } from '../../test/helpers/app.ts'
import { addMember, invitationToken, teamWithAdmin } from '../../test/helpers/teams.ts'
import type { Invitations, JoinedTeam, LeaveResult, Member, SeatUsage, TeamPage } from './schemas.ts'
import type { SignedIn } from '../signin/schemas.ts'

async function admins(t: TestApp, slug: string): Promise<number> {
  const team = await t.app.ctx.db.selectFrom('teams').select('id').where('slug', '=', slug).executeTakeFirstOrThrow()
  const rows = await t.app.ctx.db.selectFrom('team_members').select('account_id').where('team_id', '=', team.id).where('role_admin', '=', 1).execute()
  return rows.length
}

describe.each(DIALECTS)('teams under concurrency on %s', (dialect) => {
  it('leaves one Admin when two Admins demote each other at the same moment', async () => {
    const t = await testApp(dialect)
    for (let round = 0; round < 3; round++) {
      const { admin: ada, slug } = await teamWithAdmin(t, { seats: 2 })
      const bo = await addMember(t, ada, slug, ['admin'])
      const results = await Promise.all([
        ada.client.put<Member>(`/api/v1/teams/${slug}/members/${bo.accountId}/roles`, { roles: ['developer'] }),
        bo.client.put<Member>(`/api/v1/teams/${slug}/members/${ada.accountId}/roles`, { roles: ['developer'] }),
      ])
      expect(results.map((r) => r.status).sort()).toEqual([200, expect.any(Number)])
      const refused = results.find((r) => r.status !== 200)!
      // The loser was demoted first (no longer allowed) or is the last Admin's target.
      expect(['team_permission_denied', 'last_admin']).toContain(errorOf(refused).code)
      expect(await admins(t, slug)).toBe(1)
    }
  })

  it('leaves one Admin when two Admins leave at the same moment', async () => {
    const t = await testApp(dialect)
    const { admin: ada, slug } = await teamWithAdmin(t, { seats: 2 })
    const bo = await addMember(t, ada, slug, ['admin'])
    await addMember(t, ada, slug, ['developer'])
    const results = await Promise.all([ada.client.post<LeaveResult>(`/api/v1/teams/${slug}/leave`), bo.client.post<LeaveResult>(`/api/v1/teams/${slug}/leave`)])
    expect(results.map((r) => r.status).sort()).toEqual([200, 409])
    expect(await admins(t, slug)).toBe(1)
  })

  it('never lets parallel acceptances take more seats than were bought', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 4 })
    const invitees = await Promise.all(Array.from({ length: 4 }, () => signedUpUser(t)))
    expect((await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: invitees.map((p) => p.email), roles: ['developer'] })).status).toBe(201)
    const tokens = await Promise.all(invitees.map((p) => invitationToken(t, p.email)))
    // Billing lowers the seats below the pending invitations (SPEC §9: a downgrade or a lapsed
    // payment can); the invitations stay open, and only the first acceptances fit.
    expect((await admin.client.put<SeatUsage>(`/api/v1/teams/${slug}/seats`, { seats: 2 })).status).toBe(200)
    const results = await Promise.all(invitees.map((p, i) => p.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: tokens[i] })))
    expect(results.filter((r) => r.status === 200)).toHaveLength(2)
    for (const refused of results.filter((r) => r.status !== 200)) expectErrorCode(refused, 'no_seats_available')
    const page = (await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body
    expect(page.seats.takenByMembers).toBe(2)
    expect(page.members).toHaveLength(3)
  })

  it('never lets parallel invitations hold more seats than were bought', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
    const second = await addMember(t, admin, slug, ['admin'])
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? admin : second).client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [`racer${i}@example.com`], roles: ['developer'] })),
    )
    expect(results.filter((r) => r.status === 201)).toHaveLength(3)
    for (const refused of results.filter((r) => r.status !== 201)) expectErrorCode(refused, 'no_seats_available')
    expect((await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.seats).toMatchObject({ bought: 3, heldByInvitations: 3, available: 0 })
  })

  it('lets one of two parallel acceptances of the same invitation through', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
    const bo = await signedUpUser(t)
    await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [bo.email], roles: ['developer'] })
    const token = await invitationToken(t, bo.email)
    const other = t.client()
    await other.post<SignedIn>('/api/v1/signin', { login: bo.email, password: bo.password })
    const results = await Promise.all([bo.client.post<JoinedTeam>('/api/v1/invitations/accept', { token }), other.post<JoinedTeam>('/api/v1/invitations/accept', { token })])
    expect(results.map((r) => r.status).sort()).toEqual([200, expect.any(Number)])
    expect(['invitation_invalid', 'already_team_member']).toContain(errorOf(results.find((r) => r.status !== 200)!).code)
    expect((await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.members).toHaveLength(2)
  })
})
