/**
 * Sign in with Google against a real OpenID provider (test/helpers/oidc-idp.ts: oidc-provider
 * over HTTPS with a test-made CA, trusted through SSO_CA_FILE), on SQLite and PostgreSQL. One
 * rule per test; each test uses its own Google users and accounts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setAccountActive } from '../accounts/accounts.ts'
import { OPERATOR } from '../audit/audit.ts'
import { person, signedUpUser, STRONG_PASSWORD, testApp, type TestApp, type TestClient } from '../../test/helpers/app.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { startTestIdp, type TestIdp } from '../../test/helpers/oidc-idp.ts'
import { tokenFrom } from '../../test/helpers/smtp.ts'
import { independentTotp } from '../../test/helpers/totp.ts'
import { userWithTwoFactor } from '../../test/helpers/two-factor.ts'
import { addMember, teamWithAdmin } from '../../test/helpers/teams.ts'
import { newId } from '../crypto.ts'
import type { AccountView } from '../accounts/schemas.ts'
import type { LinkedIdentities, PendingGoogle, SignedIn, SignInMethods } from './schemas.ts'
import { errorCodeOf, errorDetails, errorOf } from '../../test/helpers/api.ts'

const CLIENT_ID = 'latchkey-test'
const CLIENT_SECRET = 'latchkey-test-secret-0123456789'
const CALLBACK = 'http://latchkey.test/api/v1/signin/google/callback'

let idp: TestIdp
beforeAll(async () => {
  idp = await startTestIdp({ manualTeardown: true, clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [CALLBACK] }] })
})
afterAll(async () => idp?.close())

let subs = 0
/** A Google user of its own for each test. */
function googleUser(overrides: { email?: string; email_verified?: boolean; hd?: string } = {}) {
  subs += 1
  const sub = `${Date.now().toString(36)}${subs}${Math.random().toString(36).slice(2, 8)}`
  return idp.addUser({ sub, email: overrides.email ?? `g${sub}@gmail.test`, email_verified: overrides.email_verified ?? true, name: 'Grace Hopper', ...(overrides.hd ? { hd: overrides.hd } : {}) })
}

function googleApp(dialect: (typeof DIALECTS)[number], env: Record<string, string> = {}) {
  return testApp(dialect, { GOOGLE_CLIENT_ID: CLIENT_ID, GOOGLE_CLIENT_SECRET: CLIENT_SECRET, GOOGLE_ISSUER: idp.issuer, SSO_CA_FILE: idp.caFile, ...env })
}

/** Start at Latchkey, sign in at the IdP as `sub`; returns the callback URL Google sent the browser to (not yet visited). */
async function toGoogleAndBack(client: TestClient, sub: string, query = ''): Promise<string> {
  const start = await client.get(`/api/v1/signin/google/start${query}`)
  expect(start.status).toBe(302)
  const back = await idp.signIn(String(start.headers.location), sub)
  expect(back.origin + back.pathname).toBe(CALLBACK)
  return back.pathname + back.search
}

async function googleSignIn(client: TestClient, sub: string, query = '') {
  return client.get(await toGoogleAndBack(client, sub, query))
}

async function auditTypes(t: TestApp, accountId: string) {
  const rows = await t.app.ctx.db.selectFrom('audit_events').select(['type', 'details']).where('account_id', '=', accountId).execute()
  return rows.map((r) => ({ type: r.type, details: JSON.parse(String(r.details ?? '{}')) as Record<string, unknown> }))
}

/** Signs up with Google as `sub` and returns the signed-in client and account. */
async function signUpWithGoogle(t: TestApp, sub: string, client = t.client()) {
  const callback = await googleSignIn(client, sub)
  expect(callback.headers.location).toBe('/signin/google')
  const username = person().username
  const done = await client.post<SignedIn>('/api/v1/signin/google/signup', { username, acceptTerms: true })
  expect(done.status).toBe(200)
  return { client, account: done.body.account, username }
}

