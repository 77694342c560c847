/**
 * The protocol rules that keep app sign-ins safe, checked with oauth4webapi (a strict,
 * independent client) against the real server on SQLite and PostgreSQL: PKCE, exact redirect
 * URIs, single-use codes, rotating refresh tokens with reuse detection, no implicit or
 * password grant, and the binding of a sign-in request to the browser that started it.
 */
import { describe, expect, it } from 'vitest'
import * as oauth from 'oauth4webapi'
import { expectError, expectErrorCode, signedUpUser, testApp } from '../../test/helpers/app.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { DAY_MS, MINUTE_MS } from '../clock.ts'
import { addClient } from './clients.ts'
import { approve, CLI, cliClient, discover, injectFetch, options, signInApp, startAuthorization } from '../../test/helpers/oauth.ts'
import type { SessionList, SessionsRevoked } from '../sessions/schemas.ts'
import type { InteractionAborted, InteractionDone, InteractionView } from './schemas.ts'
import type { AccountView, PasswordChanged } from '../accounts/schemas.ts'

async function tokenRequest(t: Parameters<typeof injectFetch>[0], body: Record<string, string>) {
  const res = await injectFetch(t)('http://latchkey.test/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() })
  return { status: res.status, body: (await res.json()) as Record<string, string> }
}

async function userinfoStatus(t: Parameters<typeof injectFetch>[0], accessToken: string): Promise<number> {
  return (await injectFetch(t)('http://latchkey.test/oauth/userinfo', { headers: { authorization: `Bearer ${accessToken}` } })).status
}

describe.each(DIALECTS)('OAuth security rules on %s', (dialect) => {
  it('requires PKCE S256: plain and a missing challenge are refused at the authorization endpoint, a missing or wrong verifier at the token endpoint', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const redirectUri = 'http://127.0.0.1:50123/cb'
    const base = { client_id: CLI, redirect_uri: redirectUri, response_type: 'code', scope: 'openid', state: 'xyz' }
    for (const extra of [{ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }, {}] as Record<string, string>[]) {
      const res = await ada.client.get(`/oauth/auth?${new URLSearchParams({ ...base, ...extra })}`)
      expect(res.status).toBe(303)
      const back = new URL(String(res.headers.location))
      expect(back.origin + back.pathname).toBe(redirectUri)
      expect(back.searchParams.get('error')).toBe('invalid_request')
    }

    const pending = await startAuthorization(t, as, ada.client)
    const { redirect } = await approve(ada.client, pending.uid)
    const code = redirect.searchParams.get('code')!
    const missing = await tokenRequest(t, { grant_type: 'authorization_code', client_id: CLI, code, redirect_uri: pending.redirectUri })
    expect(missing.status).toBe(400)
    expect(missing.body.error).toBe('invalid_grant')

    const again = await startAuthorization(t, as, ada.client)
    const second = await approve(ada.client, again.uid)
    const wrong = await tokenRequest(t, { grant_type: 'authorization_code', client_id: CLI, code: second.redirect.searchParams.get('code')!, redirect_uri: again.redirectUri, code_verifier: oauth.generateRandomCodeVerifier() })
    expect(wrong.body.error).toBe('invalid_grant')
  })

  it('refuses a redirect URI at the token endpoint that differs from the authorization request', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const pending = await startAuthorization(t, as, ada.client, { redirectUri: 'http://127.0.0.1:50001/cb' })
    const { redirect } = await approve(ada.client, pending.uid)
    const params = oauth.validateAuthResponse(as, cliClient(), redirect, pending.state)
    const response = await oauth.authorizationCodeGrantRequest(as, cliClient(), oauth.None(), params, 'http://127.0.0.1:50002/cb', pending.verifier, options(t))
    await expect(oauth.processAuthorizationCodeResponse(as, cliClient(), response)).rejects.toMatchObject({ error: 'invalid_grant' })
  })

  it('a code works once: the second use fails and revokes the tokens the first one got', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const pending = await startAuthorization(t, as, ada.client)
    const { redirect } = await approve(ada.client, pending.uid)
    const params = oauth.validateAuthResponse(as, cliClient(), redirect, pending.state)
    const first = await oauth.processAuthorizationCodeResponse(as, cliClient(), await oauth.authorizationCodeGrantRequest(as, cliClient(), oauth.None(), params, pending.redirectUri, pending.verifier, options(t)), { expectedNonce: pending.nonce, requireIdToken: true })
    expect(await userinfoStatus(t, first.access_token)).toBe(200)

    const replay = await oauth.authorizationCodeGrantRequest(as, cliClient(), oauth.None(), params, pending.redirectUri, pending.verifier, options(t))
    await expect(oauth.processAuthorizationCodeResponse(as, cliClient(), replay)).rejects.toMatchObject({ error: 'invalid_grant' })
    expect(await userinfoStatus(t, first.access_token)).toBe(401)
    const refresh = await tokenRequest(t, { grant_type: 'refresh_token', client_id: CLI, refresh_token: first.refresh_token! })
    expect(refresh.body.error).toBe('invalid_grant')
    // The app session that sign-in made is gone too.
    const sessions = await ada.client.get<SessionList>('/api/v1/me/sessions')
    expect(sessions.body.sessions.filter((s: { kind: string }) => s.kind === 'api')).toEqual([])
  })

  it('an authorization code expires 60 seconds after it was issued', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const exchange = async (wait: number) => {
      const pending = await startAuthorization(t, as, ada.client)
      const { redirect } = await approve(ada.client, pending.uid)
      const params = oauth.validateAuthResponse(as, cliClient(), redirect, pending.state)
      t.clock.advance(wait)
      return oauth.processAuthorizationCodeResponse(as, cliClient(), await oauth.authorizationCodeGrantRequest(as, cliClient(), oauth.None(), params, pending.redirectUri, pending.verifier, options(t)), { expectedNonce: pending.nonce, requireIdToken: true })
    }
    expect((await exchange(59_000)).access_token).toBeTruthy()
    await expect(exchange(60_000)).rejects.toMatchObject({ error: 'invalid_grant' })
  })

  it('refresh tokens end 30 days after the sign-in, however often they were rotated', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const { tokens } = await signInApp(t, as, ada.client)
    const refresh = async (token: string) => oauth.processRefreshTokenResponse(as, cliClient(), await oauth.refreshTokenGrantRequest(as, cliClient(), oauth.None(), token, options(t)))
    let current = tokens.refresh_token!
    // Rotated every 9 days, each new token would last 30 days on its own: the sign-in's end still holds.
    for (let i = 0; i < 3; i++) {
      t.clock.advance(9 * DAY_MS)
      current = (await refresh(current)).refresh_token!
    }
    t.clock.advance(3 * DAY_MS - MINUTE_MS)
    current = (await refresh(current)).refresh_token!
    t.clock.advance(MINUTE_MS)
    await expect(refresh(current)).rejects.toMatchObject({ error: 'invalid_grant' })
  })

  it('lets a registered client use only the code and refresh grants: device and client credentials are refused', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const acme = await addClient(t.app.ctx, { name: 'Acme Dashboard', redirectUris: ['https://acme.example/callback'], firstParty: false })
    const client: oauth.Client = { client_id: acme.clientId }
    const auth = oauth.ClientSecretBasic(acme.clientSecret)
    const device = await oauth.deviceAuthorizationRequest(as, client, auth, { scope: 'openid' }, options(t))
    await expect(oauth.processDeviceAuthorizationResponse(as, client, device)).rejects.toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/not allowed for this client/) })
    const credentials = await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: 'openid' }, options(t))
    await expect(oauth.processClientCredentialsResponse(as, client, credentials)).rejects.toMatchObject({ error: 'unsupported_grant_type' })
  })

  it('asks before ending anything at the logout endpoint, and never ends Latchkey sessions or app sign-ins there', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const { tokens } = await signInApp(t, as, ada.client)
    const page = await ada.client.get('/oauth/logout')
    expect(page.status).toBe(200)
    const form = /<form method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="[^"]+">/.exec(String(page.body))
    expect(form).not.toBeNull()
    // A forged form post (no xsrf value from the page) is refused.
    const forged = await ada.client.request('POST', new URL(form![1].replaceAll('&amp;', '&'), 'http://latchkey.test').pathname, 'logout=yes', { 'content-type': 'application/x-www-form-urlencoded' })
    expect(forged.status).toBe(400)
    expect((await ada.client.get<AccountView>('/api/v1/me')).status).toBe(200)
    expect(await userinfoStatus(t, tokens.access_token)).toBe(200)
  })

  it('rotates the refresh token on every use; presenting a rotated one revokes the whole sign-in', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const { tokens } = await signInApp(t, as, ada.client)
    const r1 = tokens.refresh_token!
    const second = await oauth.processRefreshTokenResponse(as, cliClient(), await oauth.refreshTokenGrantRequest(as, cliClient(), oauth.None(), r1, options(t)))
    expect(second.refresh_token).toBeTruthy()
    expect(second.refresh_token).not.toBe(r1)
    expect(await userinfoStatus(t, second.access_token)).toBe(200)

    // Someone replays the old one (a stolen copy): refused, and the legitimate chain dies with it.
    const replay = await oauth.refreshTokenGrantRequest(as, cliClient(), oauth.None(), r1, options(t))
    await expect(oauth.processRefreshTokenResponse(as, cliClient(), replay)).rejects.toMatchObject({ error: 'invalid_grant' })
    const next = await oauth.refreshTokenGrantRequest(as, cliClient(), oauth.None(), second.refresh_token!, options(t))
    await expect(oauth.processRefreshTokenResponse(as, cliClient(), next)).rejects.toMatchObject({ error: 'invalid_grant' })
    expect(await userinfoStatus(t, second.access_token)).toBe(401)
  })

  it('never completes a request silently: prompt=none answers interaction_required even in a signed-in browser', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    await signInApp(t, as, ada.client)
    const res = await ada.client.get(`/oauth/auth?${new URLSearchParams({ client_id: CLI, redirect_uri: 'http://127.0.0.1:5000/cb', response_type: 'code', scope: 'openid', prompt: 'none', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`)
    expect(res.status).toBe(303)
    const back = new URL(String(res.headers.location))
    expect(back.searchParams.get('error')).toBe('interaction_required')
    expect(back.searchParams.get('code')).toBeNull()
    // Without prompt=none the same browser goes to the page again.
    const again = await startAuthorization(t, as, ada.client)
    expect(again.uid).toBeTruthy()
  })

  it('offers no implicit flow and no password grant', async () => {
    const t = await testApp(dialect)
    const ada = await signedUpUser(t)
    const implicit = await ada.client.get(`/oauth/auth?${new URLSearchParams({ client_id: CLI, redirect_uri: 'http://127.0.0.1:5000/cb', response_type: 'token', scope: 'openid', nonce: 'n', state: 's' })}`)
    expect(implicit.status).toBe(303)
    // An implicit request would answer in the fragment; the refusal is all it gets.
    const refused = new URL(String(implicit.headers.location))
    expect(refused.searchParams.get('error') ?? new URLSearchParams(refused.hash.slice(1)).get('error')).toBe('unsupported_response_type')
    expect(String(implicit.headers.location)).not.toContain('access_token')
    const password = await tokenRequest(t, { grant_type: 'password', client_id: CLI, username: ada.username, password: ada.password })
    expect(password.status).toBe(400)
    expect(password.body.error).toBe('unsupported_grant_type')
  })

  it('only the browser the app sent can see or answer the request', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const mallory = await signedUpUser(t)
    const pending = await startAuthorization(t, as, ada.client)
    for (const res of [
      await mallory.client.get<InteractionView>(`/api/v1/oauth/interactions/${pending.uid}`),
      await mallory.client.post<InteractionDone>(`/api/v1/oauth/interactions/${pending.uid}/complete`, {}),
      await mallory.client.post<InteractionAborted>(`/api/v1/oauth/interactions/${pending.uid}/abort`, {}),
    ]) {
      expectError(res, 404, 'oauth_request_invalid')
    }
    // A cross-site POST (wrong Origin) is refused before anything happens.
    const forged = await ada.client.request<InteractionDone>('POST', `/api/v1/oauth/interactions/${pending.uid}/complete`, {}, { origin: 'https://evil.example' })
    expectError(forged, 403, 'forbidden_origin')
    // Bad input gets a JSON error, never a 500.
    expect((await ada.client.get<InteractionView>('/api/v1/oauth/interactions/bad%20uid')).status).toBe(400)
    expect((await ada.client.post<InteractionDone>(`/api/v1/oauth/interactions/${pending.uid}/complete`, { consent: 'yes' })).status).toBe(400)
    // Answered once, the request is gone.
    await approve(ada.client, pending.uid)
    expectErrorCode(await ada.client.post<InteractionDone>(`/api/v1/oauth/interactions/${pending.uid}/complete`, {}), 'oauth_request_invalid')
  })

  it('signing out everywhere or changing the password ends app sign-ins', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const { tokens } = await signInApp(t, as, ada.client)
    expect((await ada.client.delete<SessionsRevoked>('/api/v1/me/sessions?keepCurrent=true')).status).toBe(200)
    expect(await userinfoStatus(t, tokens.access_token)).toBe(401)
    expect((await tokenRequest(t, { grant_type: 'refresh_token', client_id: CLI, refresh_token: tokens.refresh_token! })).body.error).toBe('invalid_grant')

    const again = await signInApp(t, as, ada.client)
    expect(await userinfoStatus(t, again.tokens.access_token)).toBe(200)
    const changed = await ada.client.request<PasswordChanged>('POST', '/api/v1/me/password', { currentPassword: ada.password, newPassword: 'another long passphrase 42' })
    expect(changed.status, JSON.stringify(changed.body)).toBe(200)
    expect(await userinfoStatus(t, again.tokens.access_token)).toBe(401)
    expect((await tokenRequest(t, { grant_type: 'refresh_token', client_id: CLI, refresh_token: again.tokens.refresh_token! })).body.error).toBe('invalid_grant')
  })

  it('stores no token, code or device code in the clear: ids are hashed, the payload copy sealed', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const { tokens, params } = await signInApp(t, as, ada.client)
    const device = await oauth.processDeviceAuthorizationResponse(as, cliClient(), await oauth.deviceAuthorizationRequest(as, cliClient(), oauth.None(), { scope: 'openid' }, options(t)))
    const rows = await t.app.ctx.db.selectFrom('oauth_models').selectAll().execute()
    expect(rows.some((r) => r.model === 'RefreshToken')).toBe(true)
    const dump = JSON.stringify(rows)
    for (const secret of [tokens.access_token, tokens.refresh_token!, params.get('code')!, device.device_code, device.user_code, device.user_code.replace('-', '')]) {
      expect(dump).not.toContain(secret)
    }
    // Still fully usable through the server.
    expect(await userinfoStatus(t, tokens.access_token)).toBe(200)
  })

  it('limits device code entries per IP: guessing user codes is refused with 429', async () => {
    const t = await testApp(dialect, { RATE_LIMIT_DEVICE_CODE_ENTRIES_PER_IP_PER_MINUTE: '3' })
    const ada = await signedUpUser(t)
    let form = String((await ada.client.get('/oauth/device')).body)
    const guesses = []
    for (const guess of ['BCDF-GHJK', 'BCDF-GHJL', 'BCDF-GHJM', 'BCDF-GHJN']) {
      // Each answer is the form again, with a fresh CSRF token.
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(form)?.[1] ?? ''
      const res = await ada.client.request('POST', '/oauth/device', `xsrf=${xsrf}&user_code=${guess}`, { 'content-type': 'application/x-www-form-urlencoded' })
      if (res.status === 200) {
        expect(res.body).toContain('That code is not valid or has expired')
        form = String(res.body)
      }
      guesses.push(res)
    }
    expect(guesses.slice(0, 3).map((g) => g.status)).toEqual([200, 200, 200])
    expectError(guesses[3], 429, 'too_many_requests')
    // Other IPs are not affected.
    const other = t.client({ ip: '198.51.100.99' })
    expect((await other.get('/oauth/device')).status).toBe(200)
  })
})
