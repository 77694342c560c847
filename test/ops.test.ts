/**
 * What an operator relies on: health and readiness, Prometheus metrics, the OpenAPI document
 * and its Swagger UI, security headers on every API answer, and logs free of secrets.
 */
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { LOG_REDACT_PATHS } from '../src/app.ts'
import { startDraining } from '../src/http/ops.ts'
import { errorOf, expectError, person, PUBLIC_URL, testApp } from './helpers/app.ts'
import { DIALECTS, type TestDialect } from './helpers/databases.ts'
import { tokenFrom } from './helpers/smtp.ts'
import type { AccountView, ConfirmationSent, EmailConfirmed, PasswordChanged, PublicProfile } from '../src/accounts/schemas.ts'
import type { JoinedTeam, TeamSummary } from '../src/teams/schemas.ts'
import type { SignedIn } from '../src/signin/schemas.ts'
import type { InviteLinkPreview } from '../src/teams/invitations/schemas.ts'
import type { SessionList } from '../src/sessions/schemas.ts'

interface OpenApiOperation {
  security?: unknown[]
  requestBody?: unknown
  parameters?: Array<{ in: string; name: string }>
  responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>
}

interface OpenApiDocument {
  openapi: string
  security?: unknown[]
  info: { title: string; version: string }
  paths: Record<string, Record<string, OpenApiOperation>>
  components: { schemas: Record<string, { properties?: Record<string, { required?: string[] }> }> }
}

