/**
 * A real Latchkey app per test: real database (SQLite file or a fresh PostgreSQL database),
 * real SMTP to a catcher on loopback, a ManualClock, and an HTTP client over Fastify inject.
 * Teardown is registered where the app is built.
 */
import { onTestFinished } from 'vitest'
import type { LightMyRequestResponse } from 'fastify'
import type { Logger } from 'pino'
import { createApp, type App } from '../../src/app.ts'
import { ManualClock } from '../../src/clock.ts'
import { loadConfig } from '../../src/config.ts'
import type { SignedIn } from '../../src/signin/schemas.ts'
import { createTestDatabase, type TestDialect } from './databases.ts'
import { SmtpCatcher, tokenFrom } from './smtp.ts'
import type { ConfirmationSent, EmailConfirmed } from '../../src/accounts/schemas.ts'

export { errorCodeOf, errorDetails, errorOf, expectError, expectErrorCode } from './api.ts'

export const PUBLIC_URL = 'http://latchkey.test'
export const STRONG_PASSWORD = 'correct horse battery staple'

export interface TestApp {
  /** Tears the app down now; only needed with `manualTeardown` (apps shared by a whole file). */
  close(): Promise<void>
  app: App
  clock: ManualClock
  smtp: SmtpCatcher
  dialect: TestDialect
  client(options?: { ip?: string; userAgent?: string; origin?: string | null }): TestClient
}

/** The environment every test app starts from: cheap hashes, a tiny captcha, mail to the catcher. */
export function testEnvironment(databaseUrl: string, smtpUrl: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PUBLIC_URL,
    DATABASE_URL: databaseUrl,
    SMTP_URL: smtpUrl,
    MAIL_FROM: 'Latchkey <no-reply@latchkey.test>',
    // Cheap hashes keep the suite fast; production parameters have their own test.
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_ITERATIONS: '1',
    CAPTCHA_MAX_COUNTER: '50',
    ...env,
  }
}

export async function testApp(dialect: TestDialect, env: Record<string, string> = {}, options: { manualTeardown?: boolean; log?: Logger } = {}): Promise<TestApp> {
  const database = await createTestDatabase(dialect)
  const smtp = await new SmtpCatcher().start()
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12))
  const config = loadConfig(testEnvironment(database.url, smtp.url, env))
  const app = await createApp(config, { clock, log: options.log })
  const close = async () => {
    await app.close()
    await smtp.stop()
    await database.drop()
  }
  if (!options.manualTeardown) onTestFinished(close)
  return { app, clock, smtp, dialect, close, client: (clientOptions) => new TestClient(app, clientOptions) }
}

/**
 * One answer. `body` is `unknown` until the call names the route's response type, taken from the
 * server's schemas (`client.get<AccountView>('/api/v1/me')`), so a renamed field in a response
 * schema fails the tests' typecheck instead of reading `undefined`. Errors are read with `errorOf`.
 */
export interface Response<T = unknown> {
  status: number
  body: T
  headers: LightMyRequestResponse['headers']
  cookies: LightMyRequestResponse['cookies']
}

/** A browser-like client: keeps the session cookie and sends PUBLIC_URL as Origin. */
export class TestClient {
  readonly #app: App
  readonly ip: string
  readonly userAgent: string
  readonly origin: string | null
  /** Every cookie the server set, like a browser's jar for this one origin. */
  readonly jar = new Map<string, string>()
  bearer?: string

  get cookie(): string | undefined {
    return this.jar.get('latchkey_session')
  }
  set cookie(value: string | undefined) {
    if (value) this.jar.set('latchkey_session', value)
    else this.jar.delete('latchkey_session')
  }

  constructor(app: App, options: { ip?: string; userAgent?: string; origin?: string | null } = {}) {
    this.#app = app
    this.ip = options.ip ?? '198.51.100.7'
    this.userAgent = options.userAgent ?? 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36'
    this.origin = options.origin === undefined ? PUBLIC_URL : options.origin
  }

  async request<T = unknown>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response<T>> {
    const res = await this.#app.server.inject({
      method: method as 'GET',
      url,
      remoteAddress: this.ip,
      headers: {
        // The server answers at PUBLIC_URL only, as a browser at that address would ask it.
        host: this.#app.ctx.config.publicUrl.host,
        'user-agent': this.userAgent,
        ...(this.origin ? { origin: this.origin } : {}),
        ...(this.jar.size ? { cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
        ...(this.bearer ? { authorization: `Bearer ${this.bearer}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    })
    for (const c of res.cookies) {
      if (c.value) this.jar.set(c.name, c.value)
      else this.jar.delete(c.name)
    }
    const text = res.body
    let parsed: unknown = text
    if ((res.headers['content-type'] ?? '').toString().includes('json') && text) parsed = JSON.parse(text)
    return { status: res.statusCode, body: parsed as T, headers: res.headers, cookies: res.cookies }
  }

  get<T = unknown>(url: string) {
    return this.request<T>('GET', url)
  }
  post<T = unknown>(url: string, body?: unknown) {
    return this.request<T>('POST', url, body ?? {})
  }
  put<T = unknown>(url: string, body: unknown) {
    return this.request<T>('PUT', url, body)
  }
  patch<T = unknown>(url: string, body: unknown) {
    return this.request<T>('PATCH', url, body)
  }
  delete<T = unknown>(url: string, body?: unknown) {
    return this.request<T>('DELETE', url, body)
  }
}

let counter = 0
/** A unique person per call, so no test depends on another's rows. */
export function person(prefix = 'user') {
  counter += 1
  const id = `${prefix}${counter}${Math.random().toString(36).slice(2, 6)}`
  return { email: `${id}@example.com`, username: id, password: STRONG_PASSWORD }
}

/** Signs up, confirms by the emailed link, and signs in; returns the signed-in client. */
export async function signedUpUser(t: TestApp, options: { staySignedIn?: boolean; confirm?: boolean; client?: TestClient } = {}) {
  const who = person()
  const client = options.client ?? t.client()
  const signup = await client.post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })
  if (signup.status !== 202) throw new Error(`signup failed: ${JSON.stringify(signup.body)}`)
  const mail = await t.smtp.waitFor(who.email, /confirm/i)
  if (options.confirm !== false) {
    const confirmed = await client.post<EmailConfirmed>('/api/v1/email/confirm', { token: tokenFrom(mail) })
    if (confirmed.status !== 200) throw new Error(`confirm failed: ${JSON.stringify(confirmed.body)}`)
  }
  const signin = await client.post<SignedIn>('/api/v1/signin', { login: who.email, password: who.password, staySignedIn: options.staySignedIn ?? false })
  if (signin.status !== 200) throw new Error(`signin failed: ${JSON.stringify(signin.body)}`)
  return { ...who, client, accountId: signin.body.account.id, sessionId: signin.body.session.id }
}
