/**
 * The OpenID Connect relying party shared by "Sign in with Google" (signin/google.ts) and team
 * OIDC connections (sso/oidc.ts saves them, signin/sso-oidc.ts signs in); a top-level module so
 * both folders use it without an import cycle: discovery through openid-client 6 over identityProviderFetch
 * (HTTPS only, SSO_CA_FILE trusted), cached per issuer + client, and the code redemption with
 * every check openid-client makes (state, nonce, PKCE, issuer incl. RFC 9207 `iss`, audience,
 * signature). Callers map the two failure kinds to their own error codes.
 */
import * as oidc from 'openid-client'
import { MINUTE_MS } from './clock.ts'
import type { AppContext } from './context.ts'
import { identityProviderFetch } from './identity-provider-fetch.ts'

/** Discovery is fetched again after this (keys follow the library's own JWKS cache). */
export const DISCOVERY_TTL_MS = 60 * MINUTE_MS

export interface OidcClientSettings {
  issuer: string | URL
  clientId: string
  clientSecret: string
  redirectUri: string
}

type CacheEntry = { config: Promise<oidc.Configuration>; fetchedAt: number; secret: string }
const discoveries = new WeakMap<AppContext, Map<string, CacheEntry>>()

/** Why an OIDC exchange failed: the IdP (or the person's browser) gave a refused answer, or the IdP could not be reached. */
export class OidcFailure extends Error {
  readonly kind: 'refused' | 'unreachable'
  constructor(kind: 'refused' | 'unreachable', cause: unknown) {
    super(kind === 'refused' ? 'OpenID Connect answer refused' : 'OpenID provider unreachable', { cause })
    this.kind = kind
  }
}

/**
 * The client for an issuer, its discovery document cached for an hour. Discovery checks that the
 * document names exactly this issuer. A failed discovery is not kept: the next call asks again.
 * Throws OidcFailure('unreachable') when discovery fails.
 */
export async function oidcClient(ctx: AppContext, settings: OidcClientSettings): Promise<oidc.Configuration> {
  let cache = discoveries.get(ctx)
  if (!cache) {
    cache = new Map()
    discoveries.set(ctx, cache)
  }
  const key = `${String(settings.issuer)}\n${settings.clientId}\n${settings.redirectUri}`
  const now = ctx.clock.now()
  let entry = cache.get(key)
  // A changed secret (the Admin replaced it) builds a new client at once.
  if (!entry || entry.secret !== settings.clientSecret || now - entry.fetchedAt > DISCOVERY_TTL_MS || now < entry.fetchedAt) {
    const config = oidc.discovery(
      new URL(settings.issuer),
      settings.clientId,
      { redirect_uris: [settings.redirectUri], response_types: ['code'] },
      oidc.ClientSecretBasic(settings.clientSecret),
      { [oidc.customFetch]: identityProviderFetch(ctx) },
    )
    const created: CacheEntry = { config, fetchedAt: now, secret: settings.clientSecret }
    entry = created
    cache.set(key, created)
    config.catch(() => {
      if (cache.get(key) === created) cache.delete(key)
    })
  }
  try {
    return await entry.config
  } catch (err) {
    throw new OidcFailure('unreachable', err)
  }
}

/** Fetches and validates an issuer's discovery document now (a connection being saved), bypassing the cache. */
export async function checkDiscovery(ctx: AppContext, issuer: string): Promise<void> {
  try {
    const config = await oidc.discovery(new URL(issuer), 'discovery-check', undefined, oidc.None(), { [oidc.customFetch]: identityProviderFetch(ctx) })
    const metadata = config.serverMetadata()
    if (!metadata.authorization_endpoint || !metadata.token_endpoint || !metadata.jwks_uri) throw new Error('discovery document lacks authorization_endpoint, token_endpoint or jwks_uri')
  } catch (err) {
    throw new OidcFailure('unreachable', err)
  }
}

export interface AuthorizationRequest {
  state: string
  nonce: string
  verifier: string
}

/** Fresh state, nonce and PKCE verifier for one round trip. */
export function newAuthorizationRequest(): AuthorizationRequest {
  return { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() }
}

/** The IdP's authorization URL (code flow, PKCE S256, state, nonce). */
export async function authorizationUrl(config: oidc.Configuration, input: AuthorizationRequest & { redirectUri: string; scope: string; extra?: Record<string, string> }): Promise<URL> {
  return oidc.buildAuthorizationUrl(config, {
    redirect_uri: input.redirectUri,
    scope: input.scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(input.verifier),
    code_challenge_method: 'S256',
    state: input.state,
    nonce: input.nonce,
    ...input.extra,
  })
}

/**
 * Exchanges the code at the callback URL and answers the ID token's claims. openid-client's own
 * refusals (bad state, reused code, wrong issuer, an error answer) carry an OAUTH_ code →
 * OidcFailure('refused'); anything else is the network or the IdP being down → 'unreachable'.
 */
export async function redeemAuthorizationCode(config: oidc.Configuration, callbackUrl: URL, request: AuthorizationRequest): Promise<oidc.IDToken> {
  let claims: oidc.IDToken | undefined
  try {
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: request.verifier, expectedNonce: request.nonce, expectedState: request.state, idTokenExpected: true })
    claims = tokens.claims()
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string' && code.startsWith('OAUTH_')) throw new OidcFailure('refused', err)
    throw new OidcFailure('unreachable', err)
  }
  if (!claims) throw new OidcFailure('refused', new Error('no ID token'))
  return claims
}
