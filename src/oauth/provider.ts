/**
 * Latchkey as an OAuth 2.0 / OpenID Connect provider: oidc-provider (a certified
 * implementation) does the protocol; this file configures it and mounts it on Fastify.
 *
 * - Issuer = PUBLIC_URL; discovery at /.well-known/openid-configuration, everything else
 *   under /oauth/* (auth, token, device, jwks, userinfo, revoke, logout).
 * - Authorization code with PKCE (S256 only) for every client; the device authorization
 *   grant for `latchkey-cli`; no implicit flow, no password grant.
 * - Refresh tokens rotate on every use; presenting a rotated one revokes the whole grant.
 * - Every authorization goes through Latchkey's own page (/app-signin/:uid), never a silent
 *   reuse of an earlier browser sign-in: each app sign-in is seen and recorded.
 * - Signing keys come from the database; a running server re-reads them every
 *   KEY_REFRESH_MS and rebuilds the provider when they changed (`latchkey keys rotate`).
 */
import { routeProviderNotices } from './provider-notices.ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type Provider from 'oidc-provider'
import type { Configuration, interactionPolicy as InteractionPolicy, KoaContextWithOIDC } from 'oidc-provider'
import { findAccountById } from '../accounts/queries.ts'
import { isDatabaseUnavailable } from '../db/errors.ts'
import { AppError } from '../errors.ts'
import { SECOND_MS } from '../clock.ts'
import type { AppContext } from '../context.ts'
import { hashToken, constantTimeEqual } from '../crypto.ts'
import { serverSecret } from '../recovery/captcha.ts'
import { createAdapterClass, sweepOAuth } from './adapter.ts'
import { devicePollPacing } from './device-polling.ts'
import { CLI_CLIENT_ID, cliClientMetadata, isAppSessionClient, isLoopbackRedirect, SCOPES } from './clients.ts'
import { ensureSigningKey, ID_TOKEN_TTL_SECONDS, keysFingerprint, loadJwks, pruneRetiredKeys } from './keys.ts'
import { logoutSource, postLogoutSuccessSource, renderError, successSource, userCodeConfirmSource, userCodeInputSource } from './pages.ts'

export const KEY_REFRESH_MS = 30 * SECOND_MS
const SWEEP_MS = 10 * 60 * SECOND_MS
/** SPEC §3: an app's sign-in must complete within 5 minutes (checked with ctx.clock in interactions.ts). */
export const APP_SIGNIN_WINDOW_SECONDS = 5 * 60
/** oidc-provider keeps the request a while longer, so a late answer still reaches the app as an error redirect. */
const INTERACTION_TTL_SECONDS = 30 * 60
export const APP_SESSION_DAYS = 30
export const REFRESH_TOKEN_TTL_SECONDS = APP_SESSION_DAYS * 24 * 3600
/** The cookie that binds an interaction to the browser that started it, for the JSON API. */
export const INTERACTION_COOKIE = 'latchkey_oauth_request'

export const OAUTH_ROUTES = {
  authorization: '/oauth/auth',
  token: '/oauth/token',
  jwks: '/oauth/jwks',
  userinfo: '/oauth/userinfo',
  revocation: '/oauth/revoke',
  end_session: '/oauth/logout',
  code_verification: '/oauth/device',
  device_authorization: '/oauth/device/auth',
  introspection: '/oauth/introspect',
  pushed_authorization_request: '/oauth/par',
  registration: '/oauth/register',
  backchannel_authentication: '/oauth/backchannel',
  challenge: '/oauth/challenge',
  credential: '/oauth/credential',
}

/**
 * The endpoints apps call, as opposed to pages a person sees: OAuth client libraries parse their
 * errors as `{"error": "<code>", "error_description": ...}` (RFC 6749 §5.2), so a database outage
 * is told in that shape there (RFC 6749's `temporarily_unavailable`), and in Latchkey's catalogued
 * JSON (`service_unavailable`) everywhere else. Both with 503 and Retry-After, never a 500.
 */
const APP_ENDPOINTS = new Set<string>([
  OAUTH_ROUTES.token, OAUTH_ROUTES.revocation, OAUTH_ROUTES.introspection, OAUTH_ROUTES.device_authorization,
  OAUTH_ROUTES.userinfo, OAUTH_ROUTES.pushed_authorization_request, OAUTH_ROUTES.registration,
  OAUTH_ROUTES.backchannel_authentication, OAUTH_ROUTES.challenge, OAUTH_ROUTES.credential,
])
const DATABASE_UNAVAILABLE = 'The database is not reachable right now. Try again shortly.'

