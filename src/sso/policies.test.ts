/**
 * The Enterprise sign-in controls (SPEC §3, §4, §7; issue 16), on both backends, through the real
 * API: who may change them, "members must use SSO" on every password path (web, API, the app
 * sign-in page of the code and device flows), the Admins' break-glass, "require 2FA" with its
 * set-up path, and the maximum session length on new, live and newcomers' sessions.
 */
import { describe, expect, it } from 'vitest'
import * as oauth from 'oauth4webapi'
import { errorDetails, errorOf, expectError, expectErrorCode, STRONG_PASSWORD, testApp, type TestApp, type TestClient } from '../../test/helpers/app.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { cliClient, discover, options, startAuthorization } from '../../test/helpers/oauth.ts'
import { addMember, teamWithAdmin, type Person } from '../../test/helpers/teams.ts'
import { independentTotp } from '../../test/helpers/totp.ts'
import { MINUTE_MS } from '../clock.ts'
import { newId } from '../crypto.ts'
import type { TwoFactorSetup } from '../two-factor/schemas.ts'
import type { Reauthenticated, SignedIn, SignedInWithNewTwoFactor } from '../signin/schemas.ts'
import type { ActivityPage } from '../teams/schemas.ts'
import type { AccountView } from '../accounts/schemas.ts'
import type { InteractionDone } from '../oauth/schemas.ts'
import type { SigninPolicy } from './schemas.ts'

/**
 * An enabled SSO connection row, as the SAML/OIDC connection routes will make: these rules only
 * need one to exist (src/sso/connections.ts is built beside this file).
 */
async function enabledConnection(t: TestApp, slug: string, enabled = true): Promise<string> {
  const db = t.app.ctx.db
  const team = await db.selectFrom('teams').select('id').where('slug', '=', slug).executeTakeFirstOrThrow()
  const id = newId()
  const now = t.clock.now()
  await db.insertInto('sso_connections').values({ id, team_id: team.id, protocol: 'saml', name: 'Okta', enabled: enabled ? 1 : 0, idp_initiated: 0, idp_entity_id: `https://idp.example/${id}`, idp_sso_url: 'https://idp.example/sso', idp_certificates: null, oidc_issuer: null, oidc_client_id: null, oidc_client_secret: null, tested_at: null, created_by: null, created_at: now, updated_at: now }).execute()
  return id
}

