/**
 * A team's URL change (old links, the activity log, no leak to non-members), slug
 * availability, the public profile and the invitation preview, on SQLite and PostgreSQL.
 */
import { describe, expect, it } from 'vitest'
import { DIALECTS } from '../../../test/helpers/databases.ts'
import { errorOf, expectError, expectErrorCode, signedUpUser, testApp } from '../../../test/helpers/app.ts'
import { addMember, invitationToken, newSlug, teamWithAdmin } from '../../../test/helpers/teams.ts'
import type { InvitationPreview, Profile, PublicTeam, SlugAvailability, SlugChange } from './schemas.ts'
import type { ActivityPage, Invitations, JoinedTeam, TeamList, TeamPage, TeamSummary } from '../schemas.ts'
import type { AccountView } from '../../accounts/schemas.ts'
import type { SignedIn } from '../../signin/schemas.ts'

const DAY = 24 * 3600 * 1000

describe.each(DIALECTS)('team URL and profile on %s', (dialect) => {
  describe('changing the URL', () => {
    it('moves the team, tells members the new URL at the old one, and logs it', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const dev = await addMember(t, admin, slug, ['developer'])
      const outsider = await signedUpUser(t)
      const next = newSlug('moved')
      const res = await admin.client.put<SlugChange>(`/api/v1/teams/${slug}/slug`, { slug: next })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(res.body).toEqual({ slug: next, name: `Team ${slug}`, previousSlug: slug })
      expect((await dev.client.get<TeamPage>(`/api/v1/teams/${next}`)).body.slug).toBe(next)
      expect((await dev.client.get<TeamList>('/api/v1/teams')).body.teams[0].slug).toBe(next)

      // Members hear where it went; a non-member hears nothing about it.
      const old = await dev.client.get<Invitations>(`/api/v1/teams/${slug}/invitations`)
      expect(old.status).toBe(404)
      expect(errorOf(old)).toMatchObject({ code: 'team_moved', slug: next })
      const probe = await outsider.client.get<TeamPage>(`/api/v1/teams/${slug}`)
      expectError(probe, 404, 'not_found')
      expect(JSON.stringify(probe.body)).not.toContain(next)

      // The old URL is not free for others, nor the new one.
      for (const taken of [slug, next]) {
        const other = await outsider.client.post<TeamSummary>('/api/v1/teams', { name: 'Squatter', slug: taken })
        expect(other.status, taken).toBe(409)
        expectErrorCode(other, 'team_slug_taken')
        expect((await outsider.client.get<SlugAvailability>(`/api/v1/team-slugs/${taken}`)).body).toMatchObject({ available: false, reason: 'taken' })
      }

      const log = (await admin.client.get<ActivityPage>(`/api/v1/teams/${next}/activity`)).body.events
      expect(log[0]).toMatchObject({ type: 'team.slug_changed', actor: { accountId: admin.accountId }, details: { from: slug, to: next } })

      // After 90 days the old URL is forgotten: anyone may take it and the old link is a plain 404.
      t.clock.advance(91 * DAY)
      const again = t.client()
      expect((await again.post<SignedIn>('/api/v1/signin', { login: dev.email, password: dev.password })).status).toBe(200)
      expectErrorCode(await again.get<TeamPage>(`/api/v1/teams/${slug}`), 'not_found')
      const later = await signedUpUser(t)
      expect((await later.client.get<SlugAvailability>(`/api/v1/team-slugs/${slug}`)).body).toEqual({ available: true, suggestions: [] })
      expect((await later.client.post<TeamSummary>('/api/v1/teams', { name: 'Later', slug })).status).toBe(201)
    })

    it('lets the team go back to its previous URL, and keeps only the 5 latest', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const b = newSlug('b')
      expect((await admin.client.put<SlugChange>(`/api/v1/teams/${slug}/slug`, { slug: b })).status).toBe(200)
      expect((await admin.client.put<SlugChange>(`/api/v1/teams/${b}/slug`, { slug })).body).toMatchObject({ slug, previousSlug: b })
      expect(errorOf(await admin.client.get<TeamPage>(`/api/v1/teams/${b}`))).toMatchObject({ code: 'team_moved', slug })
      // Same slug again: nothing changes.
      expect((await admin.client.put<SlugChange>(`/api/v1/teams/${slug}/slug`, { slug })).body).toMatchObject({ slug, previousSlug: null })

      const used = [b]
      let current = slug
      for (let i = 0; i < 6; i += 1) {
        t.clock.advance(1000)
        const next = newSlug('hop')
        expect((await admin.client.put<SlugChange>(`/api/v1/teams/${current}/slug`, { slug: next })).status).toBe(200)
        used.push(current)
        current = next
      }
      const outsider = await signedUpUser(t)
      const availability = await Promise.all(used.map(async (s) => (await outsider.client.get<SlugAvailability>(`/api/v1/team-slugs/${s}`)).body.available))
      // The 5 latest previous URLs stay taken; the older ones are free again.
      expect(availability.filter((a) => a === false)).toHaveLength(5)
      expect(availability.slice(-5)).toEqual([false, false, false, false, false])
    })

    it('refuses bad, reserved and taken slugs, and non-Admins', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const other = await teamWithAdmin(t)
      for (const [value, code, reason] of [['ab', 'team_slug_invalid', 'too_short'], ['Big', 'team_slug_invalid', 'invalid_characters'], ['settings', 'team_slug_invalid', 'reserved'], [other.slug, 'team_slug_taken', 'taken']] as const) {
        const res = await admin.client.put<SlugChange>(`/api/v1/teams/${slug}/slug`, { slug: value })
        expect(res.status, value).toBe(code === 'team_slug_taken' ? 409 : 400)
        expect(errorOf(res), value).toMatchObject({ code, fields: { slug: reason } })
      }
      const cm = await addMember(t, admin, slug, ['community_manager'])
      const denied = await cm.client.put<SlugChange>(`/api/v1/teams/${slug}/slug`, { slug: newSlug() })
      expect(denied.status).toBe(403)
      expect((await admin.client.put<SlugChange>(`/api/v1/teams/${slug}/slug`, { slug: 123 })).status).toBe(400)
    })

    it('gives one of two Admins racing for the same new URL the team, the other team_slug_taken', async () => {
      const t = await testApp(dialect)
      const a = await teamWithAdmin(t)
      const b = await teamWithAdmin(t)
      const wanted = newSlug('race')
      const results = await Promise.all([a.admin.client.put<SlugChange>(`/api/v1/teams/${a.slug}/slug`, { slug: wanted }), b.admin.client.put<SlugChange>(`/api/v1/teams/${b.slug}/slug`, { slug: wanted })])
      expect(results.map((r) => r.status).sort()).toEqual([200, 409])
      expectErrorCode(results.find((r) => r.status === 409)!, 'team_slug_taken')
    })
  })

  describe('slug availability', () => {
    it('answers invalid, reserved, taken with suggestions, and available; signed in only; rate limited', async () => {
      const t = await testApp(dialect, { RATE_LIMIT_TEAM_SLUG_CHECKS_PER_ACCOUNT_PER_HOUR: '8' })
      const { admin, slug } = await teamWithAdmin(t)
      const c = admin.client
      expect((await c.get<SlugAvailability>('/api/v1/team-slugs/ab')).body).toEqual({ available: false, reason: 'invalid', detail: 'too_short', suggestions: [] })
      expect((await c.get<SlugAvailability>('/api/v1/team-slugs/Ab-c')).body).toMatchObject({ available: false, reason: 'invalid', detail: 'invalid_characters' })
      expect((await c.get<SlugAvailability>('/api/v1/team-slugs/admin')).body).toEqual({ available: false, reason: 'reserved', suggestions: [] })
      const taken = (await c.get<SlugAvailability>(`/api/v1/team-slugs/${slug}`)).body
      expect(taken).toMatchObject({ available: false, reason: 'taken' })
      expect(taken.suggestions).toEqual([`${slug}-2`, `${slug}-3`, `${slug}-team`])
      expect((await c.get<SlugAvailability>(`/api/v1/team-slugs/${newSlug('free')}`)).body).toEqual({ available: true, suggestions: [] })
      expect((await c.get<SlugAvailability>(`/api/v1/team-slugs/${'x'.repeat(65)}`)).status).toBe(400)
      expect((await t.client().get<SlugAvailability>(`/api/v1/team-slugs/${slug}`)).status).toBe(401)
      let last
      for (let i = 0; i < 4; i += 1) last = await c.get<SlugAvailability>(`/api/v1/team-slugs/${newSlug()}`)
      expect(last!.status).toBe(429)
      expectErrorCode(last!, 'too_many_requests')
    })
  })

  describe('public profile', () => {
    it('is edited by Admins and Community Managers, logged, and shown publicly only when on', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const cm = await addMember(t, admin, slug, ['community_manager'])
      const dev = await addMember(t, admin, slug, ['developer'])
      expect((await dev.client.get<Profile>(`/api/v1/teams/${slug}/profile`)).body).toEqual({ description: '', website: null, public: false })
      expect((await t.client().get<PublicTeam>(`/api/v1/public/teams/${slug}`)).status).toBe(404)

      const edit = await cm.client.put<Profile>(`/api/v1/teams/${slug}/profile`, { description: ' We build <b>tools</b>.\r\nSince 2020. ', website: 'https://Example.com/about', public: true })
      expect(edit.status, JSON.stringify(edit.body)).toBe(200)
      expect(edit.body).toEqual({ description: 'We build <b>tools</b>.\nSince 2020.', website: 'https://example.com/about', public: true })
      const shown = await t.client().get<PublicTeam>(`/api/v1/public/teams/${slug}`)
      expect(shown.status).toBe(200)
      expect(shown.body).toEqual({ slug, name: `Team ${slug}`, logoUrl: null, description: 'We build <b>tools</b>.\nSince 2020.', website: 'https://example.com/about', memberCount: 3 })
      expect(JSON.stringify(shown.body)).not.toContain(dev.username)

      const denied = await dev.client.put<Profile>(`/api/v1/teams/${slug}/profile`, { public: false })
      expect(denied.status).toBe(403)
      expect(errorOf(denied)).toMatchObject({ code: 'team_permission_denied', action: 'edit_public_profile' })

      // Partial edits keep the rest; an empty website removes it.
      expect((await admin.client.put<Profile>(`/api/v1/teams/${slug}/profile`, { website: '' })).body).toEqual({ description: 'We build <b>tools</b>.\nSince 2020.', website: null, public: true })
      const log = (await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity`)).body.events
      expect(log.slice(0, 2).map((e) => [e.type, e.actor?.accountId, e.details])).toEqual([
        ['team.profile_changed', admin.accountId, { changed: ['website'], website: { from: 'https://example.com/about', to: null } }],
        ['team.profile_changed', cm.accountId, { changed: ['description', 'website', 'public'], website: { from: null, to: 'https://example.com/about' }, public: true }],
      ])
      // Unchanged: nothing logged.
      await admin.client.put<Profile>(`/api/v1/teams/${slug}/profile`, { public: true })
      expect((await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity`)).body.events).toHaveLength(log.length)

      // After a URL change the old public address answers with the new slug.
      const next = newSlug('pub')
      await admin.client.put<SlugChange>(`/api/v1/teams/${slug}/slug`, { slug: next })
      expect((await t.client().get<PublicTeam>(`/api/v1/public/teams/${slug}`)).body.slug).toBe(next)

      await admin.client.put<Profile>(`/api/v1/teams/${next}/profile`, { public: false })
      const hidden = await t.client().get<PublicTeam>(`/api/v1/public/teams/${next}`)
      expectError(hidden, 404, 'not_found')
      expect(JSON.stringify(hidden.body)).not.toContain('Team ')
    })

    it('validates the description and the website', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const put = (body: unknown) => admin.client.put<Profile>(`/api/v1/teams/${slug}/profile`, body)
      expect((await put({ description: 'é'.repeat(500) })).status).toBe(200)
      const cases: [unknown, string, string][] = [
        [{ description: 'x'.repeat(501) }, 'description', 'too_long'],
        [{ description: 'bell\u0007' }, 'description', 'invalid_characters'],
        [{ website: 'http://example.com' }, 'website', 'not_https'],
        [{ website: 'javascript:alert(1)' }, 'website', 'not_https'],
        [{ website: 'example.com' }, 'website', 'invalid'],
        [{ website: 'https://localhost/' }, 'website', 'invalid'],
        [{ website: 'https://10.0.0.1/' }, 'website', 'invalid'],
        [{ website: 'https://user:pw@example.com/' }, 'website', 'invalid'],
        [{ website: `https://example.com/${'a'.repeat(200)}` }, 'website', 'too_long'],
      ]
      for (const [body, field, reason] of cases) {
        const res = await put(body)
        expect(res.status, JSON.stringify(body)).toBe(400)
        expect(errorOf(res), JSON.stringify(body)).toMatchObject({ code: 'invalid_request', fields: { [field]: reason } })
      }
      for (const body of [{ public: 'yes' }, { other: 1 }, { description: 5 }]) expect((await put(body)).status, JSON.stringify(body)).toBe(400)
    })
  })

  describe('invitation preview', () => {
    it('names the team, inviter and roles to the token holder; the address only signed out (for the sign-up form); does not use up the invitation', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const invitee = await signedUpUser(t)
      const stranger = await signedUpUser(t)
      await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [invitee.email], roles: ['developer', 'community_manager'] })
      const token = await invitationToken(t, invitee.email)
      const inviter = (await admin.client.get<AccountView>('/api/v1/me')).body.displayName || admin.username

      const anonymous = await t.client().post<InvitationPreview>('/api/v1/invitations/preview', { token })
      expect(anonymous.status, JSON.stringify(anonymous.body)).toBe(200)
      expect(anonymous.body).toEqual({ team: { name: `Team ${slug}`, logoUrl: null }, inviter, roles: ['developer', 'community_manager'], emailMatches: null, alreadyMember: null, invitedEmail: invitee.email })
      const wrong = await stranger.client.post<InvitationPreview>('/api/v1/invitations/preview', { token })
      expect(wrong.body).toMatchObject({ emailMatches: false, alreadyMember: false, invitedEmail: null })
      // Signed in, the page may be open in someone else's session: never the address.
      for (const body of [wrong.body, (await invitee.client.post<InvitationPreview>('/api/v1/invitations/preview', { token })).body]) {
        expect(JSON.stringify(body)).not.toContain(invitee.email)
        expect(Object.keys(body.team)).toEqual(['name', 'logoUrl'])
      }
      expect(Object.keys(anonymous.body.team)).toEqual(['name', 'logoUrl'])
      expect((await invitee.client.post<InvitationPreview>('/api/v1/invitations/preview', { token })).body).toMatchObject({ emailMatches: true, alreadyMember: false })

      // Still usable after previews.
      expect((await invitee.client.post<JoinedTeam>('/api/v1/invitations/accept', { token })).status).toBe(200)
      const used = await invitee.client.post<InvitationPreview>('/api/v1/invitations/preview', { token })
      expect(used.status).toBe(400)
      expect(errorOf(used)).toMatchObject({ code: 'invitation_invalid', reason: 'used' })
      for (const bad of ['A'.repeat(43), 'short']) {
        const res = await t.client().post<InvitationPreview>('/api/v1/invitations/preview', { token: bad })
        expect(res.status).toBe(400)
        expect(errorOf(res)).toMatchObject({ code: 'invitation_invalid', reason: 'unknown' })
      }
      expect((await t.client().post<InvitationPreview>('/api/v1/invitations/preview', {})).status).toBe(400)
    })

    it('answers cancelled for a cancelled invitation', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const invited = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['later@example.com'], roles: ['developer'] })
      const token = await invitationToken(t, 'later@example.com')
      await admin.client.delete(`/api/v1/teams/${slug}/invitations/${invited.body.invitations[0].id}`)
      const res = await t.client().post<InvitationPreview>('/api/v1/invitations/preview', { token })
      expect(errorOf(res)).toMatchObject({ code: 'invitation_invalid', reason: 'cancelled' })
    })
  })
})
