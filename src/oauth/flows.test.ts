import { describe, expect, it } from 'vitest'
import * as oauth from 'oauth4webapi'
import pino from 'pino'
import { LOG_REDACT_PATHS } from '../app.ts'
import { PUBLIC_URL, signedUpUser, testApp } from '../../test/helpers/app.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { addClient } from './clients.ts'
import { cliClient, discover, injectFetch, options, signInApp, startAuthorization, verifyWithJwks } from '../../test/helpers/oauth.ts'
import type { SessionList } from '../sessions/schemas.ts'
import type { AccountView } from '../accounts/schemas.ts'

describe.each(DIALECTS)('OAuth 2.0 / OpenID Connect on %s', (dialect) => {
  it('publishes discovery for PUBLIC_URL with code + PKCE S256 only', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    expect(as.issuer).toBe(PUBLIC_URL)
    expect(as.authorization_endpoint).toBe(`${PUBLIC_URL}/oauth/auth`)
    expect(as.token_endpoint).toBe(`${PUBLIC_URL}/oauth/token`)
    expect(as.jwks_uri).toBe(`${PUBLIC_URL}/oauth/jwks`)
    expect(as.userinfo_endpoint).toBe(`${PUBLIC_URL}/oauth/userinfo`)
    expect(as.revocation_endpoint).toBe(`${PUBLIC_URL}/oauth/revoke`)
    expect(as.device_authorization_endpoint).toBe(`${PUBLIC_URL}/oauth/device/auth`)
    expect(as.response_types_supported).toEqual(['code'])
    expect(as.code_challenge_methods_supported).toEqual(['S256'])
    expect(as.grant_types_supported).not.toContain('implicit')
    expect(as.grant_types_supported).not.toContain('password')
    expect(as.id_token_signing_alg_values_supported).toEqual(['RS256'])
  })

  it('signs the CLI in with code + PKCE on a loopback redirect: ID token, userinfo, refresh', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const { tokens } = await signInApp(t, as, ada.client, { deviceName: 'latchkey CLI on ada-laptop' })
    const claims = oauth.getValidatedIdTokenClaims(tokens)!
    expect(claims.sub).toBe(ada.accountId)
    expect(claims.aud).toBe('latchkey-cli')
    expect(claims.iss).toBe(PUBLIC_URL)
    await verifyWithJwks(t, as, tokens.id_token!)
    expect(tokens.refresh_token).toBeTruthy()

    const info = await oauth.processUserInfoResponse(as, cliClient(), ada.accountId, await oauth.userInfoRequest(as, cliClient(), tokens.access_token, options(t)))
    expect(info).toMatchObject({ sub: ada.accountId, preferred_username: ada.username, email: ada.email, email_verified: true })

    const sessions = await ada.client.get<SessionList>('/api/v1/me/sessions')
    const app = sessions.body.sessions.find((s: { kind: string }) => s.kind === 'api')
    expect(app).toMatchObject({ kind: 'api', browser: 'Latchkey CLI', deviceName: 'latchkey CLI on ada-laptop' })

    // The access token also works on Latchkey's own API, as that app session.
    const cli = t.client({ origin: null })
    cli.bearer = tokens.access_token
    const me = await cli.get<AccountView>('/api/v1/me')
    expect(me.status).toBe(200)
    expect(me.body.username).toBe(ada.username)
    const seen = await cli.get<SessionList>('/api/v1/me/sessions')
    expect(seen.body.sessions.find((s: { current: boolean }) => s.current)).toMatchObject({ id: app!.id, deviceName: 'latchkey CLI on ada-laptop' })
    expect((await ada.client.delete(`/api/v1/me/sessions/${app!.id}`)).status).toBe(204)
    expect((await cli.get<AccountView>('/api/v1/me')).status).toBe(401)
  })

  it('accepts any loopback port and path on 127.0.0.1 and [::1], and nothing else', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    for (const redirectUri of ['http://127.0.0.1:51234/any/path', 'http://[::1]:8080/cb', 'http://127.0.0.1/']) {
      await startAuthorization(t, as, ada.client, { redirectUri })
    }
    for (const redirectUri of ['http://localhost:5000/cb', 'https://evil.example/cb', 'http://127.0.0.2:5000/cb', 'http://127.0.0.1.evil.example/cb']) {
      const url = new URL(as.authorization_endpoint!)
      url.search = new URLSearchParams({ client_id: 'latchkey-cli', redirect_uri: redirectUri, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString()
      const res = await ada.client.get(url.pathname + url.search)
      // Never a redirect to an unregistered URI: an error page in the browser.
      expect(res.status, redirectUri).toBe(400)
      expect(String(res.headers.location ?? '')).toBe('')
      expect(String(res.body)).toContain('redirect_uri')
    }
  })

  it('logs no code, token, verifier or client secret, even at trace level', async () => {
    const lines: string[] = []
    const log = pino({ level: 'trace', redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } }, { write: (line: string) => void lines.push(line) })
    const t = await testApp(dialect, { LOG_LEVEL: 'trace' }, { log })
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const { tokens, pending, params } = await signInApp(t, as, ada.client)
    const refreshed = await oauth.processRefreshTokenResponse(as, cliClient(), await oauth.refreshTokenGrantRequest(as, cliClient(), oauth.None(), tokens.refresh_token!, options(t)))
    // A client that wrongly puts a secret in the query string.
    await ada.client.get(`/oauth/userinfo?access_token=${refreshed.access_token}`)
    const acme = await addClient(t.app.ctx, { name: 'Acme', redirectUris: ['https://acme.example/cb'], firstParty: true })
    const basic = Buffer.from(`${acme.clientId}:${acme.clientSecret}`).toString('base64')
    const bogus = await injectFetch(t)(as.token_endpoint!, { method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&code=nonsense&redirect_uri=https%3A%2F%2Facme.example%2Fcb&code_verifier=' + 'x'.repeat(43) })
    expect(bogus.status).toBe(400)
    const text = lines.join('\n')
    expect(text).toContain('/oauth/token')
    expect(text).toContain('/oauth/userinfo?access_token=[redacted]')
    for (const secret of [params.get('code')!, pending.verifier, tokens.access_token, tokens.refresh_token!, tokens.id_token!, refreshed.access_token, refreshed.refresh_token!, acme.clientSecret]) {
      expect(text).not.toContain(secret)
    }
  })
})
