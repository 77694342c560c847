/**
 * IT set-up links and the set-up guard (issue 16), on both backends: Admins create, list and
 * revoke them; a holder without an account opens exactly its team's SSO set-up and nothing else;
 * expired, revoked, unknown and foreign links get their own errors; everything is logged.
 */
import { describe, expect, it } from 'vitest'
import { errorOf, expectError, expectErrorCode, testApp, type TestApp } from '../../test/helpers/app.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { addMember, teamWithAdmin } from '../../test/helpers/teams.ts'
import { DAY_MS } from '../clock.ts'
import { hashToken } from '../crypto.ts'
import { recordSetupActivity } from './setup-links.ts'
import type { ActivityPage } from '../teams/schemas.ts'
import type { CreatedSetupLink, SetupLinks, SetupSession } from './schemas.ts'

async function linkFor(t: TestApp) {
  const team = await teamWithAdmin(t, { seats: 3 })
  const created = await team.admin.client.post<CreatedSetupLink>(`/api/v1/teams/${team.slug}/sso-setup-links`, {})
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  const url = new URL(created.body.url)
  const token = new URLSearchParams(url.hash.slice(1)).get('token')!
  return { ...team, link: created.body, url, token }
}

describe.each(DIALECTS)('IT set-up links on %s', (dialect) => {
  it('an Admin creates a 7-day link whose token rides only in the fragment and is stored only as a hash', async () => {
    const t = await testApp(dialect)
    const { admin, slug, link, url, token } = await linkFor(t)
    expect(url.pathname).toBe('/sso-setup')
    expect(url.search).toBe('')
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(link).toMatchObject({ state: 'active', createdBy: admin.username })
    expect(Date.parse(link.expiresAt) - Date.parse(link.createdAt)).toBe(7 * DAY_MS)
    const row = await t.app.ctx.db.selectFrom('sso_setup_links').selectAll().where('id', '=', link.id).executeTakeFirstOrThrow()
    expect(row.token_hash).toBe(hashToken(token))
    expect(JSON.stringify(row)).not.toContain(token)
    const list = await admin.client.get<SetupLinks>(`/api/v1/teams/${slug}/sso-setup-links`)
    expect(list.body.links).toEqual([{ id: link.id, state: 'active', createdBy: admin.username, createdAt: link.createdAt, expiresAt: link.expiresAt, revokedAt: null }])
  })

  it('only Admins create, list and revoke links', async () => {
    const t = await testApp(dialect)
    const { admin, slug, link } = await linkFor(t)
    const dev = await addMember(t, admin, slug, ['developer', 'community_manager'])
    expectErrorCode(await dev.client.post<CreatedSetupLink>(`/api/v1/teams/${slug}/sso-setup-links`, {}), 'team_permission_denied')
    expectErrorCode(await dev.client.get<SetupLinks>(`/api/v1/teams/${slug}/sso-setup-links`), 'team_permission_denied')
    expectErrorCode(await dev.client.delete(`/api/v1/teams/${slug}/sso-setup-links/${link.id}`), 'team_permission_denied')
  })

  it('the holder, with no account, opens the link: an HttpOnly, SameSite=Strict, API-scoped cookie, then this team\'s set-up', async () => {
    const t = await testApp(dialect)
    const { admin, slug, token, link } = await linkFor(t)
    const it = t.client()
    const opened = await it.post<SetupSession>('/api/v1/sso-setup/open', { token })
    expect(opened.status, JSON.stringify(opened.body)).toBe(200)
    expect(opened.body).toMatchObject({ team: { slug }, via: 'setup_link', expiresAt: link.expiresAt })
    const cookie = opened.cookies.find((c) => c.name === 'latchkey_sso_setup')!
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/v1/' })
    const entry = await it.get<SetupSession>(`/api/v1/teams/${slug}/sso-setup`)
    expect(entry.status).toBe(200)
    expect(entry.body).toMatchObject({ team: { slug }, via: 'setup_link' })
    const activity = await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity`)
    expect(activity.body.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['sso.setup_link_created', 'sso.setup_link_opened']))
    expect(activity.body.events.find((e: { type: string }) => e.type === 'sso.setup_link_opened')).toMatchObject({ actor: null, details: { linkId: link.id } })
  })

  it('a script may send the token in the x-latchkey-setup-link header instead of the cookie', async () => {
    const t = await testApp(dialect)
    const { slug, token } = await linkFor(t)
    const res = await t.client({ origin: null }).request<SetupSession>('GET', `/api/v1/teams/${slug}/sso-setup`, undefined, { 'x-latchkey-setup-link': token })
    expect(res.status).toBe(200)
    expect(res.body.via).toBe('setup_link')
  })

  it('a link opens only its own team\'s set-up: another team\'s is setup_link_invalid, and no team data or members are readable', async () => {
    const t = await testApp(dialect)
    const { slug, token } = await linkFor(t)
    const other = await teamWithAdmin(t)
    const holder = t.client()
    await holder.post<SetupSession>('/api/v1/sso-setup/open', { token })
    const foreign = await holder.get<SetupSession>(`/api/v1/teams/${other.slug}/sso-setup`)
    expectError(foreign, 404, 'setup_link_invalid')
    expectErrorCode(await holder.get<SetupSession>(`/api/v1/teams/no-such-team/sso-setup`), 'setup_link_invalid')
    for (const path of [`/api/v1/teams/${slug}`, `/api/v1/teams/${slug}/activity`, `/api/v1/teams/${slug}/signin-policy`, `/api/v1/teams/${slug}/sso-setup-links`, `/api/v1/teams/${slug}/invitations`, '/api/v1/me']) {
      expect((await holder.get(path)).status, path).toBe(401)
    }
    expect((await holder.post<CreatedSetupLink>(`/api/v1/teams/${slug}/sso-setup-links`, {})).status).toBe(401)
  })

  it('an expired link is setup_link_expired, a revoked one setup_link_revoked (410), an unknown one setup_link_invalid (404)', async () => {
    const t = await testApp(dialect)
    const { admin, slug, token, link } = await linkFor(t)
    const holder = t.client()
    await holder.post<SetupSession>('/api/v1/sso-setup/open', { token })
    expect((await admin.client.delete(`/api/v1/teams/${slug}/sso-setup-links/${link.id}`)).status).toBe(204)
    const revoked = await holder.get<SetupSession>(`/api/v1/teams/${slug}/sso-setup`)
    expect([revoked.status, errorOf(revoked).code]).toEqual([410, 'setup_link_revoked'])
    expectErrorCode(await t.client().post<SetupSession>('/api/v1/sso-setup/open', { token }), 'setup_link_revoked')
    expect((await admin.client.get<SetupLinks>(`/api/v1/teams/${slug}/sso-setup-links`)).body.links[0].state).toBe('revoked')

    const second = await linkFor(t)
    t.clock.advance(7 * DAY_MS)
    const expired = await t.client().post<SetupSession>('/api/v1/sso-setup/open', { token: second.token })
    expect([expired.status, errorOf(expired).code]).toEqual([410, 'setup_link_expired'])
    const unknown = await t.client().post<SetupSession>('/api/v1/sso-setup/open', { token: 'A'.repeat(43) })
    expect([unknown.status, errorOf(unknown).code]).toEqual([404, 'setup_link_invalid'])
  })

  it('the guard lets an Admin in by session, refuses other members (403), non-members (404) and nobody (401)', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
    expect((await admin.client.get<SetupSession>(`/api/v1/teams/${slug}/sso-setup`)).body).toMatchObject({ via: 'admin', expiresAt: null })
    const dev = await addMember(t, admin, slug, ['developer'])
    expectErrorCode(await dev.client.get<SetupSession>(`/api/v1/teams/${slug}/sso-setup`), 'team_permission_denied')
    const { admin: stranger } = await teamWithAdmin(t)
    expect((await stranger.client.get<SetupSession>(`/api/v1/teams/${slug}/sso-setup`)).status).toBe(404)
    expect((await t.client().get<SetupSession>(`/api/v1/teams/${slug}/sso-setup`)).status).toBe(401)
  })

  it('what a link holder does is logged with the link\'s id, an Admin\'s with their name', async () => {
    const t = await testApp(dialect)
    const { admin, slug, link } = await linkFor(t)
    const team = await t.app.ctx.db.selectFrom('teams').select('id').where('slug', '=', slug).executeTakeFirstOrThrow()
    const meta = { ip: '203.0.113.5', userAgent: 'test' }
    await recordSetupActivity(t.app.ctx.db, { teamId: team.id, by: { via: 'setup_link', linkId: link.id, expiresAt: Date.parse(link.expiresAt) }, type: 'sso.setup_link_action', meta, at: t.clock.now(), details: { action: 'connection_created' } })
    const events = (await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity`)).body.events
    expect(events[0]).toMatchObject({ type: 'sso.setup_link_action', actor: null, ip: '203.0.113.5', details: { action: 'connection_created', via: 'setup_link', linkId: link.id } })
  })

  it('a team keeps at most 10 open links', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t)
    for (let i = 0; i < 10; i++) expect((await admin.client.post<CreatedSetupLink>(`/api/v1/teams/${slug}/sso-setup-links`, {})).status).toBe(201)
    const refused = await admin.client.post<CreatedSetupLink>(`/api/v1/teams/${slug}/sso-setup-links`, {})
    expect([refused.status, errorOf(refused).fields]).toEqual([400, { links: 'too_many' }])
  })
})
