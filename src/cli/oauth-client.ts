/**
 * The OAuth 2.0 / OpenID Connect side of the `latchkey` CLI, on oauth4webapi: discovery, the
 * authorization code flow with PKCE (RFC 7636) for a native app (RFC 8252), the device
 * authorization grant (RFC 8628), refresh (rotated on every use), userinfo and revocation
 * (RFC 7009). Every failure becomes a CliError a person can act on.
 */
import * as oauth from 'oauth4webapi'
import { CliError } from './errors.ts'

/** The public client Latchkey registers for its own CLI (no secret: a native app cannot keep one). */
export const CLI_CLIENT_ID = 'latchkey-cli'
export const CLI_SCOPES = 'openid profile email offline_access'
/** How long one HTTP request to the server may take before we call it unreachable (LATCHKEY_REQUEST_TIMEOUT_SECONDS shortens it, for tests). */
function requestTimeoutMs(): number {
  const seconds = Number(process.env.LATCHKEY_REQUEST_TIMEOUT_SECONDS)
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 15) * 1000 : 15_000
}

const CLIENT: oauth.Client = { client_id: CLI_CLIENT_ID }
const CLIENT_AUTH = oauth.None()

export interface Server {
  /** What the person typed, normalised: scheme, host, port and path without a trailing slash. */
  url: string
  as: oauth.AuthorizationServer
}

export interface Tokens {
  accessToken: string
  accessTokenExpiresAt: number | null
  refreshToken: string | null
  scope: string | null
  /** The subject from the validated ID token, when one came with the response. */
  sub: string | null
}

export interface UserInfo {
  sub: string
  username: string | null
  email: string | null
  name: string | null
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname)
}

/**
 * Accepts "https://id.example.com" or "id.example.com" (https assumed). Plain http only for a
 * server on this machine: tokens must not cross a network in the clear.
 */
export function normalizeServerUrl(input: string): string {
  const text = input.trim()
  let url: URL
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`)
  } catch {
    throw new CliError('usage', `"${input}" is not a server URL. Give one like https://id.example.com.`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CliError('usage', `"${input}" is not an http(s) URL.`)
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new CliError('usage', `The CLI talks to Latchkey servers over HTTPS only (plain http is allowed for localhost): use https://${url.host}${url.pathname === '/' ? '' : url.pathname}.`)
  }
  if (url.username || url.password || url.search || url.hash) throw new CliError('usage', `Give the server URL without credentials, query or fragment: ${url.origin}${url.pathname}`)
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

function requestOptions(server: string) {
  const insecure = new URL(server).protocol === 'http:'
  return { [oauth.allowInsecureRequests]: insecure, signal: () => AbortSignal.timeout(requestTimeoutMs()) }
}

/** Why a fetch failed, in words: "connection refused", "the name could not be resolved", ... */
function networkReason(err: unknown): string | null {
  if (err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    const seconds = requestTimeoutMs() / 1000
    return `no answer within ${seconds} second${seconds === 1 ? '' : 's'}`
  }
  if (!(err instanceof TypeError)) return null
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return 'connection refused'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name could not be resolved'
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'the connection timed out'
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'the connection was closed'
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to the host'
    case 'CERT_HAS_EXPIRED':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `its TLS certificate is not trusted (${cause.code})`
  }
  if (err.message === 'fetch failed') return cause?.message ?? 'the request failed'
  return null
}

export function isUnreachable(err: unknown): boolean {
  return err instanceof CliError && err.code === 'unreachable'
}

/** Runs one request; a network failure becomes "Could not reach the Latchkey server at URL (reason)". */
async function call<T>(server: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    const reason = networkReason(err)
    if (reason) throw new CliError('unreachable', `Could not reach the Latchkey server at ${server} (${reason}).`, { cause: err })
    throw err
  }
}

