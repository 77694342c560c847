/** Rules found by review: limits that hold under parallel requests, and credential changes that end what came before. */
import { solveChallenge, type Challenge } from 'altcha-lib'
import { deriveKey } from 'altcha-lib/algorithms/sha'
import { describe, expect, it } from 'vitest'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { errorOf, expectErrorCode, person, signedUpUser, STRONG_PASSWORD, testApp, type TestApp } from '../../test/helpers/app.ts'
import { tokenFrom } from '../../test/helpers/smtp.ts'
import { independentTotp } from '../../test/helpers/totp.ts'
import { userWithTwoFactor } from '../../test/helpers/two-factor.ts'
import type { SessionList } from '../sessions/schemas.ts'
import type { SignedIn, TwoFactorRequired } from './schemas.ts'
import type { EmailChangeSent, EmailConfirmed } from '../accounts/schemas.ts'
import type { PasskeyOptions } from '../passkeys/schemas.ts'
import type { TwoFactorSetup } from '../two-factor/schemas.ts'
import type { NotificationPage } from '../notifications/schemas.ts'
import type { SecurityLog } from '../audit/schemas.ts'

async function resetLink(t: TestApp, email: string): Promise<string> {
  const challenge = (await t.client().get<Challenge>('/api/v1/captcha')).body
  const solution = await solveChallenge({ challenge, deriveKey })
  await t.client().post('/api/v1/recovery', { email, captcha: Buffer.from(JSON.stringify({ challenge, solution })).toString('base64') })
  return tokenFrom(await t.smtp.waitFor(email, /password reset/))
}

describe.each(DIALECTS)('hardening on %s', (dialect) => {
  it('checks at most five codes for one ticket, however many arrive at once', async () => {
    const t = await testApp(dialect, { RATE_LIMIT_TWO_FACTOR_FAILURES_PER_ACCOUNT: '1000' })
    const user = await userWithTwoFactor(t)
    const ticket = (await t.client().post<TwoFactorRequired>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).body.ticket
    const right = independentTotp(user.secret, t.clock.now())
    const guesses = Array.from({ length: 20 }, (_, i) => String((Number(right) + 1 + i) % 1_000_000).padStart(6, '0'))
    const answers = await Promise.all(guesses.map((code) => t.client().post<SignedIn>('/api/v1/signin/two-factor', { ticket, code })))
    const checked = answers.filter((a) => errorOf(a)?.code === 'two_factor_code_invalid').length
    expect(checked).toBeLessThanOrEqual(5)
    expect(answers.filter((a) => errorOf(a)?.code === 'ticket_invalid').length).toBe(20 - checked)
  })

  it('counts parallel wrong passwords against one budget per account', async () => {
    const t = await testApp(dialect, { RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: '5', SIGNIN_LOCK_AFTER_FAILURES: '100' })
    const user = await signedUpUser(t)
    const logins = Array.from({ length: 20 }, (_, i) => (i % 2 ? user.email : user.username))
    const answers = await Promise.all(logins.map((login) => t.client().post<SignedIn>('/api/v1/signin', { login, password: 'wrong password!' })))
    expect(answers.filter((a) => a.status === 401).length).toBeLessThanOrEqual(5)
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(15)
  })

  it('answers a locked account the same whatever the password', async () => {
    const t = await testApp(dialect, { SIGNIN_LOCK_AFTER_FAILURES: '2', RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: '100' })
    const user = await signedUpUser(t)
    for (let i = 0; i < 2; i++) await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: 'wrong password!' })
    const right = await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })
    const wrong = await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: 'wrong password!' })
    expect([right.status, errorOf(right).code]).toEqual([423, 'signin_locked'])
    expect([wrong.status, errorOf(wrong).code]).toEqual([423, 'signin_locked'])
  })

  it('kills a pending email change when the password is reset', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t)
    const attackerAddress = person('attacker').email
    await user.client.post<EmailChangeSent>('/api/v1/me/email', { email: attackerAddress, password: STRONG_PASSWORD })
    const change = tokenFrom(await t.smtp.waitFor(attackerAddress, /new email/))
    const reset = await resetLink(t, user.email)
    expect((await t.client().post('/api/v1/password/reset', { token: reset, password: 'the owner is back now' })).status).toBe(200)
    const res = await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token: change })
    expectErrorCode(res, 'token_invalid')
  })

  it('kills open 2FA tickets when the password is reset', async () => {
    const t = await testApp(dialect)
    const user = await userWithTwoFactor(t)
    const ticket = (await t.client().post<TwoFactorRequired>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).body.ticket
    const reset = await resetLink(t, user.email)
    await t.client().post('/api/v1/password/reset', { token: reset, password: 'the owner is back now' })
    const res = await t.client().post<SignedIn>('/api/v1/signin/two-factor', { ticket, code: independentTotp(user.secret, t.clock.now()) })
    expectErrorCode(res, 'ticket_invalid')
  })

  it('refuses 2FA and passkeys on an account whose email is not confirmed', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t, { confirm: false })
    expectErrorCode(await user.client.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: STRONG_PASSWORD }), 'email_not_confirmed')
    expectErrorCode(await user.client.post<PasskeyOptions>('/api/v1/me/passkeys/options'), 'email_not_confirmed')
  })

  it('confirms the address when its reset link is used', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t, { confirm: false })
    await t.client().post('/api/v1/password/reset', { token: await resetLink(t, user.email), password: 'the owner is back now' })
    const signin = await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: 'the owner is back now' })
    expect(signin.body.account.emailConfirmed).toBe(true)
  })

  it('never shows a raw user agent as the browser name', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t)
    const odd = t.client({ userAgent: 'Call +1-555-0100 now to secure your account' })
    await odd.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })
    const sessions = (await odd.get<SessionList>('/api/v1/me/sessions')).body.sessions
    expect(sessions.find((s) => s.current)!.browser).toBe('Unknown browser')
  })

  it('marks sessions handed to apps and scripts as api sessions', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t)
    const script = t.client({ origin: null })
    script.bearer = (await script.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD, returnToken: true })).body.token
    const sessions = (await script.get<SessionList>('/api/v1/me/sessions')).body.sessions
    expect(sessions.find((s) => s.current)!.kind).toBe('api')
  })

  it.each(['1.5|x', '1e300|x', '99999999999999999999|x', '-1|x', 'abc'])('refuses the notification cursor %j with 400', async (cursor) => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t)
    const res = await user.client.get<NotificationPage>(`/api/v1/me/notifications?cursor=${encodeURIComponent(cursor)}`)
    expect(res.status).toBe(400)
    expect((await user.client.get<SecurityLog>(`/api/v1/me/security-log?cursor=${encodeURIComponent(cursor)}`)).status).toBe(400)
  })
})
