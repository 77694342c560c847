import { describe, expect, it } from 'vitest'
import { SECOND_MS } from '../clock.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { errorCodeOf, expectError, signedUpUser, STRONG_PASSWORD, testApp, type TestApp } from '../../test/helpers/app.ts'
import { tokenFrom } from '../../test/helpers/smtp.ts'
import { ALWAYS_EMAILED } from './notifications.ts'
import type { MarkedRead, NotificationPage, PreferencesView } from './schemas.ts'
import type { SignInDisavowed, SignedIn } from '../signin/schemas.ts'
import type { SecurityLog } from '../audit/schemas.ts'
import type { AccountView, PasswordChanged } from '../accounts/schemas.ts'

const FIREFOX_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0'
const NEW_SIGNIN = /^New sign-in to your account$/
const CATEGORIES = ['security', 'usage', 'monitors', 'comments', 'team', 'billing']

type User = Awaited<ReturnType<typeof signedUpUser>>

/** Subjects written to the outbox for an address: what was queued, whether or not SMTP has it yet. */
async function queuedSubjects(t: TestApp, email: string): Promise<string[]> {
  const rows = await t.app.ctx.db.selectFrom('mail_outbox').select('subject').where('to_address', '=', email).orderBy('created_at').execute()
  return rows.map((r) => r.subject)
}

async function inAppRows(t: TestApp, accountId: string) {
  return t.app.ctx.db.selectFrom('notifications').select(['kind', 'category', 'title']).where('account_id', '=', accountId).execute()
}

let ipCounter = 10
/** Signs in from a browser this account has never used (a new device cookie, its own IP). */
async function signInFromNewBrowser(t: TestApp, user: User) {
  ipCounter += 1
  const client = t.client({ ip: `203.0.113.${ipCounter}`, userAgent: FIREFOX_MAC })
  const res = await client.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })
  expect(res.status).toBe(200)
  return { client, sessionId: res.body.session.id }
}

async function setPreferences(user: User, preferences: Record<string, Record<string, boolean>>) {
  const res = await user.client.put<PreferencesView>('/api/v1/me/notification-preferences', { preferences })
  expect(res.status).toBe(200)
  return res
}