export async function discover(serverInput: string): Promise<Server> {
  const url = normalizeServerUrl(serverInput)
  const issuer = new URL(url)
  const as = await call(url, async () => {
    const response = await oauth.discoveryRequest(issuer, requestOptions(url))
    try {
      return await oauth.processDiscoveryResponse(issuer, response)
    } catch (err) {
      if (err instanceof oauth.OperationProcessingError && err.code === oauth.JSON_ATTRIBUTE_COMPARISON) {
        const claimed = (err.cause as { body?: { issuer?: string } } | undefined)?.body?.issuer
        throw new CliError('usage', `The server at ${url} calls itself ${claimed ?? 'something else'}. Sign in with --server ${claimed ?? '<its public URL>'}.`, { cause: err })
      }
      throw new CliError('unreachable', `${url} does not look like a Latchkey server: ${url}/.well-known/openid-configuration did not answer as expected (HTTP ${response.status}).`, { cause: err })
    }
  })
  return { url, as }
}

function tokensFrom(result: oauth.TokenEndpointResponse, previousRefreshToken: string | null = null): Tokens {
  const claims = oauth.getValidatedIdTokenClaims(result)
  return {
    accessToken: result.access_token,
    accessTokenExpiresAt: typeof result.expires_in === 'number' ? Date.now() + result.expires_in * 1000 : null,
    // A server that does not rotate keeps the old one valid; Latchkey always sends a new one.
    refreshToken: result.refresh_token ?? previousRefreshToken,
    scope: result.scope ?? null,
    sub: claims?.sub ?? null,
  }
}

export interface AuthorizationRequest {
  url: URL
  state: string
  codeVerifier: string
  redirectUri: string
}

/** The browser URL for the authorization code flow, with a fresh state and PKCE verifier. */
export async function authorizationRequest(server: Server, redirectUri: string, deviceName: string): Promise<AuthorizationRequest> {
  if (!server.as.authorization_endpoint) throw new CliError('unreachable', `The server at ${server.url} has no authorization endpoint.`)
  const codeVerifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const url = new URL(server.as.authorization_endpoint)
  url.searchParams.set('client_id', CLI_CLIENT_ID)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('redirect_uri', redirectUri)
  url.searchParams.set('scope', CLI_SCOPES)
  url.searchParams.set('state', state)
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier))
  url.searchParams.set('code_challenge_method', 'S256')
  // OpenID Connect issues a refresh token for offline_access only with prompt=consent (Core 1.0 §11).
  url.searchParams.set('prompt', 'consent')
  url.searchParams.set('device_name', deviceName)
  return { url, state, codeVerifier, redirectUri }
}

/** Turns an error from the authorization server (in a redirect or a token response) into a CliError. */
export function authorizationError(server: string, error: string, description: string | undefined): CliError {
  // Descriptions usually end with a full stop already; ours adds one.
  const said = description ? `: ${description.trim().replace(/\.+$/, '')}` : ''
  if (error === 'access_denied') return new CliError('access_denied', `Sign-in was not completed${said || ' (it was skipped or denied in the browser)'}.`)
  if (error === 'expired_token') return new CliError('timed_out', `The sign-in request expired${said}. Run \`latchkey login\` again.`)
  return new CliError('access_denied', `The server at ${server} refused the sign-in (${error})${said}.`)
}

/** Checks the redirect's parameters (state, iss, error) and exchanges the code with the PKCE verifier. */
export async function exchangeCode(server: Server, request: AuthorizationRequest, callback: URL): Promise<Tokens> {
  let params: URLSearchParams
  try {
    params = oauth.validateAuthResponse(server.as, CLIENT, callback, request.state)
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError) throw authorizationError(server.url, err.error, err.error_description)
    throw new CliError('access_denied', `The browser came back with an answer that does not belong to this sign-in (${(err as Error).message}).`, { cause: err })
  }
  return call(server.url, async () => {
    const response = await oauth.authorizationCodeGrantRequest(server.as, CLIENT, CLIENT_AUTH, params, request.redirectUri, request.codeVerifier, requestOptions(server.url))
    try {
      return tokensFrom(await oauth.processAuthorizationCodeResponse(server.as, CLIENT, response, { requireIdToken: true }))
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError) throw authorizationError(server.url, err.error, err.error_description)
      throw err
    }
  })
}

export interface DeviceAuthorization {
  deviceCode: string
  userCode: string
  verificationUri: string
  verificationUriComplete: string | null
  expiresInSeconds: number
  intervalSeconds: number
}

