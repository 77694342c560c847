/**
 * "Sign up / Sign in with Google" (SPEC §2, §3): OpenID Connect code flow with PKCE (S256),
 * nonce and state through openid-client 6, Google's discovery document cached and its keys
 * kept by the library.
 *
 * The rules, each with its test in google.test.ts:
 * - An identity is Google's issuer + `sub`, never the email (a recycled address or a
 *   re-registered Workspace domain has the same email and a new `sub`).
 * - A linked identity signs in; two-factor authentication still applies when the account has it.
 * - No linked identity, but an account with that email: it is linked at once only when Google
 *   says `email_verified` and the account confirmed the address. Otherwise the person proves the
 *   account's password once (the "link" step).
 * - An account that never confirmed the address cannot lock the Gmail owner out: with Google's
 *   `email_verified`, the person may instead make a new account, and the unconfirmed one loses
 *   the address (src/accounts/provider-accounts.ts says why it is not taken over).
 * - No account: sign-up with Google asks for a username and the terms; the email is confirmed
 *   only if Google verified it. `email_verified: false` never links and never confirms.
 *
 * Per-request data (state, nonce, PKCE verifier, where to return) rides in a sealed
 * (AES-256-GCM: encrypted and authenticated), HttpOnly, SameSite=Lax cookie for 10 minutes; the
 * redirect URI is exact and carries no query (openid-client derives the token request's
 * redirect_uri from it).
 */
import type * as oidc from 'openid-client'
import type { RequestMeta } from '../audit/audit.ts'
import { recordAudit } from '../audit/audit.ts'
import { canonicalEmail, normalizeEmail } from '../accounts/emails.ts'
import { confirmEmailByProvider, createProviderAccount, releaseUnconfirmedEmail } from '../accounts/provider-accounts.ts'
import { findAccountByEmail, findAccountById, type Account } from '../accounts/queries.ts'
import { verifyPasswordOf } from '../accounts/reauth-password.ts'
import { suggestUsernames } from '../accounts/usernames.ts'
import { MINUTE_MS } from '../clock.ts'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { decryptSecret, encryptSecret } from '../crypto.ts'
import { AppError } from '../errors.ts'
import { isUniqueViolation } from '../db/errors.ts'
import type { Database } from '../db/schema.ts'
import type { Transaction } from 'kysely'
import { hasPasskey } from '../passkeys/passkeys.ts'
import { isReturnPath } from '../return-path.ts'
import type { Authenticated } from '../sessions/sessions.ts'
import { assertSigninMethodAllowed, googleWorkspaceDomainOf } from '../sso/policies.ts'
import { membershipsOf } from '../teams/access.ts'
import { isTwoFactorEnabled } from '../two-factor/two-factor.ts'
import { completeSignIn } from './complete.ts'
import { findLinkedIdentity, linkIdentity, listLinkedIdentities, touchLinkedIdentity, unlinkIdentity } from './linked-identities.ts'
import { authorizationUrl, newAuthorizationRequest, OidcFailure, oidcClient, redeemAuthorizationCode } from '../oidc-client.ts'
import type { SignInContext, SignInResult } from './password.ts'
import { issueSignInTicket } from './second-factor.ts'

/**
 * A transaction that links a Google identity. Two tabs finishing the same Google sign-in at
 * once both pass the "not linked yet" check; the unique index on issuer + subject lets one win,
 * and the other gets identity_already_linked instead of a 500. (Caught outside the transaction:
 * PostgreSQL accepts no further statement inside one after the failed insert.)
 */
async function linkingTransaction<T>(ctx: AppContext, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  try {
    return await inTransaction(ctx, work)
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('identity_already_linked')
    throw err
  }
}

export const GOOGLE_CALLBACK_PATH = '/api/v1/signin/google/callback'
/** How long the round trip to Google, and then the sign-up or link step, may take. */
export const GOOGLE_FLOW_LIFETIME_MS = 10 * MINUTE_MS

