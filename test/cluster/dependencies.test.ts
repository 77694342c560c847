/**
 * Losing a dependency under load, behind HAProxy, with a private Redis and a private
 * PostgreSQL cluster that the tests stop and start:
 * - Redis killed (SIGKILL) and started again: every request keeps working (rate limits count in
 *   each process, sessions are read from the database), and no revocation is missed, during
 *   the outage or after Redis returns.
 * - PostgreSQL stopped and started: requests that need it answer `503 service_unavailable`
 *   (never a 500, never a dropped connection; on the OAuth endpoints apps call, in OAuth's error
 *   shape) and succeed again by themselves once it is back, on the same Latchkey processes.
 * (Mail survives an SMTP outage in the outbox: src/mail/mail.test.ts, on simulated time.)
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { REDIS_RESUBSCRIBE_SETTLE_MS } from '../../src/sessions/evictions.ts'
import { Cluster, waitUntil } from './harness.ts'
import { freshIp, HttpClient, Load, makeAccounts } from './client.ts'
import type { SignedIn } from '../../src/signin/schemas.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('losing a dependency behind HAProxy', () => {
  let cluster: Cluster
  let accounts: { login: string; password: string }[]

  beforeAll(async () => {
    cluster = await Cluster.start({ privatePostgres: true })
    accounts = await makeAccounts(cluster.base, 6)
  })
  afterAll(async () => {
    await cluster?.close()
  })
  // What the instances and HAProxy said lately, when a test fails.
  beforeEach(({ onTestFailed }) => onTestFailed(() => console.log(cluster?.logs())))

  async function me(base: string, token: string) {
    const res = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })
    return { status: res.status, body: await res.json().catch(() => null) }
  }

  /**
   * One revocation round: sign in, let both instances cache the session, sign out on one,
   * then ask the other at once. Returns whether the other still accepted it (a miss): it must
   * refuse on the very next request, whether Redis is up, down, or just back.
   */
  async function revocationMissed(round: number): Promise<boolean> {
    const account = accounts[round % accounts.length]
    const signin = await new HttpClient(cluster.base, { origin: null }).post<SignedIn>('/api/v1/signin', { login: account.login, password: account.password, returnToken: true })
    expect(signin.status, JSON.stringify(signin.body)).toBe(200)
    const token = signin.body.token as string
    const [here, there] = round % 2 === 0 ? cluster.instances : [...cluster.instances].reverse()
    for (const instance of cluster.instances) for (let i = 0; i < 2; i++) expect((await me(instance.url, token)).status).toBe(200)
    const signout = await fetch(`${here.url}/api/v1/signout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    expect(signout.status).toBe(204)
    return (await me(there.url, token)).status !== 401
  }

  /**
   * Every kind of /oauth request while the database is down. The endpoints apps call answer in
   * OAuth's error shape (their client libraries parse it), RFC 6749's `temporarily_unavailable`;
   * the pages a person opens, and discovery on an instance that has not built its provider yet,
   * in the catalogued shape. 503 with Retry-After either way, never a 500.
   */
  async function oauthProbes(base: string, devicePage: { cookie: string; xsrf: string }) {
    const app = { error: 'temporarily_unavailable', error_description: expect.any(String) }
    const catalogued = { error: { code: 'service_unavailable', message: expect.any(String) } }
    const form = (fields: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() })
    const authorize = new URLSearchParams({ client_id: 'latchkey-cli', response_type: 'code', scope: 'openid', redirect_uri: 'http://127.0.0.1:53682/callback', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })
    const probes: { what: string; path: string; init?: RequestInit; expected: { status: number; body: unknown } }[] = [
      { what: 'token (refresh)', path: '/oauth/token', init: form({ client_id: 'latchkey-cli', grant_type: 'refresh_token', refresh_token: randomBytes(32).toString('base64url') }), expected: { status: 503, body: app } },
      { what: 'token (device code)', path: '/oauth/token', init: form({ client_id: 'latchkey-cli', grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: randomBytes(32).toString('base64url') }), expected: { status: 503, body: app } },
      { what: 'device authorization', path: '/oauth/device/auth', init: form({ client_id: 'latchkey-cli', scope: 'openid' }), expected: { status: 503, body: app } },
      { what: 'revocation', path: '/oauth/revoke', init: form({ client_id: 'latchkey-cli', token: randomBytes(32).toString('base64url') }), expected: { status: 503, body: app } },
      { what: 'userinfo', path: '/oauth/userinfo', init: { headers: { authorization: `Bearer ${randomBytes(32).toString('base64url')}` } }, expected: { status: 503, body: app } },
      { what: 'authorization', path: `/oauth/auth?${authorize}`, expected: { status: 503, body: catalogued } },
      {
        what: 'device code entry',
        path: '/oauth/device',
        // A browser at PUBLIC_URL (through the balancer, as far as the instance can tell).
        init: { ...form({ xsrf: devicePage.xsrf, user_code: 'BCDF-GHJK' }), headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: devicePage.cookie, origin: cluster.base, 'x-forwarded-host': new URL(cluster.base).host } },
        expected: { status: 503, body: catalogued },
      },
    ]
    const answers = []
    for (const probe of probes) {
      const res = await fetch(`${base}${probe.path}`, { redirect: 'manual', ...probe.init })
      const text = await res.text()
      let body: unknown = text.slice(0, 300)
      try {
        body = JSON.parse(text)
      } catch {
        // An HTML page or plain text: kept as text for the failure message.
      }
      answers.push({ what: probe.what, status: res.status, body, retryAfter: res.headers.get('retry-after'), expected: probe.expected })
    }
    return answers
  }

  it('keeps serving while Redis is killed, and misses no revocation during the outage or after Redis returns', async () => {
    const load = new Load({ base: cluster.base, accounts, connections: 4, checksPerSignin: 4, maxRequests: 100_000, maxDurationMs: 60_000 }).start()
    await sleep(500)
    let rounds = 0
    let misses = 0

    await cluster.redis.kill()
    const outageEnds = Date.now() + 3000
    while (Date.now() < outageEnds && rounds < 200) if (await revocationMissed(rounds++)) misses++
    const roundsInOutage = rounds

    await cluster.redis.start()
    // Through the reconnects, the settling wait, and well after the caches are trusted again.
    const watchEnds = Date.now() + REDIS_RESUBSCRIBE_SETTLE_MS + 4000
    while (Date.now() < watchEnds && rounds < 600) if (await revocationMissed(rounds++)) misses++
    const figures = await load.stop()
    console.log(`redis outage: ${JSON.stringify({ ...figures, revocationRounds: rounds, roundsInOutage, misses })}`)

    expect(misses).toBe(0)
    expect(roundsInOutage).toBeGreaterThan(0)
    expect(rounds).toBeGreaterThan(roundsInOutage)
    expect(figures.failed, cluster.logs()).toEqual([])
    expect(figures.requests).toBeGreaterThan(100)
    expect(cluster.instances.every((i) => i.alive)).toBe(true)
    // Redis is in use again: the rate limits count there.
    expect(await cluster.redis.ping()).toBe('+PONG')
  })

  it('answers 503 service_unavailable (never 500) while PostgreSQL is down, and recovers by itself', async () => {
    const pids = cluster.instances.map((i) => i.pid)
    const unavailable = (status: number, body: unknown) => status === 503 && (body as { error?: { code?: string } })?.error?.code === 'service_unavailable'
    const load = new Load({ base: cluster.base, accounts, connections: 4, checksPerSignin: 4, maxRequests: 100_000, maxDurationMs: 90_000, failed: (status, body) => status !== 200 && !unavailable(status, body) }).start()
    await sleep(500)

    // Instance a has built its OAuth provider (keys read from the database); b has not, and
    // must build it at its first OAuth request, which the outage makes fail.
    const [a, b] = cluster.instances
    expect((await fetch(`${a.url}/.well-known/openid-configuration`)).status).toBe(200)
    // A browser that opened the device page: its provider session (and the form's token) is in
    // the database, which typing the code will need.
    const form = await fetch(`${a.url}/oauth/device`, { headers: { 'x-forwarded-host': new URL(cluster.base).host } })
    expect(form.status).toBe(200)
    const devicePage = { cookie: form.headers.getSetCookie().map((line) => line.split(';')[0]).join('; '), xsrf: /name="xsrf" value="([^"]+)"/.exec(await form.text())![1] }

    await cluster.postgres!.stop()
    const oauthSeen = []
    for (const instance of [a, b]) {
      for (const probe of await oauthProbes(instance.url, devicePage)) {
        oauthSeen.push(`${instance.name} ${probe.what} → ${probe.status} ${JSON.stringify(probe.body)}`)
        expect(probe.status, `${instance.name}: ${probe.what} → ${probe.status} ${JSON.stringify(probe.body)}`).toBe(probe.expected.status)
        expect(probe.body, `${instance.name}: ${probe.what}`).toEqual(probe.expected.body)
        if (probe.status === 503) expect(probe.retryAfter).toBe('1')
      }
    }
    // Straight to each instance (the balancer soon takes them out, as /readyz fails): a
    // sign-in and a session the cache never saw both need the database.
    const seen: string[] = []
    const probeEnds = Date.now() + 2000
    while (Date.now() < probeEnds) {
      for (const instance of cluster.instances) {
        // From an address of its own each time: on a quick machine the loop makes more sign-ins in
        // these 2 s than one address may (60 a minute), and a 429 would hide the 503 under test.
        const signin = await fetch(`${instance.url}/api/v1/signin`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': freshIp() }, body: JSON.stringify({ login: accounts[0].login, password: accounts[0].password, returnToken: true }) })
        const check = await fetch(`${instance.url}/api/v1/me`, { headers: { authorization: `Bearer ${randomBytes(32).toString('base64url')}` } })
        const ready = await fetch(`${instance.url}/readyz`)
        for (const res of [signin, check, ready]) {
          const body = (await res.json()) as { error?: { code?: string } }
          seen.push(`${res.status} ${body?.error?.code}`)
          expect(unavailable(res.status, body), `${res.url} → ${res.status} ${JSON.stringify(body)}`).toBe(true)
        }
      }
    }
    const outage = { ...load.figures, byStatus: { ...load.figures.byStatus } }

    await cluster.postgres!.start()
    const recoveryStarted = Date.now()
    await waitUntil('a sign-in to succeed through the balancer', async () => (await new HttpClient(cluster.base, { origin: null }).post<SignedIn>('/api/v1/signin', { login: accounts[1].login, password: accounts[1].password, returnToken: true })).status === 200, 60_000)
    const recoveredMs = Date.now() - recoveryStarted
    const during = await load.stop()

    // Afterwards, nothing fails at all.
    const after = new Load({ base: cluster.base, accounts, connections: 4, checksPerSignin: 4, maxRequests: 5000, maxDurationMs: 3000 }).start()
    await sleep(2000)
    const afterFigures = await after.stop()
    console.log(`postgres restart: ${JSON.stringify({ during, outageSoFar: outage.byStatus, recoveredMs, probes: seen.length, after: afterFigures })}`)
    console.log(`oauth while postgres was down:\n${oauthSeen.join('\n')}`)

    expect(seen.length).toBeGreaterThan(0)
    expect(during.failed, cluster.logs()).toEqual([])
    expect(during.byStatus['503']).toBeGreaterThan(0)
    expect(during.byStatus['500']).toBeUndefined()
    expect(afterFigures.failed, cluster.logs()).toEqual([])
    expect(afterFigures.requests).toBeGreaterThan(20)
    // The same processes: nothing was restarted.
    expect(cluster.instances.map((i) => i.pid)).toEqual(pids)
    expect(cluster.instances.every((i) => i.alive)).toBe(true)
  })
})
