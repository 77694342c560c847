/**
 * An app sign-in in real Chromium, on SQLite and PostgreSQL, the way the CLI does it: a
 * loopback listener on 127.0.0.1 receives the redirect, oauth4webapi (real fetch over
 * loopback) does discovery and the code exchange. The person signs in on the page, continues,
 * and the app gets its tokens; a second request is skipped and the app gets access_denied.
 */
import http from 'node:http'
import { AxeBuilder } from '@axe-core/playwright'
import type { AddressInfo } from 'node:net'
import * as oauth from 'oauth4webapi'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { BROWSER_FLOW, launchChromium } from './helpers/browser.ts'
import { DIALECTS } from './helpers/databases.ts'
import { signedUpUser } from './helpers/app.ts'
import { listeningApp } from './helpers/web.ts'

let browser: Browser
beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})

/** axe-core, as the pages suite runs it: no WCAG 2.1 A/AA or best-practice violation. */
async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze()
  expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([])
}

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1000, height: 900 } })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  onTestFinished(async ({ task }) => {
    if (task.result?.state === 'fail') {
      const file = `/tmp/latchkey-oauth-failure-${Date.now()}.png`
      await page.screenshot({ path: file, fullPage: true }).catch(() => {})
      const text = await page.locator('body').innerText({ timeout: 1000 }).catch(() => '')
      console.error(`failing page ${page.url()}: ${text.replace(/\s+/g, ' ').slice(0, 600)} (screenshot: ${file})`)
    }
    await context.close()
  })
  return page
}