type Intent = 'signin' | 'signup'

interface FlowCookie {
  purpose: 'google_flow'
  state: string
  nonce: string
  verifier: string
  intent: Intent
  next: string | null
  staySignedIn: boolean
  expiresAt: number
}

/** What Google said, kept between the callback and the sign-up or link step. */
interface PendingCookie {
  purpose: 'google_pending'
  issuer: string
  subject: string
  email: string
  emailVerified: boolean
  name: string
  hd: string | null
  /** The account with this email, which the person may link by its password. */
  accountId: string | null
  /** An account that never confirmed this address, which a new account may take it from. */
  releasableAccountId: string | null
  next: string | null
  staySignedIn: boolean
  expiresAt: number
}

export type GoogleOutcome =
  | (SignInResult & { next: string | null })
  | { kind: 'pending'; step: 'signup' | 'link'; pendingCookie: string; next: string | null }

export function googleConfigured(ctx: AppContext): boolean {
  return ctx.config.google !== undefined
}

export function googleRedirectUri(ctx: AppContext): string {
  return new URL(GOOGLE_CALLBACK_PATH, ctx.config.publicUrl).href
}

// ---------------------------------------------------------------- the client

async function googleClient(ctx: AppContext): Promise<oidc.Configuration> {
  const google = ctx.config.google
  if (!google) throw new AppError('google_not_configured')
  try {
    return await oidcClient(ctx, { issuer: google.issuer, clientId: google.clientId, clientSecret: google.clientSecret, redirectUri: googleRedirectUri(ctx) })
  } catch (err) {
    throw new AppError('google_unavailable', { cause: err })
  }
}

// ---------------------------------------------------------------- sealed cookies

function seal(ctx: AppContext, value: FlowCookie | PendingCookie): string {
  return encryptSecret(ctx.secretsKey, JSON.stringify(value))
}

function unseal<T extends FlowCookie | PendingCookie>(ctx: AppContext, sealed: string | undefined, purpose: T['purpose']): T {
  if (sealed) {
    try {
      const value = JSON.parse(decryptSecret(ctx.secretsKey, sealed)) as T
      if (value.purpose === purpose && typeof value.expiresAt === 'number' && value.expiresAt > ctx.clock.now()) return value
    } catch {
      // Tampered, from another server key, or not ours: the same answer as expired.
    }
  }
  throw new AppError('google_signin_expired')
}

// ---------------------------------------------------------------- the round trip

/** The URL to send the browser to at Google, and the sealed cookie that must come back with it. */
export async function startGoogleSignIn(ctx: AppContext, input: { intent: Intent; next?: string; staySignedIn: boolean }): Promise<{ url: string; flowCookie: string }> {
  const config = await googleClient(ctx)
  const flow: FlowCookie = {
    purpose: 'google_flow',
    ...newAuthorizationRequest(),
    intent: input.intent,
    // Only a path on this site (an app sign-in request is one: /app-signin/<uid>).
    next: isReturnPath(input.next) ? input.next : null,
    staySignedIn: input.staySignedIn,
    expiresAt: ctx.clock.now() + GOOGLE_FLOW_LIFETIME_MS,
  }
  // Google's account chooser: a shared computer's signed-in Google account is not taken silently.
  const url = await authorizationUrl(config, { ...flow, redirectUri: googleRedirectUri(ctx), scope: 'openid email profile', extra: { prompt: 'select_account' } })
  return { url: url.href, flowCookie: seal(ctx, flow) }
}

interface GoogleClaims {
  issuer: string
  subject: string
  email: string
  emailVerified: boolean
  name: string
  hd: string | null
}