describe.each(DIALECTS)('notifications on %s', (dialect) => {
  describe('new-device notices', () => {
    it('sends no new-sign-in email for the first sign-in after sign-up', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      expect(await queuedSubjects(t, user.email)).not.toContain('New sign-in to your account')
      expect(await inAppRows(t, user.accountId)).toEqual([])
      // A later new-device email arrives; it is the only one, and it is about the later browser.
      t.clock.advance(SECOND_MS)
      await signInFromNewBrowser(t, user)
      const mail = await t.smtp.waitFor(user.email, NEW_SIGNIN)
      expect(mail.text).toContain('Firefox 133')
      expect(t.smtp.messagesTo(user.email).filter((m) => NEW_SIGNIN.test(m.subject))).toHaveLength(1)
    })

    it('emails "New sign-in to your account" for a second browser, naming browser, OS and IP, with a disavow link', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const firefox = t.client({ ip: '203.0.113.20', userAgent: FIREFOX_MAC })
      expect((await firefox.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).status).toBe(200)
      const mail = await t.smtp.waitFor(user.email, NEW_SIGNIN)
      expect(mail.text).toContain(`Hi ${user.username},`)
      expect(mail.text).toContain('Firefox 133 on macOS Catalina, IP address 203.0.113.20')
      expect(mail.text).toContain('at 2026-06-01 12:00 UTC')
      expect(mail.text).toMatch(/http:\/\/latchkey\.test\/signin\/disavow#token=[A-Za-z0-9_-]{43}/)
      expect(tokenFrom(mail)).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(mail.html).toContain('Firefox 133 on macOS Catalina, IP address 203.0.113.20')
    })

    it('sends no second email when the same browser signs in again', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const firefox = t.client({ ip: '203.0.113.20', userAgent: FIREFOX_MAC })
      expect((await firefox.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).status).toBe(200)
      await t.smtp.waitFor(user.email, NEW_SIGNIN)
      t.clock.advance(SECOND_MS)
      expect((await firefox.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).status).toBe(200)
      // The first browser is not new either.
      expect((await user.client.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).status).toBe(200)
      expect((await queuedSubjects(t, user.email)).filter((s) => s === 'New sign-in to your account')).toHaveLength(1)
      expect((await inAppRows(t, user.accountId)).filter((n) => n.kind === 'signin_new_device')).toHaveLength(1)
      // A known device takes the short path (one statement on PostgreSQL): the session works and
      // its audit entry is written (two sign-ins on new devices, two on known ones).
      expect((await firefox.get<AccountView>('/api/v1/me')).status).toBe(200)
      const log = await user.client.get<SecurityLog>('/api/v1/me/security-log?limit=50')
      expect(log.body.events.filter((e: { type: string }) => e.type === 'signin.succeeded')).toHaveLength(4)
      // Something that is always emailed, queued after: once it arrives, no second notice came before it.
      expect((await user.client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: STRONG_PASSWORD, newPassword: 'a brand new passphrase' })).status).toBe(200)
      await t.smtp.waitFor(user.email, /Your password was changed/)
      expect(t.smtp.messagesTo(user.email).filter((m) => NEW_SIGNIN.test(m.subject))).toHaveLength(1)
    })

    it('"this wasn\'t me" ends every session, forgets the device and emails a password reset link', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const intruder = await signInFromNewBrowser(t, user)
      const mail = await t.smtp.waitFor(user.email, NEW_SIGNIN)
      // A second session from the same (now known) device sends no second email.
      expect((await intruder.client.post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).status).toBe(200)
      expect((await intruder.client.get<AccountView>('/api/v1/me')).status).toBe(200)

      const res = await t.client({ origin: null }).post<SignInDisavowed>('/api/v1/signin/disavow', { token: tokenFrom(mail) })
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ status: 'session_revoked', passwordResetSent: true })

      // Whoever it was may have signed in more than once: every session ends, the owner's too.
      const revoked = await intruder.client.get<AccountView>('/api/v1/me')
      expect(revoked.status).toBe(401)
      expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(401)
      expect(await t.app.ctx.db.selectFrom('sessions').select('id').where('account_id', '=', user.accountId).execute()).toEqual([])
      expect(await t.app.ctx.db.selectFrom('known_devices').select('device_hash').where('account_id', '=', user.accountId).execute()).toEqual([])

      const reset = await t.smtp.waitFor(user.email, /^Your username and a password reset link$/)
      expect(reset.text).toContain(`Your Latchkey username is: ${user.username}`)
      expect(reset.text).toMatch(/http:\/\/latchkey\.test\/reset-password#token=[A-Za-z0-9_-]{43}/)

      const audit = await t.app.ctx.db.selectFrom('audit_events').select('details').where('account_id', '=', user.accountId).where('type', '=', 'signin.disavowed').execute()
      // The intruder's second sign-in replaced its first session in that browser: two sessions were left.
      expect(audit.map((a) => JSON.parse(a.details))).toEqual([{ sessionId: intruder.sessionId, sessionsRevoked: 2 }])
    })

    it('accepts a disavow token once', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      await signInFromNewBrowser(t, user)
      const token = tokenFrom(await t.smtp.waitFor(user.email, NEW_SIGNIN))
      expect((await t.client().post<SignInDisavowed>('/api/v1/signin/disavow', { token })).status).toBe(200)
      const again = await t.client().post<SignInDisavowed>('/api/v1/signin/disavow', { token })
      expectError(again, 400, 'token_invalid')
      expect((await queuedSubjects(t, user.email)).filter((s) => s === 'Your username and a password reset link')).toHaveLength(1)
      const made = await t.client().post<SignInDisavowed>('/api/v1/signin/disavow', { token: 'A'.repeat(43) })
      expectError(made, 400, 'token_invalid')
    })
  })

  describe('preferences', () => {
    it('shows the 6 categories × 2 channels grid, all on, and the always-emailed list', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const res = await user.client.get<PreferencesView>('/api/v1/me/notification-preferences')
      expect(res.status).toBe(200)
      expect(res.body.categories).toEqual(CATEGORIES)
      expect(res.body.channels).toEqual(['email', 'inApp'])
      expect(res.body.preferences).toEqual(Object.fromEntries(CATEGORIES.map((c) => [c, { email: true, inApp: true }])))
      expect(res.body.alwaysEmailed).toEqual([...ALWAYS_EMAILED])
      expect(res.body.alwaysEmailed).toEqual(expect.arrayContaining(['password_changed', 'email_changed', 'two_factor_disabled']))
    })

    it('changes only the cells a partial grid names', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const first = await setPreferences(user, { security: { email: false }, billing: { inApp: false } })
      const expected = Object.fromEntries(CATEGORIES.map((c) => [c, { email: true, inApp: true }]))
      expected.security = { email: false, inApp: true }
      expected.billing = { email: true, inApp: false }
      expect(first.body.preferences).toEqual(expected)
      await setPreferences(user, { usage: { email: false } })
      expected.usage = { email: false, inApp: true }
      const read = await user.client.get<PreferencesView>('/api/v1/me/notification-preferences')
      expect(read.body.preferences).toEqual(expected)
    })

    it('refuses an unknown category, an unknown channel or a non-boolean with invalid_request', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      for (const preferences of [{ marketing: { email: false } }, { security: { sms: false } }, { security: { email: 'no' } }, { security: { inApp: null } }, { security: false }]) {
        const res = await user.client.put<PreferencesView>('/api/v1/me/notification-preferences', { preferences })
        expect({ preferences, status: res.status, code: errorCodeOf(res) }).toEqual({ preferences, status: 400, code: 'invalid_request' })
      }
      const read = await user.client.get<PreferencesView>('/api/v1/me/notification-preferences')
      expect(read.body.preferences).toEqual(Object.fromEntries(CATEGORIES.map((c) => [c, { email: true, inApp: true }])))
    })

    it('with security email off, a new-device sign-in sends no email but still notifies in-app', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      await setPreferences(user, { security: { email: false } })
      await signInFromNewBrowser(t, user)
      expect(await queuedSubjects(t, user.email)).not.toContain('New sign-in to your account')
      const inbox = await user.client.get<NotificationPage>('/api/v1/me/notifications')
      expect(inbox.body.notifications).toHaveLength(1)
      expect(inbox.body.notifications[0]).toMatchObject({ category: 'security', kind: 'signin_new_device', title: 'New sign-in to your account', read: false })
      expect(inbox.body.notifications[0].body).toContain('Firefox 133 on macOS Catalina')
      // Mail that is sent anyway arrives; the notice never came before it.
      expect((await user.client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: STRONG_PASSWORD, newPassword: 'a brand new passphrase' })).status).toBe(200)
      await t.smtp.waitFor(user.email, /Your password was changed/)
      expect(t.smtp.messagesTo(user.email).filter((m) => NEW_SIGNIN.test(m.subject))).toEqual([])
    })

    it('with security email off, a password change is still emailed', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      await setPreferences(user, { security: { email: false } })
      expect((await user.client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: STRONG_PASSWORD, newPassword: 'a brand new passphrase' })).status).toBe(200)
      const mail = await t.smtp.waitFor(user.email, /^Your password was changed$/)
      expect(mail.text).toContain('http://latchkey.test/trouble-signing-in')
      expect((await inAppRows(t, user.accountId)).map((n) => n.kind)).toEqual(['password_changed'])
    })

    it('with security in-app off, no in-app notification is created', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      await setPreferences(user, { security: { inApp: false } })
      await signInFromNewBrowser(t, user)
      await t.smtp.waitFor(user.email, NEW_SIGNIN)
      expect((await user.client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: STRONG_PASSWORD, newPassword: 'a brand new passphrase' })).status).toBe(200)
      await t.smtp.waitFor(user.email, /Your password was changed/)
      expect(await inAppRows(t, user.accountId)).toEqual([])
      const inbox = await user.client.get<NotificationPage>('/api/v1/me/notifications')
      expect(inbox.body).toEqual({ notifications: [], unreadCount: 0, nextCursor: null })
    })
  })

  describe('inbox', () => {
    it('lists newest first with the unread count', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      t.clock.advance(SECOND_MS)
      await signInFromNewBrowser(t, user)
      t.clock.advance(SECOND_MS)
      await signInFromNewBrowser(t, user)
      t.clock.advance(SECOND_MS)
      expect((await user.client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: STRONG_PASSWORD, newPassword: 'a brand new passphrase' })).status).toBe(200)
      const res = await user.client.get<NotificationPage>('/api/v1/me/notifications')
      expect(res.status).toBe(200)
      expect(res.body.unreadCount).toBe(3)
      expect(res.body.nextCursor).toBeNull()
      expect(res.body.notifications.map((n: { kind: string }) => n.kind)).toEqual(['password_changed', 'signin_new_device', 'signin_new_device'])
      const times = res.body.notifications.map((n: { createdAt: string }) => Date.parse(n.createdAt))
      expect(times).toEqual([t.clock.now(), t.clock.now() - SECOND_MS, t.clock.now() - 2 * SECOND_MS])
      expect(res.body.notifications[0]).toMatchObject({ category: 'security', title: 'Your password was changed', read: false })
      expect(res.body.notifications[0].body).toContain('The password of your Latchkey account was just changed')
    })

    it('pages with limit and nextCursor through every item exactly once', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      // Two share a timestamp, so the cursor must break ties.
      for (const step of [SECOND_MS, 0, SECOND_MS, SECOND_MS, 0]) {
        t.clock.advance(step)
        await signInFromNewBrowser(t, user)
      }
      const all = await user.client.get<NotificationPage>('/api/v1/me/notifications?limit=100')
      expect(all.body.notifications).toHaveLength(5)
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const url: string = `/api/v1/me/notifications?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
        const page = await user.client.get<NotificationPage>(url)
        expect(page.status).toBe(200)
        expect(page.body.unreadCount).toBe(5)
        expect(page.body.notifications.length).toBeLessThanOrEqual(2)
        seen.push(...page.body.notifications.map((n) => n.id))
        cursor = page.body.nextCursor
        pages += 1
      } while (cursor && pages < 10)
      expect(pages).toBe(3)
      expect(seen).toEqual(all.body.notifications.map((n: { id: string }) => n.id))
      expect(new Set(seen).size).toBe(5)
    })

    it('refuses a malformed cursor with invalid_request', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      for (const cursor of ['garbage', 'abc|def', '123']) {
        const res = await user.client.get<NotificationPage>(`/api/v1/me/notifications?cursor=${encodeURIComponent(cursor)}`)
        expect({ cursor, status: res.status, code: errorCodeOf(res) }).toEqual({ cursor, status: 400, code: 'invalid_request' })
      }
    })

    it('refuses a limit outside 1 to 100 with invalid_request', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      for (const limit of ['0', '101', 'two']) {
        const res = await user.client.get<NotificationPage>(`/api/v1/me/notifications?limit=${limit}`)
        expect({ limit, status: res.status, code: errorCodeOf(res) }).toEqual({ limit, status: 400, code: 'invalid_request' })
      }
      expect((await user.client.get<NotificationPage>('/api/v1/me/notifications?limit=100')).status).toBe(200)
    })

    it('marks one notification read, and not another account\'s', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const other = await signedUpUser(t)
      await signInFromNewBrowser(t, user)
      t.clock.advance(SECOND_MS)
      await signInFromNewBrowser(t, user)
      await signInFromNewBrowser(t, other)
      const before = await user.client.get<NotificationPage>('/api/v1/me/notifications')
      expect(before.body.unreadCount).toBe(2)
      const target = before.body.notifications[1].id
      const marked = await user.client.post(`/api/v1/me/notifications/${target}/read`)
      expect(marked.status).toBe(204)
      const after = await user.client.get<NotificationPage>('/api/v1/me/notifications')
      expect(after.body.unreadCount).toBe(1)
      expect(after.body.notifications.map((n: { id: string; read: boolean }) => [n.id, n.read])).toEqual([
        [before.body.notifications[0].id, false],
        [target, true],
      ])

      const othersId = (await other.client.get<NotificationPage>('/api/v1/me/notifications')).body.notifications[0].id
      const foreign = await user.client.post(`/api/v1/me/notifications/${othersId}/read`)
      expectError(foreign, 404, 'not_found')
      expect((await other.client.get<NotificationPage>('/api/v1/me/notifications')).body.unreadCount).toBe(1)
      const missing = await user.client.post('/api/v1/me/notifications/no-such-id/read')
      expectError(missing, 404, 'not_found')
    })

    it('marks all read, answering how many', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const other = await signedUpUser(t)
      for (let i = 0; i < 3; i++) await signInFromNewBrowser(t, user)
      await signInFromNewBrowser(t, other)
      const first = (await user.client.get<NotificationPage>('/api/v1/me/notifications')).body.notifications[0].id
      expect((await user.client.post(`/api/v1/me/notifications/${first}/read`)).status).toBe(204)
      const res = await user.client.post<MarkedRead>('/api/v1/me/notifications/read-all')
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ marked: 2 })
      const inbox = await user.client.get<NotificationPage>('/api/v1/me/notifications')
      expect(inbox.body.unreadCount).toBe(0)
      expect(inbox.body.notifications.every((n: { read: boolean }) => n.read)).toBe(true)
      expect((await user.client.post<MarkedRead>('/api/v1/me/notifications/read-all')).body).toEqual({ marked: 0 })
      expect((await other.client.get<NotificationPage>('/api/v1/me/notifications')).body.unreadCount).toBe(1)
    })

    it('filters to unread items with ?unread=true', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      for (let i = 0; i < 3; i++) {
        t.clock.advance(SECOND_MS)
        await signInFromNewBrowser(t, user)
      }
      const all = (await user.client.get<NotificationPage>('/api/v1/me/notifications')).body.notifications as { id: string }[]
      expect((await user.client.post(`/api/v1/me/notifications/${all[1].id}/read`)).status).toBe(204)
      const unread = await user.client.get<NotificationPage>('/api/v1/me/notifications?unread=true')
      expect(unread.status).toBe(200)
      expect(unread.body.notifications.map((n: { id: string }) => n.id)).toEqual([all[0].id, all[2].id])
      expect(unread.body.notifications.every((n: { read: boolean }) => !n.read)).toBe(true)
      expect(unread.body.unreadCount).toBe(2)
      const everything = await user.client.get<NotificationPage>('/api/v1/me/notifications?unread=false')
      expect(everything.body.notifications).toHaveLength(3)
    })

    it('needs a signed-in session', async () => {
      const t = await testApp(dialect)
      const res = await t.client().get<NotificationPage>('/api/v1/me/notifications')
      expectError(res, 401, 'unauthenticated')
    })
  })
})
