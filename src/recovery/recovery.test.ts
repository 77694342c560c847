import { solveChallenge, type Challenge } from 'altcha-lib'
import { deriveKey } from 'altcha-lib/algorithms/sha'
import { describe, expect, it } from 'vitest'
import { HOUR_MS } from '../clock.ts'
import { OPERATOR } from '../audit/audit.ts'
import { setAccountActive } from '../accounts/accounts.ts'
import { sendResetLinkByOperator } from './recovery.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { errorOf, expectErrorCode, signedUpUser, STRONG_PASSWORD, testApp, type TestApp } from '../../test/helpers/app.ts'
import { tokenFrom } from '../../test/helpers/smtp.ts'
import { userWithTwoFactor } from '../../test/helpers/two-factor.ts'
import { independentTotp } from '../../test/helpers/totp.ts'
import type { AccountView } from '../accounts/schemas.ts'
import type { SignedIn, TwoFactorRequired } from '../signin/schemas.ts'

/** Solves the server's challenge the way the ALTCHA widget does, and encodes the payload. */
async function solvedCaptcha(t: TestApp): Promise<string> {
  const challenge = (await t.client().get<Challenge>('/api/v1/captcha')).body
  const solution = await solveChallenge({ challenge, deriveKey })
  if (!solution) throw new Error('captcha could not be solved')
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64')
}

async function recoveryLink(t: TestApp, email: string): Promise<string> {
  const res = await t.client().post('/api/v1/recovery', { email, captcha: await solvedCaptcha(t) })
  expect(res.status).toBe(202)
  return tokenFrom(await t.smtp.waitFor(email, /password reset/))
}

