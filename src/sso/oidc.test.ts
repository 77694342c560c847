/**
 * Team SSO over OpenID Connect against a real OpenID provider (test/helpers/oidc-idp.ts:
 * oidc-provider over HTTPS with a test-made CA, trusted through SSO_CA_FILE) playing the
 * company IdP, by API, on SQLite and PostgreSQL: connections (discovery checked at save, https
 * only, one team per issuer, the secret encrypted and never returned) and SP-initiated sign-in
 * through the same rules as SAML (verified domains, JIT or a join request), with the refusals
 * (wrong state, reused code, disabled connection, another connection's callback).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decryptSecret } from '../crypto.ts'
import { roleColumns } from '../teams/roles.ts'
import type { TestClient } from '../../test/helpers/app.ts'
import { expectError } from '../../test/helpers/api.ts'
import type { OidcConnection, SsoMethods } from './schemas.ts'
import type { Static } from 'typebox'
import { DIALECTS, type TestDialect } from '../../test/helpers/databases.ts'
import { appWithDns, personAt } from '../../test/helpers/discovery.ts'
import { startTestIdp, type TestIdp } from '../../test/helpers/oidc-idp.ts'
import { pageError, setJit, ssoTeam, SSO_DOMAIN, type SsoTeam } from '../../test/helpers/sso.ts'

let idp: TestIdp
beforeAll(async () => {
  idp = await startTestIdp({ manualTeardown: true })
})
afterAll(async () => idp?.close())

let n = 0
function unique(prefix: string): string {
  n += 1
  return `${prefix}${n}${Math.random().toString(36).slice(2, 8)}`
}

/** A user at the company IdP. */
function idpUser(email: string, overrides: { email_verified?: boolean } = {}) {
  return idp.addUser({ sub: unique('sub'), email, email_verified: overrides.email_verified ?? true, name: 'Ada Lovelace' })
}

async function oidcApp(dialect: TestDialect) {
  return appWithDns(dialect, { SSO_CA_FILE: idp.caFile })
}

/** Creates (and by default enables) an OIDC connection; registers its redirect URI as a client at the IdP. */
async function oidcConnection(team: SsoTeam, options: { enable?: boolean } = {}) {
  const clientId = unique('client')
  const clientSecret = `secret-${unique('s')}-0123456789abcdef`
  const created = await team.admin.client.post<OidcConnection>(`/api/v1/teams/${team.slug}/sso/oidc`, { name: 'Company OIDC', issuer: idp.issuer, clientId, clientSecret })
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  idp.addClient({ client_id: clientId, client_secret: clientSecret, redirect_uris: [created.body.redirectUri] })
  if (options.enable !== false) {
    const patched = await team.admin.client.request('PATCH', `/api/v1/teams/${team.slug}/sso/oidc/${created.body.id}`, { enabled: true })
    expect(patched.status, JSON.stringify(patched.body)).toBe(200)
  }
  return { id: created.body.id as string, clientId, clientSecret, body: created.body }
}

/** Start at Latchkey, sign in at the IdP as `sub`: the callback path the IdP sends the browser to (not yet visited). */
async function toIdpAndBack(browser: TestClient, connectionId: string, sub: string, returnTo?: string): Promise<string> {
  const start = await browser.get(`/sso/oidc/${connectionId}/start${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`)
  expect(start.status, String(start.body).slice(0, 300)).toBe(302)
  const back = await idp.signIn(String(start.headers.location), sub)
  expect(back.pathname).toBe(`/sso/oidc/${connectionId}/callback`)
  return back.pathname + back.search
}

/** The whole round trip: the finish step's answer. */
async function signIn(browser: TestClient, connectionId: string, sub: string, returnTo?: string) {
  const callback = await browser.get(await toIdpAndBack(browser, connectionId, sub, returnTo))
  if (callback.status !== 303) return callback
  return browser.get(String(callback.headers.location))
}

