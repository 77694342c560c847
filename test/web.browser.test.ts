/**
 * The web app in real Chromium: the whole account journey by clicking, as a person would,
 * on SQLite and PostgreSQL. Mail is caught over real SMTP; 2FA codes are computed by an
 * independent TOTP implementation.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { DIALECTS } from './helpers/databases.ts'
import { BROWSER_FLOW, launchChromium } from './helpers/browser.ts'
import { person } from './helpers/app.ts'
import { tokenFrom } from './helpers/smtp.ts'
import { independentTotp } from './helpers/totp.ts'
import { listeningApp } from './helpers/web.ts'
import type { ConfirmationSent } from '../src/accounts/schemas.ts'

let browser: Browser
beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})

async function newPage(options: { locale?: string } = {}): Promise<Page> {
  const context = await browser.newContext({ locale: options.locale ?? 'en-US' })
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  onTestFinished(async ({ task }) => {
    // A failing step leaves a picture and the text of the page behind, for whoever reads the log.
    if (task.result?.state === 'fail') {
      const file = `/tmp/latchkey-failure-${task.name.replace(/\W+/g, '-').slice(0, 60)}-${Date.now()}.png`
      await page.screenshot({ path: file, fullPage: true }).catch(() => {})
      const text = await page.locator('main').innerText({ timeout: 1000 }).catch(() => '')
      console.error(`failing page ${page.url()}: ${text.replace(/\s+/g, ' ').slice(0, 300)} (screenshot: ${file})`)
    }
    await context.close()
  })
  return page
}

async function signUpInBrowser(page: Page, base: string, who: ReturnType<typeof person>) {
  await page.goto(`${base}/signup`)
  await page.getByLabel('Email').fill(who.email)
  await page.getByLabel('Username').fill(who.username)
  await page.getByText('Available').waitFor()
  await page.getByLabel('Password', { exact: true }).fill(who.password)
  await page.getByLabel('I accept the terms of use').check()
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.getByRole('heading', { name: 'Tell us about you' }).waitFor()
}

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Account menu' }).click()
  await page.getByRole('menuitem', { name: 'Sign out' }).click()
}

async function signIn(page: Page, base: string, login: string, password: string) {
  await page.goto(`${base}/signin`)
  await page.getByLabel('Email or username').fill(login)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
}

describe.each(DIALECTS)('the web app in Chromium on %s', (dialect) => {
  it('walks sign-up, confirmation, onboarding, 2FA, sessions, account switching and deletion', async () => {
    const t = await listeningApp(dialect)
    const page = await newPage()
    const who = person('web')

    // Sign up, then the onboarding step with a "confirm your email" banner.
    await signUpInBrowser(page, t.base, who)
    await page.getByLabel('Full name').fill('Ada Lovelace')
    await page.getByLabel('Your role').selectOption('developer')
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.getByRole('button', { name: 'Go to settings' }).click()
    await page.getByText(`Please confirm your email address (${who.email})`).waitFor()

    // Confirm from the caught email.
    const mail = await t.smtp.waitFor(who.email, /Confirm your email/)
    await page.goto(`${t.base}/confirm-email#token=${tokenFrom(mail)}`)
    await page.getByText('Your email is confirmed.').waitFor()
    expect(page.url()).toBe(`${t.base}/confirm-email`)

    // Sign out and back in.
    await page.getByRole('link', { name: 'Continue' }).click()
    await signOut(page)
    await signIn(page, t.base, who.username, who.password)
    await page.getByRole('heading', { name: 'Settings' }).waitFor()
    await expect.poll(() => page.getByLabel('Display name').inputValue()).toBe('Ada Lovelace')

    // Turn on 2FA with a code computed here; this browser stays signed in, every other device is signed out.
    await page.getByRole('link', { name: 'Security' }).click()
    await page.getByLabel('Password').fill(who.password)
    await page.getByRole('button', { name: 'Turn on' }).click()
    const secret = (await page.locator('code.secret').textContent())!.trim()
    await page.getByLabel('Authentication code').fill(independentTotp(secret, t.clock.now()))
    await page.getByRole('button', { name: 'Confirm' }).click()
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor()
    expect(await page.locator('.codes li').count()).toBe(10)
    await page.getByText('This browser stays signed in').waitFor()
    await page.getByRole('button', { name: 'Done' }).click()
    await page.locator('.pill-on').waitFor()
    await page.reload()
    await page.locator('.pill-on').waitFor()

    // Sign out, and in again with a code.
    t.clock.advance(30_000)
    await signOut(page)
    await signIn(page, t.base, who.email, who.password)
    await page.getByLabel('Authentication code').fill(independentTotp(secret, t.clock.now()))
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.getByRole('heading', { name: 'Settings' }).waitFor()

    // A second device signs in; revoke it from the sessions page.
    const phone = await newPage()
    t.clock.advance(30_000)
    await signIn(phone, t.base, who.email, who.password)
    await phone.getByLabel('Authentication code').fill(independentTotp(secret, t.clock.now()))
    await phone.getByRole('button', { name: 'Verify' }).click()
    await phone.getByRole('heading', { name: 'Settings' }).waitFor()
    await page.getByRole('link', { name: 'Active sessions' }).click()
    await expect.poll(() => page.locator('.list li').count()).toBe(2)
    await page.getByRole('button', { name: /^Sign out: / }).click()
    await expect.poll(() => page.locator('.list li').count()).toBe(1)
    await phone.reload()
    await phone.getByRole('heading', { name: 'Sign in' }).waitFor()

    // A second account in the same browser, then switch back and forth.
    const other = person('web2')
    await t.client().post<ConfirmationSent>('/api/v1/signup', { ...other, acceptTerms: true })
    await page.getByRole('button', { name: 'Account menu' }).click()
    await page.getByRole('menuitem', { name: 'Add another account' }).click()
    await page.getByRole('heading', { name: 'Add another account' }).waitFor()
    await page.getByLabel('Email or username').fill(other.email)
    await page.getByLabel('Password').fill(other.password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.getByRole('heading', { name: 'Settings' }).waitFor()
    await page.getByRole('button', { name: 'Account menu' }).click()
    await page.getByRole('menu').getByText(other.email).waitFor()
    await page.getByRole('menuitem', { name: 'Switch to Ada Lovelace' }).click()
    await expect.poll(() => page.getByLabel('Display name').inputValue()).toBe('Ada Lovelace')

    // Delete the first account (the sign-in above was within 5 minutes, so no extra prompt).
    await page.getByRole('link', { name: 'Account', exact: true }).click()
    await page.locator('input[name=deletePassword]').fill(who.password)
    await page.getByRole('button', { name: 'Delete my account' }).click()
    await page.waitForURL(/\/(signin|settings\/profile)$/)
    await t.smtp.waitFor(who.email, /deleted/)
    // The other account stays signed in in this browser.
    await page.goto(`${t.base}/settings/profile`)
    await page.getByRole('button', { name: 'Account menu' }).click()
    await page.getByRole('menu').getByText(other.email).waitFor()
  }, BROWSER_FLOW)

  it('asks for the password once: a form that has one needs no second prompt after five minutes', async () => {
    const t = await listeningApp(dialect)
    const page = await newPage()
    const who = person('sudo')
    await signUpInBrowser(page, t.base, who)
    t.clock.advance(6 * 60_000)
    await page.goto(`${t.base}/settings/account`)
    await page.getByLabel('Current password').fill(who.password)
    await page.getByLabel('New password').fill('a fresh and long passphrase')
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.getByText('Password changed.').waitFor()
    expect(await page.getByRole('heading', { name: 'Confirm it is you' }).count()).toBe(0)
  }, BROWSER_FLOW)

  it('two-factor set-up: an empty password is named on its field, a reload keeps the key, and confirming keeps this browser signed in', async () => {
    const t = await listeningApp(dialect)
    const page = await newPage()
    const who = person('setup')
    await signUpInBrowser(page, t.base, who)
    await page.goto(`${t.base}/confirm-email#token=${tokenFrom(await t.smtp.waitFor(who.email, /Confirm your email/))}`)
    await page.getByText('Your email is confirmed.').waitFor()
    await page.goto(`${t.base}/settings/security`)
    await page.getByRole('button', { name: 'Turn on' }).click()
    const password = page.getByLabel('Password')
    const empty = page.locator('.field-error', { hasText: 'Enter your password.' })
    await empty.waitFor()
    expect((await password.getAttribute('aria-describedby'))!.split(' ')).toContain(await empty.getAttribute('id'))
    await password.fill(who.password)
    await page.getByRole('button', { name: 'Turn on' }).click()
    const secret = (await page.locator('code.secret').textContent())!.trim()
    // Reloaded mid-set-up, and later than the 5-minute window: one password prompt, then the same key.
    t.clock.advance(6 * 60_000)
    await page.reload()
    await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor()
    await page.locator('.reauth input[type=password]').fill(who.password)
    await page.locator('.reauth').getByRole('button', { name: 'Confirm' }).click()
    await expect.poll(() => page.locator('code.secret').textContent()).toBe(secret)
    await page.getByLabel('Authentication code').fill(independentTotp(secret, t.clock.now()))
    await page.getByRole('button', { name: 'Confirm' }).click()
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor()
    await page.getByRole('button', { name: 'Done' }).click()
    await page.locator('.pill-on').waitFor()
    // Still signed in on this browser: the account page answers without a sign-in.
    await page.goto(`${t.base}/settings/account`)
    await page.getByRole('heading', { name: 'Delete account' }).waitFor()
  }, BROWSER_FLOW)

  it('deleting an account: the teams to leave come before any password, which is then asked once', async () => {
    const t = await listeningApp(dialect)
    const page = await newPage()
    const who = person('leaver')
    await signUpInBrowser(page, t.base, who)
    await page.goto(`${t.base}/confirm-email#token=${tokenFrom(await t.smtp.waitFor(who.email, /Confirm your email/))}`)
    await page.getByText('Your email is confirmed.').waitFor()
    const slug = `leave-${Math.random().toString(36).slice(2, 8)}`
    expect((await page.request.post(`${t.base}/api/v1/teams`, { data: { name: 'Rowing Club', slug }, headers: { origin: t.base } })).status()).toBe(201)
    t.clock.advance(6 * 60_000)
    await page.goto(`${t.base}/settings/account`)
    await page.getByText('Leave every team before deleting your account').waitFor()
    await page.getByRole('link', { name: 'Rowing Club' }).waitFor()
    expect(await page.locator('input[name=deletePassword]').count()).toBe(0)
    expect((await page.request.post(`${t.base}/api/v1/teams/${slug}/leave`, { headers: { origin: t.base } })).status()).toBe(200)
    await page.reload()
    await page.getByRole('button', { name: 'Delete my account' }).click()
    await page.locator('.field-error', { hasText: 'Enter your password.' }).waitFor()
    await page.locator('input[name=deletePassword]').fill(who.password)
    await page.getByRole('button', { name: 'Delete my account' }).click()
    // Signed out: the plain sign-in page (not /signin?next=/settings/account, as if thrown out of
    // the page), never a second password prompt.
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/signin')
    await t.smtp.waitFor(who.email, /deleted/)
  }, BROWSER_FLOW)

  it('shows field errors from the API next to their fields', async () => {
    const t = await listeningApp(dialect)
    const page = await newPage()
    const taken = person('taken')
    await t.client().post<ConfirmationSent>('/api/v1/signup', { ...taken, acceptTerms: true })
    await page.goto(`${t.base}/signup`)
    await page.getByLabel('Username').fill(taken.username)
    await page.getByText('Free names you can pick:').waitFor()
    await page.getByLabel('Email').fill('someone@example.com')
    await page.getByLabel('Username').fill('fresh-name-42')
    await page.getByLabel('Password', { exact: true }).fill('password123')
    await page.getByLabel('I accept the terms of use').check()
    await page.getByRole('button', { name: 'Create account' }).click()
    // Wait for the error itself, then check it is the one the field points to: the field's
    // aria-describedby before the answer arrives names only its hint.
    const error = page.locator('.field-error', { hasText: 'too common' })
    await error.waitFor()
    expect((await page.getByLabel('Password', { exact: true }).getAttribute('aria-describedby'))!.split(' ')).toContain(await error.getAttribute('id'))
  }, BROWSER_FLOW)

  it('recovers access with the captcha, the emailed link and a new password', async () => {
    const t = await listeningApp(dialect)
    const page = await newPage()
    const who = person('lost')
    await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })
    await page.goto(`${t.base}/trouble-signing-in`)
    await page.getByLabel('Email').fill(who.email)
    await page.getByText("I'm not a robot").click()
    await page.getByText(/verified/i).first().waitFor({ timeout: 20_000 })
    await page.getByRole('button', { name: 'Send' }).click()
    await page.getByText(/an email with your username and a reset link is on its way/).waitFor()
    const mail = await t.smtp.waitFor(who.email, /password reset/)
    await page.goto(`${t.base}/reset-password#token=${tokenFrom(mail)}`)
    await page.getByLabel('New password').fill('a brand new passphrase')
    await page.getByRole('button', { name: 'Set password' }).click()
    await page.getByText(/Your password was changed/).waitFor()
    // The link again, as from the email: a fresh page load.
    await page.goto(`${t.base}/signin`)
    await page.goto(`${t.base}/reset-password#token=${tokenFrom(mail)}`)
    await page.getByLabel('New password').fill('another new passphrase')
    await page.getByRole('button', { name: 'Set password' }).click()
    await page.getByRole('heading', { name: 'This link is invalid or has expired' }).waitFor()
  }, BROWSER_FLOW)
})
