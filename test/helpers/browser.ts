/** Debian's Chromium driven by playwright-core: headless, no sandbox (root in CI), no background traffic. */
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, onTestFinished } from 'vitest'

/** Per-test timeout for a whole flow in the browser: minutes, not the suite's 30 s, on a busy two-core machine. */
export const BROWSER_FLOW = 180_000

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  })
}

export interface TestPageOptions {
  locale?: string
  viewport?: { width: number; height: number }
  /** Playwright's default timeout for the page's actions. */
  timeoutMs?: number
  /** On failure, a full-page screenshot goes to /tmp/latchkey-<label>-failure-<time>.png (none without a label). */
  screenshotLabel?: string
  /** Whose text is logged on failure. */
  textOf?: string
}

/**
 * One Chromium for a test file: call at the top level; it is launched before the file's tests
 * and closed after them. Returns `newPage`, which opens a fresh context (its own cookies) and
 * page for the running test, closed when that test ends; a failing test logs the page's URL and
 * text (and a screenshot when `screenshotLabel` is set).
 */
export function chromiumForFile(defaults: TestPageOptions = {}): { newPage: (options?: TestPageOptions) => Promise<Page>; browser: () => Browser } {
  let browser: Browser | undefined
  beforeAll(async () => {
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
  })
  const current = (): Browser => {
    if (!browser) throw new Error('Chromium is not running: chromiumForFile() must be called at the top level of the test file')
    return browser
  }
  async function newPage(options: TestPageOptions = {}): Promise<Page> {
    const { locale = 'en-US', viewport, timeoutMs = 15_000, screenshotLabel, textOf = 'body' } = { ...defaults, ...options }
    const context = await current().newContext({ locale, ...(viewport ? { viewport } : {}) })
    const page = await context.newPage()
    page.setDefaultTimeout(timeoutMs)
    onTestFinished(async ({ task }) => {
      if (task.result?.state === 'fail') {
        const file = screenshotLabel ? `/tmp/latchkey-${screenshotLabel}-failure-${Date.now()}.png` : null
        if (file) await page.screenshot({ path: file, fullPage: true }).catch(() => {})
        const text = await page.locator(textOf).innerText({ timeout: 1000 }).catch(() => '')
        console.error(`failing page ${page.url()}: ${text.replace(/\s+/g, ' ').slice(0, 600)}${file ? ` (screenshot: ${file})` : ''}`)
      }
      await context.close()
    })
    return page
  }
  return { newPage, browser: current }
}