/** Exchanges the code: state, nonce, PKCE, issuer (also the `iss` parameter, RFC 9207), audience and signature are checked by openid-client. */
async function redeemCode(ctx: AppContext, flow: FlowCookie, callbackUrl: URL): Promise<GoogleClaims> {
  const config = await googleClient(ctx)
  let claims: oidc.IDToken
  try {
    claims = await redeemAuthorizationCode(config, callbackUrl, flow)
  } catch (err) {
    if (err instanceof OidcFailure && err.kind === 'refused') {
      const cause = err.cause as { code?: unknown; message?: string }
      ctx.log.info({ err: { code: cause.code, message: cause.message } }, 'google sign-in refused')
      throw new AppError('google_signin_failed', { cause: err })
    }
    throw new AppError('google_unavailable', { cause: err })
  }
  if (typeof claims.email !== 'string') throw new AppError('google_signin_failed', { message: 'Google did not share an email address for this account.' })
  let email: string
  try {
    email = canonicalEmail(claims.email)
  } catch {
    throw new AppError('google_signin_failed', { message: 'Google gave an email address this service cannot use.' })
  }
  return {
    issuer: claims.iss,
    subject: claims.sub,
    email,
    // Only a literal true counts: a missing claim is no verification.
    emailVerified: claims.email_verified === true,
    name: typeof claims.name === 'string' ? claims.name : '',
    hd: typeof claims.hd === 'string' ? claims.hd : null,
  }
}

/** Google's answer at the callback URL, with the flow cookie: signed in, a second step, or a pending sign-up or link step. */
export async function finishGoogleSignIn(ctx: AppContext, input: { callbackUrl: URL; flowCookie: string | undefined; signIn: Omit<SignInContext, 'staySignedIn'> }): Promise<GoogleOutcome> {
  const flow = unseal<FlowCookie>(ctx, input.flowCookie, 'google_flow')
  const google = await redeemCode(ctx, flow, input.callbackUrl)
  const signIn = { ...input.signIn, staySignedIn: flow.staySignedIn }

  const identity = await findLinkedIdentity(ctx.db, google.issuer, google.subject)
  if (identity) {
    const account = await findAccountById(ctx.db, identity.account_id)
    if (!account) throw new AppError('google_signin_failed')
    if (account.status !== 'active') throw new AppError('account_deactivated')
    await assertGoogleAllowed(ctx, account.id, google.hd)
    await touchLinkedIdentity(ctx.db, identity.id, { at: ctx.clock.now(), email: google.email })
    return { ...(await signInAccount(ctx, account, signIn)), next: flow.next }
  }

  const local = await findAccountByEmail(ctx.db, normalizeEmail(google.email))
  if (local && google.emailVerified && local.email_confirmed_at !== null) {
    // Both sides proved the address: Google verified it for this person, and the account
    // confirmed it by link. Then they are the same person.
    if (local.status !== 'active') throw new AppError('account_deactivated')
    await assertGoogleAllowed(ctx, local.id, google.hd)
    await linkingTransaction(ctx, async (trx) => {
      const linked = await linkIdentity(trx, { ...google, accountId: local.id, method: 'google', at: ctx.clock.now() })
      await recordAudit(trx, { accountId: local.id, type: 'identity.linked', meta: signIn.meta, at: ctx.clock.now(), details: { identityId: linked.id, method: 'google', by: 'verified_email' } })
    })
    return { ...(await signInAccount(ctx, local, signIn)), next: flow.next }
  }

  const pending: PendingCookie = {
    purpose: 'google_pending',
    ...google,
    accountId: local?.id ?? null,
    releasableAccountId: local && google.emailVerified && local.email_confirmed_at === null ? local.id : null,
    next: flow.next,
    staySignedIn: flow.staySignedIn,
    expiresAt: ctx.clock.now() + GOOGLE_FLOW_LIFETIME_MS,
  }
  return { kind: 'pending', step: local ? 'link' : 'signup', pendingCookie: seal(ctx, pending), next: flow.next }
}

/**
 * The account's teams may refuse Google (SPEC §7 Enterprise controls, src/sso/policies.ts):
 * Google sign-in turned off for members (`team_requires_sso`), or allowed only with the team's
 * Google Workspace, read from the ID token's `hd` claim — never from the `hd` request
 * parameter, which only hints Google's account chooser (`google_workspace_required`). Asked once
 * Google has proven the identity, so the teams named are the signed-in person's own. Admins
 * are exempt from both, as from the password switch (break-glass when the IdP is down).
 */