/** The app's loopback listener (RFC 8252 §7.3): resolves with the callback URL it receives. */
async function loopbackListener() {
  let resolve!: (url: URL) => void
  const received = new Promise<URL>((r) => (resolve = r))
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.')
    resolve(new URL(req.url!, `http://127.0.0.1:${(server.address() as AddressInfo).port}`))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())))
  return { redirectUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`, received }
}

describe.each(DIALECTS)('app sign-in in Chromium on %s', (dialect) => {
  it('signs in on the page, continues, and the app gets tokens; skipping gives the app access_denied', async () => {
    const t = await listeningApp(dialect, { RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '10000' })
    const ada = await signedUpUser(t)
    const opts = { [oauth.allowInsecureRequests]: true }
    const issuer = new URL(t.base)
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...opts, algorithm: 'oidc' }))
    const client: oauth.Client = { client_id: 'latchkey-cli' }

    async function authorizationUrl(redirectUri: string) {
      const verifier = oauth.generateRandomCodeVerifier()
      const state = oauth.generateRandomState()
      const url = new URL(as.authorization_endpoint!)
      url.search = new URLSearchParams({
        client_id: 'latchkey-cli', redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile email offline_access',
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, device_name: 'latchkey CLI on ada-box',
      }).toString()
      return { url: url.href, verifier, state }
    }

    // Signed out: the page explains who asks and shows the sign-in form, then "Continue as".
    const app = await loopbackListener()
    const request = await authorizationUrl(app.redirectUri)
    const page = await newPage()
    await page.goto(request.url)
    await expect.poll(() => page.url()).toMatch(/\/app-signin\/[A-Za-z0-9_-]+/)
    await page.getByText('Latchkey CLI is asking to sign in to your Latchkey account.').waitFor()
    await page.getByText('Device: latchkey CLI on ada-box').waitFor()
    await page.getByRole('button', { name: 'Skip and go back to the app' }).waitFor()
    await expectAccessible(page)
    await page.getByLabel('Email or username').fill(ada.email)
    await page.getByLabel('Password').fill(ada.password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.getByRole('button', { name: `Continue as ${ada.username}` }).click()
    const callback = await app.received
    await page.getByText('You can close this window.').waitFor()
    const params = oauth.validateAuthResponse(as, client, callback, request.state)
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, app.redirectUri, request.verifier, opts))
    expect(oauth.getValidatedIdTokenClaims(tokens)!.sub).toBe(ada.accountId)
    const info = await oauth.processUserInfoResponse(as, client, ada.accountId, await oauth.userInfoRequest(as, client, tokens.access_token, opts))
    expect(info.preferred_username).toBe(ada.username)

    // Signed in already: one click away, and "Skip" hands the app an access_denied error.
    const second = await loopbackListener()
    const skipped = await authorizationUrl(second.redirectUri)
    await page.goto(skipped.url)
    await page.getByRole('button', { name: `Continue as ${ada.username}` }).waitFor()
    await expectAccessible(page)
    await page.getByRole('button', { name: 'Skip and go back to the app' }).click()
    const denied = await second.received
    await page.getByText('You can close this window.').waitFor()
    expect(denied.searchParams.get('error')).toBe('access_denied')
    expect(() => oauth.validateAuthResponse(as, client, denied, skipped.state)).toThrow(oauth.AuthorizationResponseError)

    // The app session shows in Settings → Active sessions under its device name.
    await page.goto(`${t.base}/settings/sessions`)
    await page.getByText('latchkey CLI on ada-box (Latchkey CLI)').waitFor()
  }, BROWSER_FLOW)

  it('device flow in the browser: a typed code goes straight to "Continue as"; the app polls and gets tokens', async () => {
    const t = await listeningApp(dialect, { RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '10000' })
    const ada = await signedUpUser(t)
    const opts = { [oauth.allowInsecureRequests]: true }
    const issuer = new URL(t.base)
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...opts, algorithm: 'oidc' }))
    const client: oauth.Client = { client_id: 'latchkey-cli' }
    const started = await oauth.processDeviceAuthorizationResponse(as, client, await oauth.deviceAuthorizationRequest(as, client, oauth.None(), { scope: 'openid profile email offline_access', device_name: 'latchkey CLI on headless' }, opts))

    const page = await newPage()
    await page.goto(`${t.base}/signin`)
    await page.getByLabel('Email or username').fill(ada.email)
    await page.getByLabel('Password').fill(ada.password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL(/\/settings/)
    await page.goto(started.verification_uri)
    await expectAccessible(page)
    await page.getByLabel('Code').fill(started.user_code)
    await page.getByRole('button', { name: 'Continue' }).click()
    // Two confirmations for a typed code: the code, then "Continue as" with the app and device.
    await page.getByText('You entered a code from another device.').waitFor()
    expect(await page.getByText('Is this your device?').count()).toBe(0)
    await page.getByText('latchkey CLI on headless').waitFor()
    await page.getByRole('button', { name: `Continue as ${ada.username}` }).click()
    await page.getByText('Latchkey CLI is now signed in.').waitFor()

    const tokens = await oauth.processDeviceCodeResponse(as, client, await oauth.deviceCodeGrantRequest(as, client, oauth.None(), started.device_code, opts))
    expect(oauth.getValidatedIdTokenClaims(tokens)!.sub).toBe(ada.accountId)
  }, BROWSER_FLOW)

  it('device flow in the browser: a code that came in a link still asks "Is this your device?" first', async () => {
    const t = await listeningApp(dialect, { RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '10000' })
    const ada = await signedUpUser(t)
    const opts = { [oauth.allowInsecureRequests]: true }
    const issuer = new URL(t.base)
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...opts, algorithm: 'oidc' }))
    const client: oauth.Client = { client_id: 'latchkey-cli' }
    const started = await oauth.processDeviceAuthorizationResponse(as, client, await oauth.deviceAuthorizationRequest(as, client, oauth.None(), { scope: 'openid', device_name: 'latchkey CLI on somewhere' }, opts))

    const page = await newPage()
    await page.goto(`${t.base}/signin`)
    await page.getByLabel('Email or username').fill(ada.email)
    await page.getByLabel('Password').fill(ada.password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL(/\/settings/)
    await page.goto(started.verification_uri_complete!)
    await page.getByText('Is this your device?').waitFor()
    await page.getByText('Device: latchkey CLI on somewhere').waitFor()
    await page.getByText(started.user_code, { exact: true }).waitFor()
    await expectAccessible(page)
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.getByRole('button', { name: `Continue as ${ada.username}` }).click()
    await page.getByText('Latchkey CLI is now signed in.').waitFor()
  }, BROWSER_FLOW)
})
