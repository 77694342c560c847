import { describe, expect, it } from 'vitest'
import { DIALECTS } from '../../../test/helpers/databases.ts'
import { errorOf, expectError, expectErrorCode, signedUpUser, testApp, type TestApp } from '../../../test/helpers/app.ts'
import { hashToken } from '../../crypto.ts'
import { addMember, invitationToken, teamWithAdmin } from '../../../test/helpers/teams.ts'
import type { ActivityPage, Invitation, Invitations, JoinedTeam, TeamPage, TeamSummary } from '../schemas.ts'
import type { AccountView } from '../../accounts/schemas.ts'
import type { SignedIn } from '../../signin/schemas.ts'

async function storedInvitation(t: TestApp, email: string) {
  return t.app.ctx.db.selectFrom('team_invitations').selectAll().where('email_normalized', '=', email.toLowerCase()).executeTakeFirstOrThrow()
}

describe.each(DIALECTS)('team invitations on %s', (dialect) => {
  describe('inviting', () => {
    it('invites several addresses at once, each by email with a single-use link', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const res = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['a@example.com', 'B@example.com', 'a@EXAMPLE.com'], roles: ['developer'] })
      expect(res.status).toBe(201)
      expect(res.body.invitations.map((i: { email: string }) => i.email)).toEqual(['a@example.com', 'B@example.com'])
      expect(res.body.suggestions).toEqual([])
      const mail = await t.smtp.waitFor('b@example.com', /invited you to the team/)
      expect(mail.text).toContain(`Team ${slug}`)
      expect(mail.text).toContain('as Developer')
      // Only the hash is kept, and it is the hash of the 256-bit token in the link.
      const token = await invitationToken(t, 'b@example.com')
      expect(Buffer.from(token, 'base64url')).toHaveLength(32)
      expect((await storedInvitation(t, 'b@example.com')).token_hash).toBe(hashToken(token))
    })

    it('writes to an invitee who has an account in their language', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const li = await signedUpUser(t)
      await li.client.patch<AccountView>('/api/v1/me', { locale: 'zh-CN' })
      await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [li.email], roles: ['developer', 'community_manager'] })
      const mail = await t.smtp.waitFor(li.email, /邀请你加入/)
      expect(mail.text).toContain('开发者、社区经理')
    })

    it('holds a seat per pending invitation and says who can add seats when none is free', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const dev = await addMember(t, admin, slug, ['developer'])
      const full = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['one@example.com', 'two@example.com'], roles: ['developer'] })
      expectError(full, 409, 'no_seats_available')
      expect(errorOf(full).message).toMatch(/Add seats to the team first/)
      expect(await t.app.ctx.db.selectFrom('team_invitations').select('id').where('email_normalized', '=', 'one@example.com').execute()).toEqual([])
      expect((await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['one@example.com'], roles: ['developer'] })).status).toBe(201)
      const asDeveloper = await dev.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['three@example.com'], roles: ['developer'] })
      expectErrorCode(asDeveloper, 'no_seats_available')
      expect(errorOf(asDeveloper).message).toMatch(/Ask an Admin or a Billing member of the team to add seats/)
    })

    it('counts a refused request as requested, not as seats held by pending invitations', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 1 })
      await addMember(t, admin, slug, ['developer'])
      const full = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['one@example.com', 'two@example.com'], roles: ['developer'] })
      expect(full.status).toBe(409)
      expect(errorOf(full)).toMatchObject({
        code: 'no_seats_available',
        requested: 2,
        seats: { bought: 1, takenByMembers: 1, heldByInvitations: 0, available: 0 },
      })
      expect(errorOf(full).message).toContain('this needs 2 paid seats and 0 are free (1 bought, 1 in use by members, 0 held by pending invitations)')
    })

    it('names the seats still free when a request needs more of them', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['held@example.com'], roles: ['developer'] })
      const res = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['a@example.com', 'b@example.com', 'c@example.com'], roles: ['developer'] })
      expect(errorOf(res)).toMatchObject({ requested: 3, seats: { bought: 3, takenByMembers: 0, heldByInvitations: 1, available: 2 } })
      expect(errorOf(res).message).toContain('this needs 3 paid seats and 2 are free')
    })

    it('lets support-only invitations use the two free support places', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 1 })
      expect((await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['money@example.com'], roles: ['billing'] })).status).toBe(201)
      expect((await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.seats).toMatchObject({ heldByInvitations: 0, available: 1 })
      expect((await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['boss@example.com'], roles: ['admin'] })).status).toBe(201)
      expect((await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.seats).toMatchObject({ heldByInvitations: 1, available: 0 })
    })

    it('refuses members and addresses already invited, naming each one, and invites none', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 5 })
      const dev = await addMember(t, admin, slug, ['developer'])
      await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['pending@example.com'], roles: ['developer'] })
      const member = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['new@example.com', dev.email.toUpperCase()], roles: ['developer'] })
      expect(errorOf(member)).toMatchObject({ code: 'already_team_member', fields: { 'emails.1': 'already_member' } })
      const invited = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['new@example.com', 'PENDING@example.com'], roles: ['developer'] })
      expect(errorOf(invited)).toMatchObject({ code: 'already_invited', fields: { 'emails.1': 'already_invited' } })
      expect(await t.app.ctx.db.selectFrom('team_invitations').select('id').where('email_normalized', '=', 'new@example.com').execute()).toEqual([])
    })

    it('refuses bad addresses with their index, and bodies out of bounds', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const url = `/api/v1/teams/${slug}/invitations`
      expect(errorOf(await admin.client.post(url, { emails: ['ok@example.com', 'not-an-email'], roles: ['developer'] }))).toMatchObject({ code: 'email_invalid', fields: { 'emails.1': 'invalid' } })
      expect(errorOf(await admin.client.post(url, { emails: [], roles: ['developer'] }))).toMatchObject({ code: 'invalid_request', fields: { emails: 'too_short' } })
      expect(errorOf(await admin.client.post(url, { emails: Array.from({ length: 51 }, (_, i) => `p${i}@example.com`), roles: ['developer'] }))).toMatchObject({ code: 'invalid_request', fields: { emails: 'too_long' } })
      expect(errorOf(await admin.client.post(url, { emails: ['ok@example.com'], roles: [] }))).toMatchObject({ code: 'invalid_request', fields: { roles: 'too_short' } })
      expect(errorOf(await admin.client.post(url, { emails: ['ok@example.com'], roles: ['developer'], message: 'hi' }))).toMatchObject({ code: 'invalid_request', fields: { message: 'unknown_field' } })
    })
  })

  describe('suggestions', () => {
    it("turns a Developer's invitation of another role into a suggestion for the Admins", async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const dev = await addMember(t, admin, slug, ['developer'])
      const res = await dev.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['cm@example.com'], roles: ['community_manager'] })
      expect(res.status).toBe(201)
      expect(res.body).toMatchObject({ invitations: [], suggestions: [{ email: 'cm@example.com', status: 'suggested', invitedBy: dev.username, sentAt: null }] })
      await t.smtp.waitFor(admin.email, /waits for your approval/)
      expect(t.smtp.messagesTo('cm@example.com')).toEqual([])
      // A suggestion holds no seat until it is approved.
      expect((await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.seats).toMatchObject({ heldByInvitations: 0 })
    })

    it('sends the invitation once an Admin approves it', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const dev = await addMember(t, admin, slug, ['developer'])
      const { id } = (await dev.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['cm@example.com'], roles: ['community_manager'] })).body.suggestions[0]
      const approved = await admin.client.post<Invitation>(`/api/v1/teams/${slug}/suggestions/${id}/approve`)
      expect(approved.status).toBe(200)
      expect(approved.body).toMatchObject({ id, status: 'pending', invitedBy: dev.username })
      await t.smtp.waitFor('cm@example.com', /invited you/)
      expect((await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity`)).body.events[0]).toMatchObject({ type: 'suggestion.approved', actor: { accountId: admin.accountId } })
    })

    it('sends nothing when an Admin declines it, and it cannot be approved afterwards', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const dev = await addMember(t, admin, slug, ['developer'])
      const { id } = (await dev.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['cm@example.com'], roles: ['billing'] })).body.suggestions[0]
      expect((await admin.client.post(`/api/v1/teams/${slug}/suggestions/${id}/decline`)).status).toBe(204)
      expect((await admin.client.post<Invitation>(`/api/v1/teams/${slug}/suggestions/${id}/approve`)).status).toBe(404)
      expect(t.smtp.messagesTo('cm@example.com')).toEqual([])
    })

    it('needs a free seat to approve', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 1 })
      const dev = await addMember(t, admin, slug, ['developer'])
      const { id } = (await dev.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['cm@example.com'], roles: ['community_manager'] })).body.suggestions[0]
      const res = await admin.client.post<Invitation>(`/api/v1/teams/${slug}/suggestions/${id}/approve`)
      expectError(res, 409, 'no_seats_available')
      expect((await admin.client.get<Invitations>(`/api/v1/teams/${slug}/invitations`)).body.suggestions).toHaveLength(1)
    })
  })

  describe('accepting', () => {
    it('makes the invited person a member with the chosen roles, once', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const bo = await signedUpUser(t)
      await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [bo.email], roles: ['developer', 'community_manager'] })
      const token = await invitationToken(t, bo.email)
      const res = await bo.client.post<JoinedTeam>('/api/v1/invitations/accept', { token })
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ slug, name: `Team ${slug}`, roles: ['developer', 'community_manager'] })
      expect((await bo.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body.myRoles).toEqual(['developer', 'community_manager'])
      const again = await bo.client.post<JoinedTeam>('/api/v1/invitations/accept', { token })
      expect(again.status).toBe(400)
      expect(errorOf(again)).toMatchObject({ code: 'invitation_invalid', reason: 'used' })
      expect((await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity`)).body.events[0]).toMatchObject({ type: 'member.joined', actor: { accountId: bo.accountId }, ip: '198.51.100.7' })
    })

    it('needs the invited, confirmed email', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const bo = await signedUpUser(t)
      const unconfirmed = await signedUpUser(t, { confirm: false })
      await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [bo.email, unconfirmed.email], roles: ['developer'] })
      const someoneElse = await signedUpUser(t)
      const wrong = await someoneElse.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: await invitationToken(t, bo.email) })
      expectError(wrong, 403, 'invitation_email_mismatch')
      const notConfirmed = await unconfirmed.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: await invitationToken(t, unconfirmed.email) })
      expectError(notConfirmed, 403, 'email_not_confirmed')
      expect((await t.client().post<JoinedTeam>('/api/v1/invitations/accept', { token: await invitationToken(t, bo.email) })).status).toBe(401)
    })

    it('says clearly when the invitation was cancelled, replaced by a re-send, or never existed', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const bo = await signedUpUser(t)
      const cy = await signedUpUser(t)
      const sent = (await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [bo.email, cy.email], roles: ['developer'] })).body.invitations
      const idOf = (email: string) => sent.find((i) => i.email === email)!.id
      const boToken = await invitationToken(t, bo.email)
      expect((await admin.client.delete(`/api/v1/teams/${slug}/invitations/${idOf(bo.email)}`)).status).toBe(204)
      expect(errorOf(await bo.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: boToken }))).toMatchObject({ code: 'invitation_invalid', reason: 'cancelled' })

      const firstCy = await invitationToken(t, cy.email)
      expect((await admin.client.post<Invitation>(`/api/v1/teams/${slug}/invitations/${idOf(cy.email)}/resend`)).status).toBe(200)
      const secondCy = await invitationToken(t, cy.email, 2)
      expect(secondCy).not.toBe(firstCy)
      expect(errorOf(await cy.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: firstCy }))).toMatchObject({ code: 'invitation_invalid', reason: 'unknown' })
      expect((await cy.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: secondCy })).status).toBe(200)

      expect(errorOf(await cy.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: 'A'.repeat(43) }))).toMatchObject({ code: 'invitation_invalid', reason: 'unknown' })
      expect(errorOf(await cy.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: 'short' }))).toMatchObject({ code: 'invitation_invalid', reason: 'unknown' })
    })

    it('stays valid with no expiry until accepted or cancelled', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const bo = await signedUpUser(t)
      await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [bo.email], roles: ['developer'] })
      const token = await invitationToken(t, bo.email)
      t.clock.advance(400 * 24 * 3600 * 1000)
      const fresh = t.client()
      await fresh.post<SignedIn>('/api/v1/signin', { login: bo.email, password: bo.password })
      expect((await fresh.post<JoinedTeam>('/api/v1/invitations/accept', { token })).status).toBe(200)
    })

    it('refuses an eleventh team', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
      const bo = await signedUpUser(t)
      for (let i = 0; i < 10; i++) await bo.client.post<TeamSummary>('/api/v1/teams', { name: `Mine ${i}`, slug: `${slug}-m${i}` })
      await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [bo.email], roles: ['developer'] })
      const res = await bo.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: await invitationToken(t, bo.email) })
      expectError(res, 409, 'team_limit_reached')
    })

    it('frees the seat of a cancelled invitation', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 1 })
      const { id } = (await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['one@example.com'], roles: ['developer'] })).body.invitations[0]
      expectErrorCode(await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['two@example.com'], roles: ['developer'] }), 'no_seats_available')
      await admin.client.delete(`/api/v1/teams/${slug}/invitations/${id}`)
      expect((await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['two@example.com'], roles: ['developer'] })).status).toBe(201)
    })
  })
})