/** The public API, as OpenAPI spells its paths. */
const API_ROUTES: Array<[method: string, path: string]> = [
  ['post', '/api/v1/signup'],
  ['post', '/api/v1/email/confirm'],
  ['post', '/api/v1/email/resend'],
  ['post', '/api/v1/signin'],
  ['post', '/api/v1/signout'],
  ['post', '/api/v1/recovery'],
  ['post', '/api/v1/password/reset'],
  ['post', '/api/v1/me/email'],
  ['post', '/api/v1/me/password'],
  ['get', '/api/v1/me'],
  ['patch', '/api/v1/me'],
  ['delete', '/api/v1/me'],
  ['get', '/api/v1/me/deletion'],
  ['get', '/api/v1/me/sessions'],
  ['delete', '/api/v1/me/sessions'],
  ['delete', '/api/v1/me/sessions/{id}'],
  ['get', '/api/v1/users/{username}'],
  ['get', '/api/v1/usernames/{username}'],
  ['get', '/api/v1/captcha'],
  ['post', '/api/v1/signin/two-factor'],
  ['post', '/api/v1/signin/passkey/options'],
  ['post', '/api/v1/signin/passkey'],
  ['post', '/api/v1/signin/disavow'],
  ['post', '/api/v1/me/reauthenticate'],
  ['post', '/api/v1/me/reauthenticate/options'],
  ['get', '/api/v1/me/two-factor'],
  ['post', '/api/v1/me/two-factor'],
  ['post', '/api/v1/me/two-factor/confirm'],
  ['get', '/api/v1/me/two-factor/setup'],
  ['delete', '/api/v1/me/two-factor/setup'],
  ['delete', '/api/v1/me/two-factor'],
  ['post', '/api/v1/me/two-factor/recovery-codes'],
  ['get', '/api/v1/me/passkeys'],
  ['post', '/api/v1/me/passkeys/options'],
  ['post', '/api/v1/me/passkeys'],
  ['patch', '/api/v1/me/passkeys/{id}'],
  ['delete', '/api/v1/me/passkeys/{id}'],
  ['get', '/api/v1/me/notification-preferences'],
  ['put', '/api/v1/me/notification-preferences'],
  ['get', '/api/v1/me/notifications'],
  ['post', '/api/v1/me/notifications/{id}/read'],
  ['post', '/api/v1/me/notifications/read-all'],
  ['get', '/api/v1/me/security-log'],
  ['get', '/api/v1/browser/accounts'],
  ['post', '/api/v1/browser/accounts/switch'],
  ['post', '/api/v1/teams'],
  ['get', '/api/v1/teams'],
  ['get', '/api/v1/teams/{slug}'],
  ['patch', '/api/v1/teams/{slug}'],
  ['put', '/api/v1/teams/{slug}/seats'],
  ['put', '/api/v1/teams/{slug}/members/{accountId}/roles'],
  ['delete', '/api/v1/teams/{slug}/members/{accountId}'],
  ['post', '/api/v1/teams/{slug}/leave'],
  ['get', '/api/v1/teams/{slug}/invitations'],
  ['post', '/api/v1/teams/{slug}/invitations'],
  ['post', '/api/v1/teams/{slug}/invitations/{invitationId}/resend'],
  ['delete', '/api/v1/teams/{slug}/invitations/{invitationId}'],
  ['post', '/api/v1/teams/{slug}/suggestions/{invitationId}/approve'],
  ['post', '/api/v1/teams/{slug}/suggestions/{invitationId}/decline'],
  ['get', '/api/v1/teams/{slug}/activity'],
  ['get', '/api/v1/teams/{slug}/domains'],
  ['post', '/api/v1/teams/{slug}/domains'],
  ['post', '/api/v1/teams/{slug}/domains/{domainId}/verify'],
  ['delete', '/api/v1/teams/{slug}/domains/{domainId}'],
  ['put', '/api/v1/teams/{slug}/discovery'],
  ['get', '/api/v1/teams/{slug}/join-requests'],
  ['post', '/api/v1/teams/{slug}/join-requests/{requestId}/approve'],
  ['post', '/api/v1/teams/{slug}/join-requests/{requestId}/deny'],
  ['get', '/api/v1/me/discoverable-teams'],
  ['get', '/api/v1/me/join-requests'],
  ['post', '/api/v1/me/join-requests'],
  ['delete', '/api/v1/me/join-requests/{requestId}'],
  ['post', '/api/v1/invitations/accept'],
  ['get', '/api/v1/teams/{slug}/invite-links'],
  ['post', '/api/v1/teams/{slug}/invite-links'],
  ['delete', '/api/v1/teams/{slug}/invite-links/{linkId}'],
  ['get', '/api/v1/invite-links/{token}'],
  ['post', '/api/v1/invite-links/{token}/join'],
  ['post', '/api/v1/teams/{slug}/invitations/csv'],
  ['put', '/api/v1/teams/{slug}/logo'],
  ['delete', '/api/v1/teams/{slug}/logo'],
  ['get', '/api/v1/team-slugs/{slug}'],
  ['put', '/api/v1/teams/{slug}/slug'],
  ['get', '/api/v1/teams/{slug}/profile'],
  ['put', '/api/v1/teams/{slug}/profile'],
  ['get', '/api/v1/public/teams/{slug}'],
  ['post', '/api/v1/invitations/preview'],
  ['put', '/api/v1/me/avatar'],
  ['delete', '/api/v1/me/avatar'],
  ['get', '/api/v1/oauth/interactions/{uid}'],
  ['post', '/api/v1/oauth/interactions/{uid}/complete'],
  ['post', '/api/v1/oauth/interactions/{uid}/abort'],
  ['get', '/api/v1/me/authorized-apps'],
  ['delete', '/api/v1/me/authorized-apps/{clientId}'],
]

/** Operations anyone may call: they must not tell clients to attach credentials. */
const PUBLIC_OPERATIONS = [
  'POST /api/v1/signup', 'POST /api/v1/email/confirm', 'POST /api/v1/signin', 'POST /api/v1/signin/two-factor',
  'POST /api/v1/signin/passkey/options', 'POST /api/v1/signin/passkey', 'POST /api/v1/signin/disavow', 'GET /api/v1/captcha',
  'POST /api/v1/recovery', 'POST /api/v1/password/reset', 'GET /api/v1/users/{username}', 'POST /api/v1/invitations/preview',
  'GET /api/v1/public/teams/{slug}', 'GET /api/v1/browser/accounts',
]
/** A few that need a session, as a check that the default still applies. */
const SESSION_OPERATIONS = ['GET /api/v1/me', 'DELETE /api/v1/me', 'POST /api/v1/teams', 'PUT /api/v1/me/avatar', 'POST /api/v1/signout', 'POST /api/v1/invitations/accept']

const ERROR_REF = '#/components/schemas/ErrorResponse'

