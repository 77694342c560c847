/**
 * App sign-ins as Latchkey sessions (SPEC §3, §4) on SQLite and PostgreSQL: the 5-minute
 * window (ManualClock), at most 3 app sessions per account, revoking one from Active sessions,
 * the device authorization grant end to end, and the new-device notice.
 */
import { describe, expect, it } from 'vitest'
import * as oauth from 'oauth4webapi'
import { errorDetails, errorOf, expectErrorCode, signedUpUser, testApp, type TestClient } from '../../test/helpers/app.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { sweepOAuth } from './adapter.ts'
import { CLI, cliClient, discover, followToApp, injectFetch, options, signInApp, startAuthorization } from '../../test/helpers/oauth.ts'
import type { InteractionAborted, InteractionDone, InteractionView } from './schemas.ts'
import type { SessionList } from '../sessions/schemas.ts'
import type { SecurityLog } from '../audit/schemas.ts'

const SECOND = 1000
const MINUTE = 60 * SECOND
const DAY = 24 * 60 * MINUTE

describe.each(DIALECTS)('app sessions on %s', (dialect) => {
  it('a request not answered within 5 minutes expires: the page says so and the app gets access_denied with the reason', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const pending = await startAuthorization(t, as, ada.client, { deviceName: 'slow laptop' })
    t.clock.advance(4 * MINUTE + 59_000)
    expect((await ada.client.get<InteractionView>(`/api/v1/oauth/interactions/${pending.uid}`)).body.status).toBe('pending')
    t.clock.advance(1_000)

    const late = await ada.client.post<InteractionDone>(`/api/v1/oauth/interactions/${pending.uid}/complete`, {})
    expect(late.status).toBe(410)
    expect(errorOf(late)).toMatchObject({ code: 'oauth_request_expired', message: 'This sign-in request expired. Go back to the app and start again.' })
    const redirect = await followToApp(ada.client, errorDetails(late).returnTo as string)
    expect(redirect.origin + redirect.pathname).toBe(pending.redirectUri)
    expect(redirect.searchParams.get('error')).toBe('access_denied')
    expect(redirect.searchParams.get('error_description')).toBe('This sign-in request expired. Go back to the app and start again.')
    // oauth4webapi sees a proper OAuth error response (state and iss checked).
    try {
      oauth.validateAuthResponse(as, cliClient(), redirect, pending.state)
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(oauth.AuthorizationResponseError)
      expect((err as oauth.AuthorizationResponseError).error_description).toMatch(/expired/)
    }
    // No session was made.
    const sessions = await ada.client.get<SessionList>('/api/v1/me/sessions')
    expect(sessions.body.sessions.every((s: { kind: string }) => s.kind === 'web')).toBe(true)

    // Opening the page late shows the expired state and where to send the browser.
    const other = await startAuthorization(t, as, ada.client)
    t.clock.advance(6 * MINUTE)
    const view = await ada.client.get<InteractionView>(`/api/v1/oauth/interactions/${other.uid}`)
    expect(view.body).toMatchObject({ status: 'expired' })
    const back = await followToApp(ada.client, view.body.returnTo!)
    expect(back.searchParams.get('error_description')).toMatch(/expired/)
  })

  it('"Skip and go back to the app" hands the app access_denied', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const pending = await startAuthorization(t, as, ada.client)
    const aborted = await ada.client.post<InteractionAborted>(`/api/v1/oauth/interactions/${pending.uid}/abort`, {})
    expect(aborted.status).toBe(200)
    const redirect = await followToApp(ada.client, aborted.body.returnTo)
    expect(redirect.searchParams.get('error')).toBe('access_denied')
    expect(redirect.searchParams.get('state')).toBe(pending.state)
  })

  it('keeps at most 3 app sessions: the fourth sign-in ends the oldest, says which, and its tokens stop working', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const signIns = []
    for (const name of ['laptop', 'desktop', 'build box']) {
      const signIn = await signInApp(t, as, ada.client, { deviceName: `latchkey CLI on ${name}` })
      expect(signIn.signedOut).toEqual([])
      signIns.push(signIn)
      t.clock.advance(MINUTE)
    }
    const fourth = await signInApp(t, as, ada.client, { deviceName: 'latchkey CLI on tablet' })
    expect(fourth.signedOut).toEqual([expect.objectContaining({ deviceName: 'latchkey CLI on laptop' })])

    const apps = (await ada.client.get<SessionList>('/api/v1/me/sessions')).body.sessions.filter((s: { kind: string }) => s.kind === 'api')
    expect(apps.map((s) => s.deviceName).sort()).toEqual(['latchkey CLI on build box', 'latchkey CLI on desktop', 'latchkey CLI on tablet'])
    const refresh = (token: string) => oauth.refreshTokenGrantRequest(as, cliClient(), oauth.None(), token, options(t))
    await expect(oauth.processRefreshTokenResponse(as, cliClient(), await refresh(signIns[0].tokens.refresh_token!))).rejects.toMatchObject({ error: 'invalid_grant' })
    const still = await oauth.processRefreshTokenResponse(as, cliClient(), await refresh(signIns[1].tokens.refresh_token!))
    expect(still.access_token).toBeTruthy()
    // The security log says why.
    const log = await ada.client.get<SecurityLog>('/api/v1/me/security-log?limit=50')
    expect(log.body.events.some((e: { type: string }) => e.type === 'oauth.app_session_ended')).toBe(true)
  })

  it('holds the limit of 3 when several sign-ins complete at the same moment', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    await signInApp(t, as, ada.client, { deviceName: 'first' })
    // Four tabs of the same browser (TestClient's jar is not path-aware, so one client per tab).
    const tabs = []
    for (let i = 0; i < 4; i++) {
      const tab = t.client()
      for (const [name, value] of ada.client.jar) tab.jar.set(name, value)
      tabs.push({ tab, pending: await startAuthorization(t, as, tab, { deviceName: `parallel ${i}` }) })
    }
    const results = await Promise.all(tabs.map(({ tab, pending }) => tab.post<InteractionDone>(`/api/v1/oauth/interactions/${pending.uid}/complete`, {})))
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200])
    const apps = (await ada.client.get<SessionList>('/api/v1/me/sessions')).body.sessions.filter((s: { kind: string }) => s.kind === 'api')
    expect(apps).toHaveLength(3)
    const ended = results.flatMap((r) => r.body.signedOut.map((d: { deviceName: string }) => d.deviceName))
    // Five sign-ins, three kept: each of the two that ended was reported once.
    expect(ended).toHaveLength(2)
    expect(new Set(ended).size).toBe(2)
    expect(ended).toContain('first')
  })

  it('revoking an app session under Active sessions kills its refresh and access tokens at once', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const signIn = await signInApp(t, as, ada.client, { deviceName: 'latchkey CLI on old laptop' })
    const tokens = { access_token: signIn.tokens.access_token, refresh_token: signIn.tokens.refresh_token }
    const app = (await ada.client.get<SessionList>('/api/v1/me/sessions')).body.sessions.find((s: { deviceName?: string }) => s.deviceName === 'latchkey CLI on old laptop')
    expect(app).toMatchObject({ kind: 'api', browser: 'Latchkey CLI', current: false })
    // Using the app (a refresh) counts as the session's activity.
    t.clock.advance(10 * MINUTE)
    const refreshed = await oauth.processRefreshTokenResponse(as, cliClient(), await oauth.refreshTokenGrantRequest(as, cliClient(), oauth.None(), tokens.refresh_token!, options(t)))
    const active = (await ada.client.get<SessionList>('/api/v1/me/sessions')).body.sessions.find((s) => s.id === app!.id)
    expect(Date.parse(active!.lastActiveAt)).toBe(t.clock.now())
    tokens.refresh_token = refreshed.refresh_token
    tokens.access_token = refreshed.access_token

    expect((await ada.client.delete(`/api/v1/me/sessions/${app!.id}`)).status).toBe(204)
    // The grant's rows went in the same transaction.
    expect(await t.app.ctx.db.selectFrom('oauth_app_sessions').selectAll().where('session_id', '=', app!.id).execute()).toEqual([])
    expect(await t.app.ctx.db.selectFrom('oauth_models').select('model').where('model', 'in', ['AccessToken', 'RefreshToken', 'Grant']).where('account_id', '=', ada.accountId).execute()).toEqual([])
    const userinfo = await injectFetch(t)(as.userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } })
    expect(userinfo.status).toBe(401)
    const refresh = await oauth.refreshTokenGrantRequest(as, cliClient(), oauth.None(), tokens.refresh_token!, options(t))
    await expect(oauth.processRefreshTokenResponse(as, cliClient(), refresh)).rejects.toMatchObject({ error: 'invalid_grant' })
  })

  it('housekeeping frees the grants of app sessions that expired and keeps the live ones', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t, { staySignedIn: true })
    await signInApp(t, as, ada.client, { deviceName: 'old laptop' })
    t.clock.advance(20 * DAY)
    await signInApp(t, as, ada.client, { deviceName: 'new laptop' })
    const links = async () => (await t.app.ctx.db.selectFrom('oauth_app_sessions').select('device_name').orderBy('device_name').execute()).map((row) => row.device_name)
    expect(await links()).toEqual(['new laptop', 'old laptop'])
    await sweepOAuth(t.app.ctx)
    expect(await links()).toEqual(['new laptop', 'old laptop'])
    // The first app session (30 days) has ended; the second has 20 days left.
    t.clock.advance(11 * DAY)
    await sweepOAuth(t.app.ctx)
    expect(await links()).toEqual(['new laptop'])
  })

  it('logging out through the revocation endpoint ends the app session', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const { tokens } = await signInApp(t, as, ada.client, { deviceName: 'latchkey CLI on desk' })
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, cliClient(), oauth.None(), tokens.refresh_token!, options(t)))
    const sessions = (await ada.client.get<SessionList>('/api/v1/me/sessions')).body.sessions
    expect(sessions.filter((s: { kind: string }) => s.kind === 'api')).toEqual([])
    const userinfo = await injectFetch(t)(as.userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } })
    expect(userinfo.status).toBe(401)
  })

  it('emails a new-device notice for a device name not seen before, not for a known one', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    await signInApp(t, as, ada.client, { deviceName: 'latchkey CLI on ada-box' })
    const mail = await t.smtp.waitFor(ada.email, /New sign-in/)
    expect(mail.text).toContain('Latchkey CLI (latchkey CLI on ada-box)')
    await signInApp(t, as, ada.client, { deviceName: 'latchkey CLI on ada-box' })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(t.smtp.messagesTo(ada.email).filter((m) => /New sign-in/.test(m.subject))).toHaveLength(1)
  })

  it('device authorization grant: code entered on the page, approved, the app polls and gets tokens', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const started = await oauth.processDeviceAuthorizationResponse(as, cliClient(), await oauth.deviceAuthorizationRequest(as, cliClient(), oauth.None(), { scope: 'openid profile email offline_access', device_name: 'latchkey CLI on headless-box' }, options(t)))
    expect(started.verification_uri).toBe('http://latchkey.test/oauth/device')
    expect(started.user_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/)
    expect(started.expires_in).toBe(300)
    expect(started.interval).toBe(5)
    const poll = () => oauth.deviceCodeGrantRequest(as, cliClient(), oauth.None(), started.device_code, options(t))
    await expect(oauth.processDeviceCodeResponse(as, cliClient(), await poll())).rejects.toMatchObject({ error: 'authorization_pending' })

    const { uid } = await enterUserCode(ada.client, started.user_code)
    const { view, redirect } = await approveDevice(ada.client, uid)
    expect(view).toMatchObject({ flow: 'device', deviceName: 'latchkey CLI on headless-box', client: { id: CLI } })
    expect(redirect).toContain('You are signed in')

    const tokens = await oauth.processDeviceCodeResponse(as, cliClient(), await poll())
    expect(oauth.getValidatedIdTokenClaims(tokens)!.sub).toBe(ada.accountId)
    expect(tokens.refresh_token).toBeTruthy()
    const apps = (await ada.client.get<SessionList>('/api/v1/me/sessions')).body.sessions.filter((s: { kind: string }) => s.kind === 'api')
    expect(apps).toEqual([expect.objectContaining({ deviceName: 'latchkey CLI on headless-box', os: 'Unknown' })])
    // The device code is spent.
    await expect(oauth.processDeviceCodeResponse(as, cliClient(), await poll())).rejects.toMatchObject({ error: 'invalid_grant' })
  })

  it('device flow: a code arriving in the link (not typed) still asks "Is this your device?" with the code to compare', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const started = await oauth.processDeviceAuthorizationResponse(as, cliClient(), await oauth.deviceAuthorizationRequest(as, cliClient(), oauth.None(), { scope: 'openid', device_name: 'sent by someone' }, options(t)))
    const link = new URL(started.verification_uri_complete!)
    // The link's page posts the code itself (oidc-provider's form_post), without `confirm`.
    const autoPost = await ada.client.get<string>(`${link.pathname}${link.search}`)
    const fields = formFields(autoPost.body)
    expect(fields.get('user_code')).toBe(started.user_code)
    expect(fields.has('confirm')).toBe(false)
    const asked = await ada.client.request<string>('POST', '/oauth/device', fields.toString(), { 'content-type': 'application/x-www-form-urlencoded' })
    expect(asked.status).toBe(200)
    expect(asked.body).toContain('Is this your device?')
    expect(asked.body).toContain(`<code>${started.user_code}</code>`)
    expect(asked.body).toContain('Device: sent by someone')
    // Only its own Continue goes on.
    const go = await ada.client.request('POST', '/oauth/device', formFields(asked.body).toString(), { 'content-type': 'application/x-www-form-urlencoded' })
    expect(go.status).toBe(303)
    expect(String(go.headers.location)).toMatch(/^\/app-signin\//)
  })

  it('device grant: a poll sooner than the interval after the last one is answered slow_down (RFC 8628 §3.5), even when two race', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const started = await oauth.processDeviceAuthorizationResponse(as, cliClient(), await oauth.deviceAuthorizationRequest(as, cliClient(), oauth.None(), { scope: 'openid' }, options(t)))
    const poll = async () => {
      const res = await oauth.deviceCodeGrantRequest(as, cliClient(), oauth.None(), started.device_code, options(t))
      try {
        return await oauth.processDeviceCodeResponse(as, cliClient(), res)
      } catch (err) {
        return { error: (err as { error?: string }).error, status: res.status }
      }
    }
    expect(await poll()).toEqual({ error: 'authorization_pending', status: 400 })
    expect(await poll()).toEqual({ error: 'slow_down', status: 400 })
    t.clock.advance(4 * SECOND)
    // Measured from the last poll that was not refused: 4 s after it is still too soon.
    expect(await poll()).toEqual({ error: 'slow_down', status: 400 })
    t.clock.advance(1 * SECOND)
    expect(await poll()).toEqual({ error: 'authorization_pending', status: 400 })
    t.clock.advance(5 * SECOND)
    const raced = (await Promise.all([poll(), poll(), poll()])).map((r) => (r as { error: string }).error).sort()
    expect(raced).toEqual(['authorization_pending', 'slow_down', 'slow_down'])

    // Once approved, the app gets its tokens on its next poll, however soon.
    const { uid } = await enterUserCode(ada.client, started.user_code)
    await approveDevice(ada.client, uid)
    const tokens = await poll()
    expect(oauth.getValidatedIdTokenClaims(tokens as oauth.TokenEndpointResponse)!.sub).toBe(ada.accountId)
  })

  it('device pages: a form posted without its cookie, or a resume link with no session, answers a 400 page that starts again', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const started = await oauth.processDeviceAuthorizationResponse(as, cliClient(), await oauth.deviceAuthorizationRequest(as, cliClient(), oauth.None(), { scope: 'openid' }, options(t)))
    const form = { 'content-type': 'application/x-www-form-urlencoded' }
    const stale = t.client()
    stale.jar.set('latchkey_oidc', 'no-such-session')
    stale.jar.set('latchkey_oidc.sig', 'not-a-signature')
    const answers = [
      await t.client().request('POST', '/oauth/device', `xsrf=abc&user_code=${started.user_code}`, form),
      await t.client().request('POST', '/oauth/device', '', form),
      await t.client().request('POST', '/oauth/device', `user_code=${started.user_code}&confirm=yes`, form),
      await stale.request('POST', '/oauth/device', `xsrf=abc&user_code=${started.user_code}`, form),
      await t.client().get('/oauth/device/no-such-interaction'),
      // GET on the device authorization endpoint's path is read as a resume link for uid "auth".
      await stale.get('/oauth/device/auth'),
    ]
    for (const res of answers) {
      expect(res.status).toBe(400)
      expect(res.headers['content-type']).toContain('text/html')
      expect(res.body).toContain('This page expired, or your browser did not send back the cookie it was given.')
      expect(res.body).toContain('href="http://latchkey.test/oauth/device"')
      expect(res.body).not.toContain('<form')
    }
    const chinese = await t.client().request('POST', '/oauth/device', 'xsrf=abc', { ...form, 'accept-language': 'zh-CN,zh;q=0.9' })
    expect(chinese.status).toBe(400)
    expect(chinese.body).toContain('此页面已过期')
    // The code was not spent: following the link, the same browser signs the device in.
    const { uid } = await enterUserCode(ada.client, started.user_code)
    await approveDevice(ada.client, uid)
    const tokens = await oauth.processDeviceCodeResponse(as, cliClient(), await oauth.deviceCodeGrantRequest(as, cliClient(), oauth.None(), started.device_code, options(t)))
    expect(oauth.getValidatedIdTokenClaims(tokens)!.sub).toBe(ada.accountId)
  })

  it('device flow: a wrong code is refused on the page, and approval after 5 minutes is refused', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const page = await ada.client.get<string>('/oauth/device')
    expect(page.status).toBe(200)
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body)![1]
    const wrong = await ada.client.request('POST', '/oauth/device', `xsrf=${xsrf}&user_code=BCDF-GHJK`, { 'content-type': 'application/x-www-form-urlencoded' })
    expect(wrong.body).toContain('That code is not valid or has expired')

    const started = await oauth.processDeviceAuthorizationResponse(as, cliClient(), await oauth.deviceAuthorizationRequest(as, cliClient(), oauth.None(), { scope: 'openid' }, options(t)))
    const { uid } = await enterUserCode(ada.client, started.user_code)
    t.clock.advance(5 * MINUTE)
    const late = await ada.client.post<InteractionDone>(`/api/v1/oauth/interactions/${uid}/complete`, {})
    expectErrorCode(late, 'oauth_request_expired')
    await ada.client.get(new URL(errorDetails(late).returnTo as string).pathname)
    await expect(oauth.processDeviceCodeResponse(as, cliClient(), await oauth.deviceCodeGrantRequest(as, cliClient(), oauth.None(), started.device_code, options(t)))).rejects.toMatchObject({ error: 'access_denied', error_description: 'This sign-in request expired. Go back to the app and start again.' })
  })
})

