import { describe, expect, it } from 'vitest'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { errorOf, expectError, expectErrorCode, signedUpUser, STRONG_PASSWORD, testApp } from '../../test/helpers/app.ts'
import { addMember, newSlug, teamWithAdmin } from '../../test/helpers/teams.ts'
import type { ActivityPage, Invitations, LeaveResult, Member, SeatUsage, TeamList, TeamPage, TeamRef, TeamSummary } from './schemas.ts'
import type { InviteLinks, NewInviteLink } from './invitations/schemas.ts'
import type { AccountView, DeletionCheck } from '../accounts/schemas.ts'

describe.each(DIALECTS)('teams on %s', (dialect) => {
  describe('creating a team', () => {
    it('makes the creator its Admin and Billing member, a support member taking none of the TEAM_DEFAULT_SEATS', async () => {
      const t = await testApp(dialect)
      const ada = await signedUpUser(t)
      const slug = newSlug('acme')
      const res = await ada.client.post<TeamSummary>('/api/v1/teams', { name: '  Acme Tools  ', slug })
      expect(res.status).toBe(201)
      expect(res.body).toMatchObject({ slug, name: 'Acme Tools', roles: ['admin', 'billing'], memberCount: 1 })
      const page = await ada.client.get<TeamPage>(`/api/v1/teams/${slug}`)
      expect(page.body.members).toEqual([expect.objectContaining({ accountId: ada.accountId, roles: ['admin', 'billing'], supportMember: true })])
      expect(page.body.seats).toEqual({ bought: 25, takenByMembers: 0, heldByInvitations: 0, available: 25, supportMembers: 1, freeSupportMembers: 2 })
    })

    it('lets a new team take in three people without anyone adding seats', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      for (let i = 0; i < 3; i += 1) await addMember(t, admin, slug, ['developer'])
      expect((await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.seats).toMatchObject({ bought: 25, takenByMembers: 3, available: 22 })
    })

    it('starts new teams with the seats the operator set in TEAM_DEFAULT_SEATS', async () => {
      const t = await testApp(dialect, { TEAM_DEFAULT_SEATS: '3' })
      const ada = await signedUpUser(t)
      const slug = newSlug()
      await ada.client.post<TeamSummary>('/api/v1/teams', { name: 'Small', slug })
      expect((await ada.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.seats).toMatchObject({ bought: 3, available: 3 })
    })

    it('needs a confirmed email', async () => {
      const t = await testApp(dialect)
      const unconfirmed = await signedUpUser(t, { confirm: false })
      const res = await unconfirmed.client.post<TeamSummary>('/api/v1/teams', { name: 'Acme', slug: newSlug() })
      expectError(res, 403, 'email_not_confirmed')
    })

    it('refuses a slug that is too short, too long, uppercase, edged with a hyphen or reserved', async () => {
      const t = await testApp(dialect)
      const ada = await signedUpUser(t)
      const cases: [string, string][] = [['ab', 'too_short'], ['a'.repeat(49), 'too_long'], ['Acme', 'invalid_characters'], ['-acme', 'invalid_characters'], ['acme_tools', 'invalid_characters'], ['settings', 'reserved']]
      for (const [slug, reason] of cases) {
        const res = await ada.client.post<TeamSummary>('/api/v1/teams', { name: 'Acme', slug })
        expect(res.status, slug).toBe(400)
        expect(errorOf(res), slug).toMatchObject({ code: 'team_slug_invalid', fields: { slug: reason } })
      }
      expect((await ada.client.post<TeamSummary>('/api/v1/teams', { name: 'Acme', slug: 'a'.repeat(48) })).status).toBe(201)
    })

    it('refuses a slug another team has', async () => {
      const t = await testApp(dialect)
      const { slug } = await teamWithAdmin(t)
      const other = await signedUpUser(t)
      const res = await other.client.post<TeamSummary>('/api/v1/teams', { name: 'Copy', slug })
      expect(res.status).toBe(409)
      expect(errorOf(res)).toMatchObject({ code: 'team_slug_taken', fields: { slug: 'taken' } })
    })

    it('refuses a name over 50 characters, a blank one and unknown fields', async () => {
      const t = await testApp(dialect)
      const ada = await signedUpUser(t)
      expect(errorOf(await ada.client.post<TeamSummary>('/api/v1/teams', { name: 'x'.repeat(51), slug: newSlug() }))).toMatchObject({ code: 'invalid_request', fields: { name: 'too_long' } })
      expect(errorOf(await ada.client.post<TeamSummary>('/api/v1/teams', { name: '   ', slug: newSlug() }))).toMatchObject({ code: 'invalid_request', fields: { name: 'required' } })
      expect(errorOf(await ada.client.post<TeamSummary>('/api/v1/teams', { name: 'Acme', slug: newSlug(), seats: 5 }))).toMatchObject({ code: 'invalid_request', fields: { seats: 'unknown_field' } })
    })

    it('lets a person belong to at most 10 teams', async () => {
      const t = await testApp(dialect)
      const ada = await signedUpUser(t)
      for (let i = 0; i < 10; i++) expect((await ada.client.post<TeamSummary>('/api/v1/teams', { name: `Team ${i}`, slug: newSlug() })).status).toBe(201)
      const eleventh = await ada.client.post<TeamSummary>('/api/v1/teams', { name: 'One too many', slug: newSlug() })
      expectError(eleventh, 409, 'team_limit_reached')
      expect((await ada.client.get<TeamList>('/api/v1/teams')).body.teams).toHaveLength(10)
    })

    it('needs a session', async () => {
      const t = await testApp(dialect)
      const res = await t.client().post<TeamSummary>('/api/v1/teams', { name: 'Acme', slug: newSlug() })
      expectError(res, 401, 'unauthenticated')
    })
  })

  describe('reading teams', () => {
    it('lists only my teams, with my roles and the member count', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const dev = await addMember(t, admin, slug, ['developer'])
      await teamWithAdmin(t)
      expect((await dev.client.get<TeamList>('/api/v1/teams')).body.teams).toEqual([expect.objectContaining({ slug, roles: ['developer'], memberCount: 2 })])
    })

    it('shows members, pending invitations and seats on the team page', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const dev = await addMember(t, admin, slug, ['developer'])
      await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['Later@Example.com'], roles: ['community_manager'] })
      const page = (await dev.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body
      expect(page.myRoles).toEqual(['developer'])
      expect(page.members.map((m: { username: string }) => m.username)).toEqual([admin.username, dev.username])
      expect(page.invitations).toEqual([expect.objectContaining({ email: 'Later@example.com', roles: ['community_manager'], status: 'pending', invitedBy: admin.username })])
      expect(page.seats).toMatchObject({ bought: 3, takenByMembers: 1, heldByInvitations: 1, available: 1 })
    })

    it('answers 404 alike for an unknown team and for a team one is not in', async () => {
      const t = await testApp(dialect)
      const { slug } = await teamWithAdmin(t)
      const outsider = await signedUpUser(t)
      const notMine = await outsider.client.get<TeamPage>(`/api/v1/teams/${slug}`)
      const unknown = await outsider.client.get<TeamPage>('/api/v1/teams/no-such-team')
      expect(notMine.status).toBe(404)
      expect(notMine.body).toEqual(unknown.body)
    })
  })

  describe('renaming', () => {
    it('lets an Admin rename the team and logs it', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const res = await admin.client.patch<TeamRef>(`/api/v1/teams/${slug}`, { name: 'Renamed' })
      expect(res.body).toEqual({ slug, name: 'Renamed' })
      const log = (await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity`)).body.events
      expect(log[0]).toMatchObject({ type: 'team.renamed', actor: { accountId: admin.accountId }, ip: '198.51.100.7', details: { to: 'Renamed' } })
    })
  })

  describe('roles', () => {
    it('replaces a member\'s roles and logs the change', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const dev = await addMember(t, admin, slug, ['developer'])
      const res = await admin.client.put<Member>(`/api/v1/teams/${slug}/members/${dev.accountId}/roles`, { roles: ['developer', 'community_manager'] })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ accountId: dev.accountId, roles: ['developer', 'community_manager'], supportMember: false })
      const log = (await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity`)).body.events
      expect(log[0]).toMatchObject({ type: 'member.roles_changed', details: { accountId: dev.accountId, from: ['developer'], to: ['developer', 'community_manager'] } })
    })

    it('refuses an empty role list and unknown roles', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      expect(errorOf(await admin.client.put<Member>(`/api/v1/teams/${slug}/members/${admin.accountId}/roles`, { roles: [] }))).toMatchObject({ code: 'invalid_request', fields: { roles: 'too_short' } })
      expectErrorCode(await admin.client.put<Member>(`/api/v1/teams/${slug}/members/${admin.accountId}/roles`, { roles: ['owner'] }), 'invalid_request')
    })

    it('never demotes the last Admin', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const res = await admin.client.put<Member>(`/api/v1/teams/${slug}/members/${admin.accountId}/roles`, { roles: ['billing'] })
      expectError(res, 409, 'last_admin')
      expect((await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.myRoles).toEqual(['admin', 'billing'])
    })

    it('lets an Admin step down once another member is an Admin', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const second = await addMember(t, admin, slug, ['admin'])
      expect((await admin.client.put<Member>(`/api/v1/teams/${slug}/members/${admin.accountId}/roles`, { roles: ['billing'] })).status).toBe(200)
      expectErrorCode(await second.client.put<Member>(`/api/v1/teams/${slug}/members/${second.accountId}/roles`, { roles: ['developer'] }), 'last_admin')
    })

    it('lets a Billing member give or take the Billing role and nothing else', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const billing = await addMember(t, admin, slug, ['billing'])
      const dev = await addMember(t, admin, slug, ['developer'])
      expect((await billing.client.put<Member>(`/api/v1/teams/${slug}/members/${dev.accountId}/roles`, { roles: ['developer', 'billing'] })).body.roles).toEqual(['billing', 'developer'])
      expect((await billing.client.put<Member>(`/api/v1/teams/${slug}/members/${dev.accountId}/roles`, { roles: ['developer'] })).body.roles).toEqual(['developer'])
      const promote = await billing.client.put<Member>(`/api/v1/teams/${slug}/members/${dev.accountId}/roles`, { roles: ['developer', 'admin'] })
      expectError(promote, 403, 'team_permission_denied')
    })

    it('needs a free seat to give a support member a paid role', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 1 })
      await addMember(t, admin, slug, ['developer'])
      const billing = await addMember(t, admin, slug, ['billing'])
      const res = await admin.client.put<Member>(`/api/v1/teams/${slug}/members/${billing.accountId}/roles`, { roles: ['billing', 'developer'] })
      expectError(res, 409, 'no_seats_available')
      expect(errorOf(res).message).toMatch(/Add seats/)
    })

    it('answers 404 for someone who is not a member of the team', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const outsider = await signedUpUser(t)
      const res = await admin.client.put<Member>(`/api/v1/teams/${slug}/members/${outsider.accountId}/roles`, { roles: ['developer'] })
      expectError(res, 404, 'not_found')
    })
  })

  describe('leaving and removal', () => {
    it('removes a member, whose access ends at once, and emails them', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const dev = await addMember(t, admin, slug, ['developer'])
      expect((await dev.client.get<TeamPage>(`/api/v1/teams/${slug}`)).status).toBe(200)
      expect((await admin.client.delete(`/api/v1/teams/${slug}/members/${dev.accountId}`)).status).toBe(204)
      const after = await dev.client.get<TeamPage>(`/api/v1/teams/${slug}`)
      expect(after.status).toBe(404)
      expect((await dev.client.get<TeamList>('/api/v1/teams')).body.teams).toEqual([])
      await t.smtp.waitFor(dev.email, /removed from the team/)
    })

    it('never removes the last Admin, even by themselves', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      await addMember(t, admin, slug, ['developer'])
      const res = await admin.client.delete(`/api/v1/teams/${slug}/members/${admin.accountId}`)
      expectError(res, 409, 'last_admin')
    })

    it('lets a member leave, and logs it', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const dev = await addMember(t, admin, slug, ['developer'])
      expect((await dev.client.post<LeaveResult>(`/api/v1/teams/${slug}/leave`)).body).toEqual({ teamDeleted: false })
      expect((await dev.client.get<TeamPage>(`/api/v1/teams/${slug}`)).status).toBe(404)
      expect((await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity`)).body.events[0]).toMatchObject({ type: 'member.left', actor: { accountId: dev.accountId } })
    })

    it('keeps the last Admin in while others remain', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      await addMember(t, admin, slug, ['developer'])
      const res = await admin.client.post<LeaveResult>(`/api/v1/teams/${slug}/leave`)
      expectError(res, 409, 'last_admin')
    })

    it('deletes the team, its invitations and its log when the last member leaves', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['someone@example.com'], roles: ['developer'] })
      expect((await admin.client.post<LeaveResult>(`/api/v1/teams/${slug}/leave`)).body).toEqual({ teamDeleted: true })
      const db = t.app.ctx.db
      expect(await db.selectFrom('teams').select('id').where('slug', '=', slug).execute()).toEqual([])
      expect(await db.selectFrom('team_invitations').select('id').execute()).toEqual([])
      expect(await db.selectFrom('team_activity').select('id').execute()).toEqual([])
      // The slug is free again.
      expect((await admin.client.post<TeamSummary>('/api/v1/teams', { name: 'Again', slug })).status).toBe(201)
    })
  })

  describe('seats', () => {
    it('lets an Admin or a Billing member set seats, and logs it', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const billing = await addMember(t, admin, slug, ['billing'])
      expect((await admin.client.put<SeatUsage>(`/api/v1/teams/${slug}/seats`, { seats: 3 })).body).toMatchObject({ bought: 3, available: 3 })
      expect((await billing.client.put<SeatUsage>(`/api/v1/teams/${slug}/seats`, { seats: 5 })).body).toMatchObject({ bought: 5, available: 5 })
      expect((await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity`)).body.events[0]).toMatchObject({ type: 'team.seats_changed', actor: { accountId: billing.accountId }, details: { from: 3, to: 5 } })
    })

    it('counts two support members free and a third one on a seat', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 1 })
      await addMember(t, admin, slug, ['billing'])
      expect((await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.seats).toMatchObject({ takenByMembers: 0, supportMembers: 2, available: 1 })
      await addMember(t, admin, slug, ['admin'])
      expect((await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.seats).toMatchObject({ takenByMembers: 1, supportMembers: 3, available: 0 })
    })

    it('cannot go below the seats members take', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      await addMember(t, admin, slug, ['developer'])
      await addMember(t, admin, slug, ['developer'])
      const res = await admin.client.put<SeatUsage>(`/api/v1/teams/${slug}/seats`, { seats: 1 })
      expect(res.status).toBe(409)
      expect(errorOf(res)).toMatchObject({ code: 'seats_in_use', fields: { seats: 'below_usage' } })
      expectErrorCode(await admin.client.put<SeatUsage>(`/api/v1/teams/${slug}/seats`, { seats: 0 }), 'invalid_request')
    })
  })

  describe('activity log', () => {
    it('pages newest first with a cursor', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      for (let i = 1; i <= 5; i++) {
        t.clock.advance(1000)
        await admin.client.patch<TeamRef>(`/api/v1/teams/${slug}`, { name: `Name ${i}` })
      }
      const first = (await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity?limit=2`)).body
      expect(first.events.map((e) => e.details.to)).toEqual(['Name 5', 'Name 4'])
      const second = (await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity?limit=2&cursor=${encodeURIComponent(first.nextCursor!)}`)).body
      expect(second.events.map((e) => e.details.to)).toEqual(['Name 3', 'Name 2'])
      const last = (await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity?limit=2&cursor=${encodeURIComponent(second.nextCursor!)}`)).body
      expect(last.events.map((e: { type: string }) => e.type)).toEqual(['team.renamed', 'team.created'])
      expect(last.nextCursor).toBeNull()
      expect(errorOf(await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity?cursor=nonsense`))).toMatchObject({ code: 'invalid_request', fields: { cursor: 'invalid' } })
    })

    it('shows people renamed since by their current name, with the name they had then', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const dev = await addMember(t, admin, slug, ['developer'])
      expect((await admin.client.post<NewInviteLink>(`/api/v1/teams/${slug}/invite-links`, { roles: ['developer'] })).status).toBe(201)
      const [adminThen, devThen] = [admin.username, dev.username]
      expect((await admin.client.patch<AccountView>('/api/v1/me', { username: `${adminThen}-new` })).status).toBe(200)
      expect((await dev.client.patch<AccountView>('/api/v1/me', { username: `${devThen}-new` })).status).toBe(200)
      const events = (await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity`)).body.events as { type: string; actor: unknown; details: Record<string, unknown> }[]
      const joined = events.find((e) => e.type === 'member.joined')!
      expect(joined.actor).toEqual({ accountId: dev.accountId, username: `${devThen}-new`, formerUsername: devThen })
      expect(joined.details).toMatchObject({ accountId: dev.accountId, username: `${devThen}-new`, formerUsername: devThen })
      expect(events.find((e) => e.type === 'team.created')!.actor).toEqual({ accountId: admin.accountId, username: `${adminThen}-new`, formerUsername: adminThen })
      // Invite links name their creator by the current name too.
      const links = (await admin.client.get<InviteLinks>(`/api/v1/teams/${slug}/invite-links`)).body.links as { createdBy: string }[]
      expect(links.map((l) => l.createdBy)).toEqual([`${adminThen}-new`])
      // Someone not renamed has no former name.
      const other = await teamWithAdmin(t)
      expect((await other.admin.client.get<ActivityPage>(`/api/v1/teams/${other.slug}/activity`)).body.events[0].actor).toEqual({ accountId: other.admin.accountId, username: other.admin.username })
    })
  })

  describe('deleting an account', () => {
    it('is refused while the person is in a team, listing the teams to leave', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const res = await admin.client.delete('/api/v1/me', { password: STRONG_PASSWORD })
      expect(res.status).toBe(409)
      expect(errorOf(res)).toMatchObject({ code: 'team_membership_blocks_deletion', teams: [{ slug, name: `Team ${slug}` }] })
      expect(errorOf(res).message).toContain(slug)
      expect((await admin.client.get<AccountView>('/api/v1/me')).status).toBe(200)
    })

    it('checks the teams before the password and before any re-authentication, and says so up front', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const blocked = { allowed: false, blockedBy: { code: 'team_membership_blocks_deletion', teams: [{ slug, name: `Team ${slug}` }] } }
      // What the page asks before it shows a password field.
      expect((await admin.client.get<DeletionCheck>('/api/v1/me/deletion')).body).toMatchObject(blocked)
      // Long after signing in, with no password, or a wrong one: the teams are the answer, not a prompt.
      t.clock.advance(10 * 60 * 1000)
      for (const password of ['', 'not my password!']) {
        const res = await admin.client.delete('/api/v1/me', { password })
        expect({ password, status: res.status, code: errorOf(res).code }).toEqual({ password, status: 409, code: 'team_membership_blocks_deletion' })
      }
      await admin.client.post<LeaveResult>(`/api/v1/teams/${slug}/leave`)
      expect((await admin.client.get<DeletionCheck>('/api/v1/me/deletion')).body).toEqual({ allowed: true, blockedBy: null })
      // Out of the team, the one password typed is all it takes, even outside the 5-minute window.
      expect(errorOf(await admin.client.delete('/api/v1/me', { password: '' }))).toMatchObject({ code: 'invalid_request', message: 'Enter your password.', fields: { password: 'required' } })
      expect((await admin.client.delete('/api/v1/me', { password: STRONG_PASSWORD })).status).toBe(200)
    })

    it('goes ahead once the person has left every team', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      await admin.client.post<LeaveResult>(`/api/v1/teams/${slug}/leave`)
      expect((await admin.client.delete('/api/v1/me', { password: STRONG_PASSWORD })).status).toBe(200)
    })
  })
})