async function assertGoogleAllowed(ctx: AppContext, accountId: string, hd: string | null): Promise<void> {
  await assertSigninMethodAllowed(ctx, accountId, 'google')
  const refusing: { slug: string; name: string; domain: string }[] = []
  for (const team of await membershipsOf(ctx.db, accountId)) {
    if (team.admin) continue
    const domain = await googleWorkspaceDomainOf(ctx.db, team.teamId)
    if (domain && domain.toLowerCase() !== hd?.toLowerCase()) refusing.push({ slug: team.slug, name: team.name, domain })
  }
  if (refusing.length) {
    throw new AppError('google_workspace_required', {
      message: `Your team allows Google sign-in only with its Google Workspace account (${refusing.map((r) => `@${r.domain}`).join(', ')}).`,
      details: { teams: refusing.map(({ slug, name }) => ({ slug, name })) },
    })
  }
}

/** The end of every Google path into an account: the second factor when the account has one, else the session. */
async function signInAccount(ctx: AppContext, account: Account, signIn: SignInContext): Promise<SignInResult> {
  if (await isTwoFactorEnabled(ctx.db, account.id)) {
    return { kind: 'two_factor', ...(await issueSignInTicket(ctx, account, signIn)) }
  }
  return { kind: 'session', ...(await completeSignIn(ctx, account, { ...signIn, method: 'google' })) }
}

// ---------------------------------------------------------------- the pending step

export interface PendingGoogleView {
  step: 'signup' | 'link'
  email: string
  emailVerified: boolean
  name: string
  /** With `link`: whether a new account may be made instead (the existing one never confirmed the address). */
  canCreateAccount: boolean
  suggestedUsernames: string[]
  next: string | null
}

export async function pendingGoogleView(ctx: AppContext, sealed: string | undefined): Promise<PendingGoogleView> {
  const pending = unseal<PendingCookie>(ctx, sealed, 'google_pending')
  const base = pending.email.split('@')[0].replace(/[^A-Za-z0-9_-]/g, '').replace(/^[-_]+/, '').slice(0, 26)
  return {
    step: pending.accountId ? 'link' : 'signup',
    email: pending.email,
    emailVerified: pending.emailVerified,
    name: pending.name,
    canCreateAccount: !pending.accountId || pending.releasableAccountId !== null,
    suggestedUsernames: base.length >= 3 ? await suggestUsernames(ctx.db, base, ctx.clock.now()) : [],
    next: pending.next,
  }
}

/**
 * Sign-up with Google: username and terms from the person, the rest from Google. When an
 * account that never confirmed the address holds it, it loses it in the same transaction.
 */
export async function completeGoogleSignUp(
  ctx: AppContext,
  sealed: string | undefined,
  input: { username: string; acceptTerms: boolean; locale?: string },
  signIn: Omit<SignInContext, 'staySignedIn'>,
): Promise<SignInResult> {
  const pending = unseal<PendingCookie>(ctx, sealed, 'google_pending')
  if (pending.accountId && pending.releasableAccountId !== pending.accountId) {
    throw new AppError('email_taken', { message: 'An account already uses this email address. Sign in to it with its password to link Google.' })
  }
  await ctx.limits.consume('signup_ip', signIn.meta.ip)
  const account = await linkingTransaction(ctx, async (trx) => {
    if (pending.releasableAccountId) await releaseUnconfirmedEmail(ctx, trx, pending.releasableAccountId, signIn.meta)
    const account = await createProviderAccount(ctx, trx, {
      email: pending.email,
      emailVerified: pending.emailVerified,
      username: input.username,
      displayName: pending.name,
      acceptTerms: input.acceptTerms,
      locale: input.locale,
      method: 'google',
      meta: signIn.meta,
    })
    const linked = await linkIdentity(trx, { ...pending, accountId: account.id, method: 'google', at: ctx.clock.now() })
    await recordAudit(trx, { accountId: account.id, type: 'identity.linked', meta: signIn.meta, at: ctx.clock.now(), details: { identityId: linked.id, method: 'google', by: 'signup' } })
    return account
  })
  return { kind: 'session', ...(await completeSignIn(ctx, account, { ...signIn, staySignedIn: pending.staySignedIn, method: 'google' })) }
}

