/**
 * The SAML security rules, one test each, on SQLite and PostgreSQL, with programmable IdPs
 * (responses built and signed here with xml-crypto, and @boxyhq/saml20's createSAMLResponse):
 * Destination, Recipient, audience, issuer, expiry, signature presence, key and algorithm,
 * InResponseTo from another connection, unsolicited answers, replays (also across two
 * instances on one PostgreSQL database), and the metadata URL's SSRF rules.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import boxyhq from '@boxyhq/saml20'
import { createApp } from '../app.ts'
import { ConfigError, loadConfig } from '../config.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { testEnvironment } from '../../test/helpers/app.ts'
import { buildResponse, requestIdOf, testKeyPair, type KeyPair, type ResponseSpec } from '../../test/helpers/saml-idp.ts'
import { createConnection, finish, pageError, postToAcs, setJit, ssoApp, ssoTeam, SSO_DOMAIN, startSignIn, type SsoTeam } from '../../test/helpers/sso.ts'
import { addressAllowed, checkMetadataUrl } from './metadata.ts'
import { errorOf } from '../../test/helpers/api.ts'
import type { SamlConnection, SsoMethods } from './schemas.ts'
import type { Static } from 'typebox'

type Toolkit = typeof boxyhq.default
const saml20: Toolkit = 'createSAMLResponse' in boxyhq ? (boxyhq as unknown as Toolkit) : boxyhq.default

const IDP_ENTITY = 'https://idp.example.com/saml/metadata'
let key: KeyPair
let otherKey: KeyPair
beforeAll(() => {
  key = testKeyPair()
  otherKey = testKeyPair('someone-else')
})

interface Fixture {
  team: SsoTeam
  connection: SamlConnection
}

async function fixture(dialect: (typeof DIALECTS)[number], options: { idpInitiated?: boolean; entityId?: string } = {}): Promise<Fixture> {
  const t = await ssoApp(dialect)
  const team = await ssoTeam(t)
  const connection = await createConnection(team, { manual: { entityId: options.entityId ?? IDP_ENTITY, ssoUrl: 'https://idp.example.com/saml/sso', certificates: [key.certificate] } }, { idpInitiated: options.idpInitiated })
  await setJit(team, true)
  return { team, connection }
}

/** A response to a real request of this connection, valid unless `change` says otherwise. */
async function answer(f: Fixture, change: Partial<ResponseSpec> = {}) {
  const browser = f.team.t.client()
  const requestId = requestIdOf(await startSignIn(browser, f.connection.id))
  const response = buildResponse({ issuer: IDP_ENTITY, audience: f.connection.sp.entityId, destination: f.connection.sp.acsUrl, recipient: f.connection.sp.acsUrl, inResponseTo: requestId, email: `ada@${SSO_DOMAIN}`, key, ...change })
  const acs = await postToAcs(browser, f.connection.id, response.base64, requestId)
  return { browser, requestId, response, acs }
}

