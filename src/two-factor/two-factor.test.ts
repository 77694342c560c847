import { describe, expect, it } from 'vitest'
import { MINUTE_MS } from '../clock.ts'
import { OPERATOR } from '../audit/audit.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { errorOf, expectError, expectErrorCode, signedUpUser, STRONG_PASSWORD, testApp, type TestClient } from '../../test/helpers/app.ts'
import { independentTotp } from '../../test/helpers/totp.ts'
import { userWithTwoFactor } from '../../test/helpers/two-factor.ts'
import { resetTwoFactorByOperator } from './two-factor.ts'
import type { RecoveryCodes, TwoFactorEnabled, TwoFactorSetup, TwoFactorStatus } from './schemas.ts'
import type { BrowserAccounts, SignedIn, TwoFactorRequired } from '../signin/schemas.ts'
import type { AccountView } from '../accounts/schemas.ts'
import type { PreferencesView } from '../notifications/schemas.ts'


async function ticketFor(client: TestClient, login: string) {
  const res = await client.post<TwoFactorRequired>('/api/v1/signin', { login, password: STRONG_PASSWORD })
  expect(res.status).toBe(200)
  expect(res.body.twoFactorRequired).toBe(true)
  return res.body.ticket
}

describe.each(DIALECTS)('two-factor authentication on %s', (dialect) => {
  describe('turning it on', () => {
    it('shows a secret, an otpauth URI and a QR code, and changes nothing until confirmed', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const res = await user.client.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: STRONG_PASSWORD })
      expect(res.body.secret).toMatch(/^[A-Z2-7]{32}$/)
      expect(res.body.otpauthUri).toMatch(new RegExp(`^otpauth://totp/.*${encodeURIComponent(user.email).replace('.', '\\.')}.*secret=${res.body.secret}.*algorithm=SHA1&digits=6&period=30`))
      expect(res.body.qrCode).toMatch(/^data:image\/png;base64,/)
      expect((await user.client.get<TwoFactorStatus>('/api/v1/me/two-factor')).body.enabled).toBe(false)
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).body.account).toBeDefined()
    })

    it('needs the password', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const res = await user.client.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: 'not my password!' })
      expectErrorCode(res, 'password_incorrect')
    })

    it('refuses a wrong confirmation code', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const { secret } = (await user.client.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: STRONG_PASSWORD })).body
      const wrong = String((Number(independentTotp(secret, t.clock.now())) + 1) % 1_000_000).padStart(6, '0')
      const res = await user.client.post<TwoFactorEnabled>('/api/v1/me/two-factor/confirm', { code: wrong })
      expect(errorOf(res)).toMatchObject({ code: 'two_factor_code_invalid', fields: { code: 'invalid' } })
    })

    it('refuses to confirm before set-up starts', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const res = await user.client.post<TwoFactorEnabled>('/api/v1/me/two-factor/confirm', { code: '123456' })
      expectErrorCode(res, 'two_factor_setup_missing')
    })

    it('returns ten recovery codes, ends every session issued before and keeps this browser signed in with a fresh one', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const other = t.client()
      await other.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })
      const { secret } = (await user.client.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: STRONG_PASSWORD })).body
      const oldToken = user.client.cookie!
      const res = await user.client.post<TwoFactorEnabled>('/api/v1/me/two-factor/confirm', { code: independentTotp(secret, t.clock.now()) })
      expect(res.status).toBe(200)
      expect(res.body.recoveryCodes).toHaveLength(10)
      expect(new Set(res.body.recoveryCodes).size).toBe(10)
      // Ten characters from a 31-letter alphabet: about 50 bits each (ASVS V6.5.4 asks for 20).
      for (const code of res.body.recoveryCodes) expect(code).toMatch(/^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$/)
      expect(res.body.otherSessionsRevoked).toBe(1)
      // A cookie client gets the new session as a cookie, never in the body.
      expect(res.body.token).toBeUndefined()
      expect(user.client.cookie).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(user.client.cookie).not.toBe(oldToken)
      // This browser goes on without signing in again (where its just-used code would be refused).
      expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(200)
      expect((await user.client.get<TwoFactorStatus>('/api/v1/me/two-factor')).body).toMatchObject({ enabled: true, recoveryCodesRemaining: 10, setupPending: false })
      // Everything issued before is gone: the other device, and this browser's old token.
      expect((await other.get<AccountView>('/api/v1/me')).status).toBe(401)
      const stale = t.client()
      stale.cookie = oldToken
      expect((await stale.get<AccountView>('/api/v1/me')).status).toBe(401)
      const sessions = await t.app.ctx.db.selectFrom('sessions').select('id').where('account_id', '=', user.accountId).execute()
      expect(sessions).toHaveLength(1)
      expect(sessions[0].id).not.toBe(user.sessionId)
      await t.smtp.waitFor(user.email, /Two-factor authentication is on/)
    })

    it('gives a bearer client its fresh session token in the body', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const app = t.client({ origin: null })
      const signin = await app.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD, returnToken: true })
      expect(signin.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
      app.bearer = signin.body.token
      app.jar.clear()
      const { secret } = (await app.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: STRONG_PASSWORD })).body
      const res = await app.post<TwoFactorEnabled>('/api/v1/me/two-factor/confirm', { code: independentTotp(secret, t.clock.now()) })
      expect(res.status).toBe(200)
      expect(res.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(res.body.otherSessionsRevoked).toBe(1)
      expect((await app.get<AccountView>('/api/v1/me')).status).toBe(401)
      app.bearer = res.body.token
      expect((await app.get<AccountView>('/api/v1/me')).body.username).toBe(user.username)
    })

    it('keeps the other accounts signed in in the same browser', async () => {
      const t = await testApp(dialect)
      const browser = t.client()
      const first = await signedUpUser(t, { client: browser })
      const second = await signedUpUser(t, { client: browser })
      expect(browser.cookie!.split('.')).toHaveLength(2)
      const { secret } = (await browser.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: STRONG_PASSWORD })).body
      expect((await browser.post<TwoFactorEnabled>('/api/v1/me/two-factor/confirm', { code: independentTotp(secret, t.clock.now()) })).status).toBe(200)
      expect((await browser.get<AccountView>('/api/v1/me')).body.id).toBe(second.accountId)
      const accounts = (await browser.get<BrowserAccounts>('/api/v1/browser/accounts')).body
      expect(JSON.stringify(accounts)).toContain(first.accountId)
    })

    it('asks for the password by name when it is left empty, without spending a try', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const res = await user.client.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: '' })
      expect(res.status).toBe(400)
      expect(errorOf(res)).toEqual({ code: 'invalid_request', message: 'Enter your password.', fields: { password: 'required' } })
      const code = await user.client.post<TwoFactorEnabled>('/api/v1/me/two-factor/confirm', { code: '' })
      expectErrorCode(code, 'two_factor_setup_missing')
      expect((await user.client.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: STRONG_PASSWORD })).status).toBe(200)
      expect(errorOf(await user.client.post<TwoFactorEnabled>('/api/v1/me/two-factor/confirm', { code: '' }))).toMatchObject({ code: 'invalid_request', fields: { code: 'required' } })
    })

    it('keeps a pending set-up across a reload: the same key until it is confirmed or cancelled', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      expect((await user.client.get<TwoFactorStatus>('/api/v1/me/two-factor')).body.setupPending).toBe(false)
      expectErrorCode(await user.client.get<TwoFactorSetup>('/api/v1/me/two-factor/setup'), 'two_factor_setup_missing')
      const begun = (await user.client.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: STRONG_PASSWORD })).body
      expect((await user.client.get<TwoFactorStatus>('/api/v1/me/two-factor')).body).toMatchObject({ enabled: false, setupPending: true })
      // The page reloaded: it asks for the key again and gets the one already scanned.
      const again = await user.client.get<TwoFactorSetup>('/api/v1/me/two-factor/setup')
      expect(again.body).toEqual(begun)
      // "Turn on" pressed again: still the same key, not a new one that breaks the app's entry.
      expect((await user.client.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: STRONG_PASSWORD })).body.secret).toBe(begun.secret)
      // Cancelled: the key is gone, and the next set-up has a new one.
      expect((await user.client.delete('/api/v1/me/two-factor/setup')).status).toBe(204)
      expect((await user.client.get<TwoFactorStatus>('/api/v1/me/two-factor')).body.setupPending).toBe(false)
      expectErrorCode(await user.client.post<TwoFactorEnabled>('/api/v1/me/two-factor/confirm', { code: independentTotp(begun.secret, t.clock.now()) }), 'two_factor_setup_missing')
      const fresh = (await user.client.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: STRONG_PASSWORD })).body
      expect(fresh.secret).not.toBe(begun.secret)
      expect((await user.client.post<TwoFactorEnabled>('/api/v1/me/two-factor/confirm', { code: independentTotp(fresh.secret, t.clock.now()) })).status).toBe(200)
      // Cancelling cannot turn 2FA off (that needs the password).
      expect((await user.client.delete('/api/v1/me/two-factor/setup')).status).toBe(204)
      expect((await user.client.get<TwoFactorStatus>('/api/v1/me/two-factor')).body.enabled).toBe(true)
    })

    it('cannot be turned on twice', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const client = t.client()
      const ticket = await ticketFor(client, user.email)
      await client.post<SignedIn>('/api/v1/signin/two-factor', { ticket, code: independentTotp(user.secret, t.clock.now()) })
      const res = await client.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: STRONG_PASSWORD })
      expectErrorCode(res, 'two_factor_already_enabled')
    })
  })

  describe('signing in with it on', () => {
    it('asks for a second step, then signs in with a code computed independently', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const client = t.client()
      const first = await client.post<TwoFactorRequired>('/api/v1/signin', { login: user.username, password: STRONG_PASSWORD, staySignedIn: true })
      expect(first.body).toMatchObject({ twoFactorRequired: true, methods: ['totp', 'recovery_code'] })
      expect(first.cookies.find((c) => c.name === 'latchkey_session')).toBeUndefined()
      expect(Date.parse(first.body.expiresAt)).toBe(t.clock.now() + 5 * MINUTE_MS)
      const second = await client.post<SignedIn>('/api/v1/signin/two-factor', { ticket: first.body.ticket, code: independentTotp(user.secret, t.clock.now()) })
      expect(second.status).toBe(200)
      expect(second.body.session.staySignedIn).toBe(true)
      expect((await client.get<AccountView>('/api/v1/me')).body.username).toBe(user.username)
    })

    it('accepts a code once: a replay in the same window is refused', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const code = independentTotp(user.secret, t.clock.now())
      const a = t.client()
      expect((await a.post<SignedIn>('/api/v1/signin/two-factor', { ticket: await ticketFor(a, user.email), code })).status).toBe(200)
      const b = t.client()
      const replay = await b.post<SignedIn>('/api/v1/signin/two-factor', { ticket: await ticketFor(b, user.email), code })
      expectError(replay, 400, 'two_factor_code_reused')
    })

    it('refuses a wrong code with its own error', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const client = t.client()
      const res = await client.post<SignedIn>('/api/v1/signin/two-factor', { ticket: await ticketFor(client, user.email), code: '000000' === independentTotp(user.secret, t.clock.now()) ? '111111' : '000000' })
      expectErrorCode(res, 'two_factor_code_invalid')
    })

    it('expires the ticket after five minutes', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const client = t.client()
      const ticket = await ticketFor(client, user.email)
      t.clock.advance(5 * MINUTE_MS)
      const res = await client.post<SignedIn>('/api/v1/signin/two-factor', { ticket, code: independentTotp(user.secret, t.clock.now()) })
      expectErrorCode(res, 'ticket_invalid')
    })

    it('accepts a ticket only from the device that typed the password', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const browser = t.client({ ip: '203.0.113.30' })
      const ticket = await ticketFor(browser, user.email)
      const elsewhere = t.client({ ip: '198.51.100.99', userAgent: 'curl/8.0' })
      const stolen = await elsewhere.post<SignedIn>('/api/v1/signin/two-factor', { ticket, code: independentTotp(user.secret, t.clock.now()) })
      expectError(stolen, 400, 'ticket_invalid')
      // The theft attempt spent nothing: the right device still finishes.
      expect((await browser.post<SignedIn>('/api/v1/signin/two-factor', { ticket, code: independentTotp(user.secret, t.clock.now()) })).status).toBe(200)
    })

    it('uses a ticket once', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const client = t.client()
      const ticket = await ticketFor(client, user.email)
      expect((await client.post<SignedIn>('/api/v1/signin/two-factor', { ticket, code: independentTotp(user.secret, t.clock.now()) })).status).toBe(200)
      t.clock.advance(30_000)
      const again = await client.post<SignedIn>('/api/v1/signin/two-factor', { ticket, code: independentTotp(user.secret, t.clock.now()) })
      expectErrorCode(again, 'ticket_invalid')
    })

    it('gives a ticket five attempts', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const client = t.client()
      const ticket = await ticketFor(client, user.email)
      const right = independentTotp(user.secret, t.clock.now())
      const wrong = right === '123456' ? '654321' : '123456'
      for (let i = 0; i < 5; i++) expectErrorCode(await client.post<SignedIn>('/api/v1/signin/two-factor', { ticket, code: wrong }), 'two_factor_code_invalid')
      expectErrorCode(await client.post<SignedIn>('/api/v1/signin/two-factor', { ticket, code: right }), 'ticket_invalid')
    })

    it('rate-limits wrong codes per account across tickets', async () => {
      const t = await testApp(dialect, { RATE_LIMIT_TWO_FACTOR_FAILURES_PER_ACCOUNT: '3' })
      const user = await userWithTwoFactor(t)
      const right = independentTotp(user.secret, t.clock.now())
      const wrong = right === '123456' ? '654321' : '123456'
      for (let i = 0; i < 3; i++) {
        const c = t.client()
        await c.post<SignedIn>('/api/v1/signin/two-factor', { ticket: await ticketFor(c, user.email), code: wrong })
      }
      const c = t.client()
      const res = await c.post<SignedIn>('/api/v1/signin/two-factor', { ticket: await ticketFor(c, user.email), code: right })
      expectError(res, 429, 'too_many_requests')
    })

    it('accepts each recovery code once, however it is typed', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const code = user.recoveryCodes[0]
      const a = t.client()
      expect((await a.post<SignedIn>('/api/v1/signin/two-factor', { ticket: await ticketFor(a, user.email), recoveryCode: ` ${code.toUpperCase().replace('-', ' ')} ` })).status).toBe(200)
      const b = t.client()
      const reused = await b.post<SignedIn>('/api/v1/signin/two-factor', { ticket: await ticketFor(b, user.email), recoveryCode: code })
      expectErrorCode(reused, 'recovery_code_invalid')
      expect((await a.get<TwoFactorStatus>('/api/v1/me/two-factor')).body.recoveryCodesRemaining).toBe(9)
    })

    it('warns by email when few recovery codes remain', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      for (const code of user.recoveryCodes.slice(0, 7)) {
        const c = t.client()
        expect((await c.post<SignedIn>('/api/v1/signin/two-factor', { ticket: await ticketFor(c, user.email), recoveryCode: code })).status).toBe(200)
      }
      const mail = await t.smtp.waitFor(user.email, /running out of recovery codes/)
      expect(mail.text).toContain('Only 3 unused recovery codes remain')
    })

    it('needs exactly one factor', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const client = t.client()
      const res = await client.post<SignedIn>('/api/v1/signin/two-factor', { ticket: await ticketFor(client, user.email), code: '123456', recoveryCode: user.recoveryCodes[0] })
      expectErrorCode(res, 'invalid_request')
    })
  })

  describe('managing it', () => {
    it('regenerates recovery codes and the old ones die', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const client = t.client()
      await client.post<SignedIn>('/api/v1/signin/two-factor', { ticket: await ticketFor(client, user.email), code: independentTotp(user.secret, t.clock.now()) })
      const res = await client.post<RecoveryCodes>('/api/v1/me/two-factor/recovery-codes', { password: STRONG_PASSWORD })
      expect(res.body.recoveryCodes).toHaveLength(10)
      await t.smtp.waitFor(user.email, /New recovery codes/)
      const c = t.client()
      const old = await c.post<SignedIn>('/api/v1/signin/two-factor', { ticket: await ticketFor(c, user.email), recoveryCode: user.recoveryCodes[1] })
      expectErrorCode(old, 'recovery_code_invalid')
      expect((await c.post<SignedIn>('/api/v1/signin/two-factor', { ticket: await ticketFor(c, user.email), recoveryCode: res.body.recoveryCodes[0] })).status).toBe(200)
    })

    it('turns off with the password, always emailing the owner', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const client = t.client()
      await client.post<SignedIn>('/api/v1/signin/two-factor', { ticket: await ticketFor(client, user.email), code: independentTotp(user.secret, t.clock.now()) })
      await client.put<PreferencesView>('/api/v1/me/notification-preferences', { preferences: { security: { email: false } } })
      expectErrorCode(await client.delete('/api/v1/me/two-factor', { password: 'wrong password!' }), 'password_incorrect')
      expect((await client.delete('/api/v1/me/two-factor', { password: STRONG_PASSWORD })).status).toBe(204)
      await t.smtp.waitFor(user.email, /turned off/)
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).body.account).toBeDefined()
      expectErrorCode(await client.delete('/api/v1/me/two-factor', { password: STRONG_PASSWORD }), 'two_factor_not_enabled')
    })

    it('can be reset by the operator, with an email and an audit record', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const account = await t.app.ctx.db.selectFrom('accounts').selectAll().where('id', '=', user.accountId).executeTakeFirstOrThrow()
      expect(await resetTwoFactorByOperator(t.app.ctx, account, OPERATOR)).toBe(true)
      await t.smtp.waitFor(user.email, /turned off/)
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).body.account).toBeDefined()
      const audit = await t.app.ctx.db.selectFrom('audit_events').select(['type', 'ip']).where('account_id', '=', user.accountId).where('type', '=', 'two_factor.reset_by_operator').execute()
      expect(audit).toEqual([{ type: 'two_factor.reset_by_operator', ip: 'cli' }])
    })

    it('stores the TOTP secret encrypted', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const row = await t.app.ctx.db.selectFrom('two_factor').select('secret_encrypted').where('account_id', '=', user.accountId).executeTakeFirstOrThrow()
      expect(row.secret_encrypted).toMatch(/^v1\./)
      expect(row.secret_encrypted).not.toContain(user.secret)
    })
  })
})
