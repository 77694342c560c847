import { describe, expect, it } from 'vitest'
import { DIALECTS } from '../../../test/helpers/databases.ts'
import { errorOf, expectError, expectErrorCode, person, signedUpUser, testApp } from '../../../test/helpers/app.ts'
import { tokenFrom } from '../../../test/helpers/smtp.ts'
import { addMember, invitationToken, teamWithAdmin } from '../../../test/helpers/teams.ts'
import type { MyInvitations } from './schemas.ts'
import type { Invitations, JoinedTeam, TeamPage } from '../schemas.ts'
import type { ConfirmationSent, EmailConfirmed } from '../../accounts/schemas.ts'
import type { SignedIn } from '../../signin/schemas.ts'

/** The `next` a confirmation email's link carries in its fragment, if any. */
function nextOf(mail: { text: string }): string | null {
  const link = /(http\S+\/confirm-email#\S+)/.exec(mail.text)?.[1]
  if (!link) throw new Error('no confirmation link')
  return new URLSearchParams(new URL(link).hash.slice(1)).get('next')
}

describe.each(DIALECTS)('invitations waiting for the signed-in person on %s', (dialect) => {
  describe('listing them', () => {
    it('lists pending invitations to the confirmed address, with team, inviter and roles, newest first', async () => {
      const t = await testApp(dialect)
      const first = await teamWithAdmin(t, { seats: 3 })
      const second = await teamWithAdmin(t, { seats: 3 })
      const invitee = await signedUpUser(t)
      expect((await first.admin.client.post<Invitations>(`/api/v1/teams/${first.slug}/invitations`, { emails: [invitee.email], roles: ['developer'] })).status).toBe(201)
      t.clock.advance(1000)
      expect((await second.admin.client.post<Invitations>(`/api/v1/teams/${second.slug}/invitations`, { emails: [invitee.email.toUpperCase()], roles: ['developer', 'community_manager'] })).status).toBe(201)
      const res = await invitee.client.get<MyInvitations>('/api/v1/me/invitations')
      expect(res.status).toBe(200)
      expect(res.body.invitations).toEqual([
        { id: expect.any(String), team: { name: `Team ${second.slug}`, logoUrl: null }, inviter: second.admin.username, roles: ['developer', 'community_manager'], sentAt: new Date(t.clock.now()).toISOString() },
        { id: expect.any(String), team: { name: `Team ${first.slug}`, logoUrl: null }, inviter: first.admin.username, roles: ['developer'], sentAt: new Date(t.clock.now() - 1000).toISOString() },
      ])
      // Never the token, never anyone else's.
      expect(JSON.stringify(res.body)).not.toContain(await invitationToken(t, invitee.email))
      expect((await first.admin.client.get<MyInvitations>('/api/v1/me/invitations')).body).toEqual({ invitations: [] })
    })

    it('leaves out cancelled, accepted and suggested ones', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 5 })
      const dev = await addMember(t, admin, slug, ['developer'])
      const invitee = await signedUpUser(t)
      // A Developer's invitation of a Billing member is only a suggestion until an Admin approves.
      expect((await dev.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [invitee.email], roles: ['billing'] })).body.suggestions).toHaveLength(1)
      expect((await invitee.client.get<MyInvitations>('/api/v1/me/invitations')).body).toEqual({ invitations: [] })
      const other = await teamWithAdmin(t, { seats: 3 })
      const sent = await other.admin.client.post<Invitations>(`/api/v1/teams/${other.slug}/invitations`, { emails: [invitee.email], roles: ['developer'] })
      expect((await invitee.client.get<MyInvitations>('/api/v1/me/invitations')).body.invitations).toHaveLength(1)
      expect((await other.admin.client.delete(`/api/v1/teams/${other.slug}/invitations/${sent.body.invitations[0].id}`)).status).toBe(204)
      expect((await invitee.client.get<MyInvitations>('/api/v1/me/invitations')).body).toEqual({ invitations: [] })
    })

    it('shows nothing until the address is confirmed, then the invitations sent before the account existed', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const who = person('invited')
      expect((await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [who.email], roles: ['developer'] })).status).toBe(201)
      const invitee = await signedUpUser(t, { confirm: false })
      // Someone typing another person's address at sign-up learns nothing of their invitations.
      const client = t.client()
      expect((await client.post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })).status).toBe(202)
      expect((await client.post<SignedIn>('/api/v1/signin', { login: who.email, password: who.password })).status).toBe(200)
      expect((await client.get<MyInvitations>('/api/v1/me/invitations')).body).toEqual({ invitations: [] })
      expect((await invitee.client.get<MyInvitations>('/api/v1/me/invitations')).body).toEqual({ invitations: [] })
      const confirm = await t.smtp.waitFor(who.email, /confirm/i)
      expect((await client.post<EmailConfirmed>('/api/v1/email/confirm', { token: tokenFrom(confirm) })).status).toBe(200)
      expect((await client.get<MyInvitations>('/api/v1/me/invitations')).body.invitations.map((i: { team: { name: string } }) => i.team.name)).toEqual([`Team ${slug}`])
    })

    it('needs a session', async () => {
      const t = await testApp(dialect)
      expect((await t.client().get<MyInvitations>('/api/v1/me/invitations')).status).toBe(401)
    })
  })

  describe('accepting one from the list', () => {
    it('makes the invitee a member with the invited roles, once', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const invitee = await signedUpUser(t)
      await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [invitee.email], roles: ['developer', 'community_manager'] })
      const [invitation] = (await invitee.client.get<MyInvitations>('/api/v1/me/invitations')).body.invitations
      const res = await invitee.client.post<JoinedTeam>(`/api/v1/me/invitations/${invitation.id}/accept`)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(res.body).toEqual({ slug, name: `Team ${slug}`, roles: ['developer', 'community_manager'] })
      expect((await invitee.client.get<TeamPage>(`/api/v1/teams/${slug}`)).status).toBe(200)
      expect((await invitee.client.get<MyInvitations>('/api/v1/me/invitations')).body).toEqual({ invitations: [] })
      const again = await invitee.client.post<JoinedTeam>(`/api/v1/me/invitations/${invitation.id}/accept`)
      expect(again.status).toBe(400)
      expect(errorOf(again)).toMatchObject({ code: 'invitation_invalid', reason: 'used' })
      // The emailed link is used up with it.
      const byLink = await invitee.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: await invitationToken(t, invitee.email) })
      expect(errorOf(byLink)).toMatchObject({ code: 'invitation_invalid', reason: 'used' })
    })

    it("answers someone else's invitation as an unknown one, and an unknown id alike", async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const invitee = await signedUpUser(t)
      const stranger = await signedUpUser(t)
      await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [invitee.email], roles: ['developer'] })
      const [invitation] = (await invitee.client.get<MyInvitations>('/api/v1/me/invitations')).body.invitations
      for (const id of [invitation.id, 'no-such-invitation']) {
        const res = await stranger.client.post<JoinedTeam>(`/api/v1/me/invitations/${id}/accept`)
        expect(res.status).toBe(400)
        expect(errorOf(res)).toMatchObject({ code: 'invitation_invalid', reason: 'unknown' })
      }
      expect((await stranger.client.get<TeamPage>(`/api/v1/teams/${slug}`)).status).toBe(404)
    })

    it('says when the team cancelled it', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const invitee = await signedUpUser(t)
      await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [invitee.email], roles: ['developer'] })
      const [invitation] = (await invitee.client.get<MyInvitations>('/api/v1/me/invitations')).body.invitations
      await admin.client.delete(`/api/v1/teams/${slug}/invitations/${invitation.id}`)
      const res = await invitee.client.post<JoinedTeam>(`/api/v1/me/invitations/${invitation.id}/accept`)
      expect(errorOf(res)).toMatchObject({ code: 'invitation_invalid', reason: 'cancelled' })
    })
  })

  describe('signing up from an invitation', () => {
    it('puts the page to come back to in the confirmation link, on sign-up and on re-send', async () => {
      const t = await testApp(dialect)
      const who = person('invited')
      const client = t.client()
      const next = '/invitations/accept#token=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ'
      expect((await client.post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true, next })).status).toBe(202)
      expect(nextOf(await t.smtp.waitFor(who.email, /confirm/i))).toBe(next)
      expect((await client.post<SignedIn>('/api/v1/signin', { login: who.email, password: who.password })).status).toBe(200)
      expect((await client.post('/api/v1/email/resend', { next: '/join/abc' })).status).toBe(202)
      await expect.poll(() => t.smtp.messagesTo(who.email).length).toBe(2)
      expect(nextOf(t.smtp.messagesTo(who.email)[1])).toBe('/join/abc')
      // Without one, the link carries none (and the web app goes on to Settings).
      expect((await client.post('/api/v1/email/resend')).status).toBe(202)
      await expect.poll(() => t.smtp.messagesTo(who.email).length).toBe(3)
      expect(nextOf(t.smtp.messagesTo(who.email)[2])).toBeNull()
    })

    it('refuses a `next` that leads to another site', async () => {
      const t = await testApp(dialect)
      for (const next of ['https://evil.example/', '//evil.example', '/\\evil.example', 'javascript:alert(1)', ' /teams', `/${'a'.repeat(600)}`]) {
        const res = await t.client().post<ConfirmationSent>('/api/v1/signup', { ...person(), acceptTerms: true, next })
        expect(res.status, next).toBe(400)
        expectErrorCode(res, 'invalid_request')
        expect(Object.keys(errorOf(res).fields ?? {})).toEqual(['next'])
      }
      const user = await signedUpUser(t, { confirm: false })
      const res = await user.client.post('/api/v1/email/resend', { next: '//evil.example' })
      expectError(res, 400, 'invalid_request')
    })
  })
})
