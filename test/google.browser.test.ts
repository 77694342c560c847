/**
 * "Sign up with Google" and "Sign in with Google" clicked end to end in Chromium: Latchkey's
 * pages, the test IdP's own login page (a real oidc-provider over HTTPS, test/helpers/oidc-idp.ts),
 * the sign-up step, and back signed in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BROWSER_FLOW, chromiumForFile } from './helpers/browser.ts'
import { startTestIdp, type TestIdp } from './helpers/oidc-idp.ts'
import { listeningApp } from './helpers/web.ts'

const { browser } = chromiumForFile({ screenshotLabel: 'google' })

let idp: TestIdp
beforeAll(async () => {
  idp = await startTestIdp({ manualTeardown: true })
})
afterAll(async () => idp?.close())

describe('Sign in with Google in Chromium', () => {
  it('signs up with the button on the sign-up page, then signs in with the one on the sign-in page', { timeout: BROWSER_FLOW }, async () => {
    const t = await listeningApp('sqlite', { GOOGLE_CLIENT_ID: 'latchkey-browser', GOOGLE_CLIENT_SECRET: 'latchkey-browser-secret-0123456789', GOOGLE_ISSUER: idp.issuer, SSO_CA_FILE: idp.caFile })
    idp.addClient({ client_id: 'latchkey-browser', client_secret: 'latchkey-browser-secret-0123456789', redirect_uris: [`${t.base}/api/v1/signin/google/callback`] })
    const user = idp.addUser({ sub: `browser${Date.now().toString(36)}`, email: `grace${Date.now().toString(36)}@gmail.test`, email_verified: true, name: 'Grace Hopper' })

    // Latchkey trusts the IdP through SSO_CA_FILE; this browser is only told to accept its test certificate.
    const first = await browser().newContext({ locale: 'en-US', ignoreHTTPSErrors: true })
    const page = await first.newPage()
    page.setDefaultTimeout(20_000)
    try {
      await page.goto(`${t.base}/signup`)
      await page.getByRole('link', { name: 'Sign up with Google' }).click()
      // The IdP's login page: the login is the Google user's subject.
      await page.locator('input[name="login"]').fill(user.sub)
      await page.locator('input[name="password"]').fill('any password')
      await page.getByRole('button', { name: 'Sign-in' }).click()
      await expect.poll(() => new URL(page.url()).pathname).toBe('/signin/google')
      await page.getByRole('heading', { name: 'Finish signing up with Google' }).waitFor()
      await page.getByText(`Google confirmed your email address ${user.email}`).waitFor()
      await page.getByLabel('Username').fill(`grace${Date.now().toString(36)}`)
      await page.getByLabel('I accept the terms of use').check()
      await page.getByRole('button', { name: 'Create account' }).click()
      await expect.poll(() => new URL(page.url()).pathname).toBe('/onboarding')
    } finally {
      await first.close()
    }

    const second = await browser().newContext({ locale: 'en-US', ignoreHTTPSErrors: true })
    const again = await second.newPage()
    again.setDefaultTimeout(20_000)
    try {
      await again.goto(`${t.base}/signin`)
      await again.getByRole('link', { name: 'Sign in with Google' }).click()
      await again.locator('input[name="login"]').fill(user.sub)
      await again.locator('input[name="password"]').fill('any password')
      await again.getByRole('button', { name: 'Sign-in' }).click()
      await expect.poll(() => new URL(again.url()).pathname).toBe('/settings/profile')
      const me = await again.evaluate(async () => (await (await fetch('/api/v1/me')).json()) as { email: string; emailConfirmed: boolean })
      expect(me.email).toBe(user.email)
      expect(me.emailConfirmed).toBe(true)
      await again.goto(`${t.base}/settings/security`)
      await again.getByRole('heading', { name: 'Google' }).waitFor()
      await again.getByText(user.email).waitFor()
      await again.getByRole('heading', { name: 'Set a password' }).waitFor()
    } finally {
      await second.close()
    }
  })
})
