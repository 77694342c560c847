/**
 * Team SAML sign-in against a real IdP (Debian's SimpleSAMLphp under `php -S`), by API, on
 * SQLite and PostgreSQL: the connection made from the IdP's metadata URL, SP-initiated and
 * IdP-initiated sign-in end to end, the Admin's test sign-in, and refusals of real responses
 * (replays, tampering, XSW wrappings, unsolicited answers, addresses outside the team's domains).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { signedUpUser, STRONG_PASSWORD, type TestApp } from '../../test/helpers/app.ts'
import { tokenFrom } from '../../test/helpers/smtp.ts'
import { errorOf } from '../../test/helpers/api.ts'
import type { SamlConnection } from './schemas.ts'
import { SimpleSamlPhp } from '../../test/helpers/simplesamlphp.ts'
import { createConnection, finish, pageError, postToAcs, setJit, ssoApp, ssoTeam, SSO_DOMAIN, startSignIn, type SsoTeam } from '../../test/helpers/sso.ts'

const ALICE = { username: 'alice', password: 'alicepass', email: `alice@${SSO_DOMAIN}`, attributes: { displayName: ['Alice Example'] } }
const OUTSIDER = { username: 'mallory', password: 'mallorypass', email: 'mallory@elsewhere.test' }
const LINKER = { username: 'linker', password: 'linkerpass', email: `linker@${SSO_DOMAIN}` }
const idp = new SimpleSamlPhp()

/** Signs up with exactly `email` (confirmed or not) and answers its id, password and client. */
async function accountWithEmail(t: TestApp, email: string, options: { confirm: boolean }) {
  const client = t.client()
  const username = `u${Math.random().toString(36).slice(2, 10)}`
  expect((await client.post('/api/v1/signup', { email, username, password: STRONG_PASSWORD, acceptTerms: true })).status).toBe(202)
  const mail = await t.smtp.waitFor(email, /confirm/i)
  if (options.confirm) expect((await client.post('/api/v1/email/confirm', { token: tokenFrom(mail) })).status).toBe(200)
  const signin = await client.post<{ account: { id: string } }>('/api/v1/signin', { login: email, password: STRONG_PASSWORD })
  return { client, password: STRONG_PASSWORD, accountId: signin.body.account.id as string }
}

beforeAll(async () => {
  await idp.start([ALICE, OUTSIDER, LINKER])
}, 30_000)
afterAll(() => idp.stop())

async function connected(team: SsoTeam, options: { idpInitiated?: boolean; enable?: boolean } = {}) {
  const connection = await createConnection(team, { metadataUrl: idp.metadataUrl }, options)
  idp.registerSp(connection.sp.entityId, connection.sp.acsUrl)
  return connection
}

async function activityTypes(team: SsoTeam): Promise<string[]> {
  return (await team.admin.client.get<{ events: { type: string }[] }>(`/api/v1/teams/${team.slug}/activity`)).body.events.map((e) => e.type)
}

