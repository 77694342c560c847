import { describe, expect, it } from 'vitest'
import { tokenFrom } from '../../test/helpers/smtp.ts'
import { MINUTE_MS } from '../clock.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { errorCodeOf, errorDetails, errorOf, expectError, expectErrorCode, person, type Response, signedUpUser, STRONG_PASSWORD, testApp, type TestApp, type TestClient } from '../../test/helpers/app.ts'
import { independentTotp } from '../../test/helpers/totp.ts'
import { userWithTwoFactor } from '../../test/helpers/two-factor.ts'
import type { AccountView, ConfirmationSent, EmailChangeSent, EmailConfirmed, PasswordChanged } from '../accounts/schemas.ts'
import type { SessionList } from '../sessions/schemas.ts'
import type { Reauthenticated, SignedIn, TwoFactorRequired } from './schemas.ts'
import type { RecoveryCodes, TwoFactorEnabled, TwoFactorSetup } from '../two-factor/schemas.ts'
import type { PasskeyOptions } from '../passkeys/schemas.ts'

const NEW_PASSWORD = 'a brand new passphrase'

/** Every route behind sudo mode that carries no password, each with a body that would otherwise be accepted. */
const SENSITIVE: { name: string; call: (client: TestClient) => Promise<Response> }[] = [
  { name: 'POST /api/v1/me/passkeys/options', call: (c) => c.post<PasskeyOptions>('/api/v1/me/passkeys/options') },
  { name: 'GET /api/v1/me/two-factor/setup', call: (c) => c.get<TwoFactorSetup>('/api/v1/me/two-factor/setup') },
  { name: 'POST /api/v1/me/two-factor/confirm', call: (c) => c.post<TwoFactorEnabled>('/api/v1/me/two-factor/confirm', { code: '123456' }) },
]

/**
 * The routes whose body carries the password: that entry is the fresh proof, so outside the
 * window they check it instead of asking for it a second time. Ordered so the destructive come last.
 */
const WITH_PASSWORD: { name: string; call: (client: TestClient, password: string) => Promise<Response>; ok: number }[] = [
  { name: 'POST /api/v1/me/two-factor', call: (c, password) => c.post<TwoFactorSetup>('/api/v1/me/two-factor', { password }), ok: 200 },
  { name: 'POST /api/v1/me/email', call: (c, password) => c.post<EmailChangeSent>('/api/v1/me/email', { email: `moved${Math.random().toString(36).slice(2, 8)}@example.com`, password }), ok: 202 },
  { name: 'POST /api/v1/me/password', call: (c, password) => c.post<PasswordChanged>('/api/v1/me/password', { currentPassword: password, newPassword: NEW_PASSWORD }), ok: 200 },
  { name: 'DELETE /api/v1/me', call: (c, password) => c.delete('/api/v1/me', { password }), ok: 200 },
]

function expectReauthRequired(res: Response): void {
  expectError(res, 403, 'reauthentication_required')
  expect(errorDetails(res).reauthenticate).toBe('POST /api/v1/me/reauthenticate')
  expect(errorDetails(res).methods).toEqual(['password', 'code', 'passkey'])
}

async function reauthEvents(t: TestApp, accountId: string) {
  const rows = await t.app.ctx.db.selectFrom('audit_events').select(['type', 'details', 'at', 'ip']).where('account_id', '=', accountId).where('type', '=', 'session.reauthenticated').execute()
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }))
}


