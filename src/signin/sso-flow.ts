/**
 * The SAML sign-in flow around the SP (src/sso/saml.ts), without HTTP. It lives in signin/ (not
 * sso/) because it ends in completeSignIn and linked identities, and signin/ already reads
 * sso/'s policies: sso/ never imports signin/.
 *
 *
 * start → the IdP → ACS (a cross-site form POST: it validates, decides who signs in, and leaves
 * a one-time handoff) → finish (a top-level GET on this site, where the browser's cookies are
 * seen: the session is added to the browser's accounts there, not on the cross-site POST,
 * which carries none of them).
 *
 * Login CSRF: an SP-initiated sign-in finishes only in the browser that started it (a cookie
 * set at start, its hash kept with the request). An IdP-initiated one has no such browser, so
 * it finishes only after a confirmation page posted from this site (SameSite and the Origin
 * check keep another site from posting it).
 */
import type { RequestMeta } from '../audit/audit.ts'
import { findAccountById, type Account } from '../accounts/queries.ts'
import { verifyPasswordOf } from '../accounts/reauth-password.ts'
import type { AppContext } from '../context.ts'
import { hashToken, newToken } from '../crypto.ts'
import { AppError } from '../errors.ts'
import { isReturnPath } from '../return-path.ts'
import { connectionForSignIn, markTested, type ConnectionRow } from '../sso/connections.ts'
import { consumeHandoff, readHandoff, storeHandoff } from '../sso/handoffs.ts'
import { authnRequestUrl, validateSamlResponse } from '../sso/saml.ts'
import { linkSsoIdentity, resolveSsoAccount } from './sso-accounts.ts'

const HANDOFF_TTL_MS = 5 * 60_000

/** Where the browser goes to sign in; `browserSecret` is the cookie that binds the flow to it. */
export async function startSamlSignIn(ctx: AppContext, input: { connectionId: string; returnTo?: string; test?: { account: Account }; browserSecret: string }): Promise<string> {
  const connection = await connectionForSignIn(ctx, input.connectionId, { allowDisabled: !!input.test })
  // A test is started only through the Admins' route (teamAccess 'manage_sso').
  const returnTo = input.returnTo && isReturnPath(input.returnTo) ? input.returnTo : '/'
  if (input.returnTo !== undefined && !isReturnPath(input.returnTo)) throw new AppError('saml_relay_state_invalid')
  return authnRequestUrl(ctx, connection, {
    purpose: input.test ? 'test' : 'signin',
    returnTo,
    bindHash: hashToken(input.browserSecret),
    ...(input.test ? { testerAccountId: input.test.account.id } : {}),
  })
}

export interface Handoff {
  accountId: string
  email: string
  returnTo: string
  /** null: IdP-initiated (confirmation page first). */
  bindHash: string | null
  kind: 'signin' | 'password'
  subject: string
}

export type AcsResult =
  | { kind: 'finish'; handoff: string }
  | { kind: 'tested'; connection: ConnectionRow; nameId: string; email: string | null; attributes: Record<string, unknown>; tester: Account | null }

