/**
 * The WebAuthn ceremonies end to end: Chromium's virtual authenticator (CDP WebAuthn domain)
 * creates and signs real credentials in a real page on the server's origin; nothing is built
 * by hand. Covers registration, passwordless sign-in, passkey as second factor, and
 * re-authentication, on SQLite and PostgreSQL.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { MINUTE_MS } from '../clock.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { launchChromium } from '../../test/helpers/browser.ts'
import { expectErrorCode, person, type TestApp } from '../../test/helpers/app.ts'
import { listeningApp } from '../../test/helpers/web.ts'
import { independentTotp } from '../../test/helpers/totp.ts'
import { tokenFrom } from '../../test/helpers/smtp.ts'
import type { PasskeyList, PasskeyOptions, PasskeyView } from './schemas.ts'
import type { AccountView, ConfirmationSent, EmailConfirmed } from '../accounts/schemas.ts'
import type { Reauthenticated, SignedIn, TwoFactorRequired } from '../signin/schemas.ts'
import type { TwoFactorEnabled, TwoFactorSetup } from '../two-factor/schemas.ts'

let browser: Browser
beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})

/** The slice of the browser's WebAuthn API these tests call (the project compiles without DOM types). */
interface BrowserWebAuthn {
  navigator: { credentials: { create(o: { publicKey: unknown }): Promise<{ toJSON(): unknown }>; get(o: { publicKey: unknown }): Promise<{ toJSON(): unknown }> } }
  PublicKeyCredential: { parseCreationOptionsFromJSON(o: unknown): unknown; parseRequestOptionsFromJSON(o: unknown): unknown }
}

interface Harness {
  t: TestApp
  page: Page
  base: string
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>
  /** Runs navigator.credentials.create with the server's options and returns the JSON response. */
  createCredential(options: unknown): Promise<unknown>
  getAssertion(options: unknown): Promise<unknown>
}

/** A real server on localhost (a secure context for WebAuthn) and a page with a virtual authenticator. */
async function harness(dialect: 'sqlite' | 'postgres'): Promise<Harness> {
  const t = await listeningApp(dialect)
  const base = t.base
  const context = await browser.newContext()
  onTestFinished(() => context.close())
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  })
  await page.goto(`${base}/healthz`)
  return {
    t,
    page,
    base,
    api: (method, path, body) =>
      page.evaluate(async ({ method, path, body }) => {
        const res = await fetch(path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' })
        const text = await res.text()
        return { status: res.status, body: text ? JSON.parse(text) : null }
      }, { method, path, body }),
    createCredential: (options) =>
      page.evaluate(async (options) => {
        const web = globalThis as unknown as BrowserWebAuthn
        const credential = await web.navigator.credentials.create({ publicKey: web.PublicKeyCredential.parseCreationOptionsFromJSON(options) })
        return credential.toJSON()
      }, options),
    getAssertion: (options) =>
      page.evaluate(async (options) => {
        const web = globalThis as unknown as BrowserWebAuthn
        const credential = await web.navigator.credentials.get({ publicKey: web.PublicKeyCredential.parseRequestOptionsFromJSON(options) })
        return credential.toJSON()
      }, options),
  }
}

async function signedUpInPage(h: Harness) {
  const who = person()
  expect((await h.api<ConfirmationSent>('POST', '/api/v1/signup', { ...who, acceptTerms: true })).status).toBe(202)
  // Passkeys need a confirmed address.
  expect((await h.api<EmailConfirmed>('POST', '/api/v1/email/confirm', { token: tokenFrom(await h.t.smtp.waitFor(who.email, /Confirm/)) })).status).toBe(200)
  expect((await h.api<SignedIn>('POST', '/api/v1/signin', { login: who.email, password: who.password })).status).toBe(200)
  return who
}

async function addPasskey(h: Harness, name = 'Virtual key') {
  const start = await h.api<PasskeyOptions>('POST', '/api/v1/me/passkeys/options')
  expect(start.status).toBe(200)
  const response = await h.createCredential(start.body.options)
  return h.api<PasskeyView>('POST', '/api/v1/me/passkeys', { challengeId: start.body.challengeId, name, response })
}

