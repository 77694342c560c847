/**
 * Test-only building blocks for the OAuth suites. The app's side is oauth4webapi, an
 * independent strict client (it validates discovery, issuer, state, iss, PKCE, nonce, aud,
 * token responses); its HTTP goes to the real server through Fastify's inject. The browser's
 * side is a TestClient with its cookie jar driving the same JSON API the page uses.
 */
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto'
import { expect } from 'vitest'
import * as oauth from 'oauth4webapi'
import { PUBLIC_URL, type TestApp, type TestClient } from './app.ts'
import type { InteractionDone, InteractionView } from '../../src/oauth/schemas.ts'

export const CLI = 'latchkey-cli'

/** fetch() for oauth4webapi, answered by the app in-process. */
export function injectFetch(t: TestApp, remoteAddress = '203.0.113.9') {
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
    const headers: Record<string, string> = {}
    new Headers(init?.headers).forEach((value, key) => (headers[key] = value))
    // Sent to the host in the URL, as fetch would (the server answers at PUBLIC_URL only).
    headers.host = url.host
    let payload: string | undefined
    if (init?.body !== undefined && init.body !== null) payload = typeof init.body === 'string' ? init.body : init.body instanceof URLSearchParams ? init.body.toString() : String(init.body)
    const res = await t.app.server.inject({ method: (init?.method ?? 'GET') as 'GET', url: url.pathname + url.search, headers, payload, remoteAddress })
    const out = new Headers()
    for (const [k, v] of Object.entries(res.headers)) {
      if (v === undefined) continue
      for (const one of Array.isArray(v) ? v : [String(v)]) out.append(k, one)
    }
    return new Response([204, 304].includes(res.statusCode) ? null : res.rawPayload, { status: res.statusCode, headers: out })
  }
}

export function options(t: TestApp) {
  return { [oauth.customFetch]: injectFetch(t), [oauth.allowInsecureRequests]: true } as const
}

export async function discover(t: TestApp): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(PUBLIC_URL)
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...options(t), algorithm: 'oidc' }))
}

export interface PendingAuthorization {
  uid: string
  state: string
  nonce: string
  verifier: string
  redirectUri: string
}

/** The app opens the browser at the authorization endpoint; the browser lands on our page. */
export async function startAuthorization(
  t: TestApp,
  as: oauth.AuthorizationServer,
  browser: TestClient,
  opts: { clientId?: string; redirectUri?: string; scope?: string; deviceName?: string; extra?: Record<string, string> } = {},
): Promise<PendingAuthorization> {
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const nonce = oauth.generateRandomNonce()
  const redirectUri = opts.redirectUri ?? `http://127.0.0.1:${40000 + Math.floor(Math.random() * 20000)}/callback`
  const url = new URL(as.authorization_endpoint!)
  url.searchParams.set('client_id', opts.clientId ?? CLI)
  url.searchParams.set('redirect_uri', redirectUri)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('scope', opts.scope ?? 'openid profile email offline_access')
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier))
  url.searchParams.set('code_challenge_method', 'S256')
  url.searchParams.set('state', state)
  url.searchParams.set('nonce', nonce)
  if (opts.deviceName) url.searchParams.set('device_name', opts.deviceName)
  for (const [k, v] of Object.entries(opts.extra ?? {})) url.searchParams.set(k, v)
  const res = await browser.get(url.pathname + url.search)
  expect(res.status, JSON.stringify(res.body)).toBe(303)
  const location = String(res.headers.location)
  const match = /^\/app-signin\/([A-Za-z0-9_-]+)$/.exec(location)
  expect(match, location).not.toBeNull()
  return { uid: match![1], state, nonce, verifier, redirectUri }
}

/** Follows the page's `returnTo` in the browser: back through the provider to the app's redirect. */
export async function followToApp(browser: TestClient, returnTo: string): Promise<URL> {
  const url = new URL(returnTo)
  const res = await browser.get(url.pathname + url.search)
  expect(res.status, typeof res.body === 'string' ? res.body.slice(0, 500) : JSON.stringify(res.body)).toBe(303)
  return new URL(String(res.headers.location))
}

/** The browser approves on the page (signed in already) and comes back with the app's redirect. */
export async function approve(browser: TestClient, uid: string, body: Record<string, unknown> = {}) {
  const seen = await browser.get<InteractionView>(`/api/v1/oauth/interactions/${uid}`)
  expect(seen.status, JSON.stringify(seen.body)).toBe(200)
  const done = await browser.post<InteractionDone>(`/api/v1/oauth/interactions/${uid}/complete`, body)
  expect(done.status, JSON.stringify(done.body)).toBe(200)
  return { view: seen.body, done: done.body, redirect: await followToApp(browser, done.body.returnTo) }
}

/** A whole sign-in of the CLI: authorize, approve, exchange the code. */
export async function signInApp(t: TestApp, as: oauth.AuthorizationServer, browser: TestClient, opts: { deviceName?: string } = {}) {
  const pending = await startAuthorization(t, as, browser, { deviceName: opts.deviceName })
  const { redirect, done } = await approve(browser, pending.uid)
  const client: oauth.Client = { client_id: CLI }
  const params = oauth.validateAuthResponse(as, client, redirect, pending.state)
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, pending.redirectUri, pending.verifier, options(t))
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: pending.nonce, requireIdToken: true })
  return { tokens, pending, signedOut: done.signedOut, params }
}

/** Verifies a JWS (the ID token) against the published JWKS with node:crypto alone. */
export async function verifyWithJwks(t: TestApp, as: oauth.AuthorizationServer, jwt: string): Promise<{ kid: string; payload: Record<string, unknown> }> {
  const [h, p, s] = jwt.split('.')
  const header = JSON.parse(Buffer.from(h, 'base64url').toString())
  const jwks = await (await injectFetch(t)(as.jwks_uri!)).json() as { keys: (JsonWebKey & { kid: string })[] }
  const jwk = jwks.keys.find((k) => k.kid === header.kid)
  if (!jwk) throw new Error(`kid ${header.kid} is not in the JWKS`)
  expect(header.alg).toBe('RS256')
  const key = createPublicKey({ key: jwk, format: 'jwk' })
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))
  if (!ok) throw new Error('signature does not verify')
  return { kid: header.kid, payload: JSON.parse(Buffer.from(p, 'base64url').toString()) }
}

export function cliClient(): oauth.Client {
  return { client_id: CLI }
}