describe.each(DIALECTS)('recovery on %s', (dialect) => {
  describe('trouble signing in', () => {
    it('emails the username and a reset link after a solved captcha', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const res = await t.client().post('/api/v1/recovery', { email: user.email.toUpperCase(), captcha: await solvedCaptcha(t) })
      expect(res.status).toBe(202)
      const mail = await t.smtp.waitFor(user.email, /password reset/)
      expect(mail.text).toContain(user.username)
      expect(mail.text).toContain('http://latchkey.test/reset-password#token=')
    })

    it('answers the same for an address with no account, and sends nothing', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const known = await t.client().post('/api/v1/recovery', { email: user.email, captcha: await solvedCaptcha(t) })
      const unknown = await t.client().post('/api/v1/recovery', { email: 'nobody@example.com', captcha: await solvedCaptcha(t) })
      expect(unknown.status).toBe(known.status)
      expect(unknown.body).toEqual(known.body)
      await t.smtp.waitFor(user.email, /password reset/)
      expect(t.smtp.messagesTo('nobody@example.com')).toEqual([])
    })

    it('refuses a missing, forged or unsolved captcha', async () => {
      const t = await testApp(dialect)
      const challenge = (await t.client().get<Challenge>('/api/v1/captcha')).body
      const forged = Buffer.from(JSON.stringify({ challenge, solution: { counter: 1, derivedKey: '00'.repeat(32) } })).toString('base64')
      for (const captcha of ['x', 'bm90IGpzb24=', forged]) {
        const res = await t.client().post('/api/v1/recovery', { email: 'a@example.com', captcha })
        expect(res.status).toBe(400)
        expect(errorOf(res)).toMatchObject({ code: 'captcha_failed', fields: { captcha: 'invalid' } })
      }
    })

    it('accepts a solved captcha only once', async () => {
      const t = await testApp(dialect)
      const captcha = await solvedCaptcha(t)
      expect((await t.client().post('/api/v1/recovery', { email: 'a@example.com', captcha })).status).toBe(202)
      const replay = await t.client().post('/api/v1/recovery', { email: 'a@example.com', captcha })
      expectErrorCode(replay, 'captcha_failed')
    })

    it('caps recovery emails to one address without telling the requester', async () => {
      const t = await testApp(dialect, { RATE_LIMIT_RECOVERY_PER_EMAIL_PER_HOUR: '1' })
      const user = await signedUpUser(t)
      await recoveryLink(t, user.email)
      const second = await t.client().post('/api/v1/recovery', { email: user.email, captcha: await solvedCaptcha(t) })
      expect(second.status).toBe(202)
      expect(t.smtp.messagesTo(user.email).filter((m) => /password reset/.test(m.subject))).toHaveLength(1)
    })

    it('limits recovery requests per IP address', async () => {
      const t = await testApp(dialect, { RATE_LIMIT_RECOVERY_PER_IP_PER_HOUR: '1' })
      expect((await t.client().post('/api/v1/recovery', { email: 'a@example.com', captcha: await solvedCaptcha(t) })).status).toBe(202)
      const res = await t.client().post('/api/v1/recovery', { email: 'a@example.com', captcha: await solvedCaptcha(t) })
      expect(res.status).toBe(429)
    })
  })

  describe('resetting the password', () => {
    it('sets the new password, ends every session and does not sign in', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t, { staySignedIn: true })
      const token = await recoveryLink(t, user.email)
      const res = await t.client().post('/api/v1/password/reset', { token, password: 'my new long passphrase' })
      expect(res.status).toBe(200)
      expect(res.cookies).toEqual([])
      expect(res.headers['referrer-policy']).toBe('no-referrer')
      expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(401)
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).status).toBe(401)
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: 'my new long passphrase' })).status).toBe(200)
      await t.smtp.waitFor(user.email, /password was changed/)
    })

    it('does not bypass two-factor authentication: the next sign-in still asks for the second step', async () => {
      const t = await testApp(dialect)
      const user = await userWithTwoFactor(t)
      const token = await recoveryLink(t, user.email)
      expect((await t.client().post('/api/v1/password/reset', { token, password: 'my new long passphrase' })).status).toBe(200)
      const client = t.client()
      const first = await client.post<TwoFactorRequired>('/api/v1/signin', { login: user.email, password: 'my new long passphrase' })
      expect(first.status).toBe(200)
      expect(first.body.twoFactorRequired).toBe(true)
      expect(first.cookies.find((c) => c.name === 'latchkey_session')).toBeUndefined()
      expect((await client.get<AccountView>('/api/v1/me')).status).toBe(401)
      const second = await client.post<SignedIn>('/api/v1/signin/two-factor', { ticket: first.body.ticket, code: independentTotp(user.secret, t.clock.now()) })
      expect(second.status).toBe(200)
      expect((await client.get<AccountView>('/api/v1/me')).body.username).toBe(user.username)
    })

    it('works once', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const token = await recoveryLink(t, user.email)
      expect((await t.client().post('/api/v1/password/reset', { token, password: 'my new long passphrase' })).status).toBe(200)
      const again = await t.client().post('/api/v1/password/reset', { token, password: 'another long passphrase' })
      expectErrorCode(again, 'token_invalid')
    })

    it('expires after one hour', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const token = await recoveryLink(t, user.email)
      t.clock.advance(HOUR_MS)
      const res = await t.client().post('/api/v1/password/reset', { token, password: 'my new long passphrase' })
      expectErrorCode(res, 'token_invalid')
    })

    it('does not spend the link on a refused password', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const token = await recoveryLink(t, user.email)
      const weak = await t.client().post('/api/v1/password/reset', { token, password: 'password' })
      expectErrorCode(weak, 'password_common')
      const productName = await t.client().post('/api/v1/password/reset', { token, password: 'latchkey2026' })
      expectErrorCode(productName, 'password_common')
      expect((await t.client().post('/api/v1/password/reset', { token, password: 'my new long passphrase' })).status).toBe(200)
    })

    it('lifts a sign-in lock', async () => {
      const t = await testApp(dialect, { SIGNIN_LOCK_AFTER_FAILURES: '2', RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: '100' })
      const user = await signedUpUser(t)
      for (let i = 0; i < 2; i++) await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: 'wrong password!' })
      expectErrorCode(await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD }), 'signin_locked')
      const token = await recoveryLink(t, user.email)
      await t.client().post('/api/v1/password/reset', { token, password: 'my new long passphrase' })
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: 'my new long passphrase' })).status).toBe(200)
    })
  })

  describe('a reset started by the operator', () => {
    it('emails the owner the usual one-hour link; the operator sees no link and chooses no password', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const sent = await sendResetLinkByOperator(t.app.ctx, user.username, OPERATOR)
      expect(sent).toEqual({ username: user.username, email: user.email })
      const token = tokenFrom(await t.smtp.waitFor(user.email, /password reset/))
      expect((await t.client().post('/api/v1/password/reset', { token, password: 'my new long passphrase' })).status).toBe(200)
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: 'my new long passphrase' })).status).toBe(200)
      const log = await t.app.ctx.db.selectFrom('audit_events').select('details').where('account_id', '=', user.accountId).where('type', '=', 'account.recovery_requested').execute()
      expect(log.map((row) => JSON.parse(String(row.details)))).toEqual([{ byOperator: true }])
    })

    it('refuses a deactivated or unknown account', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      await setAccountActive(t.app.ctx, user.email, false, OPERATOR)
      await expect(sendResetLinkByOperator(t.app.ctx, user.email, OPERATOR)).rejects.toMatchObject({ code: 'account_deactivated' })
      await expect(sendResetLinkByOperator(t.app.ctx, 'nobody@example.com', OPERATOR)).rejects.toMatchObject({ code: 'not_found' })
    })
  })
})
