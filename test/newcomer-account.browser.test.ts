/**
 * A newcomer's account, in real Chromium on SQLite and PostgreSQL: an invited person without an
 * account signs up from the invitation and comes back to it once confirmed; the "confirm your
 * email" notice (with re-send) is there from onboarding on; invitations waiting for a person are
 * listed with Accept; and the Account page shows a pending email change, which a password change
 * visibly cancels.
 */
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { BROWSER_FLOW, chromiumForFile } from './helpers/browser.ts'
import { DIALECTS } from './helpers/databases.ts'
import { person, signedUpUser, STRONG_PASSWORD, type TestApp } from './helpers/app.ts'
import type { CaughtMail } from './helpers/smtp.ts'
import { listeningApp } from './helpers/web.ts'
import { invitationToken, teamWithAdmin } from './helpers/teams.ts'
import type { NewInviteLink } from '../src/teams/invitations/schemas.ts'
import type { Invitations } from '../src/teams/schemas.ts'
import type { AccountView, PendingEmailChangeAnswer } from '../src/accounts/schemas.ts'

const { newPage } = chromiumForFile({ screenshotLabel: 'newcomer-account' })

/** The link in a mail (to /confirm-email or /invitations/accept), moved to the test server's address. */
function linkIn(mail: CaughtMail, base: string, pathname: string): string {
  const found = new RegExp(`https?://\\S+${pathname}#\\S+`).exec(mail.text)?.[0]
  if (!found) throw new Error(`no ${pathname} link in "${mail.subject}"`)
  const url = new URL(found)
  return `${base}${url.pathname}${url.hash}`
}

function confirmations(t: TestApp, email: string): CaughtMail[] {
  return t.smtp.messagesTo(email).filter((m) => /Confirm your email/.test(m.subject))
}

async function signIn(page: Page, base: string, login: string, password: string, next: string) {
  await page.goto(`${base}/signin?next=${encodeURIComponent(next)}`)
  await page.getByLabel('Email or username').fill(login)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await expect.poll(() => new URL(page.url()).pathname).toBe(next)
}