/** The hidden fields and the action of the first form on an HTML page, as a browser would submit them. */
function formFields(html: string): URLSearchParams {
  const fields = new URLSearchParams()
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields.append(name, value)
  return fields
}

/**
 * The person opens the verification page and types the code: the form alone takes them on to
 * our page (no "Is this your device?" step for a typed code).
 */
async function enterUserCode(browser: TestClient, userCode: string): Promise<{ uid: string }> {
  const form = await browser.get<string>('/oauth/device')
  expect(form.status).toBe(200)
  expect(form.headers['content-type']).toContain('text/html')
  const fields = formFields(form.body)
  fields.set('user_code', userCode.toLowerCase().replace('-', ' '))
  const go = await browser.request('POST', '/oauth/device', fields.toString(), { 'content-type': 'application/x-www-form-urlencoded' })
  expect(go.status, String(go.body).slice(0, 300)).toBe(303)
  const match = /^\/app-signin\/([A-Za-z0-9_-]+)$/.exec(String(go.headers.location))
  expect(match).not.toBeNull()
  return { uid: match![1] }
}

async function approveDevice(browser: TestClient, uid: string): Promise<{ view: Record<string, unknown>; redirect: string }> {
  const view = await browser.get<InteractionView>(`/api/v1/oauth/interactions/${uid}`)
  const done = await browser.post<InteractionDone>(`/api/v1/oauth/interactions/${uid}/complete`, {})
  expect(done.status, JSON.stringify(done.body)).toBe(200)
  const resumed = await browser.get(new URL(done.body.returnTo).pathname)
  expect(resumed.status).toBe(200)
  return { view: view.body, redirect: String(resumed.body) }
}

