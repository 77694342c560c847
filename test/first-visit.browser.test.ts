/**
 * What a newcomer's browser meets: pages that load without a console error (the API
 * reference at /docs, a signed-out visit), the terms links on sign-up, sign-out that lands on
 * a plain /signin, and a phone photo as an avatar.
 */
import type { ConsoleMessage, Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { signedUpUser } from './helpers/app.ts'
import { BROWSER_FLOW, chromiumForFile } from './helpers/browser.ts'
import { listeningApp } from './helpers/web.ts'

const { newPage } = chromiumForFile({ screenshotLabel: 'first-visit' })

/** Every console error and uncaught exception of the page, from now on. */
function consoleErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') errors.push(`${message.text()} (${message.location().url})`)
  })
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`))
  return errors
}

/**
 * Run in the page (the test's TypeScript has no DOM types): a real JPEG from Chromium's own
 * encoder, 4032×3024 like a 12-megapixel phone camera, noisy enough to weigh what a photo weighs.
 */
const PHONE_PHOTO_BASE64 = `(async () => {
  const canvas = document.createElement('canvas')
  canvas.width = 4032
  canvas.height = 3024
  const context = canvas.getContext('2d')
  const pixels = context.createImageData(canvas.width, canvas.height)
  let seed = 7
  for (let i = 0; i < pixels.data.length; i += 4) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    const x = (i / 4) % canvas.width
    pixels.data[i] = (x * 255) / canvas.width + (seed % 48)
    pixels.data[i + 1] = (seed >> 8) % 256
    pixels.data[i + 2] = 128 + (seed % 64)
    pixels.data[i + 3] = 255
  }
  context.putImageData(pixels, 0, 0)
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.92))
  const bytes = new Uint8Array(await blob.arrayBuffer())
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
})()`

async function signInThroughPage(page: Page, base: string, login: string, password: string) {
  await page.goto(`${base}/signin`)
  await page.getByLabel('Email or username').fill(login)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.waitForURL(`${base}/settings/profile`)
}

describe('the API reference at /docs', () => {
  it('renders the operations without a console error (no CSP violation)', async () => {
    const t = await listeningApp('sqlite')
    // Swagger UI is a 1.5 MB script: its first render takes a while on a busy machine.
    const page = await newPage({ timeoutMs: 60_000 })
    const errors = consoleErrors(page)
    await page.goto(`${t.base}/docs`)
    await page.getByText('/api/v1/signup').first().waitFor()
    await page.waitForLoadState('networkidle')
    expect(errors).toEqual([])
  }, BROWSER_FLOW)
})

describe('a signed-out visit', () => {
  it('loads /signin without a console error (the session probe answers 200 signed out)', async () => {
    const t = await listeningApp('sqlite')
    const page = await newPage()
    const errors = consoleErrors(page)
    const failed: string[] = []
    page.on('response', (res) => {
      if (res.status() >= 400) failed.push(`${res.status()} ${res.url()}`)
    })
    await page.goto(`${t.base}/signin`)
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
    await page.waitForLoadState('networkidle')
    expect(failed).toEqual([])
    expect(errors).toEqual([])
  }, BROWSER_FLOW)
})

describe.each(['sqlite', 'postgres'] as const)('on %s', (dialect) => {
  it('signing out lands on /signin, not on /signin?next=<the page left>', async () => {
    const t = await listeningApp(dialect)
    const ada = await signedUpUser(t)
    const page = await newPage()
    await signInThroughPage(page, t.base, ada.email, ada.password)
    await page.goto(`${t.base}/settings/account`)
    await page.getByRole('button', { name: 'Account menu' }).click()
    await page.getByRole('menuitem', { name: 'Sign out' }).click()
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
    expect(page.url()).toBe(`${t.base}/signin`)
  }, BROWSER_FLOW)

  it('takes a 12-megapixel phone photo (over 5 MB) as the avatar: shrunk in the browser, shown', async () => {
    const t = await listeningApp(dialect)
    const ada = await signedUpUser(t)
    const page = await newPage({ timeoutMs: 60_000 })
    await signInThroughPage(page, t.base, ada.email, ada.password)
    const base64 = await page.evaluate<string>(PHONE_PHOTO_BASE64)
    const photo = Buffer.from(base64, 'base64')
    expect(photo.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]))
    expect(photo.length).toBeGreaterThan(5_000_000)
    const uploads: number[] = []
    page.on('request', (req) => {
      if (req.url().endsWith('/api/v1/me/avatar') && req.method() === 'PUT') uploads.push(req.postDataBuffer()?.length ?? 0)
    })
    await page.getByLabel('Upload an avatar').setInputFiles({ name: 'IMG_0001.jpg', mimeType: 'image/jpeg', buffer: photo })
    await page.getByText('Avatar updated.').waitFor()
    await expect.poll(() => page.locator('button.avatar img').getAttribute('src')).toMatch(/^\/images\/[A-Za-z0-9_-]{22}\.png$/)
    // What travelled is the shrunk picture, within the server's 500 KB (base64 is 4/3 of it).
    expect(uploads).toHaveLength(1)
    expect(uploads[0]).toBeLessThan((500_000 * 4) / 3 + 100)
  }, BROWSER_FLOW)

  it('links the sign-up checkbox to TERMS_URL and shows PRIVACY_URL when the operator set them', async () => {
    const t = await listeningApp(dialect, { TERMS_URL: 'https://example.com/terms', PRIVACY_URL: 'https://example.com/privacy' })
    const page = await newPage()
    await page.goto(`${t.base}/signup`)
    await page.getByRole('link', { name: 'terms of use' }).waitFor()
    expect(await page.getByRole('link', { name: 'terms of use' }).getAttribute('href')).toBe('https://example.com/terms')
    expect(await page.getByRole('link', { name: 'privacy policy' }).getAttribute('href')).toBe('https://example.com/privacy')
    // The checkbox keeps its name, and the link opens elsewhere without ticking it.
    await expect.poll(() => page.getByLabel('I accept the terms of use').isChecked()).toBe(false)
  }, BROWSER_FLOW)

  it('shows the terms as plain words, and no privacy link, when they are not set', async () => {
    const t = await listeningApp(dialect)
    const page = await newPage()
    await page.goto(`${t.base}/signup`)
    await page.getByLabel('I accept the terms of use').waitFor()
    await page.waitForLoadState('networkidle')
    expect(await page.getByRole('link', { name: 'terms of use' }).count()).toBe(0)
    expect(await page.getByRole('link', { name: 'privacy policy' }).count()).toBe(0)
  }, BROWSER_FLOW)
})