describe.each(DIALECTS)("a newcomer's account, in Chromium on %s", (dialect) => {
  it('an invited person signs up from the emailed invitation (address filled in), is told to confirm at onboarding, re-sends, confirms, lands back on the invitation and joins', async () => {
    const t = await listeningApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
    const who = person('invited')
    expect((await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [who.email], roles: ['developer'] })).status).toBe(201)
    await invitationToken(t, who.email)
    const invitation = linkIn(t.smtp.messagesTo(who.email)[0], t.base, '/invitations/accept')

    const page = await newPage()
    await page.goto(invitation)
    await page.getByText(`invited you to join Team ${slug}`).waitFor()
    await page.getByRole('link', { name: 'Create an account' }).click()
    await page.getByRole('heading', { name: 'Create your account' }).waitFor()
    expect(await page.getByLabel('Email').inputValue()).toBe(who.email)
    await page.getByLabel('Username').fill(who.username)
    await page.getByLabel('Password', { exact: true }).fill(who.password)
    await page.getByLabel('I accept the terms of use').check()
    await page.getByRole('button', { name: 'Create account' }).click()

    // Onboarding says to check the inbox, and that the link leads back to the invitation.
    await page.getByRole('heading', { name: 'Tell us about you' }).waitFor()
    await page.getByText(`Check your inbox: please confirm your email address (${who.email})`).waitFor()
    await page.getByText('You came from a team invitation. Confirm your email with the link we just sent').waitFor()
    await page.getByRole('button', { name: 'Re-send the link' }).click()
    await page.getByText('A new link is on its way.').waitFor()
    await expect.poll(() => confirmations(t, who.email).length).toBe(2)
    // The team step of onboarding keeps the notice.
    await page.getByRole('button', { name: 'Skip for now' }).click()
    await page.getByRole('heading', { name: 'Join or create a team' }).waitFor()
    await page.getByText(`Check your inbox: please confirm your email address (${who.email})`).waitFor()

    // The re-sent link, opened in a new tab as from a mail app, confirms and goes back to the invitation.
    const tab = await page.context().newPage()
    await tab.goto(linkIn(confirmations(t, who.email)[1], t.base, '/confirm-email'))
    await expect.poll(() => new URL(tab.url()).pathname).toBe('/invitations/accept')
    await tab.getByText(`invited you to join Team ${slug}`).waitFor()
    expect(await tab.getByText('Check your inbox').count()).toBe(0)
    await tab.getByRole('button', { name: 'Accept invitation' }).click()
    await tab.getByRole('heading', { name: `Welcome to Team ${slug}` }).waitFor()
    await tab.getByRole('link', { name: 'Open the team' }).click()
    await expect.poll(() => new URL(tab.url()).pathname).toBe(`/teams/${slug}`)
  }, BROWSER_FLOW)

  it('someone signing up from an invite link comes back to it after confirming and joins', async () => {
    const t = await listeningApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
    const created = await admin.client.post<NewInviteLink>(`/api/v1/teams/${slug}/invite-links`, { roles: ['developer'] })
    expect(created.status).toBe(201)
    const token = created.body.token
    const who = person('linked')

    const page = await newPage()
    await page.goto(`${t.base}/join/${token}`)
    await page.getByRole('heading', { name: `Join Team ${slug}` }).waitFor()
    await page.getByRole('link', { name: 'Create an account' }).click()
    await page.getByLabel('Email').fill(who.email)
    await page.getByLabel('Username').fill(who.username)
    await page.getByLabel('Password', { exact: true }).fill(who.password)
    await page.getByLabel('I accept the terms of use').check()
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.getByRole('heading', { name: 'Tell us about you' }).waitFor()
    await page.getByRole('link', { name: 'Go back to the invitation' }).waitFor()

    await expect.poll(() => confirmations(t, who.email).length).toBe(1)
    await page.goto(linkIn(confirmations(t, who.email)[0], t.base, '/confirm-email'))
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/join/${token}`)
    await page.getByRole('button', { name: 'Join team' }).click()
    await page.getByRole('heading', { name: `Welcome to Team ${slug}` }).waitFor()
  }, BROWSER_FLOW)

  it('a person finds invitations waiting for them on the Teams page, at onboarding and in the inbox, and accepts from there', async () => {
    const t = await listeningApp(dialect, { RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '10000' })
    const first = await teamWithAdmin(t, { seats: 3 })
    const second = await teamWithAdmin(t, { seats: 3 })
    const invitee = await signedUpUser(t)
    for (const { admin, slug } of [first, second]) {
      expect((await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [invitee.email], roles: ['developer'] })).status).toBe(201)
    }

    const page = await newPage()
    await signIn(page, t.base, invitee.email, invitee.password, '/teams')
    const waiting = page.locator('section.pending-invitations')
    await waiting.getByRole('heading', { name: 'Invitations waiting for you' }).waitFor()
    await waiting.getByText(`Team ${first.slug}`).waitFor()
    await waiting.getByText(`${second.admin.username} invited you as Developer`).waitFor()
    await waiting.getByRole('button', { name: `Accept the invitation to Team ${first.slug}` }).click()
    await waiting.getByText(`You joined Team ${first.slug} as Developer.`).waitFor()
    // The joined team is now in "Your teams"; the other invitation still waits.
    await page.getByRole('link', { name: `Team ${first.slug}`, exact: true }).waitFor()
    expect(await waiting.getByRole('button', { name: `Accept the invitation to Team ${first.slug}` }).count()).toBe(0)

    await page.goto(`${t.base}/inbox`)
    await page.locator('section.pending-invitations').getByRole('button', { name: `Accept the invitation to Team ${second.slug}` }).waitFor()
    await page.goto(`${t.base}/onboarding`)
    await page.getByRole('button', { name: 'Skip for now' }).click()
    await page.locator('section.pending-invitations').getByRole('button', { name: `Accept the invitation to Team ${second.slug}` }).waitFor()

    // In Chinese too (the account's language, which wins over the browser's once signed in).
    expect((await invitee.client.patch<AccountView>('/api/v1/me', { locale: 'zh-CN' })).status).toBe(200)
    await page.goto(`${t.base}/teams`)
    await page.getByRole('heading', { name: '等待你接受的邀请' }).waitFor()
    await page.getByText(`${second.admin.username} 邀请你以 开发者 身份加入`).waitFor()
  }, BROWSER_FLOW)

  it('the Account page shows a pending email change with re-send and cancel; a password change says it cancelled one', async () => {
    const t = await listeningApp(dialect)
    const user = await signedUpUser(t)
    const newEmail = person('moving').email
    const page = await newPage({ locale: 'en-GB' })
    await signIn(page, t.base, user.email, user.password, '/settings/account')

    await page.getByLabel('New email').fill(newEmail)
    await page.locator('input[name=emailPassword]').fill(STRONG_PASSWORD)
    await page.getByRole('button', { name: 'Change email' }).click()
    const pending = page.getByTestId('pending-email')
    await pending.getByText(`Change to ${newEmail} waiting for confirmation`).waitFor()
    // Still there after a reload: it is the server's state, not the form's.
    await page.reload()
    await pending.getByText(`Change to ${newEmail} waiting for confirmation`).waitFor()
    await pending.getByRole('button', { name: 'Re-send the link' }).click()
    await page.getByText(`A new link went to ${newEmail}; the earlier one no longer works.`).waitFor()
    await expect.poll(() => t.smtp.messagesTo(newEmail).filter((m) => /new email/.test(m.subject)).length).toBe(2)
    await pending.getByRole('button', { name: 'Cancel the change' }).click()
    await page.getByText(`The change to ${newEmail} was cancelled: its link no longer works.`).waitFor()
    await expect.poll(() => pending.count()).toBe(0)
    expect((await user.client.get<PendingEmailChangeAnswer>('/api/v1/me/email/pending')).body).toEqual({ pending: null })

    // Asked again, then the password changes: the page says the change went with the old password.
    await page.getByLabel('New email').fill(newEmail)
    await page.locator('input[name=emailPassword]').fill(STRONG_PASSWORD)
    await page.getByRole('button', { name: 'Change email' }).click()
    await pending.getByText(`Change to ${newEmail} waiting for confirmation`).waitFor()
    await page.getByLabel('Current password').fill(STRONG_PASSWORD)
    await page.getByLabel('New password').fill('a brand new passphrase')
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.getByText(`Your pending change of email to ${newEmail} was cancelled with the old password`).waitFor()
    await expect.poll(() => pending.count()).toBe(0)
    const notice = await t.smtp.waitFor(user.email, /password was changed/)
    expect(notice.text).toContain(`Your pending change of email address to ${newEmail} was cancelled`)
  }, BROWSER_FLOW)
})
