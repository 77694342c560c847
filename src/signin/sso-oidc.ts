/**
 * Signing in with a team's OIDC connection (SPEC §8; the connections are src/sso/oidc.ts):
 * start → the IdP (code flow, PKCE S256, state, nonce; the three ride in a sealed, HttpOnly,
 * SameSite=Lax cookie scoped to this connection's path, 10 minutes) → callback (openid-client
 * checks state, nonce, PKCE, issuer and signature) → the identity (issuer, sub) goes through
 * exactly the SAML rules (./sso-accounts.ts: verified domains, linked identity, password once,
 * JIT, join request) → the shared one-time handoff (./sso-flow.ts) → finish.
 *
 * Email: only `email_verified === true` counts; an ID token without the claim is refused too
 * (`sso_email_unverified`): a claim the IdP does not make is no verification. The team's
 * verified-domain check applies on top, as for SAML.
 */
import type { RequestMeta } from '../audit/audit.ts'
import { MINUTE_MS } from '../clock.ts'
import type { AppContext } from '../context.ts'
import { decryptSecret, encryptSecret, hashToken } from '../crypto.ts'
import type { SsoConnectionsTable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { authorizationUrl, newAuthorizationRequest, OidcFailure, oidcClient, redeemAuthorizationCode, type AuthorizationRequest } from '../oidc-client.ts'
import { isReturnPath } from '../return-path.ts'
import { connectionForSignIn } from '../sso/connections.ts'
import { markOidcTested, oidcClientSettings, oidcRedirectUri, type OidcTester } from '../sso/oidc.ts'
import type { SetupActor } from '../sso/setup-links.ts'
import { resolveSsoAccount } from './sso-accounts.ts'
import { leaveHandoff } from './sso-flow.ts'
import type { Selectable } from 'kysely'

type ConnectionRow = Selectable<SsoConnectionsTable>

export const OIDC_FLOW_LIFETIME_MS = 10 * MINUTE_MS


/** What rides in the sealed flow cookie between start and callback. */
export interface OidcFlow extends AuthorizationRequest {
  purpose: 'sso_oidc'
  connectionId: string
  returnTo: string
  /** Hash of the browser's SSO secret: the finish step happens in this browser only. */
  bindHash: string
  /** A test sign-in: who started it (changes nothing, shows the claims). */
  test: OidcTester | null
  expiresAt: number
}

async function clientFor(ctx: AppContext, connection: ConnectionRow) {
  try {
    return await oidcClient(ctx, oidcClientSettings(ctx, connection))
  } catch (err) {
    throw new AppError('sso_oidc_unavailable', { cause: err })
  }
}

/** The IdP URL to send the browser to, and the sealed flow cookie to set (path-scoped to the connection). */
export async function startOidcSignIn(
  ctx: AppContext,
  input: { connectionId: string; returnTo?: string; browserSecret: string; test?: SetupActor },
): Promise<{ url: string; flowCookie: string }> {
  const connection = await connectionForSignIn(ctx, input.connectionId, { allowDisabled: !!input.test, protocol: 'oidc' })
  if (input.returnTo !== undefined && !isReturnPath(input.returnTo)) throw new AppError('saml_relay_state_invalid')
  const config = await clientFor(ctx, connection)
  const test = input.test ? (input.test.via === 'admin' ? { via: 'admin' as const, accountId: input.test.account.id } : input.test) : null
  const flow: OidcFlow = {
    purpose: 'sso_oidc',
    ...newAuthorizationRequest(),
    connectionId: connection.id,
    returnTo: input.returnTo ?? '/',
    bindHash: hashToken(input.browserSecret),
    test,
    expiresAt: ctx.clock.now() + OIDC_FLOW_LIFETIME_MS,
  }
  const url = await authorizationUrl(config, { ...flow, redirectUri: oidcRedirectUri(ctx, connection.id), scope: 'openid email profile' })
  return { url: url.href, flowCookie: encryptSecret(ctx.secretsKey, JSON.stringify(flow)) }
}

function openFlow(ctx: AppContext, sealed: string | undefined, connectionId: string): OidcFlow {
  if (sealed) {
    try {
      const flow = JSON.parse(decryptSecret(ctx.secretsKey, sealed)) as OidcFlow
      // Bound to the connection it was started for: another connection's callback refuses it.
      if (flow.purpose === 'sso_oidc' && flow.connectionId === connectionId && typeof flow.expiresAt === 'number' && flow.expiresAt > ctx.clock.now()) return flow
    } catch {
      // Tampered, from another server key, or not ours: the same answer as expired.
    }
  }
  throw new AppError('sso_oidc_signin_expired')
}

export type OidcCallbackResult =
  | { kind: 'finish'; handoff: string }
  | { kind: 'tested'; nameId: string; email: string | null; attributes: Record<string, unknown> }

/** The IdP's answer at the callback URL, with the flow cookie: a one-time handoff to finish, or a test's claims. */
export async function receiveOidcCallback(ctx: AppContext, input: { connectionId: string; callbackUrl: URL; flowCookie: string | undefined; meta: RequestMeta }): Promise<OidcCallbackResult> {
  const flow = openFlow(ctx, input.flowCookie, input.connectionId)
  // A disabled connection's own test still comes back.
  const connection = await connectionForSignIn(ctx, input.connectionId, { allowDisabled: flow.test !== null, protocol: 'oidc' })
  const config = await clientFor(ctx, connection)
  let claims: Awaited<ReturnType<typeof redeemAuthorizationCode>>
  try {
    claims = await redeemAuthorizationCode(config, input.callbackUrl, flow)
  } catch (err) {
    if (err instanceof OidcFailure && err.kind === 'refused') {
      const cause = err.cause as { code?: unknown; message?: string }
      ctx.log.info({ err: { code: cause?.code, message: cause?.message }, connectionId: connection.id }, 'OIDC sign-in refused')
      throw new AppError('sso_oidc_signin_failed', { cause: err })
    }
    throw new AppError('sso_oidc_unavailable', { cause: err })
  }
  const email = typeof claims.email === 'string' ? claims.email : null
  if (flow.test) {
    await markOidcTested(ctx, connection, flow.test, input.meta)
    return { kind: 'tested', nameId: claims.sub, email, attributes: { ...claims } }
  }
  if (connection.enabled !== 1) throw new AppError('sso_connection_disabled')
  if (email !== null && claims.email_verified !== true) throw new AppError('sso_email_unverified')
  const outcome = await resolveSsoAccount(ctx, { connection, assertion: { nameId: claims.sub, email, attributes: { ...claims } }, meta: input.meta })
  const base = { returnTo: flow.returnTo, bindHash: flow.bindHash, subject: claims.sub }
  const handoff =
    outcome.kind === 'account'
      ? await leaveHandoff(ctx, connection, { ...base, accountId: outcome.account.id, email: outcome.account.email, kind: 'signin' })
      : await leaveHandoff(ctx, connection, { ...base, accountId: outcome.accountId, email: outcome.email, kind: 'password' })
  return { kind: 'finish', handoff }
}
