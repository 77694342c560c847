import { describe, expect, it } from 'vitest'
import { HOUR_MS } from '../clock.ts'
import { issueToken } from './tokens.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { expectError, expectErrorCode, person, signedUpUser, STRONG_PASSWORD, testApp, type TestApp } from '../../test/helpers/app.ts'
import { tokenFrom } from '../../test/helpers/smtp.ts'
import type { AccountView, EmailChangeResent, EmailChangeSent, EmailConfirmed, PasswordChanged, PendingEmailChangeAnswer } from './schemas.ts'

const NEW_PASSWORD = 'a brand new passphrase'

/** A confirmed person who has asked to move to a new address; returns them and that address's first link. */
async function withPendingChange(t: TestApp, options: { staySignedIn?: boolean } = {}) {
  const user = await signedUpUser(t, options)
  const newEmail = person().email
  expect((await user.client.post<EmailChangeSent>('/api/v1/me/email', { email: newEmail, password: STRONG_PASSWORD })).status).toBe(202)
  const firstLink = tokenFrom(await t.smtp.waitFor(newEmail, /new email/))
  return { user, newEmail, firstLink }
}

describe.each(DIALECTS)('the pending change of email address on %s', (dialect) => {
  describe('reading it', () => {
    it('shows the address asked for, when, and until when its link works; null before and after', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      expect((await user.client.get<PendingEmailChangeAnswer>('/api/v1/me/email/pending')).body).toEqual({ pending: null })
      const newEmail = person().email
      await user.client.post<EmailChangeSent>('/api/v1/me/email', { email: newEmail, password: STRONG_PASSWORD })
      const now = t.clock.now()
      expect((await user.client.get<PendingEmailChangeAnswer>('/api/v1/me/email/pending')).body).toEqual({
        pending: { email: newEmail, requestedAt: new Date(now).toISOString(), expiresAt: new Date(now + 24 * HOUR_MS).toISOString() },
      })
      expect((await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token: tokenFrom(await t.smtp.waitFor(newEmail, /new email/)) })).status).toBe(200)
      expect((await user.client.get<PendingEmailChangeAnswer>('/api/v1/me/email/pending')).body).toEqual({ pending: null })
    })

    it('stops showing it once its link has expired', async () => {
      const t = await testApp(dialect)
      // Signed in for 30 days, so the session outlives the link.
      const { user } = await withPendingChange(t, { staySignedIn: true })
      t.clock.advance(24 * HOUR_MS - 1)
      expect((await user.client.get<PendingEmailChangeAnswer>('/api/v1/me/email/pending')).body.pending).not.toBeNull()
      t.clock.advance(1)
      expect((await user.client.get<PendingEmailChangeAnswer>('/api/v1/me/email/pending')).body).toEqual({ pending: null })
    })

    it('needs a session', async () => {
      const t = await testApp(dialect)
      const res = await t.client().get<PendingEmailChangeAnswer>('/api/v1/me/email/pending')
      expectError(res, 401, 'unauthenticated')
    })
  })

  describe('re-sending its link', () => {
    it('sends a new link to the same address; only the newest works, and it confirms the change', async () => {
      const t = await testApp(dialect)
      const { user, newEmail, firstLink } = await withPendingChange(t)
      t.clock.advance(5 * 60_000)
      const res = await user.client.post<EmailChangeResent>('/api/v1/me/email/pending/resend')
      expect(res.status).toBe(202)
      expect(res.body).toEqual({
        status: 'confirmation_sent',
        pending: { email: newEmail, requestedAt: new Date(t.clock.now()).toISOString(), expiresAt: new Date(t.clock.now() + 24 * HOUR_MS).toISOString() },
      })
      await expect.poll(() => t.smtp.messagesTo(newEmail).filter((m) => /new email/.test(m.subject)).length).toBe(2)
      const second = tokenFrom(t.smtp.messagesTo(newEmail).filter((m) => /new email/.test(m.subject))[1])
      expectErrorCode(await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token: firstLink }), 'token_invalid')
      expect((await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token: second })).status).toBe(200)
      expect((await user.client.get<AccountView>('/api/v1/me')).body.email).toBe(newEmail)
    })

    it('answers not_found when no change waits', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const res = await user.client.post<EmailChangeResent>('/api/v1/me/email/pending/resend')
      expectError(res, 404, 'not_found')
    })

    it('is rate limited with asking for the change', async () => {
      const t = await testApp(dialect)
      const { user } = await withPendingChange(t)
      let status = 202
      for (let i = 0; i < 20 && status === 202; i++) status = (await user.client.post<EmailChangeResent>('/api/v1/me/email/pending/resend')).status
      expect(status).toBe(429)
    })
  })

  describe('an address that belongs to someone else', () => {
    it('waits like any other, so neither the answer nor the pending state tells; re-sending tells that address again', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const other = await signedUpUser(t)
      expect((await user.client.post<EmailChangeSent>('/api/v1/me/email', { email: other.email, password: STRONG_PASSWORD })).status).toBe(202)
      expect((await user.client.get<PendingEmailChangeAnswer>('/api/v1/me/email/pending')).body.pending).toMatchObject({ email: other.email })
      await t.smtp.waitFor(other.email, /could not be used/)
      expect((await user.client.post<EmailChangeResent>('/api/v1/me/email/pending/resend')).status).toBe(202)
      await expect.poll(() => t.smtp.messagesTo(other.email).filter((m) => /could not be used/.test(m.subject)).length).toBe(2)
      expect(t.smtp.messagesTo(other.email).some((m) => /new email/.test(m.subject))).toBe(false)
      expect((await user.client.get<AccountView>('/api/v1/me')).body.email).toBe(user.email)
    })
  })

  describe('cancelling it', () => {
    it('stops its link and keeps the current address', async () => {
      const t = await testApp(dialect)
      const { user, firstLink } = await withPendingChange(t)
      expect((await user.client.delete('/api/v1/me/email/pending')).status).toBe(204)
      expect((await user.client.get<PendingEmailChangeAnswer>('/api/v1/me/email/pending')).body).toEqual({ pending: null })
      expectErrorCode(await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token: firstLink }), 'token_invalid')
      expect((await user.client.get<AccountView>('/api/v1/me')).body.email).toBe(user.email)
      const audit = await t.app.ctx.db.selectFrom('audit_events').select('type').where('account_id', '=', user.accountId).execute()
      expect(audit.map((a) => a.type)).toContain('account.email_change_cancelled')
    })

    it('answers not_found when no change waits', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const res = await user.client.delete('/api/v1/me/email/pending')
      expectError(res, 404, 'not_found')
    })
  })

  describe('a password change cancels it, and says so', () => {
    it('names the cancelled address in the answer and in the notice email', async () => {
      const t = await testApp(dialect)
      const { user, newEmail, firstLink } = await withPendingChange(t)
      const res = await user.client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: STRONG_PASSWORD, newPassword: NEW_PASSWORD })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ status: 'password_changed', cancelledEmailChange: newEmail })
      const notice = await t.smtp.waitFor(user.email, /password was changed/)
      expect(notice.text).toContain(`Your pending change of email address to ${newEmail} was cancelled`)
      expect((await user.client.get<PendingEmailChangeAnswer>('/api/v1/me/email/pending')).body).toEqual({ pending: null })
      expectErrorCode(await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token: firstLink }), 'token_invalid')
    })

    it('says nothing of it when no change was waiting', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const res = await user.client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: STRONG_PASSWORD, newPassword: NEW_PASSWORD })
      expect(res.body).toMatchObject({ status: 'password_changed', cancelledEmailChange: null })
      const notice = await t.smtp.waitFor(user.email, /password was changed/)
      expect(notice.text).not.toContain('pending change')
    })

    it('says so in the notice after a password reset too', async () => {
      const t = await testApp(dialect)
      const { user, newEmail } = await withPendingChange(t)
      // The reset link comes from "trouble signing in", behind a captcha: issued here directly.
      const reset = await issueToken(t.app.ctx.db, t.clock, { accountId: user.accountId, purpose: 'password_reset' })
      expect((await t.client().post('/api/v1/password/reset', { token: reset, password: NEW_PASSWORD })).status).toBe(200)
      const notice = await t.smtp.waitFor(user.email, /password was changed/)
      expect(notice.text).toContain(`Your pending change of email address to ${newEmail} was cancelled`)
    })
  })
})