describe.each(DIALECTS)('passkeys in Chromium on %s', (dialect) => {
  it('registers a passkey, lists, renames and removes it, and emails the owner', async () => {
    const h = await harness(dialect)
    const who = await signedUpInPage(h)
    const added = await addPasskey(h)
    expect(added.status).toBe(201)
    expect(added.body).toMatchObject({ name: 'Virtual key', lastUsedAt: null })
    await h.t.smtp.waitFor(who.email, /passkey was added/)
    const renamed = await h.api<PasskeyView>('PATCH', `/api/v1/me/passkeys/${added.body.id}`, { name: 'Laptop' })
    expect(renamed.body.name).toBe('Laptop')
    expect((await h.api<PasskeyList>('GET', '/api/v1/me/passkeys')).body.passkeys).toHaveLength(1)
    expect((await h.api('DELETE', `/api/v1/me/passkeys/${added.body.id}`)).status).toBe(204)
    expect((await h.api<PasskeyList>('GET', '/api/v1/me/passkeys')).body.passkeys).toHaveLength(0)
  })

  it('refuses to register with a spent challenge', async () => {
    const h = await harness(dialect)
    await signedUpInPage(h)
    const start = await h.api<PasskeyOptions>('POST', '/api/v1/me/passkeys/options')
    const response = await h.createCredential(start.body.options)
    expect((await h.api<PasskeyView>('POST', '/api/v1/me/passkeys', { challengeId: start.body.challengeId, response })).status).toBe(201)
    const again = await h.api<PasskeyView>('POST', '/api/v1/me/passkeys', { challengeId: start.body.challengeId, response })
    expectErrorCode(again, 'challenge_invalid')
  })

  it('signs in with the passkey alone, no username typed', async () => {
    const h = await harness(dialect)
    const who = await signedUpInPage(h)
    expect((await addPasskey(h)).status).toBe(201)
    expect((await h.api('POST', '/api/v1/signout')).status).toBe(204)
    expect((await h.api<AccountView>('GET', '/api/v1/me')).status).toBe(401)
    const start = await h.api<PasskeyOptions>('POST', '/api/v1/signin/passkey/options', {})
    expect(start.body.options.allowCredentials ?? []).toEqual([])
    const response = await h.getAssertion(start.body.options)
    const signin = await h.api<SignedIn>('POST', '/api/v1/signin/passkey', { challengeId: start.body.challengeId, response })
    expect(signin.status).toBe(200)
    expect((await h.api<AccountView>('GET', '/api/v1/me')).body.username).toBe(who.username)
    expect((await h.api<PasskeyList>('GET', '/api/v1/me/passkeys')).body.passkeys[0].lastUsedAt).not.toBeNull()
    // The same signed assertion cannot be replayed: its challenge is spent.
    const replay = await h.api<SignedIn>('POST', '/api/v1/signin/passkey', { challengeId: start.body.challengeId, response })
    expectErrorCode(replay, 'challenge_invalid')
  })

  it('accepts the passkey as the second factor after the password', async () => {
    const h = await harness(dialect)
    const who = await signedUpInPage(h)
    expect((await addPasskey(h)).status).toBe(201)
    const { secret } = (await h.api<TwoFactorSetup>('POST', '/api/v1/me/two-factor', { password: who.password })).body
    expect((await h.api<TwoFactorEnabled>('POST', '/api/v1/me/two-factor/confirm', { code: independentTotp(secret, h.t.clock.now()) })).status).toBe(200)
    const first = await h.api<TwoFactorRequired>('POST', '/api/v1/signin', { login: who.email, password: who.password })
    expect(first.body.methods).toContain('passkey')
    const start = await h.api<PasskeyOptions>('POST', '/api/v1/signin/passkey/options', { ticket: first.body.ticket })
    expect(start.body.options.allowCredentials).toHaveLength(1)
    const response = await h.getAssertion(start.body.options)
    const second = await h.api<SignedIn>('POST', '/api/v1/signin/two-factor', { ticket: first.body.ticket, passkey: { challengeId: start.body.challengeId, response } })
    expect(second.status).toBe(200)
    expect((await h.api<AccountView>('GET', '/api/v1/me')).status).toBe(200)
  })

  it('re-authenticates with the passkey for sensitive actions', async () => {
    const h = await harness(dialect)
    await signedUpInPage(h)
    expect((await addPasskey(h)).status).toBe(201)
    h.t.clock.advance(6 * MINUTE_MS)
    // Keep the (30-minute idle) session alive but outside the 5-minute sudo window.
    expectErrorCode(await h.api<PasskeyOptions>('POST', '/api/v1/me/passkeys/options'), 'reauthentication_required')
    const start = await h.api<PasskeyOptions>('POST', '/api/v1/me/reauthenticate/options')
    const response = await h.getAssertion(start.body.options)
    const reauth = await h.api<Reauthenticated>('POST', '/api/v1/me/reauthenticate', { passkey: { challengeId: start.body.challengeId, response } })
    expect(reauth.status).toBe(200)
    expect((await h.api<PasskeyOptions>('POST', '/api/v1/me/passkeys/options')).status).toBe(200)
  })
})