describe.each(DIALECTS)('re-authentication (sudo mode) on %s', (dialect) => {
  it('allows a sensitive action within 5 minutes of signing in', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t, { staySignedIn: true })
    t.clock.advance(5 * MINUTE_MS - 1)
    const res = await user.client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: STRONG_PASSWORD, newPassword: NEW_PASSWORD })
    expect(res.status).toBe(200)
    expect(res.body.status).toBe('password_changed')
  })

  it('refuses every sensitive action without a password 5 minutes after signing in, naming the reauthenticate route', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t, { staySignedIn: true })
    t.clock.advance(5 * MINUTE_MS)
    for (const route of SENSITIVE) {
      const res = await route.call(user.client)
      expect({ route: route.name, status: res.status, code: errorCodeOf(res) }).toEqual({ route: route.name, status: 403, code: 'reauthentication_required' })
      expectReauthRequired(res)
    }
    // Nothing happened: the session still works, the account and password are unchanged.
    expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(200)
    expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).status).toBe(200)
  })

  it('takes the password in the body as the fresh proof 5 minutes after signing in: a wrong one is refused, the right one is not asked for twice', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t, { staySignedIn: true })
    t.clock.advance(5 * MINUTE_MS)
    for (const route of WITH_PASSWORD) {
      const wrong = await route.call(user.client, 'not my password!')
      expect({ route: route.name, code: errorCodeOf(wrong) }).toEqual({ route: route.name, code: 'password_incorrect' })
    }
    // Each wrong guess spent one of the sign-in failure budget's tries; the right password gives them back.
    for (const route of WITH_PASSWORD) {
      t.clock.advance(5 * MINUTE_MS)
      const res = await route.call(user.client, route.name === 'DELETE /api/v1/me' ? NEW_PASSWORD : STRONG_PASSWORD)
      expect({ route: route.name, status: res.status }).toEqual({ route: route.name, status: route.ok })
    }
  })

  it('makes sensitive actions work again after re-authenticating with the password, for 5 minutes', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t, { staySignedIn: true })
    t.clock.advance(5 * MINUTE_MS)
    expectReauthRequired(await user.client.post<PasskeyOptions>('/api/v1/me/passkeys/options'))
    const reauth = await user.client.post<Reauthenticated>('/api/v1/me/reauthenticate', { password: STRONG_PASSWORD })
    expect(reauth.status).toBe(200)
    expect(Date.parse(reauth.body.reauthenticatedUntil)).toBe(t.clock.now() + 5 * MINUTE_MS)
    expect(reauth.body.token).toBeUndefined()
    // Ordered so that the destructive ones come last.
    expect((await user.client.post<PasskeyOptions>('/api/v1/me/passkeys/options')).status).toBe(200)
    expect((await user.client.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: STRONG_PASSWORD })).status).toBe(200)
    expect((await user.client.post<EmailChangeSent>('/api/v1/me/email', { email: `new-${user.email}`, password: STRONG_PASSWORD })).status).toBe(202)
    t.clock.advance(5 * MINUTE_MS - 1)
    expect((await user.client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: STRONG_PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(200)
    expect((await user.client.delete('/api/v1/me', { password: NEW_PASSWORD })).status).toBe(200)
  })

  it('expires the re-authentication after another 5 minutes', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t, { staySignedIn: true })
    t.clock.advance(10 * MINUTE_MS)
    expect((await user.client.post<Reauthenticated>('/api/v1/me/reauthenticate', { password: STRONG_PASSWORD })).status).toBe(200)
    t.clock.advance(5 * MINUTE_MS)
    expectReauthRequired(await user.client.post<PasskeyOptions>('/api/v1/me/passkeys/options'))
  })

  it('refuses a wrong password with password_incorrect and stays out of sudo mode', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t, { staySignedIn: true })
    t.clock.advance(5 * MINUTE_MS)
    const res = await user.client.post<Reauthenticated>('/api/v1/me/reauthenticate', { password: 'not my password!' })
    expectError(res, 403, 'password_incorrect')
    expect(errorOf(res).fields).toEqual({ password: 'incorrect' })
    expectReauthRequired(await user.client.post<PasskeyOptions>('/api/v1/me/passkeys/options'))
    expect(await reauthEvents(t, user.accountId)).toEqual([])
  })

  it('needs exactly one proof: both password and code is invalid_request', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t, { staySignedIn: true })
    t.clock.advance(5 * MINUTE_MS)
    const cookie = user.client.cookie
    const both = await user.client.post<Reauthenticated>('/api/v1/me/reauthenticate', { password: STRONG_PASSWORD, code: '123456' })
    expectError(both, 400, 'invalid_request')
    const none = await user.client.post<Reauthenticated>('/api/v1/me/reauthenticate', {})
    expectError(none, 400, 'invalid_request')
    expect(user.client.cookie).toBe(cookie)
    expectReauthRequired(await user.client.post<PasskeyOptions>('/api/v1/me/passkeys/options'))
  })

  it('needs a signed-in session', async () => {
    const t = await testApp(dialect)
    const res = await t.client().post<Reauthenticated>('/api/v1/me/reauthenticate', { password: STRONG_PASSWORD })
    expectError(res, 401, 'unauthenticated')
  })

  it('rotates the session cookie: the old token stops working, the new one works', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t, { staySignedIn: true })
    t.clock.advance(5 * MINUTE_MS)
    const before = user.client.cookie
    expect(before).toBeDefined()
    const res = await user.client.post<Reauthenticated>('/api/v1/me/reauthenticate', { password: STRONG_PASSWORD })
    expect(res.status).toBe(200)
    const after = user.client.cookie
    expect(after).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(after).not.toBe(before)
    // Still a persistent cookie, as the session was "stay signed in".
    expect(res.cookies.find((c) => c.name === 'latchkey_session')!.maxAge).toBe(30 * 24 * 3600)

    const stale = t.client()
    stale.cookie = before
    const old = await stale.get<AccountView>('/api/v1/me')
    expectError(old, 401, 'unauthenticated')

    const me = await user.client.get<AccountView>('/api/v1/me')
    expect(me.status).toBe(200)
    expect(me.body.id).toBe(user.accountId)
    // Same session, not a new one.
    const sessions = await user.client.get<SessionList>('/api/v1/me/sessions')
    expect(sessions.body.sessions.map((s: { id: string }) => s.id)).toEqual([user.sessionId])
  })

  it('gives a bearer client the new token in the body, and the old bearer token stops working', async () => {
    const t = await testApp(dialect)
    const who = person()
    expect((await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })).status).toBe(202)
    // Passkeys need a confirmed address.
    expect((await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token: tokenFrom(await t.smtp.waitFor(who.email, /Confirm/)) })).status).toBe(200)
    const script = t.client({ origin: null })
    const signin = await script.post<SignedIn>('/api/v1/signin', { login: who.email, password: who.password, staySignedIn: true, returnToken: true })
    expect(signin.status).toBe(200)
    const oldToken = signin.body.token!
    script.bearer = oldToken
    t.clock.advance(5 * MINUTE_MS)
    expectReauthRequired(await script.post<PasskeyOptions>('/api/v1/me/passkeys/options'))

    const res = await script.post<Reauthenticated>('/api/v1/me/reauthenticate', { password: who.password })
    expect(res.status).toBe(200)
    expect(res.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(res.body.token).not.toBe(oldToken)
    expect(res.cookies.find((c) => c.name === 'latchkey_session')).toBeUndefined()

    const old = await script.get<AccountView>('/api/v1/me')
    expectError(old, 401, 'unauthenticated')

    script.bearer = res.body.token
    expect((await script.get<AccountView>('/api/v1/me')).status).toBe(200)
    expect((await script.post<PasskeyOptions>('/api/v1/me/passkeys/options')).status).toBe(200)
  })

  it('accepts an authenticator code when two-factor authentication is on', async () => {
    const t = await testApp(dialect)
    const user = await userWithTwoFactor(t)
    const client = t.client()
    const first = await client.post<TwoFactorRequired>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD, staySignedIn: true })
    expect(first.body.twoFactorRequired).toBe(true)
    const second = await client.post<SignedIn>('/api/v1/signin/two-factor', { ticket: first.body.ticket, code: independentTotp(user.secret, t.clock.now()) })
    expect(second.status).toBe(200)
    const sessionId: string = second.body.session.id

    t.clock.advance(5 * MINUTE_MS)
    expectReauthRequired(await client.post<PasskeyOptions>('/api/v1/me/passkeys/options'))
    const right = independentTotp(user.secret, t.clock.now())
    const wrong = right === '123456' ? '654321' : '123456'
    const refused = await client.post<Reauthenticated>('/api/v1/me/reauthenticate', { code: wrong })
    expectError(refused, 400, 'two_factor_code_invalid')

    const before = client.cookie
    const res = await client.post<Reauthenticated>('/api/v1/me/reauthenticate', { code: right })
    expect(res.status).toBe(200)
    expect(client.cookie).not.toBe(before)
    expect((await client.post<PasskeyOptions>('/api/v1/me/passkeys/options')).status).toBe(200)
    expect((await client.post<RecoveryCodes>('/api/v1/me/two-factor/recovery-codes', { password: STRONG_PASSWORD })).status).toBe(200)
    const events = await reauthEvents(t, user.accountId)
    expect(events.map((e) => e.details)).toEqual([{ sessionId, method: 'totp' }])

    // The same code cannot be replayed within its step.
    const replay = await client.post<Reauthenticated>('/api/v1/me/reauthenticate', { code: right })
    expectError(replay, 400, 'two_factor_code_reused')
  })

  it('throttles wrong passwords per account, like sign-in', async () => {
    const t = await testApp(dialect, { RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: '3' })
    const user = await signedUpUser(t, { staySignedIn: true })
    t.clock.advance(5 * MINUTE_MS)
    for (let i = 0; i < 3; i++) {
      expectErrorCode(await user.client.post<Reauthenticated>('/api/v1/me/reauthenticate', { password: 'not my password!' }), 'password_incorrect')
    }
    const blocked = await user.client.post<Reauthenticated>('/api/v1/me/reauthenticate', { password: STRONG_PASSWORD })
    expectError(blocked, 429, 'too_many_requests')
    expectReauthRequired(await user.client.post<PasskeyOptions>('/api/v1/me/passkeys/options'))
  })

  it('throttles wrong authenticator codes per account, like the sign-in second step', async () => {
    const t = await testApp(dialect, { RATE_LIMIT_TWO_FACTOR_FAILURES_PER_ACCOUNT: '3' })
    const user = await userWithTwoFactor(t)
    const client = t.client()
    const first = await client.post<TwoFactorRequired>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD, staySignedIn: true })
    expect((await client.post<SignedIn>('/api/v1/signin/two-factor', { ticket: first.body.ticket, code: independentTotp(user.secret, t.clock.now()) })).status).toBe(200)
    t.clock.advance(5 * MINUTE_MS)
    const right = independentTotp(user.secret, t.clock.now())
    const wrong = right === '123456' ? '654321' : '123456'
    for (let i = 0; i < 3; i++) {
      expectErrorCode(await client.post<Reauthenticated>('/api/v1/me/reauthenticate', { code: wrong }), 'two_factor_code_invalid')
    }
    // A stolen session must not be able to guess the 6-digit code without limit.
    const blocked = await client.post<Reauthenticated>('/api/v1/me/reauthenticate', { code: right })
    expectError(blocked, 429, 'too_many_requests')
    expectReauthRequired(await client.post<PasskeyOptions>('/api/v1/me/passkeys/options'))
  })

  it('records a session.reauthenticated audit event', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t, { staySignedIn: true })
    t.clock.advance(5 * MINUTE_MS)
    expect((await user.client.post<Reauthenticated>('/api/v1/me/reauthenticate', { password: STRONG_PASSWORD })).status).toBe(200)
    const events = await reauthEvents(t, user.accountId)
    expect(events).toEqual([{ type: 'session.reauthenticated', details: { sessionId: user.sessionId, method: 'password' }, at: t.clock.now(), ip: '198.51.100.7' }])
  })
})