describe.each(DIALECTS)('SAML security rules (%s)', (dialect) => {
  it('accepts a well-formed signed response (the baseline every refusal below changes one thing of)', async () => {
    const f = await fixture(dialect)
    const { browser, acs } = await answer(f)
    const done = await finish(browser, acs)
    expect(done.status).toBe(303)
    expect((await browser.get<{ email: string }>('/api/v1/me')).body.email).toBe(`ada@${SSO_DOMAIN}`)
  })

  it('accepts a response from @boxyhq/saml20 signed on Response and Assertion', async () => {
    const f = await fixture(dialect)
    const browser = f.team.t.client()
    const requestId = requestIdOf(await startSignIn(browser, f.connection.id))
    const xml = await saml20.createSAMLResponse({ audience: f.connection.sp.entityId, issuer: IDP_ENTITY, acsUrl: f.connection.sp.acsUrl, claims: { email: `grace@${SSO_DOMAIN}`, raw: { email: `grace@${SSO_DOMAIN}` } }, requestId, privateKey: key.privateKey, publicKey: key.certificate })
    const done = await finish(browser, await postToAcs(browser, f.connection.id, Buffer.from(xml).toString('base64'), requestId))
    expect(done.status).toBe(303)
    expect((await browser.get<{ email: string }>('/api/v1/me')).body.email).toBe(`grace@${SSO_DOMAIN}`)
  })

  it('Response/@Destination must be this connection’s ACS URL', async () => {
    const f = await fixture(dialect)
    const { acs } = await answer(f, { destination: 'http://127.0.0.1:9999/other/acs', signResponse: true })
    expect(acs.status).toBe(400)
    expect(pageError(acs)).toBe('saml_wrong_recipient')
  })

  it('SubjectConfirmationData/@Recipient must be this connection’s ACS URL', async () => {
    const f = await fixture(dialect)
    const { acs } = await answer(f, { recipient: 'http://127.0.0.1:9999/other/acs' })
    expect(pageError(acs)).toBe('saml_wrong_recipient')
  })

  it('the audience must be this connection’s SP entity ID', async () => {
    const f = await fixture(dialect)
    const { acs } = await answer(f, { audience: 'https://another-sp.example/metadata' })
    expect(pageError(acs)).toBe('saml_wrong_recipient')
  })

  it('the issuer must be the connection’s IdP entity ID', async () => {
    const f = await fixture(dialect)
    const { acs } = await answer(f, { issuer: 'https://evil-idp.example/' })
    expect(pageError(acs)).toBe('saml_wrong_issuer')
  })

  it('an expired assertion is refused (beyond 60 s of clock skew)', async () => {
    const f = await fixture(dialect)
    const { acs } = await answer(f, { shiftMs: -10 * 60_000, validForMs: 5 * 60_000 })
    expect(acs.status).toBe(400)
    expect(pageError(acs)).toBe('saml_expired')
  })

  it('an unsigned assertion is refused, even inside a signed response', async () => {
    const f = await fixture(dialect)
    expect(pageError((await answer(f, { signAssertion: false, signResponse: false })).acs)).toBe('saml_signature_invalid')
    expect(pageError((await answer(f, { signAssertion: false, signResponse: true })).acs)).toBe('saml_signature_invalid')
  })

  it('a signature by another key is refused', async () => {
    const f = await fixture(dialect)
    expect(pageError((await answer(f, { key: otherKey })).acs)).toBe('saml_signature_invalid')
  })

  it('a SHA-1 signature is refused', async () => {
    const f = await fixture(dialect)
    const { acs } = await answer(f, { algorithm: 'sha1' })
    expect(acs.status).toBe(400)
    expect(pageError(acs)).toBe('saml_signature_invalid')
  })

  it('an unsolicited response is refused while IdP-initiated sign-in is off', async () => {
    const f = await fixture(dialect)
    const response = buildResponse({ issuer: IDP_ENTITY, audience: f.connection.sp.entityId, destination: f.connection.sp.acsUrl, recipient: f.connection.sp.acsUrl, email: `ada@${SSO_DOMAIN}`, key })
    const acs = await postToAcs(f.team.t.client(), f.connection.id, response.base64, '/')
    expect(pageError(acs)).toBe('saml_request_unknown')
  })

  it('InResponseTo naming another connection’s request is refused (the cache is per connection)', async () => {
    const f = await fixture(dialect)
    const other = await createConnection(f.team, { manual: { entityId: 'https://idp2.example.com/', ssoUrl: 'https://idp2.example.com/sso', certificates: [key.certificate] } })
    const browser = f.team.t.client()
    const foreignRequest = requestIdOf(await startSignIn(browser, other.id))
    const response = buildResponse({ issuer: IDP_ENTITY, audience: f.connection.sp.entityId, destination: f.connection.sp.acsUrl, recipient: f.connection.sp.acsUrl, inResponseTo: foreignRequest, email: `ada@${SSO_DOMAIN}`, key })
    const acs = await postToAcs(browser, f.connection.id, response.base64, foreignRequest)
    expect(pageError(acs)).toBe('saml_request_unknown')
  })

  it('a response replayed with IdP-initiated on is refused until its NotOnOrAfter', async () => {
    const f = await fixture(dialect, { idpInitiated: true })
    const response = buildResponse({ issuer: IDP_ENTITY, audience: f.connection.sp.entityId, destination: f.connection.sp.acsUrl, recipient: f.connection.sp.acsUrl, email: `ada@${SSO_DOMAIN}`, key })
    expect((await postToAcs(f.team.t.client(), f.connection.id, response.base64, '/')).status).toBe(303)
    const replay = await postToAcs(f.team.t.client(), f.connection.id, response.base64, '/')
    expect(replay.status).toBe(400)
    expect(pageError(replay)).toBe('saml_replayed')
  })

  it('an SP-initiated RelayState that is not the request’s own is refused', async () => {
    const f = await fixture(dialect)
    const browser = f.team.t.client()
    const requestId = requestIdOf(await startSignIn(browser, f.connection.id))
    const response = buildResponse({ issuer: IDP_ENTITY, audience: f.connection.sp.entityId, destination: f.connection.sp.acsUrl, recipient: f.connection.sp.acsUrl, inResponseTo: requestId, email: `ada@${SSO_DOMAIN}`, key })
    expect(pageError(await postToAcs(browser, f.connection.id, response.base64, 'https://evil.example/'))).toBe('saml_relay_state_invalid')
  })

  it('a start with a return_to that is not a path on this site is refused', async () => {
    const f = await fixture(dialect)
    const res = await f.team.t.client().get(`/sso/saml/${f.connection.id}/start?return_to=${encodeURIComponent('https://evil.example/')}`)
    expect(res.status).toBe(400)
    expect(pageError(res)).toBe('saml_relay_state_invalid')
  })

  it('garbage in the ACS is an error page, never a 500', async () => {
    const f = await fixture(dialect)
    for (const body of ['SAMLResponse=not-base64-xml', 'SAMLResponse=' + Buffer.from('<x/>').toString('base64'), 'nothing=here', '']) {
      const res = await f.team.t.client().request('POST', `/sso/saml/${f.connection.id}/acs`, body, { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://idp.example.com' })
      expect(res.status, body).toBe(400)
      expect(pageError(res), body).toBeTruthy()
    }
    const zh = await f.team.t.client().request('POST', `/sso/saml/${f.connection.id}/acs`, 'SAMLResponse=x', { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'zh-CN,zh;q=0.9' })
    expect(String(zh.body)).toContain('lang="zh-CN"')
  })

  it('Sign in with SSO: the methods by team URL or by an address at a verified domain; nothing told otherwise', async () => {
    const f = await fixture(dialect)
    const anyone = f.team.t.client({ origin: null })
    const bySlug = await anyone.get<Static<typeof SsoMethods>>(`/api/v1/sso/methods?team=${f.team.slug}`)
    expect(bySlug.status).toBe(200)
    expect(bySlug.body.teams).toEqual([{ slug: f.team.slug, name: `Team ${f.team.slug}`, methods: [{ protocol: 'saml', connectionId: f.connection.id, name: 'Company IdP', startUrl: `http://latchkey.test/sso/saml/${f.connection.id}/start` }] }])
    expect((await anyone.get<Static<typeof SsoMethods>>(`/api/v1/sso/methods?email=${encodeURIComponent(`someone@${SSO_DOMAIN}`)}`)).body.teams.map((t) => t.slug)).toEqual([f.team.slug])
    for (const query of ['team=no-such-team', 'email=someone%40unknown.example', 'email=nonsense']) expect((await anyone.get(`/api/v1/sso/methods?${query}`)).body, query).toEqual({ teams: [] })
    await f.team.admin.client.request('PATCH', `/api/v1/teams/${f.team.slug}/sso/saml/${f.connection.id}`, { enabled: false })
    expect((await anyone.get(`/api/v1/sso/methods?team=${f.team.slug}`)).body).toEqual({ teams: [] })
  })

  it('the ACS is the only form route: other unsafe requests still need this Origin', async () => {
    const f = await fixture(dialect)
    const res = await f.team.t.client({ origin: 'https://evil.example' }).request('PATCH', `/api/v1/teams/${f.team.slug}/sso/saml/${f.connection.id}`, { enabled: false })
    expect(res.status).toBe(403)
  })
})

describe('metadata URL rules', () => {
  it('refuses http, private and loopback addresses (loopback only for test suites)', () => {
    expect(() => checkMetadataUrl('http://idp.example.com/metadata', false)).toThrow(expect.objectContaining({ code: 'sso_metadata_url_refused', fields: { metadataUrl: 'https_required' } }))
    for (const url of ['https://10.0.0.8/m', 'https://192.168.1.1/m', 'https://169.254.169.254/latest/meta-data', 'https://[::1]/m', 'https://127.0.0.1/m', 'https://[::ffff:10.0.0.1]/m', 'https://100.64.0.1/m']) {
      expect(() => checkMetadataUrl(url, false), url).toThrow(expect.objectContaining({ code: 'sso_metadata_url_refused' }))
    }
    expect(addressAllowed('127.0.0.1', true)).toBe(true)
    expect(addressAllowed('10.1.2.3', true)).toBe(false)
    expect(addressAllowed('93.184.215.14', false)).toBe(true)
    expect(() => checkMetadataUrl('http://127.0.0.1:8080/m', true)).not.toThrow()
  })

  it('the loopback switch needs NODE_ENV=test', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', SSO_METADATA_ALLOW_LOOPBACK: 'true' })).toThrow(ConfigError)
    expect(loadConfig({ NODE_ENV: 'production' }).sso.metadataAllowLoopback).toBe(false)
  })
})

describe.each(DIALECTS)('metadata documents (%s)', (dialect) => {
  let server: http.Server
  let base = ''
  const pages = new Map<string, { status?: number; headers?: Record<string, string>; body: string | Buffer }>()
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const page = pages.get(req.url ?? '')
      if (!page) return void res.writeHead(404).end()
      res.writeHead(page.status ?? 200, page.headers ?? { 'content-type': 'application/xml' }).end(page.body)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const metadata = saml20.createIdPMetadataXML({ ssoUrl: 'https://idp.example.com/sso', entityId: 'https://idp.example.com/e', x509cert: key.certificate, wantAuthnRequestsSigned: false })
    pages.set('/ok', { body: metadata })
    pages.set('/dtd', { body: `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>${metadata.replace(/^<\?xml[^>]*>/, '')}` })
    pages.set('/big', { body: Buffer.alloc(1_200_000, ' ') })
    pages.set('/redirect', { status: 302, headers: { location: 'http://10.0.0.1/metadata' }, body: '' })
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('reads good metadata; refuses a DTD, an oversize document, a redirect, an http URL elsewhere and a private address', async () => {
    const t = await ssoApp(dialect)
    const team = await ssoTeam(t)
    const add = (idp: Record<string, unknown>) => team.admin.client.post<SamlConnection>(`/api/v1/teams/${team.slug}/sso/saml`, { name: 'IdP', idp })
    const ok = await add({ metadataUrl: `${base}/ok` })
    expect(ok.status, JSON.stringify(ok.body)).toBe(201)
    expect((ok.body as SamlConnection).idp.entityId).toBe('https://idp.example.com/e')
    await team.admin.client.request('DELETE', `/api/v1/teams/${team.slug}/sso/saml/${(ok.body as SamlConnection).id}`)
    const dtd = await add({ metadataUrl: `${base}/dtd` })
    expect([dtd.status, errorOf(dtd).code]).toEqual([400, 'sso_metadata_invalid'])
    const pastedDtd = await add({ metadataXml: pages.get('/dtd')!.body })
    expect(errorOf(pastedDtd).code).toBe('sso_metadata_invalid')
    const big = await add({ metadataUrl: `${base}/big` })
    expect([big.status, errorOf(big).code]).toEqual([413, 'sso_metadata_too_large'])
    const redirect = await add({ metadataUrl: `${base}/redirect` })
    expect(errorOf(redirect)).toMatchObject({ code: 'sso_metadata_url_refused', fields: { metadataUrl: 'redirect' } })
    const http = await add({ metadataUrl: 'http://idp.example.com/metadata' })
    expect(errorOf(http)).toMatchObject({ code: 'sso_metadata_url_refused', fields: { metadataUrl: 'https_required' } })
    const privateAddress = await add({ metadataUrl: 'https://10.0.0.1/metadata' })
    expect(errorOf(privateAddress)).toMatchObject({ code: 'sso_metadata_url_refused', fields: { metadataUrl: 'private_address' } })
    const badCert = await add({ manual: { entityId: 'x', ssoUrl: 'https://idp.example.com/sso', certificates: ['not a certificate'] } })
    expect(errorOf(badCert).code).toBe('sso_certificate_invalid')
  })
})

describe('two instances on one PostgreSQL database', () => {
  it('accept one and only one use of an assertion posted to both at once', async () => {
    const f = await fixture('postgres', { idpInitiated: true })
    const t = f.team.t
    const second = await createApp(loadConfig(testEnvironment(t.app.ctx.config.databaseUrl, 'smtp://127.0.0.1:9', { SSO_METADATA_ALLOW_LOOPBACK: 'true' })), { clock: t.clock })
    try {
      const response = buildResponse({ issuer: IDP_ENTITY, audience: f.connection.sp.entityId, destination: f.connection.sp.acsUrl, recipient: f.connection.sp.acsUrl, email: `ada@${SSO_DOMAIN}`, key })
      const form = new URLSearchParams({ SAMLResponse: response.base64, RelayState: '/' }).toString()
      const post = (app: typeof second) =>
        app.server.inject({ method: 'POST', url: `/sso/saml/${f.connection.id}/acs`, payload: form, headers: { host: 'latchkey.test', 'content-type': 'application/x-www-form-urlencoded', origin: 'https://idp.example.com' } })
      const answers = await Promise.all([post(t.app), post(second), post(t.app), post(second)])
      const statuses = answers.map((a) => a.statusCode).sort()
      expect(statuses).toEqual([303, 400, 400, 400])
      for (const a of answers.filter((a) => a.statusCode === 400)) expect(a.body).toContain('saml_replayed')
    } finally {
      await second.close()
    }
  })

  it('a request started on one instance is answered on the other (shared request-ID cache)', async () => {
    const f = await fixture('postgres')
    const t = f.team.t
    const second = await createApp(loadConfig(testEnvironment(t.app.ctx.config.databaseUrl, 'smtp://127.0.0.1:9', { SSO_METADATA_ALLOW_LOOPBACK: 'true' })), { clock: t.clock })
    try {
      const browser = t.client()
      const requestId = requestIdOf(await startSignIn(browser, f.connection.id))
      const response = buildResponse({ issuer: IDP_ENTITY, audience: f.connection.sp.entityId, destination: f.connection.sp.acsUrl, recipient: f.connection.sp.acsUrl, inResponseTo: requestId, email: `ada@${SSO_DOMAIN}`, key })
      const res = await second.server.inject({ method: 'POST', url: `/sso/saml/${f.connection.id}/acs`, payload: new URLSearchParams({ SAMLResponse: response.base64, RelayState: requestId }).toString(), headers: { host: 'latchkey.test', 'content-type': 'application/x-www-form-urlencoded' } })
      expect(res.statusCode, res.body.slice(0, 300)).toBe(303)
    } finally {
      await second.close()
    }
  })
})