export async function startDeviceAuthorization(server: Server, deviceName: string): Promise<DeviceAuthorization> {
  if (!server.as.device_authorization_endpoint) throw new CliError('unreachable', `The server at ${server.url} does not offer device sign-in. Run \`latchkey login\` without --device.`)
  return call(server.url, async () => {
    const response = await oauth.deviceAuthorizationRequest(server.as, CLIENT, CLIENT_AUTH, { scope: CLI_SCOPES, device_name: deviceName }, requestOptions(server.url))
    try {
      const result = await oauth.processDeviceAuthorizationResponse(server.as, CLIENT, response)
      return {
        deviceCode: result.device_code,
        userCode: result.user_code,
        verificationUri: result.verification_uri,
        verificationUriComplete: result.verification_uri_complete ?? null,
        expiresInSeconds: result.expires_in,
        intervalSeconds: result.interval ?? 5,
      }
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError) throw authorizationError(server.url, err.error, err.error_description)
      throw err
    }
  })
}

/** One poll of the token endpoint: tokens, or "pending" / "slow_down" to wait and ask again. */
export async function pollDeviceAuthorization(server: Server, deviceCode: string): Promise<Tokens | 'pending' | 'slow_down'> {
  return call(server.url, async () => {
    const response = await oauth.deviceCodeGrantRequest(server.as, CLIENT, CLIENT_AUTH, deviceCode, requestOptions(server.url))
    try {
      return tokensFrom(await oauth.processDeviceCodeResponse(server.as, CLIENT, response))
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError) {
        if (err.error === 'authorization_pending') return 'pending'
        if (err.error === 'slow_down') return 'slow_down'
        throw authorizationError(server.url, err.error, err.error_description)
      }
      throw err
    }
  })
}

/** The server said the refresh token is no good: revoked, expired, or reused after rotation. */
export class SessionEndedError extends Error {
  constructor(description: string | undefined) {
    super(description ?? 'invalid_grant')
    this.name = 'SessionEndedError'
  }
}

export async function refresh(server: Server, refreshToken: string): Promise<Tokens> {
  return call(server.url, async () => {
    const response = await oauth.refreshTokenGrantRequest(server.as, CLIENT, CLIENT_AUTH, refreshToken, requestOptions(server.url))
    try {
      return tokensFrom(await oauth.processRefreshTokenResponse(server.as, CLIENT, response), refreshToken)
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError && err.error === 'invalid_grant') throw new SessionEndedError(err.error_description)
      if (err instanceof oauth.ResponseBodyError) throw new CliError('failure', `The server at ${server.url} refused to refresh the session (${err.error}${err.error_description ? `: ${err.error_description}` : ''}).`)
      throw err
    }
  })
}

/** userinfo with the access token; null when the token is not (or no longer) accepted. */
export async function userInfo(server: Server, accessToken: string, expectedSub: string | null): Promise<UserInfo | null> {
  if (!server.as.userinfo_endpoint) throw new CliError('unreachable', `The server at ${server.url} has no userinfo endpoint.`)
  return call(server.url, async () => {
    const response = await oauth.userInfoRequest(server.as, CLIENT, accessToken, requestOptions(server.url))
    if (response.status === 401) return null
    try {
      const claims = await oauth.processUserInfoResponse(server.as, CLIENT, expectedSub ?? oauth.skipSubjectCheck, response)
      const text = (value: unknown) => (typeof value === 'string' && value ? value : null)
      return { sub: claims.sub, username: text(claims.preferred_username), email: text(claims.email), name: text(claims.name) }
    } catch (err) {
      if (err instanceof oauth.WWWAuthenticateChallengeError) return null
      throw err
    }
  })
}

/** RFC 7009: the server answers 200 even for a token it no longer knows. */
export async function revoke(server: Server, token: string, hint: 'refresh_token' | 'access_token'): Promise<void> {
  if (!server.as.revocation_endpoint) throw new CliError('failure', `The server at ${server.url} has no revocation endpoint.`)
  await call(server.url, async () => {
    const response = await oauth.revocationRequest(server.as, CLIENT, CLIENT_AUTH, token, { ...requestOptions(server.url), additionalParameters: { token_type_hint: hint } })
    try {
      await oauth.processRevocationResponse(response)
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError) throw new CliError('failure', `The server at ${server.url} did not revoke the token (${err.error}${err.error_description ? `: ${err.error_description}` : ''}).`)
      throw err
    }
  })
}