async function ssoOnlyTeam(t: TestApp) {
  const { admin, slug } = await teamWithAdmin(t, { seats: 5 })
  const member = await addMember(t, admin, slug, ['developer'])
  const connectionId = await enabledConnection(t, slug)
  const changed = await admin.client.patch<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`, { passwordSigninDisabled: true })
  expect(changed.status, JSON.stringify(changed.body)).toBe(200)
  return { admin, member, slug, connectionId }
}

function signIn(client: TestClient, who: Person, extra: Record<string, unknown> = {}) {
  return client.post<SignedIn>('/api/v1/signin', { login: who.email, password: STRONG_PASSWORD, ...extra })
}

describe.each(DIALECTS)('Enterprise sign-in controls on %s', (dialect) => {
  describe('who may read and change them', () => {
    it('an Admin reads the defaults: everything off, no session limit, no connection', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const res = await admin.client.get<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`)
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ jitEnabled: false, passwordSigninDisabled: false, googleSigninDisabled: false, requireTwoFactor: false, maxSessionMinutes: null, googleWorkspaceDomain: null, hasEnabledConnection: false, updatedAt: null })
    })

    it('a member who is not an Admin is refused with team_permission_denied, a non-member gets 404', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const dev = await addMember(t, admin, slug, ['developer', 'community_manager'])
      expectErrorCode(await dev.client.patch<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`, { jitEnabled: true }), 'team_permission_denied')
      expectErrorCode(await dev.client.get<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`), 'team_permission_denied')
      const { admin: stranger } = await teamWithAdmin(t)
      expect((await stranger.client.get<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`)).status).toBe(404)
    })

    it('the JIT switch is stored, and every change is in the team activity log and the Admin\'s audit log', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const res = await admin.client.patch<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`, { jitEnabled: true, maxSessionMinutes: 600 })
      expect(res.body).toMatchObject({ jitEnabled: true, maxSessionMinutes: 600 })
      expect((await admin.client.get<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`)).body).toMatchObject({ jitEnabled: true, maxSessionMinutes: 600 })
      const activity = await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity`)
      const event = activity.body.events.find((e) => e.type === 'sso.signin_policy_changed')!
      expect(event.details.changes).toEqual({ jitEnabled: { from: false, to: true }, maxSessionMinutes: { from: null, to: 600 } })
      expect(event.actor?.username).toBe(admin.username)
      const audit = await t.app.ctx.db.selectFrom('audit_events').select('type').where('account_id', '=', admin.accountId).where('type', '=', 'team.signin_policy_changed').execute()
      expect(audit).toHaveLength(1)
    })

    it('a maximum session length outside 15 minutes – 90 days is refused', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      for (const minutes of [14, 0, 90 * 24 * 60 + 1]) {
        const res = await admin.client.patch<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`, { maxSessionMinutes: minutes })
        expectError(res, 400, 'invalid_request')
      }
    })
  })

  describe('members must use SSO', () => {
    it('turning password or Google sign-in off without an enabled connection is refused with sso_connection_required', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      await enabledConnection(t, slug, false)
      for (const change of [{ passwordSigninDisabled: true }, { googleSigninDisabled: true }]) {
        const res = await admin.client.patch<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`, change)
        expectError(res, 409, 'sso_connection_required')
      }
    })

    it('a member\'s password sign-in is refused with team_requires_sso, by cookie and by API token, naming the team', async () => {
      const t = await testApp(dialect)
      const { member, slug } = await ssoOnlyTeam(t)
      const web = await signIn(t.client(), member)
      expect(web.status).toBe(403)
      expect(errorOf(web)).toMatchObject({ code: 'team_requires_sso', method: 'password', teams: [{ slug }] })
      const api = await signIn(t.client({ origin: null }), member, { returnToken: true })
      expectErrorCode(api, 'team_requires_sso')
    })

    it('a wrong password still answers invalid_credentials: the rule is no oracle for who is in which team', async () => {
      const t = await testApp(dialect)
      const { member } = await ssoOnlyTeam(t)
      const res = await t.client().post<SignedIn>('/api/v1/signin', { login: member.email, password: 'not the password at all' })
      expectErrorCode(res, 'invalid_credentials')
    })

    it('turning it off ends the members\' live sessions but not the Admins\'', async () => {
      const t = await testApp(dialect)
      const { admin, member } = await ssoOnlyTeam(t)
      expect((await member.client.get<AccountView>('/api/v1/me')).status).toBe(401)
      expect((await admin.client.get<AccountView>('/api/v1/me')).status).toBe(200)
    })

    it('Admins are exempt (break-glass): an Admin still signs in with the password', async () => {
      const t = await testApp(dialect)
      const { admin } = await ssoOnlyTeam(t)
      expect((await signIn(t.client(), admin)).status).toBe(200)
    })

    it('with no enabled connection left, members sign in with their password again (no lock-out)', async () => {
      const t = await testApp(dialect)
      const { member, connectionId } = await ssoOnlyTeam(t)
      await t.app.ctx.db.updateTable('sso_connections').set({ enabled: 0 }).where('id', '=', connectionId).execute()
      expect((await signIn(t.client(), member)).status).toBe(200)
    })

    it('the app sign-in page (code flow) refuses the member\'s password, so the app gets no session', async () => {
      const t = await testApp(dialect)
      const { member } = await ssoOnlyTeam(t)
      const browser = t.client()
      const as = await discover(t)
      const pending = await startAuthorization(t, as, browser, { deviceName: 'latchkey CLI on laptop' })
      const refused = await signIn(browser, member)
      expectErrorCode(refused, 'team_requires_sso')
      expect((await browser.post<InteractionDone>(`/api/v1/oauth/interactions/${pending.uid}/complete`, {})).status).toBe(401)
    })

    it('the device flow\'s sign-in page refuses the member\'s password too', async () => {
      const t = await testApp(dialect)
      const { member } = await ssoOnlyTeam(t)
      const as = await discover(t)
      const started = await oauth.processDeviceAuthorizationResponse(as, cliClient(), await oauth.deviceAuthorizationRequest(as, cliClient(), oauth.None(), { scope: 'openid', device_name: 'headless box' }, options(t)))
      const browser = t.client()
      const form = await browser.get('/oauth/device')
      const fields = new URLSearchParams()
      for (const [, name, value] of String(form.body).matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields.append(name, value)
      fields.set('user_code', started.user_code)
      const go = await browser.request('POST', '/oauth/device', fields.toString(), { 'content-type': 'application/x-www-form-urlencoded' })
      const uid = /^\/app-signin\/([A-Za-z0-9_-]+)$/.exec(String(go.headers.location))![1]
      expectErrorCode(await signIn(browser, member), 'team_requires_sso')
      expect((await browser.post<InteractionDone>(`/api/v1/oauth/interactions/${uid}/complete`, {})).status).toBe(401)
    })

    it('re-authentication with the password still works for a signed-in member (it proves presence, not a sign-in)', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const member = await addMember(t, admin, slug, ['developer'])
      await enabledConnection(t, slug)
      // A session the member holds from SSO (simulated: made before the switch and kept).
      expect((await admin.client.patch<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`, { passwordSigninDisabled: true })).status).toBe(200)
      const fresh = t.client()
      const { createSession } = await import('../sessions/sessions.ts')
      const { token } = await createSession(t.app.ctx, t.app.ctx.db, { accountId: member.accountId, staySignedIn: false, meta: { ip: '198.51.100.7', userAgent: 'test' } })
      fresh.cookie = token
      const res = await fresh.post<Reauthenticated>('/api/v1/me/reauthenticate', { password: STRONG_PASSWORD })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
    })
  })

  describe('require 2FA for password sign-in', () => {
    it('a member without 2FA gets team_requires_two_factor with a set-up ticket, sets it up, and is signed in', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const member = await addMember(t, admin, slug, ['developer'])
      expect((await admin.client.patch<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`, { requireTwoFactor: true })).status).toBe(200)
      const browser = t.client()
      const refused = await signIn(browser, member)
      expect(refused.status).toBe(403)
      expect(errorOf(refused)).toMatchObject({ code: 'team_requires_two_factor', teams: [{ slug }] })
      expect(browser.cookie).toBeUndefined()
      const ticket = errorDetails(refused).setupTicket
      const key = await browser.post<TwoFactorSetup>('/api/v1/signin/two-factor-setup', { ticket })
      expect(key.status).toBe(200)
      const again = await browser.post<TwoFactorSetup>('/api/v1/signin/two-factor-setup', { ticket })
      expect(again.body.secret).toBe(key.body.secret)
      const done = await browser.post<SignedInWithNewTwoFactor>('/api/v1/signin/two-factor-setup/confirm', { ticket, code: independentTotp(key.body.secret, t.clock.now()) })
      expect(done.status, JSON.stringify(done.body)).toBe(200)
      expect(done.body.recoveryCodes).toHaveLength(10)
      expect((await browser.get<AccountView>('/api/v1/me')).status).toBe(200)
      // 2FA is on now: the next password sign-in asks for the code as usual.
      t.clock.advance(30_000)
      expect((await signIn(t.client(), member)).body).toMatchObject({ twoFactorRequired: true })
    })

    it('the set-up ticket works only on the device that typed the password, and only once', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const member = await addMember(t, admin, slug, ['developer'])
      await admin.client.patch<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`, { requireTwoFactor: true })
      const browser = t.client()
      const ticket = errorDetails(await signIn(browser, member)).setupTicket
      expectErrorCode(await t.client().post<TwoFactorSetup>('/api/v1/signin/two-factor-setup', { ticket }), 'ticket_invalid')
      const key = await browser.post<TwoFactorSetup>('/api/v1/signin/two-factor-setup', { ticket })
      expect((await browser.post<SignedInWithNewTwoFactor>('/api/v1/signin/two-factor-setup/confirm', { ticket, code: independentTotp(key.body.secret, t.clock.now()) })).status).toBe(200)
      t.clock.advance(30_000)
      expectErrorCode(await browser.post<SignedInWithNewTwoFactor>('/api/v1/signin/two-factor-setup/confirm', { ticket, code: independentTotp(key.body.secret, t.clock.now()) }), 'ticket_invalid')
    })

    it('the Admin is held to it as well (it locks no one out), and a team without the rule changes nothing', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      expect((await signIn(t.client(), admin)).status).toBe(200)
      await admin.client.patch<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`, { requireTwoFactor: true })
      expectErrorCode(await signIn(t.client(), admin), 'team_requires_two_factor')
    })
  })

  describe('maximum session length', () => {
    it('caps a member\'s new session at sign-in, even with "stay signed in"', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      const member = await addMember(t, admin, slug, ['developer'])
      await admin.client.patch<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`, { maxSessionMinutes: 60 })
      const browser = t.client()
      const res = await signIn(browser, member, { staySignedIn: true })
      expect(Date.parse(res.body.session.expiresAt)).toBe(t.clock.now() + 60 * MINUTE_MS)
      t.clock.advance(59 * MINUTE_MS)
      expect((await browser.get<AccountView>('/api/v1/me')).status).toBe(200)
      t.clock.advance(MINUTE_MS)
      expect((await browser.get<AccountView>('/api/v1/me')).status).toBe(401)
    })

    it('setting or lowering it shortens the members\' live sessions at once, cached copies included', async () => {
      const t = await testApp(dialect)
      const { admin: creator, slug } = await teamWithAdmin(t, { seats: 3 })
      const member = await addMember(t, creator, slug, ['developer'])
      const admin = { ...creator, client: t.client() }
      await signIn(admin.client, admin, { staySignedIn: true })
      const browser = t.client()
      await signIn(browser, member, { staySignedIn: true })
      // Fills this instance's session cache with the 30-day expiry.
      expect((await browser.get<AccountView>('/api/v1/me')).status).toBe(200)
      t.clock.advance(90 * MINUTE_MS)
      const set = await admin.client.patch<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`, { maxSessionMinutes: 120 })
      expect(set.status).toBe(200)
      expect((await browser.get<AccountView>('/api/v1/me')).status).toBe(200)
      t.clock.advance(15 * MINUTE_MS)
      const lowered = await admin.client.patch<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`, { maxSessionMinutes: 100 })
      expect(lowered.status).toBe(200)
      // 105 minutes old, limit 100: over.
      expect((await browser.get<AccountView>('/api/v1/me')).status).toBe(401)
      const events = await t.app.ctx.db.selectFrom('team_activity').select('details').where('type', '=', 'sso.signin_policy_changed').orderBy('at', 'desc').execute()
      expect(JSON.parse(events[0].details).sessionsShortened).toBeGreaterThanOrEqual(1)
    })

    it('someone joining a team with a limit has their live sessions shortened in the joining transaction', async () => {
      const t = await testApp(dialect)
      const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
      await admin.client.patch<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`, { maxSessionMinutes: 30 })
      const { admin: outsider } = await teamWithAdmin(t)
      const browser = t.client()
      await signIn(browser, outsider, { staySignedIn: true })
      expect((await browser.get<AccountView>('/api/v1/me')).status).toBe(200)
      t.clock.advance(31 * MINUTE_MS)
      const adminNow = { ...admin, client: t.client() }
      await signIn(adminNow.client, admin)
      // The newcomer accepts in the browser whose session is 31 minutes old: that session ends with the join.
      await addMember(t, adminNow, slug, ['developer'], { ...outsider, client: browser })
      expect((await browser.get<AccountView>('/api/v1/me')).status).toBe(401)
    })

    it('the shortest limit over a person\'s teams wins', async () => {
      const t = await testApp(dialect)
      const a = await teamWithAdmin(t, { seats: 3 })
      const b = await teamWithAdmin(t, { seats: 3 })
      await a.admin.client.patch<SigninPolicy>(`/api/v1/teams/${a.slug}/signin-policy`, { maxSessionMinutes: 300 })
      await b.admin.client.patch<SigninPolicy>(`/api/v1/teams/${b.slug}/signin-policy`, { maxSessionMinutes: 45 })
      const member = await addMember(t, a.admin, a.slug, ['developer'])
      await addMember(t, b.admin, b.slug, ['developer'], member)
      const res = await signIn(t.client(), member, { staySignedIn: true })
      expect(Date.parse(res.body.session.expiresAt)).toBe(t.clock.now() + 45 * MINUTE_MS)
    })
  })
})