/** The link step: the account's password, once; then Google signs in to it. */
export async function completeGoogleLink(ctx: AppContext, sealed: string | undefined, input: { password: string }, signIn: Omit<SignInContext, 'staySignedIn'>): Promise<SignInResult> {
  const pending = unseal<PendingCookie>(ctx, sealed, 'google_pending')
  const account = pending.accountId ? await findAccountById(ctx.db, pending.accountId) : undefined
  if (!account) throw new AppError('google_signin_expired')
  await ctx.limits.consume('signin_ip', signIn.meta.ip)
  await verifyPasswordOf(ctx, account, input.password)
  if (account.status !== 'active') throw new AppError('account_deactivated')
  await assertGoogleAllowed(ctx, account.id, pending.hd)
  await linkingTransaction(ctx, async (trx) => {
    const linked = await linkIdentity(trx, { ...pending, accountId: account.id, method: 'google', at: ctx.clock.now() })
    await recordAudit(trx, { accountId: account.id, type: 'identity.linked', meta: signIn.meta, at: ctx.clock.now(), details: { identityId: linked.id, method: 'google', by: 'password' } })
    // The password proves the account, Google the address: together, the address is confirmed.
    // Google's unverified address confirms nothing.
    if (pending.emailVerified && normalizeEmail(pending.email) === account.email_normalized) await confirmEmailByProvider(ctx, trx, account, signIn.meta, 'google')
  })
  const fresh = (await findAccountById(ctx.db, account.id)) ?? account
  return signInAccount(ctx, fresh, { ...signIn, staySignedIn: pending.staySignedIn })
}

// ---------------------------------------------------------------- Settings

export interface LinkedIdentityView {
  id: string
  method: string
  email: string
  createdAt: string
  lastUsedAt: string
}

export async function linkedIdentitiesView(ctx: AppContext, account: Account): Promise<{ identities: LinkedIdentityView[]; canUnlink: boolean; hasPassword: boolean }> {
  const rows = await listLinkedIdentities(ctx.db, account.id)
  return {
    identities: rows.map((r) => ({ id: r.id, method: r.method, email: r.email, createdAt: new Date(r.created_at).toISOString(), lastUsedAt: new Date(r.last_used_at).toISOString() })),
    canUnlink: await hasAnotherWayIn(ctx, account, rows.length),
    hasPassword: account.password_hash !== null,
  }
}

/** Whether the account keeps a way to sign in once one identity is gone: a password, a passkey, or another identity. */
async function hasAnotherWayIn(ctx: AppContext, account: Account, identityCount: number): Promise<boolean> {
  return account.password_hash !== null || identityCount > 1 || (await hasPasskey(ctx, account.id))
}

export async function unlinkGoogle(ctx: AppContext, auth: Authenticated, identityId: string, meta: RequestMeta): Promise<void> {
  const { account } = auth
  const rows = await listLinkedIdentities(ctx.db, account.id)
  if (!rows.some((r) => r.id === identityId)) throw new AppError('identity_not_found')
  if (!(await hasAnotherWayIn(ctx, account, rows.length))) throw new AppError('last_signin_method')
  await inTransaction(ctx, async (trx) => {
    if (!(await unlinkIdentity(trx, account.id, identityId))) throw new AppError('identity_not_found')
    await recordAudit(trx, { accountId: account.id, type: 'identity.unlinked', meta, at: ctx.clock.now(), details: { identityId } })
  })
}