describe.each(DIALECTS)('Sign in with Google on %s', (dialect) => {
  it('asks Google with PKCE S256, state, nonce and the account chooser, at the exact redirect URI, from a sealed HttpOnly Lax cookie', async () => {
    const t = await googleApp(dialect)
    const start = await t.client().get('/api/v1/signin/google/start')
    expect(start.status).toBe(302)
    const url = new URL(String(start.headers.location))
    expect(url.origin).toBe(idp.issuer)
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(url.searchParams.get('state')).toBeTruthy()
    expect(url.searchParams.get('nonce')).toBeTruthy()
    expect(url.searchParams.get('prompt')).toBe('select_account')
    expect(url.searchParams.get('redirect_uri')).toBe(CALLBACK)
    const cookie = start.cookies.find((c) => c.name === 'latchkey_google')!
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/api/v1/signin/google', maxAge: 600 })
    // Sealed: neither the state nor the verifier can be read from it.
    expect(cookie.value).not.toContain(url.searchParams.get('state'))
  })

  it('signs up: username and terms asked, the email confirmed from Google, no password, and the sign-in recorded as google', async () => {
    const t = await googleApp(dialect)
    const g = googleUser()
    const client = t.client()
    const callback = await googleSignIn(client, g.sub)
    expect(callback.status).toBe(303)
    expect(callback.headers.location).toBe('/signin/google')
    const pending = await client.get<PendingGoogle>('/api/v1/signin/google/pending')
    expect(pending.body).toMatchObject({ step: 'signup', email: g.email, emailVerified: true, name: 'Grace Hopper', canCreateAccount: true })
    const refused = await client.post('/api/v1/signin/google/signup', { username: person().username, acceptTerms: false })
    expect(errorCodeOf(refused)).toBe('terms_not_accepted')
    const username = person().username
    const done = await client.post<SignedIn>('/api/v1/signin/google/signup', { username, acceptTerms: true })
    expect(done.status).toBe(200)
    expect(done.body.account).toMatchObject({ email: g.email, emailConfirmed: true, username, displayName: 'Grace Hopper' })
    expect((await client.get<AccountView>('/api/v1/me')).body.id).toBe(done.body.account.id)
    const row = await t.app.ctx.db.selectFrom('accounts').select(['password_hash', 'terms_version']).where('id', '=', done.body.account.id).executeTakeFirstOrThrow()
    expect(row.password_hash).toBeNull()
    expect(row.terms_version).toBeTruthy()
    const events = await auditTypes(t, done.body.account.id)
    expect(events).toContainEqual(expect.objectContaining({ type: 'identity.linked' }))
    expect(events).toContainEqual(expect.objectContaining({ type: 'signin.succeeded', details: expect.objectContaining({ method: 'google' }) }))
    const identities = await client.get<LinkedIdentities>('/api/v1/me/identities')
    expect(identities.body).toMatchObject({ identities: [{ method: 'google', email: g.email }], canUnlink: false, hasPassword: false })
  })

  it('signs a linked identity in again, to the page it started from (an app sign-in request) and never to another site', async () => {
    const t = await googleApp(dialect)
    const g = googleUser()
    const { account } = await signUpWithGoogle(t, g.sub)
    const browser = t.client()
    const again = await googleSignIn(browser, g.sub, `?next=${encodeURIComponent('/app-signin/abc123')}`)
    expect(again.status).toBe(303)
    expect(again.headers.location).toBe('/app-signin/abc123')
    expect((await browser.get<AccountView>('/api/v1/me')).body.id).toBe(account.id)
    const evil = await googleSignIn(t.client(), g.sub, `?next=${encodeURIComponent('//evil.example/x')}`)
    expect(evil.headers.location).toBe('/settings/profile')
  })

  it('keys the identity by issuer and subject, never by email: a changed address at Google still reaches the same account', async () => {
    const t = await googleApp(dialect)
    const g = googleUser()
    const { account } = await signUpWithGoogle(t, g.sub)
    g.email = `renamed-${g.sub}@gmail.test`
    const browser = t.client()
    const again = await googleSignIn(browser, g.sub)
    expect(again.headers.location).toBe('/settings/profile')
    expect((await browser.get<AccountView>('/api/v1/me')).body.id).toBe(account.id)
    // Another Google account given the old address is a different identity: it never enters this account.
    const other = googleUser({ email: account.email, email_verified: false })
    const stranger = t.client()
    expect((await googleSignIn(stranger, other.sub)).headers.location).toBe('/signin/google')
    expect((await stranger.get('/api/v1/me')).status).toBe(401)
  })

  it('links at once when Google verified the address and the account confirmed it', async () => {
    const t = await googleApp(dialect)
    const local = await signedUpUser(t)
    const g = googleUser({ email: local.email, email_verified: true })
    const browser = t.client()
    const callback = await googleSignIn(browser, g.sub)
    expect(callback.headers.location).toBe('/settings/profile')
    expect((await browser.get<AccountView>('/api/v1/me')).body.id).toBe(local.accountId)
    expect(await auditTypes(t, local.accountId)).toContainEqual({ type: 'identity.linked', details: expect.objectContaining({ by: 'verified_email' }) })
  })

  it('asks for the password once when Google has not verified the address, never makes a second account for it, and confirms nothing', async () => {
    const t = await googleApp(dialect)
    const local = await signedUpUser(t, { confirm: false })
    const g = googleUser({ email: local.email, email_verified: false })
    const browser = t.client()
    expect((await googleSignIn(browser, g.sub)).headers.location).toBe('/signin/google')
    expect((await browser.get<PendingGoogle>('/api/v1/signin/google/pending')).body).toMatchObject({ step: 'link', emailVerified: false, canCreateAccount: false })
    expect(errorCodeOf(await browser.post('/api/v1/signin/google/signup', { username: person().username, acceptTerms: true }))).toBe('email_taken')
    expect(errorCodeOf(await browser.post('/api/v1/signin/google/link', { password: 'not the password' }))).toBe('password_incorrect')
    const linked = await browser.post<SignedIn>('/api/v1/signin/google/link', { password: STRONG_PASSWORD })
    expect(linked.status).toBe(200)
    expect(linked.body.account).toMatchObject({ id: local.accountId, emailConfirmed: false })
    // From now on Google signs in to it directly.
    expect((await googleSignIn(t.client(), g.sub)).headers.location).toBe('/settings/profile')
  })

  it('with the password proved and the address verified by Google, linking confirms an unconfirmed address', async () => {
    const t = await googleApp(dialect)
    const local = await signedUpUser(t, { confirm: false })
    const g = googleUser({ email: local.email, email_verified: true })
    const browser = t.client()
    await googleSignIn(browser, g.sub)
    expect((await browser.get<PendingGoogle>('/api/v1/signin/google/pending')).body).toMatchObject({ step: 'link', emailVerified: true, canCreateAccount: true })
    const linked = await browser.post<SignedIn>('/api/v1/signin/google/link', { password: STRONG_PASSWORD })
    expect(linked.body.account).toMatchObject({ id: local.accountId, emailConfirmed: true })
  })

  it('does not let an unconfirmed sign-up of a Gmail address lock its real owner out: a new account takes the address, the squatter keeps nothing of it', async () => {
    const t = await googleApp(dialect)
    const squatter = await signedUpUser(t, { confirm: false })
    const confirmation = tokenFrom(await t.smtp.waitFor(squatter.email, /confirm/i))
    const owner = googleUser({ email: squatter.email, email_verified: true })
    const browser = t.client()
    await googleSignIn(browser, owner.sub)
    const username = person().username
    const made = await browser.post<SignedIn>('/api/v1/signin/google/signup', { username, acceptTerms: true })
    expect(made.status).toBe(200)
    expect(made.body.account).toMatchObject({ email: squatter.email, emailConfirmed: true, username })
    expect(made.body.account.id).not.toBe(squatter.accountId)
    // The squatter's row lost the address: its confirmation link confirms nothing, and it is not the owner's account.
    const squatterRow = await t.app.ctx.db.selectFrom('accounts').select(['email', 'email_confirmed_at']).where('id', '=', squatter.accountId).executeTakeFirstOrThrow()
    expect(squatterRow.email).toMatch(/@unconfirmed\.invalid$/)
    expect((await t.client().post('/api/v1/email/confirm', { token: confirmation })).status).toBe(400)
    expect(errorCodeOf(await t.client().post('/api/v1/signin', { login: squatter.email, password: STRONG_PASSWORD }))).toBe('invalid_credentials')
    expect(await auditTypes(t, squatter.accountId)).toContainEqual(expect.objectContaining({ type: 'account.email_released' }))
  })

  it('signs up with an address Google has not verified only as unconfirmed, with a confirmation link', async () => {
    const t = await googleApp(dialect)
    const g = googleUser({ email_verified: false })
    const browser = t.client()
    await googleSignIn(browser, g.sub)
    const made = await browser.post<SignedIn>('/api/v1/signin/google/signup', { username: person().username, acceptTerms: true })
    expect(made.body.account).toMatchObject({ email: g.email, emailConfirmed: false })
    await t.smtp.waitFor(g.email, /confirm/i)
  })

  it('two sign-ups racing: the same Google account in two tabs gets one account (the other tab: email_taken, its address now in use), two people for one username get username_taken, never a 500', async () => {
    const t = await googleApp(dialect)
    const g = googleUser()
    const [tabA, tabB] = [t.client(), t.client()]
    await googleSignIn(tabA, g.sub)
    await googleSignIn(tabB, g.sub)
    const same = await Promise.all([tabA, tabB].map((tab) => tab.post('/api/v1/signin/google/signup', { username: person().username, acceptTerms: true })))
    expect(same.map((res) => res.status).sort()).toEqual([200, 409])
    expect(errorCodeOf(same.find((res) => res.status === 409)!)).toBe('email_taken')
    expect(await t.app.ctx.db.selectFrom('linked_identities').select('account_id').where('subject', '=', g.sub).execute()).toHaveLength(1)

    const [ann, bob] = [googleUser(), googleUser()]
    const [annTab, bobTab] = [t.client(), t.client()]
    await googleSignIn(annTab, ann.sub)
    await googleSignIn(bobTab, bob.sub)
    const username = person().username
    const raced = await Promise.all([annTab, bobTab].map((tab) => tab.post('/api/v1/signin/google/signup', { username, acceptTerms: true })))
    expect(raced.map((res) => res.status).sort()).toEqual([200, 409])
    expect(errorCodeOf(raced.find((res) => res.status === 409)!)).toBe('username_taken')
  })

  it('refuses a reused code', async () => {
    const t = await googleApp(dialect)
    const g = googleUser()
    await signUpWithGoogle(t, g.sub)
    const browser = t.client()
    const callback = await toGoogleAndBack(browser, g.sub)
    const flowCookie = browser.jar.get('latchkey_google')!
    expect((await browser.get(callback)).status).toBe(303)
    browser.jar.set('latchkey_google', flowCookie)
    const replay = await browser.get(callback)
    expect(replay.status).toBe(400)
    expect(errorCodeOf(replay)).toBe('google_signin_failed')
  })

  it('refuses a wrong state', async () => {
    const t = await googleApp(dialect)
    const g = googleUser()
    const browser = t.client()
    const callback = new URL(await toGoogleAndBack(browser, g.sub), 'http://latchkey.test')
    callback.searchParams.set('state', 'forged-state-value')
    const res = await browser.get(callback.pathname + callback.search)
    expect(errorCodeOf(res)).toBe('google_signin_failed')
  })

  it('refuses an answer from another issuer', async () => {
    const t = await googleApp(dialect)
    const g = googleUser()
    const browser = t.client()
    const callback = new URL(await toGoogleAndBack(browser, g.sub), 'http://latchkey.test')
    callback.searchParams.set('iss', 'https://accounts.evil.example')
    const res = await browser.get(callback.pathname + callback.search)
    expect(errorCodeOf(res)).toBe('google_signin_failed')
  })

  it('refuses a callback without the cookie of the browser that started it, and sends a browser to the error page', async () => {
    const t = await googleApp(dialect)
    const g = googleUser()
    const callback = await toGoogleAndBack(t.client(), g.sub)
    const other = t.client()
    expect(errorCodeOf(await other.get(callback))).toBe('google_signin_expired')
    const page = await other.request('GET', callback, undefined, { accept: 'text/html' })
    expect(page.status).toBe(303)
    expect(page.headers.location).toBe('/signin/google?error=google_signin_expired')
  })

  it('lets an account made with Google set a password after a recent sign-in, and then sign in with it', async () => {
    const t = await googleApp(dialect)
    const g = googleUser()
    const { client, account } = await signUpWithGoogle(t, g.sub)
    // The change-password path refuses cleanly: there is no current password to check.
    expect(errorCodeOf(await client.post('/api/v1/me/password', { currentPassword: 'anything at all', newPassword: 'a brand new passphrase' }))).toBe('password_incorrect')
    expect(errorCodeOf(await client.delete(`/api/v1/me/identities/${(await client.get<LinkedIdentities>('/api/v1/me/identities')).body.identities[0].id}`))).toBe('last_signin_method')
    const set = await client.post('/api/v1/me/password/set', { newPassword: 'a brand new passphrase' })
    expect(set.status).toBe(200)
    expect(errorCodeOf(await client.post('/api/v1/me/password/set', { newPassword: 'another new passphrase' }))).toBe('password_already_set')
    const signin = await t.client().post('/api/v1/signin', { login: account.email, password: 'a brand new passphrase' })
    expect(signin.status).toBe(200)
    const identities = await client.get<LinkedIdentities>('/api/v1/me/identities')
    expect(identities.body).toMatchObject({ canUnlink: true, hasPassword: true })
    expect((await client.delete(`/api/v1/me/identities/${identities.body.identities[0].id}`)).status).toBe(204)
    expect((await client.get<LinkedIdentities>('/api/v1/me/identities')).body.identities).toEqual([])
  })

  it('asks for a recent sign-in before setting a password', async () => {
    const t = await googleApp(dialect)
    const { client } = await signUpWithGoogle(t, googleUser().sub)
    t.clock.advance(6 * 60_000)
    expect(errorCodeOf(await client.post('/api/v1/me/password/set', { newPassword: 'a brand new passphrase' }))).toBe('reauthentication_required')
  })

  it('still asks for the second factor of an account with two-factor authentication', async () => {
    const t = await googleApp(dialect)
    const user = await userWithTwoFactor(t)
    const g = googleUser({ email: user.email, email_verified: true })
    const browser = t.client()
    const callback = await googleSignIn(browser, g.sub)
    const location = String(callback.headers.location)
    expect(location).toMatch(/^\/signin#ticket=/)
    expect((await browser.get<AccountView>('/api/v1/me')).status).toBe(401)
    const ticket = new URLSearchParams(location.split('#')[1]).get('ticket')!
    const done = await browser.post('/api/v1/signin/two-factor', { ticket, code: independentTotp(user.secret, t.clock.now()) })
    expect(done.status).toBe(200)
    expect((await browser.get<AccountView>('/api/v1/me')).body.id).toBe(user.accountId)
  })

  it('refuses Google for a member of a team that allows only its Workspace domain, read from the ID token\'s hd', async () => {
    const t = await googleApp(dialect)
    const { admin, slug } = await teamWithAdmin(t)
    const member = await addMember(t, admin, slug, ['developer'])
    expect((await admin.client.patch(`/api/v1/teams/${slug}/signin-policy`, { googleWorkspaceDomain: 'corp.example' })).status).toBe(200)
    const personal = googleUser({ email: member.email, email_verified: true })
    const refused = await googleSignIn(t.client(), personal.sub)
    expect(refused.status).toBe(403)
    expect(errorCodeOf(refused)).toBe('google_workspace_required')
    expect(errorDetails(refused)).toMatchObject({ teams: [{ slug }] })
    expect(errorOf(refused).message).toContain('@corp.example')
    // Nothing was linked by the refused attempt.
    expect((await member.client.get<LinkedIdentities>('/api/v1/me/identities')).body.identities).toEqual([])
    const workspace = googleUser({ email: member.email, email_verified: true, hd: 'corp.example' })
    expect((await googleSignIn(t.client(), workspace.sub)).headers.location).toBe('/settings/profile')
  })

  it('refuses Google for a member of a team that turned Google sign-in off (team_requires_sso), and not for its Admin', async () => {
    const t = await googleApp(dialect)
    const { admin, slug } = await teamWithAdmin(t)
    const member = await addMember(t, admin, slug, ['developer'])
    const team = await t.app.ctx.db.selectFrom('teams').select('id').where('slug', '=', slug).executeTakeFirstOrThrow()
    const now = t.clock.now()
    await t.app.ctx.db.insertInto('sso_connections').values({ id: newId(), team_id: team.id, protocol: 'saml', name: 'Okta', enabled: 1, idp_initiated: 0, idp_entity_id: `https://idp.example/${newId()}`, idp_sso_url: 'https://idp.example/sso', idp_certificates: null, oidc_issuer: null, oidc_client_id: null, oidc_client_secret: null, tested_at: null, created_by: null, created_at: now, updated_at: now }).execute()
    expect((await admin.client.patch(`/api/v1/teams/${slug}/signin-policy`, { googleSigninDisabled: true })).status).toBe(200)
    const g = googleUser({ email: member.email, email_verified: true })
    const refused = await googleSignIn(t.client(), g.sub)
    expect(errorCodeOf(refused)).toBe('team_requires_sso')
    const a = googleUser({ email: admin.email, email_verified: true })
    expect((await googleSignIn(t.client(), a.sub)).headers.location).toBe('/settings/profile')
  })

  it('answers account_deactivated for a deactivated account', async () => {
    const t = await googleApp(dialect)
    const g = googleUser()
    const { account } = await signUpWithGoogle(t, g.sub)
    await setAccountActive(t.app.ctx, account.email, false, OPERATOR)
    const res = await googleSignIn(t.client(), g.sub)
    expect(res.status).toBe(403)
    expect(errorCodeOf(res)).toBe('account_deactivated')
  })
})

describe('Without Google configured', () => {
  it('offers no Google button and answers google_not_configured', async () => {
    const t = await testApp('sqlite')
    expect((await t.client().get<SignInMethods>('/api/v1/signin/methods')).body).toEqual({ google: false })
    const start = await t.client().get('/api/v1/signin/google/start')
    expect(start.status).toBe(404)
    expect(errorCodeOf(start)).toBe('google_not_configured')
    expect(errorCodeOf(await t.client().get('/api/v1/signin/google/callback?code=x&state=y'))).toBe('google_not_configured')
  })

  it('says it is offered when configured', async () => {
    const t = await googleApp('sqlite')
    expect((await t.client().get<SignInMethods>('/api/v1/signin/methods')).body).toEqual({ google: true })
  })
})
