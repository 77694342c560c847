/**
 * Signing key rotation, and confidential clients with consent and "authorized apps", on
 * SQLite and PostgreSQL, with oauth4webapi as the client.
 */
import { describe, expect, it } from 'vitest'
import * as oauth from 'oauth4webapi'
import { expectError, signedUpUser, testApp, type TestApp } from '../../test/helpers/app.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { addClient, removeClient } from './clients.ts'
import { RETIRED_KEY_KEEP_MS, rotateSigningKey } from './keys.ts'
import { approve, discover, followToApp, injectFetch, options, signInApp, startAuthorization, verifyWithJwks } from '../../test/helpers/oauth.ts'
import type { SessionList } from '../sessions/schemas.ts'
import type { AuthorizedApps, InteractionDone, InteractionView } from './schemas.ts'
import type { AccountView } from '../accounts/schemas.ts'

async function jwksKids(t: TestApp): Promise<string[]> {
  const res = await injectFetch(t)('http://latchkey.test/oauth/jwks')
  const body = (await res.json()) as { keys: { kid: string; d?: string }[] }
  expect(body.keys.every((k) => k.d === undefined)).toBe(true)
  return body.keys.map((k) => k.kid)
}

describe.each(DIALECTS)('keys and clients on %s', (dialect) => {
  it('rotates the signing key: new ID tokens use the new kid, old ones verify until they expire, then the old key is pruned', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const before = await signInApp(t, as, ada.client)
    const old = await verifyWithJwks(t, as, before.tokens.id_token!)
    expect(await jwksKids(t)).toEqual([old.kid])
    // Private keys are sealed at rest.
    const stored = await t.app.ctx.db.selectFrom('oauth_signing_keys').selectAll().execute()
    expect(stored).toHaveLength(1)
    expect(stored[0].private_jwk_encrypted).toMatch(/^v1\./)
    expect(stored[0].private_jwk_encrypted).not.toContain('"d"')

    // As `latchkey keys rotate` does from another process; the server notices on its next check.
    const rotated = await rotateSigningKey(t.app.ctx)
    expect(rotated.retired).toEqual([old.kid])
    expect(await t.app.server.oauth.refreshKeys()).toBe(true)
    expect(await t.app.server.oauth.refreshKeys()).toBe(false)
    expect(await jwksKids(t)).toEqual([rotated.kid, old.kid])

    const after = await signInApp(t, as, ada.client)
    expect((await verifyWithJwks(t, as, after.tokens.id_token!)).kid).toBe(rotated.kid)
    expect((await verifyWithJwks(t, as, before.tokens.id_token!)).kid).toBe(old.kid)
    // A refresh after rotation also gets an ID token signed with the new key.
    const refreshed = await oauth.processRefreshTokenResponse(as, { client_id: 'latchkey-cli' }, await oauth.refreshTokenGrantRequest(as, { client_id: 'latchkey-cli' }, oauth.None(), before.tokens.refresh_token!, options(t)))
    expect((await verifyWithJwks(t, as, refreshed.id_token!)).kid).toBe(rotated.kid)

    t.clock.advance(RETIRED_KEY_KEEP_MS + 1000)
    expect(await t.app.server.oauth.refreshKeys()).toBe(true)
    expect(await jwksKids(t)).toEqual([rotated.kid])
    await expect(verifyWithJwks(t, as, before.tokens.id_token!)).rejects.toThrow(/not in the JWKS/)
  })

  it('a third-party client asks for consent once; authorized apps lists it and revoking kills its tokens', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const acme = await addClient(t.app.ctx, { name: 'Acme Dashboard', redirectUris: ['https://acme.example/callback'], firstParty: false })
    const client: oauth.Client = { client_id: acme.clientId }
    const auth = oauth.ClientSecretBasic(acme.clientSecret)

    const pending = await startAuthorization(t, as, ada.client, { clientId: acme.clientId, redirectUri: 'https://acme.example/callback', extra: { prompt: 'consent' } })
    const view = await ada.client.get<InteractionView>(`/api/v1/oauth/interactions/${pending.uid}`)
    expect(view.body).toMatchObject({ client: { id: acme.clientId, name: 'Acme Dashboard', firstParty: false }, consentRequired: true, scopes: ['openid', 'profile', 'email', 'offline_access'] })
    const refused = await ada.client.post<InteractionDone>(`/api/v1/oauth/interactions/${pending.uid}/complete`, {})
    expectError(refused, 400, 'oauth_consent_required')
    const allowed = await ada.client.post<InteractionDone>(`/api/v1/oauth/interactions/${pending.uid}/complete`, { consent: true })
    expect(allowed.status).toBe(200)
    const redirect = await followToApp(ada.client, allowed.body.returnTo)
    const params = oauth.validateAuthResponse(as, client, redirect, pending.state)

    // A wrong secret is refused; the right one gets tokens.
    const wrong = await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretBasic('not-the-secret'), params, pending.redirectUri, pending.verifier, options(t))
    expect(wrong.status).toBe(401)
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_client')
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, auth, params, pending.redirectUri, pending.verifier, options(t)), { expectedNonce: pending.nonce, requireIdToken: true })
    expect(oauth.getValidatedIdTokenClaims(tokens)!.aud).toBe(acme.clientId)
    expect(tokens.refresh_token).toBeTruthy()

    // A third-party token is no key to the account API.
    const thirdParty = t.client({ origin: null })
    thirdParty.bearer = tokens.access_token
    expect((await thirdParty.get<AccountView>('/api/v1/me')).status).toBe(401)
    // Not an app session: it is listed under authorized apps instead.
    expect((await ada.client.get<SessionList>('/api/v1/me/sessions')).body.sessions.every((s: { kind: string }) => s.kind === 'web')).toBe(true)
    const apps = await ada.client.get<AuthorizedApps>('/api/v1/me/authorized-apps')
    expect(apps.body.apps).toEqual([expect.objectContaining({ clientId: acme.clientId, name: 'Acme Dashboard', scopes: ['openid', 'profile', 'email', 'offline_access'] })])

    // The second time, no consent is asked.
    const again = await startAuthorization(t, as, ada.client, { clientId: acme.clientId, redirectUri: 'https://acme.example/callback' })
    expect((await ada.client.get<InteractionView>(`/api/v1/oauth/interactions/${again.uid}`)).body.consentRequired).toBe(false)

    expect((await ada.client.delete(`/api/v1/me/authorized-apps/${acme.clientId}`)).status).toBe(204)
    expect((await injectFetch(t)(as.userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401)
    await expect(oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, options(t)))).rejects.toMatchObject({ error: 'invalid_grant' })
    expect((await ada.client.get<AuthorizedApps>('/api/v1/me/authorized-apps')).body.apps).toEqual([])
    expect((await ada.client.delete(`/api/v1/me/authorized-apps/${acme.clientId}`)).status).toBe(404)
    const third = await startAuthorization(t, as, ada.client, { clientId: acme.clientId, redirectUri: 'https://acme.example/callback' })
    expect((await ada.client.get<InteractionView>(`/api/v1/oauth/interactions/${third.uid}`)).body.consentRequired).toBe(true)
    // Someone else's list is their own.
    const bob = await signedUpUser(t)
    expect((await bob.client.get<AuthorizedApps>('/api/v1/me/authorized-apps')).body.apps).toEqual([])
    expect((await t.client().get<AuthorizedApps>('/api/v1/me/authorized-apps')).status).toBe(401)
  })

  it('a first-party client skips consent; removing a client revokes its tokens; unknown redirect URIs are refused', async () => {
    const t = await testApp(dialect)
    const as = await discover(t)
    const ada = await signedUpUser(t)
    const own = await addClient(t.app.ctx, { name: 'Latchkey Console', redirectUris: ['https://console.example/cb'], firstParty: true })
    const client: oauth.Client = { client_id: own.clientId }
    const pending = await startAuthorization(t, as, ada.client, { clientId: own.clientId, redirectUri: 'https://console.example/cb' })
    const { view, redirect } = await approve(ada.client, pending.uid)
    expect(view.consentRequired).toBe(false)
    const params = oauth.validateAuthResponse(as, client, redirect, pending.state)
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretBasic(own.clientSecret), params, pending.redirectUri, pending.verifier, options(t)), { expectedNonce: pending.nonce })
    expect((await injectFetch(t)(as.userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(200)

    const elsewhere = await ada.client.get(`/oauth/auth?${new URLSearchParams({ client_id: own.clientId, redirect_uri: 'https://console.example/other', response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`)
    expect(elsewhere.status).toBe(400)
    expect(elsewhere.headers.location).toBeUndefined()

    await removeClient(t.app.ctx, own.clientId)
    expect((await injectFetch(t)(as.userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401)
    await expect(removeClient(t.app.ctx, own.clientId)).rejects.toMatchObject({ code: 'not_found' })
    await expect(addClient(t.app.ctx, { name: 'Bad', redirectUris: ['http://example.com/cb'], firstParty: false })).rejects.toMatchObject({ code: 'invalid_request' })
    await expect(addClient(t.app.ctx, { name: 'Bad', redirectUris: ['https://example.com/cb#frag'], firstParty: false })).rejects.toMatchObject({ code: 'invalid_request' })
  })
})
