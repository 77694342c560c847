import { describe, expect, it } from 'vitest'
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../clock.ts'
import { setAccountActive } from '../accounts/accounts.ts'
import { OPERATOR } from '../audit/audit.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { errorOf, expectError, expectErrorCode, person, signedUpUser, STRONG_PASSWORD, testApp } from '../../test/helpers/app.ts'
import type { SessionList, SessionsRevoked } from './schemas.ts'
import type { AccountView, ConfirmationSent } from '../accounts/schemas.ts'
import type { SignedIn } from '../signin/schemas.ts'

describe.each(DIALECTS)('sessions on %s', (dialect) => {
  describe('signing in', () => {
    it('accepts the email or the username, in any letter case', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const byEmail = await t.client().post<SignedIn>('/api/v1/signin', { login: user.email.toUpperCase(), password: STRONG_PASSWORD })
      expect(byEmail.status).toBe(200)
      const byUsername = await t.client().post<SignedIn>('/api/v1/signin', { login: user.username.toUpperCase(), password: STRONG_PASSWORD })
      expect(byUsername.status).toBe(200)
      expect(byUsername.body.account.username).toBe(user.username)
    })

    it('answers a wrong password and an unknown login identically', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const wrong = await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: 'not the password at all' })
      const unknown = await t.client().post<SignedIn>('/api/v1/signin', { login: 'nobody@example.com', password: 'not the password at all' })
      expect(wrong.status).toBe(401)
      expect(unknown.status).toBe(401)
      expect(wrong.body).toEqual(unknown.body)
      expectErrorCode(wrong, 'invalid_credentials')
    })

    it('issues a new session token at every sign-in', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const first = user.client.cookie
      await user.client.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })
      expect(user.client.cookie).toBeDefined()
      expect(user.client.cookie).not.toBe(first)
      expect(user.client.cookie).toMatch(/^[A-Za-z0-9_-]{43}$/)
    })

    it('sets an HttpOnly SameSite=Lax cookie, persistent only with "stay signed in"', async () => {
      const t = await testApp(dialect)
      const who = person()
      await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })
      const short = await t.client().post<SignedIn>('/api/v1/signin', { login: who.email, password: who.password })
      const cookie = short.cookies.find((c) => c.name === 'latchkey_session')!
      expect(cookie.httpOnly).toBe(true)
      expect(cookie.sameSite).toBe('Lax')
      expect(cookie.path).toBe('/')
      expect(cookie.maxAge).toBeUndefined()
      const long = await t.client().post<SignedIn>('/api/v1/signin', { login: who.email, password: who.password, staySignedIn: true })
      expect(long.cookies.find((c) => c.name === 'latchkey_session')!.maxAge).toBe(30 * 24 * 3600)
    })

    it('uses a __Host- prefixed Secure cookie when PUBLIC_URL is https', async () => {
      const t = await testApp(dialect, { PUBLIC_URL: 'https://accounts.example.com' })
      const who = person()
      await t.client({ origin: 'https://accounts.example.com' }).post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })
      const res = await t.client({ origin: 'https://accounts.example.com' }).post<SignedIn>('/api/v1/signin', { login: who.email, password: who.password })
      const cookie = res.cookies.find((c) => c.name === '__Host-latchkey_session')!
      expect(cookie.secure).toBe(true)
      expect(cookie.httpOnly).toBe(true)
    })

    it('returns a bearer token instead of a cookie when asked', async () => {
      const t = await testApp(dialect)
      const who = person()
      await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })
      const script = t.client({ origin: null })
      const res = await script.post<SignedIn>('/api/v1/signin', { login: who.username, password: who.password, returnToken: true })
      expect(res.status).toBe(200)
      expect(res.cookies).toHaveLength(0)
      script.bearer = res.body.token
      const me = await script.get<AccountView>('/api/v1/me')
      expect(me.status).toBe(200)
      expect(me.body.username).toBe(who.username)
    })

    it('checks the password exactly as typed: another letter case, a truncation or an added space is refused', async () => {
      const t = await testApp(dialect)
      const who = { ...person(), password: 'Correct Horse Battery Staple, a longer passphrase than seventy-two bytes of bcrypt' }
      expect((await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })).status).toBe(202)
      for (const variant of [who.password.toLowerCase(), who.password.toUpperCase(), who.password.slice(0, 72), who.password.slice(0, -1), `${who.password} `, ` ${who.password}`]) {
        const res = await t.client().post<SignedIn>('/api/v1/signin', { login: who.email, password: variant })
        expect(res.status, JSON.stringify(variant)).toBe(401)
        expectErrorCode(res, 'invalid_credentials')
      }
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: who.email, password: who.password })).status).toBe(200)
    })

    it('never asks for a periodic password change: a password set 400 days ago still signs in', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      t.clock.advance(400 * DAY_MS)
      const res = await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })
      expect(res.status).toBe(200)
      expect(res.body.account.username).toBe(user.username)
    })

    it('starts with no accounts at all: no default admin, root or sa can sign in', async () => {
      const t = await testApp(dialect)
      const rows = await t.app.ctx.db.selectFrom('accounts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()
      expect(Number(rows.n)).toBe(0)
      for (const login of ['admin', 'root', 'sa', 'administrator', 'latchkey']) {
        for (const password of ['admin', 'password', 'changeme', login]) {
          const res = await t.client().post<SignedIn>('/api/v1/signin', { login, password })
          expectError(res, 401, 'invalid_credentials')
        }
      }
    })

    it('lets an unconfirmed account sign in and says it is unconfirmed', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t, { confirm: false })
      const me = await user.client.get<AccountView>('/api/v1/me')
      expect(me.body.emailConfirmed).toBe(false)
    })
  })

  describe('session lifetime', () => {
    it('keeps a "stay signed in" session for exactly 30 days', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t, { staySignedIn: true })
      t.clock.advance(30 * DAY_MS - 1)
      expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(200)
      t.clock.advance(1)
      const expired = await user.client.get<AccountView>('/api/v1/me')
      expectError(expired, 401, 'session_expired')
    })

    it('ends a session without "stay signed in" after 30 minutes without activity', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      for (let i = 0; i < 4; i++) {
        t.clock.advance(29 * MINUTE_MS)
        expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(200)
      }
      t.clock.advance(30 * MINUTE_MS)
      const expired = await user.client.get<AccountView>('/api/v1/me')
      expectError(expired, 401, 'session_expired')
    })

    it('ends a session without "stay signed in" 24 hours after sign-in, however active it stays', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      // Active every 20 minutes: the idle limit never bites, the absolute one does.
      for (let elapsed = 20 * MINUTE_MS; elapsed < 24 * HOUR_MS; elapsed += 20 * MINUTE_MS) {
        t.clock.advance(20 * MINUTE_MS)
        expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(200)
      }
      t.clock.advance(20 * MINUTE_MS - 1)
      expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(200)
      t.clock.advance(1)
      const expired = await user.client.get<AccountView>('/api/v1/me')
      expectError(expired, 401, 'session_expired')
    })

    it('answers "unauthenticated" to a made-up token', async () => {
      const t = await testApp(dialect)
      const client = t.client()
      client.cookie = 'A'.repeat(43)
      const res = await client.get<AccountView>('/api/v1/me')
      expectError(res, 401, 'unauthenticated')
    })
  })

  describe('active sessions', () => {
    it('lists each device with browser, OS, IP and which one is current', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const phone = t.client({ ip: '203.0.113.9', userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1' })
      await phone.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })
      const list = await user.client.get<SessionList>('/api/v1/me/sessions')
      expect(list.status).toBe(200)
      expect(list.body.sessions).toHaveLength(2)
      const current = list.body.sessions.find((s: { current: boolean }) => s.current)
      const other = list.body.sessions.find((s: { current: boolean; lastActiveAt: string }) => !s.current)
      expect(current).toMatchObject({ browser: 'Chrome 142', os: 'Windows 10', ip: '198.51.100.7' })
      expect(other).toMatchObject({ browser: 'Safari 17', os: 'iOS 17.4', ip: '203.0.113.9' })
      expect(Date.parse(other!.lastActiveAt)).toBe(t.clock.now())
    })

    it('revokes one session, which fails on its very next request', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const laptop = t.client()
      const signin = await laptop.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })
      expect((await laptop.get<AccountView>('/api/v1/me')).status).toBe(200)
      const revoke = await user.client.delete(`/api/v1/me/sessions/${signin.body.session.id}`)
      expect(revoke.status).toBe(204)
      expect((await laptop.get<AccountView>('/api/v1/me')).status).toBe(401)
      expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(200)
    })

    it("cannot revoke another account's session", async () => {
      const t = await testApp(dialect)
      const alice = await signedUpUser(t)
      const bob = await signedUpUser(t)
      const res = await alice.client.delete(`/api/v1/me/sessions/${bob.sessionId}`)
      expect(res.status).toBe(404)
      expect((await bob.client.get<AccountView>('/api/v1/me')).status).toBe(200)
    })

    it('revokes all sessions, or all but this one', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const other = t.client()
      await other.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })
      const keep = await user.client.delete<SessionsRevoked>('/api/v1/me/sessions?keepCurrent=true')
      expect(keep.body.revoked).toBe(1)
      expect((await other.get<AccountView>('/api/v1/me')).status).toBe(401)
      expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(200)
      const all = await user.client.delete<SessionsRevoked>('/api/v1/me/sessions')
      expect(all.body.revoked).toBe(1)
      expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(401)
    })

    it('signs out this session only', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const other = t.client()
      await other.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })
      const token = user.client.cookie
      expect((await user.client.post('/api/v1/signout')).status).toBe(204)
      user.client.cookie = token
      expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(401)
      expect((await other.get<AccountView>('/api/v1/me')).status).toBe(200)
    })
  })

  describe('cross-site request defence', () => {
    it('refuses a cookie request from another origin', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const res = await user.client.request('POST', '/api/v1/signout', {}, { origin: 'https://evil.example' })
      expectError(res, 403, 'forbidden_origin')
      expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(200)
    })

    it('refuses a cookie request with no Origin at all', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const noOrigin = t.client({ origin: null })
      noOrigin.cookie = user.client.cookie
      const res = await noOrigin.post('/api/v1/signout')
      expectError(res, 403, 'forbidden_origin')
    })

    it('accepts bearer requests without an Origin', async () => {
      const t = await testApp(dialect)
      const who = person()
      await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })
      const script = t.client({ origin: null })
      script.bearer = (await script.post<SignedIn>('/api/v1/signin', { login: who.email, password: who.password, returnToken: true })).body.token
      expect((await script.post('/api/v1/signout')).status).toBe(204)
    })

    it('refuses a cross-site sign-in (login CSRF)', async () => {
      const t = await testApp(dialect)
      const res = await t.client({ origin: 'https://evil.example' }).post<SignedIn>('/api/v1/signin', { login: 'x@example.com', password: 'whatever1234' })
      expect(res.status).toBe(403)
    })
  })

  describe('throttling and lockout', () => {
    it('backs off an account after repeated failures, with when to retry', async () => {
      const t = await testApp(dialect, { RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: '3' })
      const user = await signedUpUser(t)
      for (let i = 0; i < 3; i++) {
        expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: 'wrong password here' })).status).toBe(401)
      }
      const blocked = await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })
      expectError(blocked, 429, 'too_many_requests')
      // On the server's clock, within the 15-minute window.
      expect(Date.parse(errorOf(blocked).retryAt!)).toBeGreaterThan(t.clock.now())
      expect(Date.parse(errorOf(blocked).retryAt!)).toBeLessThanOrEqual(t.clock.now() + 15 * 60 * 1000)
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0)
    })

    it('throttles unknown logins exactly like known ones', async () => {
      const t = await testApp(dialect, { RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: '2' })
      for (let i = 0; i < 2; i++) await t.client().post<SignedIn>('/api/v1/signin', { login: 'ghost@example.com', password: 'wrong password here' })
      const res = await t.client().post<SignedIn>('/api/v1/signin', { login: 'ghost@example.com', password: 'wrong password here' })
      expect(res.status).toBe(429)
    })

    it('limits sign-in attempts per IP address', async () => {
      const t = await testApp(dialect, { RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '3' })
      const attacker = t.client({ ip: '192.0.2.66' })
      for (let i = 0; i < 3; i++) await attacker.post<SignedIn>('/api/v1/signin', { login: `victim${i}@example.com`, password: 'guess guess guess' })
      expect((await attacker.post<SignedIn>('/api/v1/signin', { login: 'other@example.com', password: 'guess guess guess' })).status).toBe(429)
      expect((await t.client({ ip: '192.0.2.67' }).post<SignedIn>('/api/v1/signin', { login: 'other@example.com', password: 'guess guess guess' })).status).toBe(401)
    })

    it('locks password sign-in after the consecutive-failure limit until a reset', async () => {
      const t = await testApp(dialect, { SIGNIN_LOCK_AFTER_FAILURES: '3', RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: '100' })
      const user = await signedUpUser(t)
      for (let i = 0; i < 3; i++) await t.client().post<SignedIn>('/api/v1/signin', { login: user.username, password: 'wrong password here' })
      const locked = await t.client().post<SignedIn>('/api/v1/signin', { login: user.username, password: STRONG_PASSWORD })
      expectError(locked, 423, 'signin_locked')
      // The recovery path stays open to the owner.
      const challenge = await t.client().get('/api/v1/captcha')
      expect(challenge.status).toBe(200)
    })
  })

  describe('deactivation', () => {
    it('ends every session at once and gives a distinct error only with the right password', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      await setAccountActive(t.app.ctx, user.email, false, OPERATOR)
      expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(401)
      const right = await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })
      expectError(right, 403, 'account_deactivated')
      const wrong = await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: 'wrong password here' })
      expectErrorCode(wrong, 'invalid_credentials')
      await t.smtp.waitFor(user.email, /deactivated/)
      await setAccountActive(t.app.ctx, user.username, true, OPERATOR)
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).status).toBe(200)
    })
  })

  describe('password hashes', () => {
    it('rehashes with stronger parameters at the next successful sign-in', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const before = await t.app.ctx.db.selectFrom('accounts').select('password_hash').where('id', '=', user.accountId).executeTakeFirstOrThrow()
      expect(before.password_hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/)
      ;(t.app.ctx.hasher.params as { iterations: number }).iterations = 2
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).status).toBe(200)
      const after = await t.app.ctx.db.selectFrom('accounts').select('password_hash').where('id', '=', user.accountId).executeTakeFirstOrThrow()
      expect(after.password_hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=2,p=1\$/)
    })
  })
})