export function databaseUnavailableAnswer(path: string): unknown {
  return APP_ENDPOINTS.has(path)
    ? { error: 'temporarily_unavailable', error_description: DATABASE_UNAVAILABLE }
    : new AppError('service_unavailable', { message: DATABASE_UNAVAILABLE }).toJSON()
}

/** Marks a Koa request whose failure oidc-provider reported as `server_error` but was the database's absence. */
const DATABASE_WAS_UNAVAILABLE = 'latchkeyDatabaseUnavailable'

/**
 * First of the provider's middleware: oidc-provider answers any unexpected error 500
 * `server_error` (a JSON body or its error page), and an error thrown past its routes (Latchkey's
 * own middleware) would be Koa's plain-text 500. An unreachable database is neither a bug nor the
 * client's fault: answer 503 instead, as the rest of the API does (http/errors.ts).
 */
function databaseOutages(log: AppContext['log']) {
  return async function answerDatabaseOutages(koa: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> {
    let unavailable: boolean
    try {
      await next()
      unavailable = koa.state[DATABASE_WAS_UNAVAILABLE] === true
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err
      log.warn({ err: (err as Error).message, route: koa.oidc?.route }, 'database unreachable')
      unavailable = true
    }
    if (!unavailable) return
    koa.status = 503
    koa.set('Retry-After', '1')
    koa.set('Cache-Control', 'no-store')
    koa.body = databaseUnavailableAnswer(koa.path)
  }
}

export function interactionPath(uid: string): string {
  return `/app-signin/${encodeURIComponent(uid)}`
}

function policy({ Check, base }: typeof InteractionPolicy) {
  const prompts = base()
  // Latchkey asks every time: an earlier sign-in in this browser never completes an app's
  // request silently. Once our page answered (ctx.oidc.result), no further prompt.
  prompts.get('login')!.checks.add(
    new Check('latchkey_confirm', 'Latchkey confirms every app sign-in', (ctx) => (ctx.oidc.result ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT)),
    0,
  )
  return prompts
}

async function buildProvider(ctx: AppContext, jwks: Configuration['jwks'], cookieKeys: string[]): Promise<Provider> {
  // oidc-provider (with Koa and jose, ~10 MB of heap) loads when an app first signs in, not
  // in every server that may never see one.
  const { default: Provider, interactionPolicy } = await import('oidc-provider')
  const https = ctx.config.publicUrl.protocol === 'https:'
  const configuration: Configuration = {
    adapter: createAdapterClass(ctx),
    clients: [cliClientMetadata()],
    jwks,
    cookies: {
      keys: cookieKeys,
      names: { session: 'latchkey_oidc', interaction: 'latchkey_oidc_interaction', resume: 'latchkey_oidc_resume' },
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    scopes: [...SCOPES],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    async findAccount(_ctx, sub) {
      const account = await findAccountById(ctx.db, sub)
      if (!account || account.status !== 'active') return undefined
      return {
        accountId: account.id,
        async claims() {
          return {
            sub: account.id,
            preferred_username: account.username,
            name: account.display_name || account.username,
            email: account.email,
            email_verified: account.email_confirmed_at !== null,
          }
        },
      }
    },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: { enabled: true, charset: 'base-20', mask: '****-****', userCodeInputSource, userCodeConfirmSource, successSource },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      introspection: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      resourceIndicators: { enabled: false },
      dPoP: { enabled: false },
      registration: { enabled: false },
      claimsParameter: { enabled: false },
    },
    // PKCE for everyone (OAuth 2.1), and oidc-provider accepts only S256: "plain" is refused.
    pkce: { required: () => true },
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    enabledJWA: { idTokenSigningAlgValues: ['RS256'], userinfoSigningAlgValues: ['RS256'] },
    extraParams: ['device_name'],
    allowOmittingSingleRegisteredRedirectUri: false,
    clientBasedCORS: () => false,
    // Refresh tokens for app sign-ins even without offline_access (they are the app's session).
    async issueRefreshToken(_ctx, client, code) {
      return client.grantTypeAllowed('refresh_token') && (code.scopes.has('offline_access') || isAppSessionClient(client.clientId))
    },
    rotateRefreshToken: true,
    // App tokens belong to their Latchkey app session, not to oidc-provider's browser session.
    expiresWithSession: () => false,
    // Only the grant our page just made: never one found through an earlier browser session.
    async loadExistingGrant(koa) {
      const grantId = koa.oidc.result?.consent?.grantId
      return grantId ? koa.oidc.provider.Grant.find(grantId) : undefined
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: ID_TOKEN_TTL_SECONDS,
      DeviceCode: APP_SIGNIN_WINDOW_SECONDS,
      RefreshToken: REFRESH_TOKEN_TTL_SECONDS,
      Grant: REFRESH_TOKEN_TTL_SECONDS,
      Interaction: INTERACTION_TTL_SECONDS,
      Session: 24 * 3600,
    },
    interactions: {
      policy: policy(interactionPolicy),
      async url(koa, interaction) {
        // Binds the JSON API for this request to the browser that started it (path-scoped,
        // so several requests in one browser do not overwrite each other).
        koa.cookies.set(INTERACTION_COOKIE, interaction.uid, {
          path: `/api/v1/oauth/interactions/${interaction.uid}`,
          httpOnly: true,
          sameSite: 'lax',
          signed: false,
          secure: https,
          overwrite: true,
          maxAge: INTERACTION_TTL_SECONDS * 1000,
        })
        return interactionPath(interaction.uid)
      },
    },
    routes: OAUTH_ROUTES,
    renderError,
  }
  // Its console notices become JSON log lines like every other line of the server.
  routeProviderNotices(ctx.log)
  const provider = new Provider(ctx.config.publicUrl.origin, configuration)
  // Requests reach Koa through Fastify, which already decided the client's address and scheme.
  provider.proxy = true
  // In this order: the first one used wraps the ones after it.
  provider.use(databaseOutages(ctx.log) as Parameters<Provider['use']>[0])
  provider.use(devicePollPacing(ctx) as Parameters<Provider['use']>[0])

  // RFC 8252 §7.3: the CLI's loopback redirect may use any port and any path.
  const client = provider.Client.prototype as unknown as {
    redirectUriAllowed(this: { clientId: string }, value: string): boolean
    compareClientSecret(this: { clientSecret?: string }, actual: string): boolean
  }
  const redirectUriAllowed = client.redirectUriAllowed
  client.redirectUriAllowed = function (this: { clientId: string }, value: string) {
    if (this.clientId === CLI_CLIENT_ID) return isLoopbackRedirect(value)
    return redirectUriAllowed.call(this, value)
  }
  // Registered clients' secrets are stored as SHA-256 hashes (see clients.ts).
  client.compareClientSecret = function (this: { clientSecret?: string }, actual: string) {
    return typeof this.clientSecret === 'string' && typeof actual === 'string' && constantTimeEqual(this.clientSecret, hashToken(actual))
  }

  // The device pages' error handler puts a fresh form token on the browser's oidc-provider
  // session after the session step has finished; when the request brought no session (no
  // cookie, or one that expired), that session was never saved, and oidc-provider's final
  // persist() threw, turning a cookie-less POST /oauth/device into a plain-text 500. A
  // session no cookie refers to has nothing worth keeping: skip it, and the page says to
  // start again (pages.ts).
  const session = provider.Session.prototype as unknown as { persist(this: { exp?: number }): Promise<unknown> }
  const persist = session.persist
  session.persist = async function (this: { exp?: number }) {
    if (typeof this.exp !== 'number') return undefined
    return persist.call(this)
  }

  // Errors are logged by kind only: never a token, code or secret.
  for (const event of ['server_error', 'grant.error', 'authorization.error', 'backchannel.error', 'jwks.error', 'userinfo.error', 'revocation.error', 'end_session.error', 'code_verification.error', 'device_authorization.error']) {
    ;(provider as unknown as { on(e: string, f: (...args: never[]) => void): void }).on(event, (koa: KoaContextWithOIDC, err: Error & { error?: string; error_description?: string; status?: number }) => {
      if (event === 'server_error' && isDatabaseUnavailable(err)) {
        // Answered 503 by databaseOutages once oidc-provider's error handler is done.
        koa.state[DATABASE_WAS_UNAVAILABLE] = true
        ctx.log.warn({ err: err.message, route: koa?.oidc?.route }, 'database unreachable')
        return
      }
      const level = event === 'server_error' || (err.status ?? 500) >= 500 ? 'error' : 'info'
      ctx.log[level]({ event, route: koa?.oidc?.route, client: koa?.oidc?.client?.clientId, error: err.error ?? err.name, description: err.error_description, ...(level === 'error' ? { stack: err.stack } : {}) }, 'oauth request failed')
    })
  }
  return provider
}

export interface OAuthService {
  /** The provider, built at the first use (an app's first request after start). */
  provider(): Promise<Provider>
  /** Re-reads the signing keys; rebuilds the provider if they changed. True if rebuilt. */
  refreshKeys(): Promise<boolean>
  close(): void
}

export async function createOAuthService(ctx: AppContext): Promise<OAuthService> {
  // The signing key and cookie key exist from the first start (cheap when they already do);
  // the provider itself is built on demand.
  await ensureSigningKey(ctx)
  const cookieKeys = [await serverSecret(ctx.db, 'oidc_cookie_key', ctx.clock.now())]
  let current: Provider | undefined
  let fingerprint: string | undefined
  let building: Promise<Provider> | null = null
  let refreshing: Promise<boolean> | null = null
  let timer: NodeJS.Timeout | undefined
  let closed = false

  async function build(): Promise<Provider> {
    const loaded = await loadJwks(ctx)
    current = await buildProvider(ctx, { keys: loaded.keys }, cookieKeys)
    fingerprint = loaded.fingerprint
    if (!closed && !timer) {
      timer = setInterval(() => void refreshKeys().catch((err) => ctx.log.warn({ err: err.message }, 'could not reload oauth signing keys')), KEY_REFRESH_MS)
      timer.unref()
    }
    return current
  }

  async function refresh(): Promise<boolean> {
    await pruneRetiredKeys(ctx)
    // Not built yet: the first build reads whatever keys are current then.
    if (!current) return false
    const latest = await keysFingerprint(ctx)
    if (latest === fingerprint) return false
    const loaded = await loadJwks(ctx)
    if (!loaded.keys.length) return false
    current = await buildProvider(ctx, { keys: loaded.keys }, cookieKeys)
    fingerprint = loaded.fingerprint
    ctx.log.info({ keys: fingerprint }, 'oauth signing keys reloaded')
    return true
  }
  const refreshKeys = () => (refreshing ??= refresh().finally(() => (refreshing = null)))
  const sweeper = setInterval(() => void sweepOAuth(ctx).catch((err) => ctx.log.warn({ err: err.message }, 'oauth sweep failed')), SWEEP_MS)
  sweeper.unref()
  return {
    provider: () => (current ? Promise.resolve(current) : (building ??= build().finally(() => (building = null)))),
    refreshKeys,
    close() {
      closed = true
      clearInterval(timer)
      clearInterval(sweeper)
    },
  }
}

/** Mounts oidc-provider's Koa app on /oauth/* and discovery, and returns the service. */
export async function mountProvider(app: FastifyInstance, ctx: AppContext): Promise<OAuthService> {
  const service = await createOAuthService(ctx)
  app.addHook('onClose', async () => service.close())
  const forwardedProto = ctx.config.publicUrl.protocol.slice(0, -1)
  // Koa composes its middleware on every callback() call: once per provider (keys rotated -> new provider).
  const callbacks = new WeakMap<Provider, ReturnType<Provider['callback']>>()

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    // Limits before oidc-provider sees the request (a refusal is Latchkey's JSON 429).
    if (request.method === 'POST') {
      const path = request.url.split('?')[0]
      if (path === OAUTH_ROUTES.code_verification) await ctx.limits.consume('device_code_entries_ip', request.ip)
      else if (path === OAUTH_ROUTES.token || path === OAUTH_ROUTES.device_authorization) await ctx.limits.consume('oauth_token_ip', request.ip)
    }
    const raw = request.raw
    // Koa (proxy mode) sees what Fastify established: the public scheme and host, the client IP.
    raw.headers['x-forwarded-proto'] = forwardedProto
    raw.headers['x-forwarded-host'] = ctx.config.publicUrl.host
    raw.headers['x-forwarded-for'] = request.ip
    // Built at the first use, from the keys in the database: before the reply is taken over, so
    // a database outage then is still answered (503) rather than leaving the request hanging.
    let provider: Provider
    try {
      provider = await service.provider()
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err
      request.log.warn({ err: (err as Error).message }, 'database unreachable')
      return reply.status(503).header('Retry-After', '1').header('Cache-Control', 'no-store').send(databaseUnavailableAnswer(request.url.split('?')[0]))
    }
    reply.hijack()
    const res = reply.raw
    res.setHeader('x-request-id', request.id)
    // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the device
    // and logout pages' form posts, which the Origin check (rightly) refuses.
    res.setHeader('Referrer-Policy', 'same-origin')
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('X-Frame-Options', 'DENY')
    let callback = callbacks.get(provider)
    if (!callback) callbacks.set(provider, (callback = provider.callback()))
    await callback(raw, res)
  }

  await app.register(async (scope) => {
    // oidc-provider reads the body itself (form-encoded on the token endpoint): leave the stream alone.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null))
    scope.route({ method: ['GET', 'POST', 'OPTIONS'], url: '/oauth/*', schema: { hide: true }, handler })
    scope.route({ method: ['GET', 'OPTIONS'], url: '/.well-known/openid-configuration', schema: { hide: true }, handler })
  })
  return service
}