function operations(doc: OpenApiDocument): Array<{ method: string; path: string; op: OpenApiOperation }> {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method, path, op })))
}

function errorStatuses(op: OpenApiOperation): string[] {
  return Object.entries(op.responses ?? {})
    .filter(([status, response]) => /^4\d\d$/.test(status) && response.content?.['application/json']?.schema?.$ref === ERROR_REF)
    .map(([status]) => status)
}

/** A test app logging at trace level into memory, with the production redaction. */
async function appLoggingTo(dialect: TestDialect) {
  const lines: string[] = []
  const log = pino({ level: 'trace', redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } }, { write: (line: string) => void lines.push(line) })
  const t = await testApp(dialect, { LOG_LEVEL: 'trace' }, { log })
  return { ...t, lines }
}

describe.each(DIALECTS)('operations on %s', (dialect) => {
  describe('health', () => {
    it('answers GET /healthz with 200 ok', async () => {
      const t = await testApp(dialect)
      const res = await t.client().get('/healthz')
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ status: 'ok' })
    })

    it('answers GET /readyz with 200 and the database in use', async () => {
      const t = await testApp(dialect)
      const res = await t.client().get('/readyz')
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ status: 'ready', database: dialect })
    })

    it('answers /readyz 503 once shutdown begins, still serves, and closes each connection after its answer', async () => {
      const t = await testApp(dialect)
      expect((await t.client().get('/healthz')).headers.connection).not.toBe('close')
      startDraining(t.app.ctx)
      const ready = await t.client().get('/readyz')
      expectError(ready, 503, 'service_unavailable')
      const alive = await t.client().get('/healthz')
      expect(alive.status).toBe(200)
      expect(alive.headers.connection).toBe('close')
      const signup = await t.client().post<ConfirmationSent>('/api/v1/signup', { ...person(), acceptTerms: true })
      expect(signup.status).toBe(202)
      expect(signup.headers.connection).toBe('close')
    })
  })

  describe('metrics', () => {
    it('serves Prometheus text that counts requests', async () => {
      const t = await testApp(dialect)
      expect((await t.client().get<AccountView>('/api/v1/me')).status).toBe(401)
      const res = await t.client({ ip: '127.0.0.1' }).get<string>('/metrics')
      expect(res.status).toBe(200)
      expect(String(res.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/)
      expect(res.body).toContain('# TYPE latchkey_http_requests_total counter')
      expect(res.body).toContain('latchkey_http_requests_total{method="GET",route="/api/v1/me",status="401"} 1')
      expect(res.body).toContain('# TYPE latchkey_http_request_duration_seconds histogram')
      expect(res.body).toMatch(/^latchkey_process_cpu_seconds_total /m)
    })

    it('labels requests by route pattern, never by the raw URL', async () => {
      const t = await testApp(dialect)
      expect((await t.client().get<PublicProfile>('/api/v1/users/someone_secret')).status).toBe(404)
      expect((await t.client().get('/api/v1/no-such-route-secret')).status).toBe(404)
      const res = await t.client({ ip: '::1' }).get<string>('/metrics')
      expect(res.body).toContain('latchkey_http_requests_total{method="GET",route="/api/v1/users/:username",status="404"} 1')
      expect(res.body).toContain('latchkey_http_requests_total{method="GET",route="unmatched",status="404"} 1')
      expect(res.body).not.toContain('secret')
    })

    it('answers only this machine, and never through a proxy, when no METRICS_TOKEN is set', async () => {
      const t = await testApp(dialect)
      const remote = await t.client({ ip: '203.0.113.9' }).get('/metrics')
      expectError(remote, 401, 'unauthenticated')
      expect((await t.client({ ip: '127.0.0.1' }).request('GET', '/metrics', undefined, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(401)
      expect((await t.client({ ip: '127.0.0.1' }).request('GET', '/metrics', undefined, { forwarded: 'for=203.0.113.9' })).status).toBe(401)
    })

    it('asks for the bearer token when METRICS_TOKEN is set, from anywhere', async () => {
      const token = 'm'.repeat(40)
      const t = await testApp(dialect, { METRICS_TOKEN: token })
      expect((await t.client({ ip: '127.0.0.1' }).get('/metrics')).status).toBe(401)
      expect((await t.client({ ip: '203.0.113.9' }).request('GET', '/metrics', undefined, { authorization: `Bearer ${'x'.repeat(40)}` })).status).toBe(401)
      const ok = await t.client({ ip: '203.0.113.9' }).request<string>('GET', '/metrics', undefined, { authorization: `Bearer ${token}` })
      expect(ok.status).toBe(200)
      expect(ok.body).toContain('latchkey_http_requests_total')
    })
  })

  describe('OpenAPI document', () => {
    it('is OpenAPI 3.1', async () => {
      const t = await testApp(dialect)
      const res = await t.client().get<OpenApiDocument>('/openapi.json')
      expect(res.status).toBe(200)
      expect(res.body.openapi).toBe('3.1.0')
      expect(res.body.info).toMatchObject({ title: 'Latchkey API', version: expect.any(String) })
    })

    it('documents every public API route with its method', async () => {
      const t = await testApp(dialect)
      const doc = (await t.client().get<OpenApiDocument>('/openapi.json')).body
      const documented = operations(doc).map(({ method, path }) => `${method.toUpperCase()} ${path}`)
      expect(documented).toEqual(expect.arrayContaining(API_ROUTES.map(([method, path]) => `${method.toUpperCase()} ${path}`)))
    })

    it('gives every operation at least one 4xx response with the ErrorResponse schema', async () => {
      const t = await testApp(dialect)
      const doc = (await t.client().get<OpenApiDocument>('/openapi.json')).body
      expect(doc.components.schemas.ErrorResponse.properties?.error.required).toEqual(expect.arrayContaining(['code', 'message']))
      const undocumented = operations(doc).filter(({ op }) => errorStatuses(op).length === 0).map(({ method, path }) => `${method.toUpperCase()} ${path}`)
      expect(undocumented).toEqual([])
    })

    it('documents a 400 on every operation that validates a body, query or path parameter', async () => {
      const t = await testApp(dialect)
      const doc = (await t.client().get<OpenApiDocument>('/openapi.json')).body
      const validating = operations(doc).filter(({ op }) => op.requestBody !== undefined || (op.parameters ?? []).some((p) => p.in === 'path' || p.in === 'query'))
      expect(validating.length).toBeGreaterThan(0)
      const missing = validating.filter(({ op }) => !errorStatuses(op).includes('400')).map(({ method, path }) => `${method.toUpperCase()} ${path}`)
      expect(missing).toEqual([])
    })

    it('says security: [] on exactly the operations a request without credentials may use', async () => {
      const t = await testApp(dialect)
      const doc = (await t.client().get<OpenApiDocument>('/openapi.json')).body
      expect(doc.security).toEqual([{ sessionCookie: [] }, { bearer: [] }])
      // Requests without a body are validated before the session guard only by their path and
      // query, so each GET shows whether it needs a session: 401 unauthenticated, or not.
      const anonymous = t.client({ origin: null })
      const gets = operations(doc).filter(({ method }) => method === 'get')
      expect(gets.length).toBeGreaterThan(20)
      const wrong: string[] = []
      for (const { path, op } of gets) {
        const res = await anonymous.get(path.replace(/\{[A-Za-z]+\}/g, 'abc'))
        const needsSession = res.status === 401 && errorOf(res).code === 'unauthenticated'
        const documentedPublic = Array.isArray(op.security) && op.security.length === 0
        if (needsSession === documentedPublic) wrong.push(`GET ${path}: answered ${res.status} ${res.status >= 400 ? errorOf(res).code : ''} but documented as ${documentedPublic ? 'public' : 'needing a session'}`)
      }
      expect(wrong).toEqual([])
    })

    it('documents sign-up, sign-in, captcha, recovery, reset, confirmation and previews as public', async () => {
      const t = await testApp(dialect)
      const doc = (await t.client().get<OpenApiDocument>('/openapi.json')).body
      const securityOf = (key: string) => {
        const [method, path] = key.split(' ')
        return doc.paths[path]?.[method.toLowerCase()]?.security
      }
      expect(PUBLIC_OPERATIONS.filter((key) => JSON.stringify(securityOf(key)) !== '[]')).toEqual([])
      expect(SESSION_OPERATIONS.filter((key) => securityOf(key) !== undefined)).toEqual([])
    })

    it('hides the operator endpoints', async () => {
      const t = await testApp(dialect)
      const doc = (await t.client().get<OpenApiDocument>('/openapi.json')).body
      expect(Object.keys(doc.paths).filter((path) => !path.startsWith('/api/'))).toEqual([])
    })
  })

  describe('Swagger UI', () => {
    it('serves the Swagger UI page at /docs', async () => {
      const t = await testApp(dialect)
      const res = await t.client().get<string>('/docs')
      expect(res.status).toBe(200)
      expect(String(res.headers['content-type'])).toMatch(/^text\/html/)
      expect(res.body).toContain('<div id="swagger-ui"></div>')
      expect(res.body).toContain('swagger-ui-bundle.js')
    })

    it('links no third-party host from the /docs page', async () => {
      const t = await testApp(dialect)
      const html = (await t.client().get<string>('/docs')).body
      const allowed = new Set([new URL(PUBLIC_URL).host, 'localhost', 'localhost:80'])
      const hosts = [...html.matchAll(/https?:\/\/[^\s"'<>)]+/gi)].map((m) => new URL(m[0]).host)
      expect(hosts.filter((host) => !allowed.has(host))).toEqual([])
    })

    it('serves every script and stylesheet of /docs from this server', async () => {
      const t = await testApp(dialect)
      const html = (await t.client().get<string>('/docs')).body
      const assets = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*\shref)="([^"]+)"/g)].map((m) => m[1])
      expect(assets.length).toBeGreaterThan(0)
      const statuses = await Promise.all(assets.map(async (asset) => [asset, (await t.client().get(new URL(asset, `${PUBLIC_URL}/docs`).pathname)).status]))
      expect(statuses).toEqual(assets.map((asset) => [asset, 200]))
    })
  })

  describe('security headers', () => {
    const REQUESTS: Array<{ rule: string; method: string; url: string; body?: string; status: number }> = [
      { rule: 'a signed-out GET /api/v1/me (401)', method: 'GET', url: '/api/v1/me', status: 401 },
      { rule: 'a successful GET /api/v1/captcha (200)', method: 'GET', url: '/api/v1/captcha', status: 200 },
      { rule: 'a sign-up (202)', method: 'POST', url: '/api/v1/signup', body: JSON.stringify({ ...person(), acceptTerms: true }), status: 202 },
      { rule: 'malformed JSON (400)', method: 'POST', url: '/api/v1/signin', body: '{"login":', status: 400 },
      { rule: 'an unknown API route (404)', method: 'GET', url: '/api/v1/nothing-here', status: 404 },
      { rule: 'a body over 64 KiB (413)', method: 'POST', url: '/api/v1/signup', body: JSON.stringify({ padding: 'x'.repeat(70_000) }), status: 413 },
      { rule: 'a URL the router refuses (400)', method: 'GET', url: '/api/v1/users/%E0%A4%A', status: 400 },
    ]

    it.each(REQUESTS)('sets Referrer-Policy, nosniff, no-store and x-request-id on $rule', async ({ method, url, body, status }) => {
      const t = await testApp(dialect)
      const res = await t.client().request(method, url, body)
      expect(res.status).toBe(status)
      expect(res.headers['referrer-policy']).toBe('no-referrer')
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['cache-control']).toBe('no-store')
      expect(String(res.headers['x-request-id'] ?? '')).toMatch(/^[0-9a-f-]{36}$/)
    })

    it('gives every response its own request id', async () => {
      const t = await testApp(dialect)
      const ids = await Promise.all([1, 2, 3].map(async () => (await t.client().get<AccountView>('/api/v1/me')).headers['x-request-id']))
      expect(new Set(ids).size).toBe(3)
    })
  })

  describe('logs', () => {
    it('never contain a password, a session token, a cookie value or an invite link token', async () => {
      const t = await appLoggingTo(dialect)
      const who = person()
      const newPassword = 'a completely new passphrase'
      const wrongPassword = 'a wrong guess at the password'

      const browser = t.client()
      expect((await browser.post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })).status).toBe(202)
      const confirmToken = tokenFrom(await t.smtp.waitFor(who.email, /confirm/i))
      expect((await browser.post<EmailConfirmed>('/api/v1/email/confirm', { token: confirmToken })).status).toBe(200)
      expect((await browser.post<SignedIn>('/api/v1/signin', { login: who.email, password: wrongPassword })).status).toBe(401)
      expect((await browser.post<SignedIn>('/api/v1/signin', { login: who.email, password: who.password })).status).toBe(200)
      const cookie = browser.cookie ?? ''
      expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect((await browser.get<AccountView>('/api/v1/me')).status).toBe(200)

      const script = t.client({ origin: null })
      const signin = await script.post<{ token: string }>('/api/v1/signin', { login: who.username, password: who.password, returnToken: true })
      expect(signin.status).toBe(200)
      const bearer = signin.body.token
      script.bearer = bearer
      expect((await script.get<SessionList>('/api/v1/me/sessions')).status).toBe(200)
      expect((await script.post<PasswordChanged>('/api/v1/me/password', { currentPassword: who.password, newPassword })).status).toBe(200)
      expect((await script.post('/api/v1/signout')).status).toBe(204)

      // An invite link's token rides in its URL path: opened, joined, even as a page.
      const admin = t.client()
      const owner = { email: `owner-${who.email}`, username: `o${who.username}`.slice(0, 30), password: who.password }
      expect((await admin.post<ConfirmationSent>('/api/v1/signup', { ...owner, acceptTerms: true })).status).toBe(202)
      expect((await admin.post<EmailConfirmed>('/api/v1/email/confirm', { token: tokenFrom(await t.smtp.waitFor(owner.email, /confirm/i)) })).status).toBe(200)
      expect((await admin.post<SignedIn>('/api/v1/signin', { login: owner.email, password: owner.password })).status).toBe(200)
      expect((await admin.post<TeamSummary>('/api/v1/teams', { name: 'Log team', slug: 'log-team' })).status).toBe(201)
      const inviteLink = (await admin.post<{ token: string }>('/api/v1/teams/log-team/invite-links', { roles: ['developer'] })).body.token
      expect((await admin.get<InviteLinkPreview>(`/api/v1/invite-links/${inviteLink}`)).status).toBe(200)
      expect((await admin.post<JoinedTeam>(`/api/v1/invite-links/${inviteLink}/join`)).status).toBe(409)
      await admin.request('GET', `/join/${inviteLink}`, undefined, { accept: 'text/html' })

      const text = t.lines.join('')
      expect(text).toContain('/api/v1/invite-links/[redacted]/join')
      expect(text).toContain('incoming request')
      expect(text).toContain('request completed')
      const secrets = { password: who.password, newPassword, wrongPassword, cookie, bearer, confirmToken, inviteLink }
      expect(Object.entries(secrets).filter(([, secret]) => text.includes(secret)).map(([name]) => name)).toEqual([])
    })

    it('tags each request line with the id the response carries in x-request-id', async () => {
      const t = await appLoggingTo(dialect)
      const res = await t.client().get<AccountView>('/api/v1/me')
      const id = String(res.headers['x-request-id'])
      const mine = t.lines.map((line) => JSON.parse(line)).filter((entry) => entry.reqId === id)
      expect(mine.map((entry) => entry.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']))
    })

    it('redacts credentials in headers and password-like fields whenever they are logged', () => {
      const lines: string[] = []
      const log = pino({ level: 'trace', redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } }, { write: (line: string) => void lines.push(line) })
      log.info({
        req: { headers: { authorization: 'Bearer secret-bearer', cookie: 'latchkey_session=secret-cookie' } },
        res: { headers: { 'set-cookie': 'latchkey_session=secret-set-cookie' } },
        body: { password: 'secret-password', currentPassword: 'secret-current', newPassword: 'secret-new', token: 'secret-token' },
      }, 'request')
      expect(lines).toHaveLength(1)
      expect(lines[0]).not.toContain('secret')
      expect(lines[0]).toContain('[redacted]')
    })
  })
})
