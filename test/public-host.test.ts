/**
 * The server answers at PUBLIC_URL only (src/http/public-host.ts): a page opened at another
 * address of the process (its IP, another name) is redirected to PUBLIC_URL, everything else
 * is refused with `wrong_host`, and health checks and metrics answer at any Host.
 */
import { describe, expect, it } from 'vitest'
import { errorOf, expectError, PUBLIC_URL, testApp } from './helpers/app.ts'
import { DIALECTS } from './helpers/databases.ts'
import type { SignedIn } from '../src/signin/schemas.ts'
import type { AccountView } from '../src/accounts/schemas.ts'

const OTHER_HOST = '127.0.0.1:3000'
const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'

describe.each(DIALECTS)('requests at a host other than PUBLIC_URL on %s', (dialect) => {
  describe('page visits', () => {
    it('are redirected (307) to the same path and query at PUBLIC_URL', async () => {
      const t = await testApp(dialect)
      const res = await t.client().request('GET', '/settings/profile?tab=a&b=%20c', undefined, { host: OTHER_HOST, accept: HTML })
      expect(res.status).toBe(307)
      expect(res.headers.location).toBe(`${PUBLIC_URL}/settings/profile?tab=a&b=%20c`)
      expect(res.cookies).toEqual([])
    })

    it('redirect HEAD as GET does, and /docs too', async () => {
      const t = await testApp(dialect)
      expect((await t.client().request('HEAD', '/signin', undefined, { host: OTHER_HOST, accept: HTML })).headers.location).toBe(`${PUBLIC_URL}/signin`)
      expect((await t.client().request('GET', '/docs', undefined, { host: OTHER_HOST, accept: HTML })).headers.location).toBe(`${PUBLIC_URL}/docs`)
    })

    it('keep a path that starts with two slashes on PUBLIC_URL (never a redirect to another site)', async () => {
      const t = await testApp(dialect)
      const res = await t.client().request('GET', '//evil.example/x', undefined, { host: OTHER_HOST, accept: HTML })
      expect(res.status).toBe(307)
      expect(new URL(res.headers.location as string).origin).toBe(PUBLIC_URL)
    })
  })

  describe('everything else', () => {
    it('is refused with 421 wrong_host naming PUBLIC_URL: an API call', async () => {
      const t = await testApp(dialect)
      const res = await t.client({ origin: `http://${OTHER_HOST}` }).request<SignedIn>('POST', '/api/v1/signin', { login: 'ada', password: 'x' }, { host: OTHER_HOST })
      expect(res.status).toBe(421)
      expect(errorOf(res)).toMatchObject({ code: 'wrong_host', publicUrl: PUBLIC_URL })
      expect(errorOf(res).message).toContain(PUBLIC_URL)
      expect(errorOf(res).message).toContain(OTHER_HOST)
    })

    it('is refused for an API GET even from a browser tab (no redirect of the API)', async () => {
      const t = await testApp(dialect)
      const res = await t.client().request<AccountView>('GET', '/api/v1/me', undefined, { host: OTHER_HOST, accept: HTML })
      expectError(res, 421, 'wrong_host')
    })

    it('is refused for OAuth and discovery endpoints', async () => {
      const t = await testApp(dialect)
      for (const path of ['/.well-known/openid-configuration', '/oauth/jwks', '/oauth/auth?client_id=latchkey-cli']) {
        const res = await t.client().request('GET', path, undefined, { host: OTHER_HOST, accept: HTML })
        expect([path, res.status, errorOf(res)?.code]).toEqual([path, 421, 'wrong_host'])
      }
    })

    it('is refused when the Host header is missing or is not a host', async () => {
      const t = await testApp(dialect)
      for (const host of ['', 'user@latchkey.test', 'latchkey.test/x', 'latchkey.test.evil.example']) {
        const res = await t.client().request('GET', '/api/v1/captcha', undefined, { host })
        expect([host, res.status]).toEqual([host, 421])
      }
    })
  })

  describe('scripts', () => {
    it('are answered at any host when they carry no Origin, no cookie and visit no page', async () => {
      const t = await testApp(dialect)
      const res = await t.client({ origin: null }).request('GET', '/api/v1/captcha', undefined, { host: '10.0.0.12:3000', accept: '*/*' })
      expect(res.status).toBe(200)
    })
  })

  describe('probes', () => {
    it('get /healthz, /readyz and /metrics (from this machine) at any host', async () => {
      const t = await testApp(dialect)
      const local = t.client({ ip: '127.0.0.1' })
      for (const path of ['/healthz', '/readyz', '/metrics']) {
        expect([path, (await local.request('GET', path, undefined, { host: '10.0.0.12:3000' })).status]).toEqual([path, 200])
      }
    })
  })

  describe('the PUBLIC_URL host', () => {
    it('is accepted with its default port spelled out and in any case', async () => {
      const t = await testApp(dialect)
      for (const host of ['latchkey.test:80', 'LATCHKEY.test']) {
        expect([host, (await t.client().request('GET', '/api/v1/captcha', undefined, { host })).status]).toEqual([host, 200])
      }
    })

    it('is taken from X-Forwarded-Host only with TRUST_PROXY', async () => {
      const trusting = await testApp(dialect, { TRUST_PROXY: 'true' })
      const viaProxy = await trusting.client().request('GET', '/api/v1/captcha', undefined, { host: '10.0.0.12:3000', 'x-forwarded-host': 'latchkey.test' })
      expect(viaProxy.status).toBe(200)
      const direct = await testApp(dialect)
      const spoofed = await direct.client().request('GET', '/api/v1/captcha', undefined, { host: '10.0.0.12:3000', 'x-forwarded-host': 'latchkey.test' })
      expect(spoofed.status).toBe(421)
    })
  })
})
