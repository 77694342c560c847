/**
 * What a first visitor's browser sees: pages that load without a console error (the API
 * reference at /docs, a signed-out page load), the terms links on sign-up, and sign-out.
 */
import type { ConsoleMessage, Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
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

describe('the API reference at /docs', () => {
  it('renders the operations without a console error (no CSP violation)', async () => {
    const t = await listeningApp('sqlite')
    const page = await newPage()
    const errors = consoleErrors(page)
    await page.goto(`${t.base}/docs`)
    await page.getByText('/api/v1/signup').first().waitFor()
    await page.waitForLoadState('networkidle')
    expect(errors).toEqual([])
  }, BROWSER_FLOW)
})
