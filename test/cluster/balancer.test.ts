/**
 * Two `latchkey serve` processes behind HAProxy (round-robin, no stickiness), one PostgreSQL
 * database and one Redis: whatever instance a request lands on, the person sees one service.
 * Consecutive requests of one client alternate between the instances, so every flow below has
 * its steps served by both; the tests check that they were. Last, a rolling restart under load
 * drops nothing: each instance in turn gets SIGTERM, drains (its /readyz turns 503 and the
 * balancer stops sending to it), finishes what it was serving, exits, and is started again.
 */
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { errorOf, expectError } from '../helpers/api.ts'
import { tokenFrom } from '../helpers/smtp.ts'
import { Cluster, DRAIN_SECONDS } from './harness.ts'
import { freshIp, HttpClient, Load, makeAccounts, person, RawConnection, type RawAnswer } from './client.ts'
import type { SessionList } from '../../src/sessions/schemas.ts'
import type { SignedIn } from '../../src/signin/schemas.ts'
import type { InteractionDone, InteractionView } from '../../src/oauth/schemas.ts'
import type { AccountView, ConfirmationSent, EmailConfirmed } from '../../src/accounts/schemas.ts'

const SIGNIN_PER_IP_PER_MINUTE = 20
const SIGNIN_FAILURES_PER_ACCOUNT = 10
const CLI = 'latchkey-cli'