/** The ACS: validates the response and decides who signs in; never creates a session. */
export async function receiveSamlResponse(ctx: AppContext, input: { connectionId: string; samlResponse: string; relayState: string | undefined; meta: RequestMeta }): Promise<AcsResult> {
  // A disabled connection's own test still comes back: the request says it was a test.
  const connection = await connectionForSignIn(ctx, input.connectionId, { allowDisabled: true })
  if (!input.samlResponse) throw new AppError('saml_response_invalid')
  const assertion = await validateSamlResponse(ctx, connection, input.samlResponse)
  const relayState = input.relayState ?? ''
  let returnTo: string
  let bindHash: string | null
  if (assertion.request) {
    // Ours: the RelayState we sent was the request's ID.
    if (relayState !== assertion.inResponseTo) throw new AppError('saml_relay_state_invalid')
    if (assertion.request.purpose === 'test') {
      const tester = assertion.request.testerAccountId ? ((await findAccountById(ctx.db, assertion.request.testerAccountId)) ?? null) : null
      if (tester) await markTested(ctx, { connection, account: tester, meta: input.meta, attributes: assertion.attributes })
      return { kind: 'tested', connection, nameId: assertion.nameId, email: assertion.email, attributes: assertion.attributes, tester }
    }
    returnTo = assertion.request.returnTo
    bindHash = assertion.request.bindHash
  } else {
    // Unsolicited (node-saml let it through only because the Admin turned IdP-initiated on).
    // Its RelayState is a path on this site or nothing; one of our request IDs here is stale.
    if (relayState === '') returnTo = '/'
    else if (isReturnPath(relayState)) returnTo = relayState
    else throw new AppError('saml_relay_state_invalid')
    bindHash = null
  }
  if (connection.enabled !== 1) throw new AppError('sso_connection_disabled')
  const outcome = await resolveSsoAccount(ctx, { connection, assertion, meta: input.meta })
  const handoff: Handoff =
    outcome.kind === 'account'
      ? { accountId: outcome.account.id, email: outcome.account.email, returnTo, bindHash, kind: 'signin', subject: assertion.nameId }
      : { accountId: outcome.accountId, email: outcome.email, returnTo, bindHash, kind: 'password', subject: assertion.nameId }
  return { kind: 'finish', handoff: await leaveHandoff(ctx, connection, handoff) }
}

/** The one-time token the finish step redeems (shared by SAML and OIDC). */
export async function leaveHandoff(ctx: AppContext, connection: ConnectionRow, handoff: Handoff): Promise<string> {
  const token = newToken()
  await storeHandoff(ctx, { connectionId: connection.id, token, value: JSON.stringify(handoff), expiresAt: ctx.clock.now() + HANDOFF_TTL_MS })
  return token
}

export interface OpenHandoff extends Handoff {
  connection: ConnectionRow
  account: Account
}

/** Reads a handoff without using it (the confirmation and password pages show it). */
export async function peekHandoff(ctx: AppContext, connectionId: string, token: string, browserSecret: string | undefined): Promise<OpenHandoff> {
  const stored = await readHandoff(ctx, connectionId, token)
  if (stored === null) throw new AppError('saml_relay_state_invalid')
  const handoff = JSON.parse(stored) as Handoff
  // Another browser than the one that started: a login CSRF attempt, or a copied link.
  if (handoff.bindHash !== null && (!browserSecret || hashToken(browserSecret) !== handoff.bindHash)) throw new AppError('saml_relay_state_invalid')
  const connection = await connectionForSignIn(ctx, connectionId, { protocol: null })
  const account = await findAccountById(ctx.db, handoff.accountId)
  if (!account) throw new AppError('saml_relay_state_invalid')
  if (account.status !== 'active') throw new AppError('account_deactivated')
  return { ...handoff, connection, account }
}

/** Uses the handoff up: exactly one request gets it. */
export async function takeHandoff(ctx: AppContext, connectionId: string, token: string, browserSecret: string | undefined, options: { password?: string; meta: RequestMeta }): Promise<OpenHandoff> {
  const open = await peekHandoff(ctx, connectionId, token, browserSecret)
  if (open.kind === 'password') {
    if (options.password === undefined) throw new AppError('sso_password_required')
    await verifyPasswordOf(ctx, open.account, options.password)
  }
  if (!(await consumeHandoff(ctx, connectionId, token))) throw new AppError('saml_replayed')
  if (open.kind === 'password') {
    await linkSsoIdentity(ctx, { connection: open.connection, account: open.account, subject: open.subject, email: open.email, meta: options.meta })
    // Linked now, with the same membership rule as any other SSO sign-in.
    const again = await resolveSsoAccount(ctx, { connection: open.connection, assertion: { nameId: open.subject, email: open.email, attributes: {} }, meta: options.meta })
    if (again.kind !== 'account') throw new AppError('sso_password_required')
  }
  return open
}
