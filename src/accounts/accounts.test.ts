import { describe, expect, it } from 'vitest'
import { HOUR_MS } from '../clock.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { errorOf, expectError, expectErrorCode, person, signedUpUser, STRONG_PASSWORD, testApp } from '../../test/helpers/app.ts'
import { tokenFrom } from '../../test/helpers/smtp.ts'
import type { AccountView, ConfirmationSent, EmailChangeSent, EmailConfirmed, PasswordChanged, PublicProfile, UsernameAvailability } from './schemas.ts'
import type { NotificationPage } from '../notifications/schemas.ts'
import type { SignedIn } from '../signin/schemas.ts'

async function count(t: Awaited<ReturnType<typeof testApp>>, table: 'accounts' | 'sessions') {
  const row = await t.app.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

describe.each(DIALECTS)('accounts on %s', (dialect) => {
  describe('sign-up and email confirmation', () => {
    it('creates the account and emails a single-use confirmation link', async () => {
      const t = await testApp(dialect)
      const who = person()
      const res = await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })
      expect(res.status).toBe(202)
      expect(res.body).toEqual({ status: 'confirmation_sent', email: who.email })
      const mail = await t.smtp.waitFor(who.email, /Confirm your email/)
      expect(mail.text).toContain('http://latchkey.test/confirm-email#token=')
      const token = tokenFrom(mail)
      const confirmed = await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token })
      expect(confirmed.status).toBe(200)
      const again = await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token })
      expectError(again, 400, 'token_invalid')
      const signin = await t.client().post<SignedIn>('/api/v1/signin', { login: who.email, password: who.password })
      expect(signin.body.account.emailConfirmed).toBe(true)
    })

    it('records the accepted terms version and time', async () => {
      const t = await testApp(dialect, { TERMS_VERSION: '2026-06' })
      const who = person()
      await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })
      const row = await t.app.ctx.db.selectFrom('accounts').select(['terms_version', 'terms_accepted_at']).where('username', '=', who.username).executeTakeFirstOrThrow()
      expect(row).toEqual({ terms_version: '2026-06', terms_accepted_at: t.clock.now() })
    })

    it('expires the confirmation link after 24 hours', async () => {
      const t = await testApp(dialect)
      const who = person()
      await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })
      const token = tokenFrom(await t.smtp.waitFor(who.email, /Confirm/))
      t.clock.advance(24 * HOUR_MS)
      const res = await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token })
      expectErrorCode(res, 'token_invalid')
    })

    it('accepts the confirmation link just before 24 hours', async () => {
      const t = await testApp(dialect)
      const who = person()
      await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })
      const token = tokenFrom(await t.smtp.waitFor(who.email, /Confirm/))
      t.clock.advance(24 * HOUR_MS - 1)
      expect((await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token })).status).toBe(200)
    })

    it('re-sends the confirmation, and only the newest link works', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t, { confirm: false })
      const first = tokenFrom(await t.smtp.waitFor(user.email, /Confirm/))
      expect((await user.client.post('/api/v1/email/resend')).status).toBe(202)
      await expect.poll(() => t.smtp.messagesTo(user.email).length).toBe(2)
      const second = tokenFrom(t.smtp.messagesTo(user.email)[1])
      expectErrorCode(await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token: first }), 'token_invalid')
      expect((await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token: second })).status).toBe(200)
      const already = await user.client.post('/api/v1/email/resend')
      expectErrorCode(already, 'email_already_confirmed')
    })

    it('rate-limits re-sending the confirmation', async () => {
      const t = await testApp(dialect, { RATE_LIMIT_RESEND_PER_ACCOUNT_PER_HOUR: '2' })
      const user = await signedUpUser(t, { confirm: false })
      expect((await user.client.post('/api/v1/email/resend')).status).toBe(202)
      expect((await user.client.post('/api/v1/email/resend')).status).toBe(202)
      const limited = await user.client.post('/api/v1/email/resend')
      expectError(limited, 429, 'too_many_requests')
    })

    it('answers a sign-up with a taken email like any other and emails the owner instead', async () => {
      const t = await testApp(dialect)
      const owner = await signedUpUser(t)
      const before = await count(t, 'accounts')
      const res = await t.client().post<ConfirmationSent>('/api/v1/signup', { email: owner.email.toUpperCase(), username: person().username, password: 'another fine passphrase', acceptTerms: true })
      expect(res.status).toBe(202)
      expect(res.body.status).toBe('confirmation_sent')
      expect(await count(t, 'accounts')).toBe(before)
      await t.smtp.waitFor(owner.email, /tried to sign up/)
    })

    it('refuses a taken username with a field error and free suggestions', async () => {
      const t = await testApp(dialect)
      const owner = await signedUpUser(t)
      const res = await t.client().post<ConfirmationSent>('/api/v1/signup', { ...person(), username: owner.username.toUpperCase(), acceptTerms: true })
      expectError(res, 409, 'username_taken')
      expect(errorOf(res).fields).toEqual({ username: 'taken' })
      expect(errorOf(res).suggestions?.length).toBeGreaterThan(0)
      for (const suggestion of errorOf(res).suggestions ?? []) {
        const free = await t.client().post<ConfirmationSent>('/api/v1/signup', { ...person(), username: suggestion, acceptTerms: true })
        expect(free.status).toBe(202)
      }
    })

    it("suggests the year by the server's clock first", async () => {
      const t = await testApp(dialect)
      const owner = await signedUpUser(t)
      t.clock.set(Date.UTC(2031, 2, 1))
      const res = await t.client().get<UsernameAvailability>(`/api/v1/usernames/${owner.username}`)
      expect(res.body).toMatchObject({ available: false, reason: 'taken' })
      expect(res.body.suggestions[0]).toBe(`${owner.username.replace(/[-_]+$/, '').slice(0, 26)}31`)
    })

    it.each([
      ['ab', 'too_short'],
      ['a'.repeat(33), 'too_long'],
      ['-alice', 'invalid_characters'],
      ['alice_', 'invalid_characters'],
      ['al ice', 'invalid_characters'],
      ['álice', 'invalid_characters'],
      ['Admin', 'reserved'],
      ['support', 'reserved'],
    ])('refuses the username %j (%s)', async (username, reason) => {
      const t = await testApp(dialect)
      const res = await t.client().post<ConfirmationSent>('/api/v1/signup', { ...person(), username, acceptTerms: true })
      expectError(res, 400, 'username_invalid')
      expect(errorOf(res).fields?.username).toBe(reason)
    })

    it.each([
      ['short77', 'password_too_short'],
      ['x'.repeat(129), 'password_too_long'],
      ['password123', 'password_common'],
      ['Qwertyuiop', 'password_common'],
      ['iloveyou2', 'password_common'],
    ])('refuses the password %j with %s', async (password, code) => {
      const t = await testApp(dialect)
      const res = await t.client().post<ConfirmationSent>('/api/v1/signup', { ...person(), password, acceptTerms: true })
      expect(res.status).toBe(400)
      expect(errorOf(res).code).toBe(code)
      expect(Object.keys(errorOf(res).fields ?? {})).toEqual(['password'])
      expect(await count(t, 'accounts')).toBe(0)
    })

    it('refuses a password equal to the username, whatever its case', async () => {
      const t = await testApp(dialect)
      const who = { ...person(), username: 'longusername42' }
      const res = await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, password: 'LongUserName42', acceptTerms: true })
      expect(errorOf(res)).toMatchObject({ code: 'password_common', fields: { password: 'common' } })
    })

    it('refuses a password that is little more than the product name, the host name, the username or the email, at sign-up and on change', async () => {
      const t = await testApp(dialect, { PUBLIC_URL: 'https://accounts.example.com' })
      const browser = () => t.client({ origin: 'https://accounts.example.com' })
      const who = person()
      for (const password of ['Latchkey2026!', 'example-2024', `${who.username.toUpperCase()}-2024`, `${who.email.split('@')[0]}1234`]) {
        const res = await browser().post<ConfirmationSent>('/api/v1/signup', { ...who, password, acceptTerms: true })
        expect(errorOf(res), password).toMatchObject({ code: 'password_common', fields: { password: 'common' } })
      }
      expect(await count(t, 'accounts')).toBe(0)
      const client = browser()
      expect((await client.post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })).status).toBe(202)
      expect((await client.post<SignedIn>('/api/v1/signin', { login: who.email, password: who.password })).status).toBe(200)
      const change = await client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: who.password, newPassword: 'accounts-2026' })
      expect(errorOf(change)).toMatchObject({ code: 'password_common', fields: { newPassword: 'common' } })
      expect((await client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: who.password, newPassword: 'latchkey is my favourite app' })).status).toBe(200)
    })

    it('accepts 128-character and Unicode passwords, normalised to NFC', async () => {
      const t = await testApp(dialect)
      const long = person()
      expect((await t.client().post<ConfirmationSent>('/api/v1/signup', { ...long, password: 'p'.repeat(120) + 'ünïcødé', acceptTerms: true })).status).toBe(202)
      const who = person()
      const decomposed = 'cafe\u0301 au lait, s\u0327il vous plai\u0302t'
      expect((await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, password: decomposed, acceptTerms: true })).status).toBe(202)
      const composed = decomposed.normalize('NFC')
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: who.email, password: composed })).status).toBe(200)
    })

    it('requires the terms to be accepted', async () => {
      const t = await testApp(dialect)
      const res = await t.client().post<ConfirmationSent>('/api/v1/signup', { ...person(), acceptTerms: false })
      expectError(res, 400, 'terms_not_accepted')
    })

    it('rejects an invalid email address', async () => {
      const t = await testApp(dialect)
      const res = await t.client().post<ConfirmationSent>('/api/v1/signup', { ...person(), email: 'not-an-email', acceptTerms: true })
      expect(errorOf(res)).toMatchObject({ code: 'email_invalid', fields: { email: 'invalid' } })
    })

    it('rate-limits sign-ups per IP address', async () => {
      const t = await testApp(dialect, { RATE_LIMIT_SIGNUP_PER_IP_PER_HOUR: '2' })
      const client = t.client({ ip: '192.0.2.44' })
      expect((await client.post<ConfirmationSent>('/api/v1/signup', { ...person(), acceptTerms: true })).status).toBe(202)
      expect((await client.post<ConfirmationSent>('/api/v1/signup', { ...person(), acceptTerms: true })).status).toBe(202)
      expect((await client.post<ConfirmationSent>('/api/v1/signup', { ...person(), acceptTerms: true })).status).toBe(429)
    })

    it('sends the confirmation in Simplified Chinese to a Chinese-speaking browser', async () => {
      const t = await testApp(dialect)
      const who = person()
      await t.client().request<ConfirmationSent>('POST', '/api/v1/signup', { ...who, acceptTerms: true }, { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' })
      const mail = await t.smtp.waitFor(who.email)
      expect(mail.subject).toBe('请确认你的邮箱地址')
    })
  })

  describe('profile', () => {
    it('changes display name, bio, links and language', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const res = await user.client.patch<AccountView>('/api/v1/me', { displayName: 'Ada Lovelace', bio: 'Engines', jobRole: 'developer', links: ['https://ada.example'], locale: 'zh-CN' })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ displayName: 'Ada Lovelace', bio: 'Engines', jobRole: 'developer', links: ['https://ada.example'], locale: 'zh-CN' })
      expect((await user.client.get<AccountView>('/api/v1/me')).body.displayName).toBe('Ada Lovelace')
    })

    it('changes the username under the sign-up rules', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const other = await signedUpUser(t)
      const taken = await user.client.patch<AccountView>('/api/v1/me', { username: other.username })
      expectError(taken, 409, 'username_taken')
      expect(errorOf(taken).suggestions?.length).toBeGreaterThan(0)
      const reserved = await user.client.patch<AccountView>('/api/v1/me', { username: 'root' })
      expectErrorCode(reserved, 'username_invalid')
      const renamed = await user.client.patch<AccountView>('/api/v1/me', { username: `${user.username}-new` })
      expect(renamed.body.username).toBe(`${user.username}-new`)
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: `${user.username}-new`, password: STRONG_PASSWORD })).status).toBe(200)
    })

    it('tells the owner by email and in-app when the username changes, naming the old and the new one', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const renamed = `${user.username}-new`
      expect((await user.client.patch<AccountView>('/api/v1/me', { username: renamed })).status).toBe(200)
      const mail = await t.smtp.waitFor(user.email, /Your username was changed/)
      expect(mail.text).toContain(`changed from ${user.username} to ${renamed}`)
      const inbox = await user.client.get<NotificationPage>('/api/v1/me/notifications')
      expect(inbox.body.notifications.map((n: { kind: string }) => n.kind)).toContain('username_changed')
      // Nothing is sent when the username stays as it was.
      expect((await user.client.patch<AccountView>('/api/v1/me', { username: renamed, displayName: 'Ada' })).status).toBe(200)
      const after = await user.client.get<NotificationPage>('/api/v1/me/notifications')
      expect(after.body.notifications.filter((n: { kind: string }) => n.kind === 'username_changed')).toHaveLength(1)
    })

    it('lets a person change only the letter case of their own username', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const res = await user.client.patch<AccountView>('/api/v1/me', { username: user.username.toUpperCase() })
      expect(res.status).toBe(200)
      expect(res.body.username).toBe(user.username.toUpperCase())
    })

    it('shows the public profile only while it is on, and 404 alike when off or missing', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      await user.client.patch<AccountView>('/api/v1/me', { displayName: 'Public Person', bio: 'hello' })
      const off = await t.client().get<PublicProfile>(`/api/v1/users/${user.username}`)
      const missing = await t.client().get<PublicProfile>('/api/v1/users/nobody-here')
      expect(off.status).toBe(404)
      expect(missing.status).toBe(404)
      expect(errorOf(off).code).toBe(errorOf(missing).code)
      await user.client.patch<AccountView>('/api/v1/me', { publicProfile: true })
      const on = await t.client().get<PublicProfile>(`/api/v1/users/${user.username.toUpperCase()}`)
      expect(on.status).toBe(200)
      expect(on.body).toMatchObject({ username: user.username, displayName: 'Public Person', bio: 'hello' })
      expect(on.body).not.toHaveProperty('email')
    })
  })

  describe('changing the email address', () => {
    it('confirms the new address by link, warns the old one, and keeps the old one until then', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const newEmail = person().email
      const res = await user.client.post<EmailChangeSent>('/api/v1/me/email', { email: newEmail, password: STRONG_PASSWORD })
      expect(res.status).toBe(202)
      expect(res.body.pendingEmail).toBe(newEmail)
      await t.smtp.waitFor(user.email, /change of your email/)
      const link = await t.smtp.waitFor(newEmail, /new email/)
      expect((await user.client.get<AccountView>('/api/v1/me')).body.email).toBe(user.email)
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).status).toBe(200)
      expect((await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token: tokenFrom(link) })).status).toBe(200)
      expect((await user.client.get<AccountView>('/api/v1/me')).body).toMatchObject({ email: newEmail, emailConfirmed: true })
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: newEmail, password: STRONG_PASSWORD })).status).toBe(200)
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).status).toBe(401)
      await t.smtp.waitFor(user.email, /was changed/)
    })

    it('requires the current password', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const res = await user.client.post<EmailChangeSent>('/api/v1/me/email', { email: person().email, password: 'not my password!' })
      expect(res.status).toBe(403)
      expect(errorOf(res)).toMatchObject({ code: 'password_incorrect', fields: { password: 'incorrect' } })
    })

    it("does not reveal that the new address belongs to someone else", async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const other = await signedUpUser(t)
      const res = await user.client.post<EmailChangeSent>('/api/v1/me/email', { email: other.email, password: STRONG_PASSWORD })
      expect(res.status).toBe(202)
      await t.smtp.waitFor(other.email, /could not be used/)
      expect((await user.client.get<AccountView>('/api/v1/me')).body.email).toBe(user.email)
    })
  })

  describe('changing the password', () => {
    it('requires the current password, revokes the other sessions and sends a notice', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const other = t.client()
      await other.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })
      const wrong = await user.client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: 'wrong password!', newPassword: 'a brand new passphrase' })
      expect(errorOf(wrong)).toMatchObject({ code: 'password_incorrect', fields: { currentPassword: 'incorrect' } })
      const weak = await user.client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: STRONG_PASSWORD, newPassword: 'password1' })
      expect(errorOf(weak)).toMatchObject({ code: 'password_common', fields: { newPassword: 'common' } })
      const res = await user.client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: STRONG_PASSWORD, newPassword: 'a brand new passphrase' })
      expect(res.status).toBe(200)
      expect(res.body.otherSessionsRevoked).toBe(1)
      expect((await other.get<AccountView>('/api/v1/me')).status).toBe(401)
      expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(200)
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).status).toBe(401)
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: 'a brand new passphrase' })).status).toBe(200)
      await t.smtp.waitFor(user.email, /password was changed/)
    })
  })

  describe('deleting the account', () => {
    it('needs the password, and a wrong one deletes nothing', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const res = await user.client.delete('/api/v1/me', { password: 'wrong password!' })
      expectError(res, 403, 'password_incorrect')
      expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(200)
    })

    it('removes the account, its sessions and data, and sends a confirmation', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const other = t.client()
      await other.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })
      const res = await user.client.delete('/api/v1/me', { password: STRONG_PASSWORD })
      expect(res.status).toBe(200)
      expect((await other.get<AccountView>('/api/v1/me')).status).toBe(401)
      expect(await count(t, 'accounts')).toBe(0)
      expect(await count(t, 'sessions')).toBe(0)
      const tokens = await t.app.ctx.db.selectFrom('account_tokens').selectAll().where('account_id', '=', user.accountId).execute()
      expect(tokens).toEqual([])
      const audit = await t.app.ctx.db.selectFrom('audit_events').select('type').where('account_id', '=', user.accountId).execute()
      expect(audit).toEqual([{ type: 'account.deleted' }])
      await t.smtp.waitFor(user.email, /deleted/)
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).status).toBe(401)
      expect((await t.client().post<ConfirmationSent>('/api/v1/signup', { email: user.email, username: user.username, password: STRONG_PASSWORD, acceptTerms: true })).status).toBe(202)
    })
  })

  describe('audit log', () => {
    it('records security events with time, IP and user agent', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      await t.client({ ip: '203.0.113.50' }).post<SignedIn>('/api/v1/signin', { login: user.email, password: 'wrong password!' })
      await user.client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: STRONG_PASSWORD, newPassword: 'a brand new passphrase' })
      const events = await t.app.ctx.db.selectFrom('audit_events').selectAll().where('account_id', '=', user.accountId).orderBy('at').execute()
      const types = events.map((e) => e.type)
      expect(types).toEqual(expect.arrayContaining(['account.created', 'account.email_confirmed', 'signin.succeeded', 'signin.failed', 'account.password_changed']))
      const failed = events.find((e) => e.type === 'signin.failed')!
      expect(failed).toMatchObject({ ip: '203.0.113.50', at: t.clock.now() })
      expect(failed.user_agent).toContain('Chrome')
    })
  })
})