describe.each(DIALECTS)('SAML with SimpleSAMLphp (%s)', (dialect) => {
  it('reads the IdP from its metadata URL, shows the SP side, and serves the SP metadata', async () => {
    const t = await ssoApp(dialect)
    const team = await ssoTeam(t)
    const connection = await createConnection(team, { metadataUrl: idp.metadataUrl }, { enable: false })
    expect(connection.idp.entityId).toBe(idp.entityId)
    expect(connection.idp.ssoUrl).toBe(idp.ssoUrl)
    expect(connection.idp.certificates).toHaveLength(1)
    expect(connection.enabled).toBe(false)
    expect(connection.idpInitiated).toBe(false)
    expect(connection.sp.acsUrl).toBe(`http://latchkey.test/sso/saml/${connection.id}/acs`)
    const metadata = await t.client({ origin: null }).get(`/sso/saml/${connection.id}/metadata`)
    expect(metadata.status).toBe(200)
    expect(String(metadata.body)).toContain(`entityID="${connection.sp.entityId}"`)
    expect(String(metadata.body)).toContain(connection.sp.acsUrl)
    expect(await activityTypes(team)).toContain('sso.connection_created')
  })

  it('SP-initiated: signs a new person in by JIT as Developer, lands on return_to, and logs it', async () => {
    const t = await ssoApp(dialect)
    const team = await ssoTeam(t)
    const connection = await connected(team)
    await setJit(team, true)
    const browser = t.client()
    const idpUrl = await startSignIn(browser, connection.id, '/teams/' + team.slug)
    expect(idpUrl.startsWith(idp.ssoUrl)).toBe(true)
    const post = await idp.login(idpUrl, ALICE)
    expect(post.action).toBe(connection.sp.acsUrl)
    const done = await finish(browser, await postToAcs(browser, connection.id, post.SAMLResponse, post.RelayState))
    expect(done.status, String(done.body).slice(0, 400)).toBe(303)
    expect(done.headers.location).toBe(`/teams/${team.slug}`)
    const me = await browser.get<{ email: string; username: string }>('/api/v1/me')
    expect(me.status).toBe(200)
    expect(me.body.email).toBe(ALICE.email)
        const members = (await team.admin.client.get<{ members: { username: string; roles: string[] }[] }>(`/api/v1/teams/${team.slug}`)).body.members
    expect(members.find((m) => m.username === me.body.username)?.roles).toEqual(['developer'])
    const types = await activityTypes(team)
    expect(types).toContain('sso.signin')
    expect(types).toContain('sso.member_provisioned')
    const security = await browser.get('/api/v1/me/security-log')
    if (security.status === 200) expect(JSON.stringify(security.body)).toContain('saml')

    // The same response again: its request was answered (and its assertion used).
    const again = await postToAcs(t.client(), connection.id, post.SAMLResponse, post.RelayState)
    expect(again.status).toBe(400)
    expect(['saml_request_unknown', 'saml_replayed']).toContain(pageError(again))
  })

  it('SP-initiated: the sign-in finishes only in the browser that started it (login CSRF)', async () => {
    const t = await ssoApp(dialect)
    const team = await ssoTeam(t)
    const connection = await connected(team)
    await setJit(team, true)
    const attacker = t.client()
    const post = await idp.login(await startSignIn(attacker, connection.id), ALICE)
    const victim = t.client()
    const acs = await postToAcs(victim, connection.id, post.SAMLResponse, post.RelayState)
    const done = await finish(victim, acs)
    expect(done.status).toBe(400)
    expect(pageError(done)).toBe('saml_relay_state_invalid')
    expect((await victim.get('/api/v1/me')).status).toBe(401)
  })

  it('IdP-initiated: refused while off; once on, signs in only after the confirmation page; a replay is refused', async () => {
    const t = await ssoApp(dialect)
    const team = await ssoTeam(t)
    const connection = await connected(team)
    await setJit(team, true)
    const off = await idp.login(idp.idpInitiatedUrl(connection.sp.entityId, '/settings'), ALICE)
    expect(off.RelayState).toBe('/settings')
    const refused = await postToAcs(t.client(), connection.id, off.SAMLResponse, off.RelayState)
    expect(refused.status).toBe(400)
    expect(pageError(refused)).toBe('saml_request_unknown')

    expect((await team.admin.client.request('PATCH', `/api/v1/teams/${team.slug}/sso/saml/${connection.id}`, { idpInitiated: true })).status).toBe(200)
    const browser = t.client()
    const post = await idp.login(idp.idpInitiatedUrl(connection.sp.entityId, '/settings'), ALICE)
    const confirm = await finish(browser, await postToAcs(browser, connection.id, post.SAMLResponse, post.RelayState))
    expect(confirm.status).toBe(200)
    expect(String(confirm.body)).toContain(ALICE.email)
    expect((await browser.get('/api/v1/me')).status).toBe(401)
    const handoff = /name="handoff" value="([^"]+)"/.exec(String(confirm.body))![1]
    // Another site cannot post the confirmation (Origin check).
    const crossSite = await t.client({ origin: 'https://evil.example' }).request('POST', `/sso/saml/${connection.id}/finish`, `handoff=${handoff}`, { 'content-type': 'application/x-www-form-urlencoded' })
    expect(crossSite.status).toBe(403)
    const confirmed = await browser.request('POST', `/sso/saml/${connection.id}/finish`, `handoff=${handoff}`, { 'content-type': 'application/x-www-form-urlencoded' })
    expect(confirmed.status).toBe(303)
    expect(confirmed.headers.location).toBe('/settings')
    expect((await browser.get<{ email: string }>('/api/v1/me')).body.email).toBe(ALICE.email)

    const replay = await postToAcs(t.client(), connection.id, post.SAMLResponse, post.RelayState)
    expect(replay.status).toBe(400)
    expect(pageError(replay)).toBe('saml_replayed')
  })

  it('IdP-initiated: a RelayState that is not a path on this site is refused as stale', async () => {
    const t = await ssoApp(dialect)
    const team = await ssoTeam(t)
    const connection = await connected(team, { idpInitiated: true })
    await setJit(team, true)
    for (const relay of ['https://evil.example/', '//evil.example', '_0123456789abcdef']) {
      const post = await idp.login(idp.idpInitiatedUrl(connection.sp.entityId, relay), ALICE)
      const res = await postToAcs(t.client(), connection.id, post.SAMLResponse, post.RelayState)
      expect(pageError(res), relay).toBe('saml_relay_state_invalid')
    }
  })

  it('XSW: wrappings of a real signed response are refused; the response itself is then accepted', async () => {
    const t = await ssoApp(dialect)
    const team = await ssoTeam(t)
    const connection = await connected(team, { idpInitiated: true })
    await setJit(team, true)
    // IdP-initiated: no request to use up, so every vector meets the signature checks.
    const post = await idp.login(idp.idpInitiatedUrl(connection.sp.entityId, '/'), ALICE)
    const xml = Buffer.from(post.SAMLResponse, 'base64').toString('utf8')
    const assertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)![0]
    const signature = /<ds:Signature[\s\S]*?<\/ds:Signature>/.exec(assertion)![0]
    const evil = assertion.replaceAll(ALICE.email, `evil@${SSO_DOMAIN}`).replace(signature, '')
    const evilNewId = evil.replace(/ID="([^"]+)"/, 'ID="_evil0123456789"')
    const [head, tail] = [xml.slice(0, xml.indexOf(assertion)), xml.slice(xml.indexOf(assertion) + assertion.length)]
    const vectors: Record<string, string> = {
      // XSW3: an unsigned assertion beside the signed one (before it).
      'evil assertion first': head + evilNewId + assertion + tail,
      // The same, after it.
      'evil assertion after': head + assertion + evilNewId + tail,
      // Same ID twice: the signature's reference would be ambiguous.
      'duplicate ID': head + evil + assertion + tail,
      // XSW4: the signed assertion wrapped inside the evil one.
      'signed inside evil': head + evilNewId.replace('</saml:Assertion>', assertion + '</saml:Assertion>') + tail,
      // XSW7: the signed assertion hidden in Extensions, the evil one where it is read.
      'signed in Extensions': head + '<samlp:Extensions>' + assertion + '</samlp:Extensions>' + evilNewId + tail,
      // XSW8: the signed assertion in the signature's Object of the evil one.
      'signed in ds:Object': head + evil.replace(/(<saml:Issuer[^>]*>[^<]*<\/saml:Issuer>)/, `$1${signature.replace('</ds:Signature>', `<ds:Object>${assertion.replace(signature, '')}</ds:Object></ds:Signature>`)}`) + tail,
      // XSW1-like: the whole signed response wrapped in an evil one's signature Object.
      'response in Object': xml.replace(assertion, evil).replace(/(<\/saml:Issuer>)/, `$1<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Object>${xml.replace(/^<\?xml[^>]*>/, '')}</ds:Object></ds:Signature>`),
    }
    for (const [name, wrapped] of Object.entries(vectors)) {
      const res = await postToAcs(t.client(), connection.id, Buffer.from(wrapped).toString('base64'), '/')
      expect(res.status, name).toBe(400)
      expect(['saml_signature_invalid', 'saml_response_invalid'], `${name}: ${pageError(res)}`).toContain(pageError(res))
    }
    expect(await t.app.ctx.db.selectFrom('accounts').select('id').where('email_normalized', '=', `evil@${SSO_DOMAIN}`).executeTakeFirst()).toBeUndefined()
    const browser = t.client()
    const confirm = await finish(browser, await postToAcs(browser, connection.id, post.SAMLResponse, post.RelayState))
    expect(confirm.status).toBe(200)
    expect(String(confirm.body)).toContain(ALICE.email)
  })

  it('a tampered real response (NameID changed) is refused', async () => {
    const t = await ssoApp(dialect)
    const team = await ssoTeam(t)
    const connection = await connected(team)
    await setJit(team, true)
    const browser = t.client()
    const post = await idp.login(await startSignIn(browser, connection.id), ALICE)
    const tampered = Buffer.from(Buffer.from(post.SAMLResponse, 'base64').toString('utf8').replaceAll(ALICE.email, `evil@${SSO_DOMAIN}`)).toString('base64')
    const res = await postToAcs(browser, connection.id, tampered, post.RelayState)
    expect(pageError(res)).toBe('saml_signature_invalid')
  })

  it('the Admin test sign-in shows the attributes and changes nothing', async () => {
    const t = await ssoApp(dialect)
    const team = await ssoTeam(t)
    const connection = await connected(team, { enable: false })
    await setJit(team, true)
    const started = await team.admin.client.post<{ url: string }>(`/api/v1/teams/${team.slug}/sso/saml/${connection.id}/test`)
    expect(started.status, JSON.stringify(started.body)).toBe(200)
    const post = await idp.login(started.body.url, ALICE)
    const page = await postToAcs(team.admin.client, connection.id, post.SAMLResponse, post.RelayState)
    expect(page.status).toBe(200)
    expect(String(page.body)).toContain(ALICE.email)
    expect(String(page.body)).toContain('Alice Example')
    expect(await t.app.ctx.db.selectFrom('accounts').select('id').where('email_normalized', '=', ALICE.email).executeTakeFirst()).toBeUndefined()
    const view = (await team.admin.client.get<SamlConnection>(`/api/v1/teams/${team.slug}/sso/saml/${connection.id}`)).body
    expect(view.testedAt).not.toBeNull()
    expect(await activityTypes(team)).toContain('sso.connection_tested')
    // A Developer cannot start one.
  })

  it('refuses an address outside the team’s verified domains, and a disabled connection', async () => {
    const t = await ssoApp(dialect)
    const team = await ssoTeam(t)
    const connection = await connected(team)
    await setJit(team, true)
    const browser = t.client()
    const post = await idp.login(await startSignIn(browser, connection.id), OUTSIDER)
    const res = await postToAcs(browser, connection.id, post.SAMLResponse, post.RelayState)
    expect(res.status).toBe(403)
    expect(pageError(res)).toBe('sso_domain_not_verified')

    expect((await team.admin.client.request('PATCH', `/api/v1/teams/${team.slug}/sso/saml/${connection.id}`, { enabled: false })).status).toBe(200)
    const start = await t.client().get(`/sso/saml/${connection.id}/start`)
    expect(start.status).toBe(403)
    expect(pageError(start)).toBe('sso_connection_disabled')
    const unknown = await t.client().get('/sso/saml/no-such-connection/start')
    expect(unknown.status).toBe(404)
    expect(pageError(unknown)).toBe('sso_connection_unknown')
  })

  it('JIT off: an existing person at the domain is refused with a join request to the Admins', async () => {
    const t = await ssoApp(dialect)
    const team = await ssoTeam(t)
    const connection = await connected(team)
    const browser = t.client()
    const post = await idp.login(await startSignIn(browser, connection.id), ALICE)
    // No account at all: refused, nothing created.
    const res = await postToAcs(browser, connection.id, post.SAMLResponse, post.RelayState)
    expect(pageError(res)).toBe('sso_jit_not_allowed')
    expect(await t.app.ctx.db.selectFrom('accounts').select('id').where('email_normalized', '=', ALICE.email).executeTakeFirst()).toBeUndefined()

    // A confirmed account at the domain (linked at once), not a member: the Admins get a request.
    const linker = await accountWithEmail(t, LINKER.email, { confirm: true })
    const post2 = await idp.login(await startSignIn(linker.client, connection.id), LINKER)
    const refused = await postToAcs(linker.client, connection.id, post2.SAMLResponse, post2.RelayState)
    expect(refused.status).toBe(403)
    expect(pageError(refused)).toBe('sso_jit_not_allowed')
    const requests = (await team.admin.client.get<{ requests: { email: string }[] }>(`/api/v1/teams/${team.slug}/join-requests`)).body.requests
    expect(requests.map((r) => r.email)).toEqual([LINKER.email])
    expect(await t.app.ctx.db.selectFrom('linked_identities').select('account_id').where('subject', '=', LINKER.email).executeTakeFirst()).toEqual({ account_id: linker.accountId })
  })

  it('an unconfirmed local account with the address proves its password once to link', async () => {
    const t = await ssoApp(dialect)
    const team = await ssoTeam(t)
    const connection = await connected(team)
    await setJit(team, true)
    const local = await accountWithEmail(t, LINKER.email, { confirm: false })
    const browser = t.client()
    const post = await idp.login(await startSignIn(browser, connection.id), LINKER)
    const page = await finish(browser, await postToAcs(browser, connection.id, post.SAMLResponse, post.RelayState))
    expect(page.status).toBe(200)
    expect(String(page.body)).toContain('type="password"')
    expect((await browser.get('/api/v1/me')).status).toBe(401)
    const handoff = /name="handoff" value="([^"]+)"/.exec(String(page.body))![1]
    const form = (password: string) => new URLSearchParams({ handoff, password }).toString()
    const wrong = await browser.request('POST', `/sso/saml/${connection.id}/finish`, form('not the password'), { 'content-type': 'application/x-www-form-urlencoded' })
    expect(pageError(wrong)).toBe('password_incorrect')
    const right = await browser.request('POST', `/sso/saml/${connection.id}/finish`, form(local.password), { 'content-type': 'application/x-www-form-urlencoded' })
    expect(right.status, String(right.body).slice(0, 300)).toBe(303)
    expect((await browser.get<{ email: string }>('/api/v1/me')).body.email).toBe(LINKER.email)
    expect((await t.app.ctx.db.selectFrom('linked_identities').select('account_id').where('subject', '=', LINKER.email).executeTakeFirst())?.account_id).toBe(local.accountId)
  })

  it('an IdP entity ID used by one team cannot be registered by another', async () => {
    const t = await ssoApp(dialect)
    const first = await ssoTeam(t)
    await connected(first)
    const second = await ssoTeam(t, 'other-company.test')
    const res = await second.admin.client.post(`/api/v1/teams/${second.slug}/sso/saml`, { name: 'Same IdP', idp: { metadataUrl: idp.metadataUrl } })
    expect(res.status).toBe(409)
    expect(errorOf(res).code).toBe('sso_entity_id_taken')
  })

  it('a Developer cannot see or change connections', async () => {
    const t = await ssoApp(dialect)
    const team = await ssoTeam(t)
    const dev = await signedUpUser(t)
    const { addMember } = await import('../../test/helpers/teams.ts')
    await addMember(t, team.admin, team.slug, ['developer'], dev)
    expect((await dev.client.get(`/api/v1/teams/${team.slug}/sso/saml`)).status).toBe(403)
    expect((await dev.client.post(`/api/v1/teams/${team.slug}/sso/saml`, { name: 'x', idp: { metadataUrl: idp.metadataUrl } })).status).toBe(403)
  })
})
