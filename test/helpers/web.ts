/** A real Latchkey server on localhost for browser tests (WebAuthn and cookies need a real origin). */
import net from 'node:net'
import type { Page } from 'playwright-core'
import { testApp, type TestApp } from './app.ts'
import type { TestDialect } from './databases.ts'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

export async function listeningApp(dialect: TestDialect, env: Record<string, string> = {}, options: { manualTeardown?: boolean } = {}): Promise<TestApp & { base: string }> {
  const port = await freePort()
  const base = `http://localhost:${port}`
  const t = await testApp(dialect, { PUBLIC_URL: base, ...env }, options)
  await t.app.server.listen({ port, host: '127.0.0.1' })
  // API calls made beside the browser come from the same origin as the pages.
  return { ...t, base, client: (options) => t.client({ origin: base, ...options }) }
}

/** One page of test/web.pages.test.ts: opened in each language, checked with axe, screenshotted. */
export interface PageCase {
  name: string
  path: string
  /** Text (per language) that proves the page finished loading. */
  ready: Record<'en' | 'zh-CN', RegExp>
  signedIn?: boolean
  phone?: boolean
  before?: (page: Page) => Promise<void>
}