async function addMember(team: SsoTeam, accountId: string) {
  const db = team.t.app.ctx.db
  const row = await db.selectFrom('teams').select('id').where('slug', '=', team.slug).executeTakeFirstOrThrow()
  await db.insertInto('team_members').values({ team_id: row.id, account_id: accountId, ...roleColumns(['developer']), joined_at: team.t.clock.now() }).execute()
}

describe.each(DIALECTS)('Team OIDC on %s', (dialect) => {
  it('creates a connection after checking discovery; the secret is stored encrypted and never returned; the redirect URI is per connection', async () => {
    const t = await oidcApp(dialect)
    const team = await ssoTeam(t)
    const connection = await oidcConnection(team, { enable: false })
    expect(connection.body).toMatchObject({ protocol: 'oidc', enabled: false, issuer: idp.issuer, clientId: connection.clientId, clientSecret: 'set', redirectUri: `http://latchkey.test/sso/oidc/${connection.id}/callback` })
    expect(JSON.stringify(connection.body)).not.toContain(connection.clientSecret)
    const listed = await team.admin.client.get<{ connections: OidcConnection[] }>(`/api/v1/teams/${team.slug}/sso/oidc`)
    expect(listed.status).toBe(200)
    expect(JSON.stringify(listed.body)).not.toContain(connection.clientSecret)
    const row = await t.app.ctx.db.selectFrom('sso_connections').selectAll().where('id', '=', connection.id).executeTakeFirstOrThrow()
    expect(row.oidc_client_secret).not.toContain(connection.clientSecret)
    expect(decryptSecret(t.app.ctx.secretsKey, row.oidc_client_secret!)).toBe(connection.clientSecret)
    const activity = (await team.admin.client.get<{ events: { type: string; details: unknown }[] }>(`/api/v1/teams/${team.slug}/activity`)).body.events as { type: string; details: unknown }[]
    expect(activity.map((e) => e.type)).toContain('sso.connection_created')
    expect(JSON.stringify(activity)).not.toContain(connection.clientSecret)
  })

  it('refuses an http issuer, an issuer whose discovery fails, and an issuer another team uses', async () => {
    const t = await oidcApp(dialect)
    const team = await ssoTeam(t)
    const create = (issuer: string, who = team) => who.admin.client.post(`/api/v1/teams/${who.slug}/sso/oidc`, { name: 'IdP', issuer, clientId: 'c', clientSecret: 's' })
    const http = await create(idp.issuer.replace('https:', 'http:'))
    expectError(http, 400, 'sso_oidc_issuer_invalid')
    const missing = await create(`${idp.issuer}/no-such-issuer`)
    expectError(missing, 400, 'sso_oidc_discovery_failed')
    expect((await create(idp.issuer)).status).toBe(201)
    const other = await ssoTeam(t, `other-${unique('d')}.test`)
    const taken = await create(idp.issuer, other)
    expectError(taken, 409, 'sso_oidc_issuer_taken')
  })

  it('signs an existing member in (PKCE S256, state, nonce; sealed Lax cookie) and lands on return_to; "Sign in with SSO" lists it', async () => {
    const t = await oidcApp(dialect)
    const team = await ssoTeam(t)
    const connection = await oidcConnection(team)
    const member = await personAt(t, SSO_DOMAIN)
    await addMember(team, member.accountId)
    const user = idpUser(member.email)
    const methods = await t.client().get<Static<typeof SsoMethods>>(`/api/v1/sso/methods?team=${team.slug}`)
    expect(methods.body.teams[0].methods).toEqual([{ protocol: 'oidc', connectionId: connection.id, name: 'Company OIDC', startUrl: `http://latchkey.test/sso/oidc/${connection.id}/start` }])

    const browser = t.client()
    const start = await browser.get(`/sso/oidc/${connection.id}/start?return_to=${encodeURIComponent('/app-signin/abc')}`)
    expect(start.status).toBe(302)
    const url = new URL(String(start.headers.location))
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('state')).toBeTruthy()
    expect(url.searchParams.get('nonce')).toBeTruthy()
    expect(url.searchParams.get('redirect_uri')).toBe(`http://latchkey.test/sso/oidc/${connection.id}/callback`)
    const cookie = start.cookies.find((c) => c.name === 'latchkey_sso_oidc')!
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: `/sso/oidc/${connection.id}`, maxAge: 600 })
    const back = await idp.signIn(url.href, user.sub)
    const callback = await browser.get(back.pathname + back.search)
    expect(callback.status, String(callback.body).slice(0, 400)).toBe(303)
    const done = await browser.get(String(callback.headers.location))
    expect(done.status, String(done.body).slice(0, 400)).toBe(303)
    expect(done.headers.location).toBe('/app-signin/abc')
    const me = await browser.get<{ id: string }>('/api/v1/me')
    expect(me.status).toBe(200)
    expect(me.body.id).toBe(member.accountId)
    const identity = await t.app.ctx.db.selectFrom('linked_identities').selectAll().where('account_id', '=', member.accountId).executeTakeFirstOrThrow()
    expect(identity).toMatchObject({ method: 'oidc', connection_id: connection.id, issuer: idp.issuer, subject: user.sub })
    const audit = await t.app.ctx.db.selectFrom('audit_events').select(['type', 'details']).where('account_id', '=', member.accountId).where('type', '=', 'signin.succeeded').execute()
    expect(audit.some((a) => String(a.details).includes('"method":"oidc"'))).toBe(true)
    // Signed in again with the linked identity.
    expect((await signIn(t.client(), connection.id, user.sub)).status).toBe(303)
  })

  it('JIT on: a new person is created and joins as Developer; JIT off: refused, and an existing account asks to join', async () => {
    const t = await oidcApp(dialect)
    const team = await ssoTeam(t)
    const connection = await oidcConnection(team)
    await setJit(team, true)
    const newcomer = idpUser(`${unique('new')}@${SSO_DOMAIN}`)
    const jit = await signIn(t.client(), connection.id, newcomer.sub, '/teams/' + team.slug)
    expect(jit.status, String(jit.body).slice(0, 400)).toBe(303)
    const members = (await team.admin.client.get<{ members: { roles: string[] }[] }>(`/api/v1/teams/${team.slug}`)).body.members as { email?: string; roles: string[] }[]
    expect(members.length).toBe(2)

    await setJit(team, false)
    const stranger = idpUser(`${unique('str')}@${SSO_DOMAIN}`)
    const refused = await signIn(t.client(), connection.id, stranger.sub)
    expect(pageError(refused)).toBe('sso_jit_not_allowed')
    const outsider = await personAt(t, SSO_DOMAIN)
    const asks = await signIn(t.client(), connection.id, idpUser(outsider.email).sub)
    expect(pageError(asks)).toBe('sso_jit_not_allowed')
    const requests = await t.app.ctx.db.selectFrom('team_join_requests').selectAll().where('account_id', '=', outsider.accountId).execute()
    expect(requests.length).toBe(1)
  })

  it('refuses an email outside the verified domains, and an unverified email', async () => {
    const t = await oidcApp(dialect)
    const team = await ssoTeam(t)
    const connection = await oidcConnection(team)
    await setJit(team, true)
    expect(pageError(await signIn(t.client(), connection.id, idpUser(`${unique('x')}@elsewhere.test`).sub))).toBe('sso_domain_not_verified')
    expect(pageError(await signIn(t.client(), connection.id, idpUser(`${unique('u')}@${SSO_DOMAIN}`, { email_verified: false }).sub))).toBe('sso_email_unverified')
  })

  it('refuses a wrong state, a reused code, a disabled connection, and another connection\'s callback', async () => {
    const t = await oidcApp(dialect)
    const team = await ssoTeam(t)
    const connection = await oidcConnection(team)
    const member = await personAt(t, SSO_DOMAIN)
    await addMember(team, member.accountId)
    const user = idpUser(member.email)

    const browser = t.client()
    const callback = new URL(await toIdpAndBack(browser, connection.id, user.sub), 'http://latchkey.test')
    const wrongState = new URL(callback)
    wrongState.searchParams.set('state', 'not-the-state')
    expect(pageError(await browser.get(wrongState.pathname + wrongState.search))).toBe('sso_oidc_signin_failed')

    // A reused code: the same browser replays the IdP's answer with the same flow cookie.
    const second = t.client()
    const first = await toIdpAndBack(second, connection.id, user.sub)
    const flowCookie = second.jar.get('latchkey_sso_oidc')!
    expect((await second.get(first)).status).toBe(303)
    second.jar.set('latchkey_sso_oidc', flowCookie)
    expect(pageError(await second.get(first))).toBe('sso_oidc_signin_failed')

    // The callback without the flow cookie (another browser): refused.
    expect(pageError(await t.client().get(await toIdpAndBack(t.client(), connection.id, user.sub)))).toBe('sso_oidc_signin_expired')

    // Team B's connection cannot take team A's round trip: the flow cookie is bound to A's
    // connection, and B's IdP (its own issuer) could not have answered for A anyway.
    const teamB = await ssoTeam(t, `b-${unique('d')}.test`)
    const bRow = { id: `b${unique('c')}`, team_id: (await t.app.ctx.db.selectFrom('teams').select('id').where('slug', '=', teamB.slug).executeTakeFirstOrThrow()).id }
    const aRow = await t.app.ctx.db.selectFrom('sso_connections').selectAll().where('id', '=', connection.id).executeTakeFirstOrThrow()
    // B's connection: same client settings, another issuer spelling (written directly: the API refuses A's issuer).
    await t.app.ctx.db.insertInto('sso_connections').values({ ...aRow, ...bRow, oidc_issuer: `${idp.issuer}/` }).execute()
    const cross = t.client()
    const aCallback = new URL(await toIdpAndBack(cross, connection.id, user.sub), 'http://latchkey.test')
    const atB = await cross.get(`/sso/oidc/${bRow.id}/callback${aCallback.search}`)
    expect(pageError(atB)).toBe('sso_oidc_signin_expired')
    expect(await t.app.ctx.db.selectFrom('linked_identities').select('id').where('connection_id', '=', bRow.id).executeTakeFirst()).toBeUndefined()

    // Switched off: a new sign-in is refused at the start.
    await team.admin.client.request('PATCH', `/api/v1/teams/${team.slug}/sso/oidc/${connection.id}`, { enabled: false })
    const off = await t.client().get(`/sso/oidc/${connection.id}/start`)
    expect(pageError(off)).toBe('sso_connection_disabled')
  })

  it('a test sign-in shows the claims and changes nothing; delete removes the connection', async () => {
    const t = await oidcApp(dialect)
    const team = await ssoTeam(t)
    const connection = await oidcConnection(team, { enable: false })
    const user = idpUser(`${unique('t')}@${SSO_DOMAIN}`)
    const test = await team.admin.client.post<{ url: string }>(`/api/v1/teams/${team.slug}/sso/oidc/${connection.id}/test`)
    expect(test.status, JSON.stringify(test.body)).toBe(200)
    const back = await idp.signIn(test.body.url, user.sub)
    const page = await team.admin.client.get(back.pathname + back.search)
    expect(page.status).toBe(200)
    expect(String(page.body)).toContain(user.email)
    expect(await t.app.ctx.db.selectFrom('linked_identities').select('id').where('subject', '=', user.sub).executeTakeFirst()).toBeUndefined()
    const row = await t.app.ctx.db.selectFrom('sso_connections').select('tested_at').where('id', '=', connection.id).executeTakeFirstOrThrow()
    expect(row.tested_at).not.toBeNull()
    expect((await team.admin.client.request('DELETE', `/api/v1/teams/${team.slug}/sso/oidc/${connection.id}`)).status).toBe(204)
    expect((await team.admin.client.get(`/api/v1/teams/${team.slug}/sso/oidc/${connection.id}`)).status).toBe(404)
  })
})