describe('two instances behind HAProxy', () => {
  let cluster: Cluster

  beforeAll(async () => {
    cluster = await Cluster.start({
      env: {
        RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: String(SIGNIN_PER_IP_PER_MINUTE),
        RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: String(SIGNIN_FAILURES_PER_ACCOUNT),
      },
    })
  })
  afterAll(async () => {
    await cluster?.close()
  })
  // What the instances and HAProxy said lately, when a test fails.
  beforeEach(({ onTestFailed }) => onTestFailed(() => console.log(cluster?.logs())))

  /** Signs up through the balancer, confirms by the emailed link, signs in: a browser with its session cookie. */
  async function signedUp() {
    const who = person()
    const browser = new HttpClient(cluster.base)
    expect((await browser.post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })).status).toBe(202)
    const mail = await cluster.smtp.waitFor(who.email, /confirm/i)
    expect(mail.text).toContain(`${cluster.base}/confirm-email#token=`)
    expect((await browser.post<EmailConfirmed>('/api/v1/email/confirm', { token: tokenFrom(mail) })).status).toBe(200)
    const signin = await browser.post<SignedIn>('/api/v1/signin', { login: who.username, password: who.password })
    expect(signin.status, JSON.stringify(signin.body)).toBe(200)
    return { ...who, browser, accountId: signin.body.account.id as string }
  }

  /** A token session (as an app signs in) and the instances that now hold it in their cache. */
  async function tokenSession(login: string, password: string) {
    const app = new HttpClient(cluster.base, { origin: null })
    const signin = await app.post<SignedIn>('/api/v1/signin', { login, password, returnToken: true })
    expect(signin.status, JSON.stringify(signin.body)).toBe(200)
    const token = signin.body.token as string
    for (const instance of cluster.instances) {
      for (let i = 0; i < 2; i++) expect((await me(instance.url, token)).status).toBe(200)
    }
    return token
  }

  async function me(base: string, token: string) {
    const res = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })
    return { status: res.status, instance: res.headers.get('x-latchkey-instance') ?? '' }
  }

  it('walks sign-up, emailed confirmation, sign-in and session checks with each step on the other instance', async () => {
    const walker = await signedUp()
    for (let i = 0; i < 4; i++) {
      const res = await walker.browser.get<AccountView>('/api/v1/me')
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ email: walker.email, emailConfirmed: true })
    }
    const sessions = await walker.browser.get<SessionList>('/api/v1/me/sessions')
    expect(sessions.body.sessions).toEqual([expect.objectContaining({ current: true, browser: 'Firefox 140', ip: walker.browser.ip })])
    // Both instances' delivery loops saw the outbox row; the lease let one of them send it.
    expect(cluster.smtp.messagesTo(walker.email)).toHaveLength(1)
    // Round-robin: every request went to the other instance than the one before.
    expect(new Set(walker.browser.served)).toEqual(new Set(['a', 'b']))
    for (let i = 1; i < walker.browser.served.length; i++) expect(walker.browser.served[i]).not.toBe(walker.browser.served[i - 1])
  })

  it(`holds the per-IP sign-in budget (${SIGNIN_PER_IP_PER_MINUTE} a minute) across both instances, not twice over`, async () => {
    const client = new HttpClient(cluster.base, { origin: null })
    for (let i = 0; i < SIGNIN_PER_IP_PER_MINUTE; i++) {
      const res = await client.post<SignedIn>('/api/v1/signin', { login: `nobody-${i}-${Math.random().toString(36).slice(2)}`, password: 'not the password' })
      expect(res.status, JSON.stringify(res.body)).toBe(401)
    }
    expect(new Set(client.served)).toEqual(new Set(['a', 'b']))
    for (let i = 0; i < 2; i++) {
      const over = await client.post<SignedIn>('/api/v1/signin', { login: `nobody-over-${i}`, password: 'not the password' })
      expectError(over, 429, 'too_many_requests')
    }
    // Another address still has its own budget.
    expect((await new HttpClient(cluster.base, { origin: null }).post<SignedIn>('/api/v1/signin', { login: 'nobody-else', password: 'not the password' })).status).toBe(401)
  })

  it(`holds the per-account failure budget (${SIGNIN_FAILURES_PER_ACCOUNT}) across both instances and every address`, async () => {
    const victim = await signedUp()
    const served: string[] = []
    for (let i = 0; i < SIGNIN_FAILURES_PER_ACCOUNT; i++) {
      const res = await new HttpClient(cluster.base, { origin: null }).post<SignedIn>('/api/v1/signin', { login: victim.email, password: `wrong password ${i}` })
      expect(res.status, JSON.stringify(res.body)).toBe(401)
      served.push(res.instance)
    }
    expect(new Set(served)).toEqual(new Set(['a', 'b']))
    // Even the right password waits now, on either instance.
    for (let i = 0; i < 2; i++) {
      const res = await new HttpClient(cluster.base, { origin: null }).post<SignedIn>('/api/v1/signin', { login: victim.username, password: victim.password })
      expectError(res, 429, 'too_many_requests')
      expect(Date.parse(errorOf(res).retryAt!)).toBeGreaterThan(Date.now())
    }
  })

  /**
   * A revoked session must fail on its very next request, on every instance (ARCHITECTURE "The
   * hot path"). The next request is written the instant the revocation's answer has arrived (raw
   * sockets, see RawConnection): before evictions were acknowledged, the other instance accepted
   * it in about one round in twenty, as Redis had not yet handed it the eviction (or it had not
   * read it yet). Enough rounds that such a rate cannot pass unseen.
   */
  const REVOCATION_ROUNDS = 150

  it(`refuses on B, on the very next request, a session signed out on A (both had it cached): ${REVOCATION_ROUNDS} rounds`, async () => {
    const who = await signedUp()
    const [a, b] = cluster.instances
    const accepted: number[] = []
    for (let round = 0; round < REVOCATION_ROUNDS; round++) {
      const [here, there] = round % 2 === 0 ? [a, b] : [b, a]
      const token = await tokenSession(who.username, who.password)
      const auth = { authorization: `Bearer ${token}` }
      const [toHere, toThere] = await Promise.all([RawConnection.open(here.url), RawConnection.open(there.url)])
      let next!: Promise<RawAnswer>
      const signout = await toHere.send('POST', '/api/v1/signout', auth, () => {
        next = toThere.send('GET', '/api/v1/me', auth)
      })
      expect(signout.status).toBe(204)
      if ((await next).status !== 401) accepted.push(round)
      toHere.close()
      toThere.close()
      expect((await me(here.url, token)).status).toBe(401)
      expect((await me(there.url, token)).status).toBe(401)
    }
    console.log(`revoked on one instance, the other accepted the very next request in ${accepted.length} of ${REVOCATION_ROUNDS} rounds`)
    expect(accepted, 'rounds in which the other instance accepted the revoked session').toEqual([])
  })

  it(`refuses a session revoked through the balancer on the very next request, which the other instance answers: ${REVOCATION_ROUNDS} rounds`, async () => {
    const who = await signedUp()
    const accepted: number[] = []
    for (let round = 0; round < REVOCATION_ROUNDS; round++) {
      const token = await tokenSession(who.username, who.password)
      const auth = { authorization: `Bearer ${token}`, 'x-forwarded-for': freshIp() }
      const connection = await RawConnection.open(cluster.base)
      let next!: Promise<RawAnswer>
      const signout = await connection.send('POST', '/api/v1/signout', auth, () => {
        next = connection.send('GET', '/api/v1/me', auth)
      })
      expect(signout.status).toBe(204)
      const answer = await next
      connection.close()
      // Round-robin: the next request went to the instance that did not revoke.
      expect(answer.instance).not.toBe(signout.instance)
      if (answer.status !== 401) accepted.push(round)
    }
    console.log(`revoked through the balancer, the other instance accepted the very next request in ${accepted.length} of ${REVOCATION_ROUNDS} rounds`)
    expect(accepted, 'rounds in which the other instance accepted the revoked session').toEqual([])
  })

  describe('OAuth with the steps on alternating instances', () => {
    /** oauth4webapi's HTTP, through the balancer from one address, noting which instance answered. */
    function appSide(served: string[]) {
      const ip = freshIp()
      const customFetch = async (input: string | URL | Request, init?: RequestInit) => {
        const headers = new Headers(init?.headers)
        headers.set('x-forwarded-for', ip)
        const res = await fetch(input, { ...init, headers })
        served.push(res.headers.get('x-latchkey-instance') ?? '')
        return res
      }
      return { [oauth.customFetch]: customFetch, [oauth.allowInsecureRequests]: true } as const
    }

    async function discover(options: ReturnType<typeof appSide>) {
      const issuer = new URL(cluster.base)
      return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oidc' }))
    }

    it('signs the CLI in with code + PKCE, then refreshes, reads userinfo and revokes', async () => {
      const served: string[] = []
      const options = appSide(served)
      const as = await discover(options)
      const who = await signedUp()
      const browser = who.browser
      const client: oauth.Client = { client_id: CLI }

      const verifier = oauth.generateRandomCodeVerifier()
      const state = oauth.generateRandomState()
      const nonce = oauth.generateRandomNonce()
      const redirectUri = 'http://127.0.0.1:53682/callback'
      const authorize = new URL(as.authorization_endpoint!)
      authorize.search = new URLSearchParams({
        client_id: CLI, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile email offline_access',
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce, device_name: 'latchkey CLI on the cluster',
      }).toString()
      const before = browser.served.length
      const started = await browser.get(authorize.pathname + authorize.search)
      expect(started.status, String(started.body).slice(0, 300)).toBe(303)
      const uid = /^\/app-signin\/([A-Za-z0-9_-]+)$/.exec(String(started.headers.get('location')))![1]
      const seen = await browser.get<InteractionView>(`/api/v1/oauth/interactions/${uid}`)
      expect(seen.status, JSON.stringify(seen.body)).toBe(200)
      const done = await browser.post<InteractionDone>(`/api/v1/oauth/interactions/${uid}/complete`, {})
      expect(done.status, JSON.stringify(done.body)).toBe(200)
      const resumed = await browser.get(new URL(done.body.returnTo).pathname + new URL(done.body.returnTo).search)
      expect(resumed.status, String(resumed.body).slice(0, 300)).toBe(303)
      const browserSteps = browser.served.slice(before)
      expect(new Set(browserSteps)).toEqual(new Set(['a', 'b']))
      for (let i = 1; i < browserSteps.length; i++) expect(browserSteps[i]).not.toBe(browserSteps[i - 1])

      const params = oauth.validateAuthResponse(as, client, new URL(String(resumed.headers.get('location'))), state)
      const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, options), { expectedNonce: nonce, requireIdToken: true })
      expect(oauth.getValidatedIdTokenClaims(tokens)!.sub).toBe(who.accountId)
      const info = await oauth.processUserInfoResponse(as, client, who.accountId, await oauth.userInfoRequest(as, client, tokens.access_token, options))
      expect(info).toMatchObject({ sub: who.accountId, preferred_username: who.username, email: who.email })

      // The refresh token, used on whichever instance, rotates; the old one is then refused.
      const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, options))
      expect(refreshed.access_token).not.toBe(tokens.access_token)
      const again = await oauth.processUserInfoResponse(as, client, who.accountId, await oauth.userInfoRequest(as, client, refreshed.access_token, options))
      expect(again.sub).toBe(who.accountId)
      expect(new Set(served)).toEqual(new Set(['a', 'b']))

      // Revoking the refresh token ends the whole sign-in: the app session is gone on both instances.
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), refreshed.refresh_token!, options))
      for (const instance of cluster.instances) {
        const res = await fetch(`${instance.url}/api/v1/me`, { headers: { authorization: `Bearer ${refreshed.access_token}` } })
        expect(res.status).toBe(401)
      }
    })

    it('runs the device grant: code issued on one instance, typed and approved across both, tokens polled from either', async () => {
      const served: string[] = []
      const options = appSide(served)
      const as = await discover(options)
      const who = await signedUp()
      const browser = who.browser
      const client: oauth.Client = { client_id: CLI }
      const started = await oauth.processDeviceAuthorizationResponse(as, client, await oauth.deviceAuthorizationRequest(as, client, oauth.None(), { scope: 'openid profile email offline_access', device_name: 'latchkey CLI on a headless box' }, options))
      expect(started.verification_uri).toBe(`${cluster.base}/oauth/device`)
      const poll = () => oauth.deviceCodeGrantRequest(as, client, oauth.None(), started.device_code, options)
      await expect(oauth.processDeviceCodeResponse(as, client, await poll())).rejects.toMatchObject({ error: 'authorization_pending' })

      const before = browser.served.length
      const form = await browser.get<string>('/oauth/device')
      expect(form.status).toBe(200)
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(form.body)![1]
      const form1 = { 'content-type': 'application/x-www-form-urlencoded' }
      const confirm = await browser.request<string>('POST', '/oauth/device', new URLSearchParams({ xsrf, user_code: started.user_code }).toString(), form1)
      expect(confirm.status).toBe(200)
      expect(confirm.body).toContain('Is this your device?')
      const confirmXsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)![1]
      const code = /name="user_code" value="([^"]+)"/.exec(confirm.body)![1]
      const go = await browser.request('POST', '/oauth/device', new URLSearchParams({ xsrf: confirmXsrf, user_code: code, confirm: 'yes' }).toString(), form1)
      expect(go.status, String(go.body).slice(0, 300)).toBe(303)
      const uid = /^\/app-signin\/([A-Za-z0-9_-]+)$/.exec(String(go.headers.get('location')))![1]
      expect((await browser.get<InteractionView>(`/api/v1/oauth/interactions/${uid}`)).body).toMatchObject({ flow: 'device', deviceName: 'latchkey CLI on a headless box' })
      const done = await browser.post<InteractionDone>(`/api/v1/oauth/interactions/${uid}/complete`, {})
      expect(done.status, JSON.stringify(done.body)).toBe(200)
      const success = await browser.get(new URL(done.body.returnTo).pathname)
      expect(success.status).toBe(200)
      expect(success.body).toContain('You are signed in')
      const browserSteps = browser.served.slice(before)
      for (let i = 1; i < browserSteps.length; i++) expect(browserSteps[i]).not.toBe(browserSteps[i - 1])

      const tokens = await oauth.processDeviceCodeResponse(as, client, await poll())
      expect(oauth.getValidatedIdTokenClaims(tokens)!.sub).toBe(who.accountId)
      // The device code is spent, whichever instance the next poll reaches.
      await expect(oauth.processDeviceCodeResponse(as, client, await poll())).rejects.toMatchObject({ error: 'invalid_grant' })
      await expect(oauth.processDeviceCodeResponse(as, client, await poll())).rejects.toMatchObject({ error: 'invalid_grant' })
      expect(new Set(served)).toEqual(new Set(['a', 'b']))
    })
  })

  // Last: it replaces both processes.
  describe('rolling restart', () => {
    it('restarts each instance in turn under load (sign-ins and session checks) with zero failed requests', async () => {
      const accounts = await makeAccounts(cluster.base, 8)
      const load = new Load({ base: cluster.base, accounts, connections: 6, checksPerSignin: 4, maxRequests: 200_000, maxDurationMs: 200_000 }).start()
      await new Promise((resolve) => setTimeout(resolve, 1000))
      const restarts = []
      for (const instance of cluster.instances) {
        const pidBefore = instance.pid
        const restart = await cluster.restart(instance.name)
        expect(restart.code, cluster.logs()).toBe(0)
        // It drained for SHUTDOWN_DRAIN_SECONDS before it stopped accepting.
        expect(restart.stopMs).toBeGreaterThanOrEqual(DRAIN_SECONDS * 1000)
        expect(instance.pid).not.toBe(pidBefore)
        restarts.push(restart)
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
      const figures = await load.stop()
      console.log(`rolling restart: ${JSON.stringify({ ...figures, restarts })}`)
      expect(figures.failed).toEqual([])
      expect(figures.failures).toBe(0)
      expect(figures.requests).toBeGreaterThan(500)
      expect(Object.keys(figures.byInstance).sort()).toEqual(['a', 'b'])
      // Two process start-ups in a row: each took up to a minute on this two-core machine at a
      // load average of 27 (the restart waits for the new process's /readyz, nothing else).
    }, 240_000)
  })
})
