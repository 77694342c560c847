/**
 * Every page of the web app, in English and in Simplified Chinese: no serious or critical
 * axe-core violations, no request to any other origin, and a screenshot in docs/screenshots/
 * (desktop, plus phone width for the main pages).
 */
import { AxeBuilder } from '@axe-core/playwright'
import fs from 'node:fs'
import path from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BROWSER_FLOW, launchChromium } from './helpers/browser.ts'
import { person, type TestApp } from './helpers/app.ts'
import { independentTotp } from './helpers/totp.ts'
import { tokenFrom } from './helpers/smtp.ts'
import { listeningApp, type PageCase } from './helpers/web.ts'
import { seedTeamPages, TEAM_PAGES } from './helpers/team-pages.ts'
import type { TwoFactorEnabled, TwoFactorSetup } from '../src/two-factor/schemas.ts'
import type { AccountView, ConfirmationSent, EmailChangeSent, EmailConfirmed, PasswordChanged } from '../src/accounts/schemas.ts'
import type { SignedIn } from '../src/signin/schemas.ts'

// `npm run screenshots` refreshes the committed pictures; a plain test run takes none (a full-page
// PNG per page and language is a good part of this suite's time).
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? path.resolve(import.meta.dirname, '../docs/screenshots') : undefined
const LANGUAGES = [
  { code: 'en', browserLocale: 'en-US' },
  { code: 'zh-CN', browserLocale: 'zh-CN' },
] as const

/** What `latchkey login` opens: a code + PKCE request of the built-in CLI client. */
const APP_SIGNIN_REQUEST = `/oauth/auth?${new URLSearchParams({
  client_id: 'latchkey-cli', redirect_uri: 'http://127.0.0.1:49152/callback', response_type: 'code', scope: 'openid profile email offline_access',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'pages', device_name: 'latchkey CLI on ada-laptop',
})}`

let browser: Browser
let t: TestApp & { base: string }
const who = person('pages')
let secretForTwoFactor = ''

beforeAll(async () => {
  browser = await launchChromium()
  // Every browser context signs in from 127.0.0.1: the per-IP sign-in limit is not under test here.
  t = await listeningApp('sqlite', { RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '10000' }, { manualTeardown: true })
  if (SCREENSHOTS) fs.mkdirSync(SCREENSHOTS, { recursive: true })
  const client = t.client()
  await client.post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })
  await client.post<EmailConfirmed>('/api/v1/email/confirm', { token: tokenFrom(await t.smtp.waitFor(who.email, /Confirm/)) })
  await client.post<SignedIn>('/api/v1/signin', { login: who.email, password: who.password })
  await client.patch<AccountView>('/api/v1/me', {
    displayName: 'Ada Lovelace', bio: 'Analytical engines', publicProfile: true, links: ['https://example.com/ada'], jobRole: 'developer',
    aboutMe: '## Notes\n\nI wrote the **first program** for the *Analytical Engine*. More on [my site](https://example.com/ada).\n\n- Bernoulli numbers\n- `Note G`',
  })
  // Something in the inbox: a password change notice.
  await client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: who.password, newPassword: `${who.password}!` })
  await client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: `${who.password}!`, newPassword: who.password })
  // A change of address waiting for its link: the Account page shows it, with re-send and cancel.
  await client.post<EmailChangeSent>('/api/v1/me/email', { email: person('pages-moving').email, password: who.password })
  const twoFactor = person('pages2fa')
  await t.client().post<ConfirmationSent>('/api/v1/signup', { ...twoFactor, acceptTerms: true })
  await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token: tokenFrom(await t.smtp.waitFor(twoFactor.email, /Confirm/)) })
  const c2 = t.client()
  await c2.post<SignedIn>('/api/v1/signin', { login: twoFactor.email, password: twoFactor.password })
  secretForTwoFactor = (await c2.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: twoFactor.password })).body.secret
  await c2.post<TwoFactorEnabled>('/api/v1/me/two-factor/confirm', { code: independentTotp(secretForTwoFactor, t.clock.now()) })
  Object.assign(who, { twoFactorEmail: twoFactor.email, twoFactorPassword: twoFactor.password })
  await seedTeamPages(t, who)
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await t?.close()
})

const PAGES: PageCase[] = [
  { name: 'signup', path: '/signup', ready: { en: /Create your account/, 'zh-CN': /创建账户/ }, phone: true },
  { name: 'signin', path: '/signin', ready: { en: /Trouble signing in/, 'zh-CN': /登录遇到问题/ }, phone: true },
  {
    name: 'signin-two-factor', path: '/signin', ready: { en: /Two-step verification/, 'zh-CN': /两步验证/ },
    before: async (page) => {
      const extra = who as unknown as { twoFactorEmail: string; twoFactorPassword: string }
      await page.locator('input[name=login]').fill(extra.twoFactorEmail)
      await page.locator('input[name=password]').fill(extra.twoFactorPassword)
      await page.locator('form button[type=submit]').click()
    },
  },
  { name: 'trouble-signing-in', path: '/trouble-signing-in', ready: { en: /not a robot/, 'zh-CN': /机器人/ } },
  { name: 'reset-password', path: '/reset-password#token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', ready: { en: /Choose a new password/, 'zh-CN': /设置新密码/ } },
  { name: 'link-invalid', path: '/confirm-email#token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', ready: { en: /invalid or has expired/, 'zh-CN': /链接无效/ } },
  { name: 'session-expired', path: '/session-expired', ready: { en: /session has expired/, 'zh-CN': /登录已过期/ } },
  { name: 'account-deactivated', path: '/account-deactivated', ready: { en: /deactivated/, 'zh-CN': /已停用/ } },
  { name: 'not-found', path: '/no-such-page', ready: { en: /Page not found/, 'zh-CN': /页面不存在/ } },
  { name: 'public-profile', path: `/u/${who.username}`, ready: { en: /Member since/, 'zh-CN': /加入于/ } },
  { name: 'onboarding', path: '/onboarding', signedIn: true, ready: { en: /Tell us about you/, 'zh-CN': /介绍一下你自己/ } },
  { name: 'settings-profile', path: '/settings/profile', signedIn: true, ready: { en: /Display name/, 'zh-CN': /显示名称/ }, phone: true },
  { name: 'settings-account', path: '/settings/account', signedIn: true, ready: { en: /Delete account/, 'zh-CN': /删除账户/ } },
  // Ready once the two-factor status has loaded: "No passkeys yet" shows before it, and the
  // password field (checked below) comes with the status.
  { name: 'settings-security', path: '/settings/security', signedIn: true, ready: { en: /^Turn on$/, 'zh-CN': /^开启$/ } },
  { name: 'settings-notifications', path: '/settings/notifications', signedIn: true, ready: { en: /In-app/, 'zh-CN': /站内/ } },
  { name: 'settings-sessions', path: '/settings/sessions', signedIn: true, ready: { en: /This device/, 'zh-CN': /本设备/ } },
  { name: 'inbox', path: '/inbox', signedIn: true, ready: { en: /Mark all read/, 'zh-CN': /全部标为已读/ } },
  {
    name: 'settings-security-setup', path: '/settings/security', signedIn: true, ready: { en: /Setup key/, 'zh-CN': /设置密钥/ },
    before: async (page) => {
      await page.locator('input[name=twoFactorPassword]').fill(who.password)
      await page.locator('input[name=twoFactorPassword]').press('Enter')
    },
  },
  {
    name: 'account-menu', path: '/settings/profile', signedIn: true, ready: { en: /Add another account/, 'zh-CN': /添加其他账户/ },
    before: async (page) => {
      await page.locator('button.avatar').click()
    },
  },
  ...TEAM_PAGES,
  // App sign-in (OAuth): the CLI's authorization request lands on /app-signin/<uid>.
  { name: 'app-signin', path: APP_SIGNIN_REQUEST, signedIn: true, ready: { en: /Continue as/, 'zh-CN': /的身份继续/ }, phone: true },
  { name: 'app-signin-signed-out', path: APP_SIGNIN_REQUEST, ready: { en: /Sign in to continue/, 'zh-CN': /请先登录/ } },
  { name: 'device-code', path: '/oauth/device', ready: { en: /Enter the code shown/, 'zh-CN': /输入终端或应用中显示的代码/ } },
  { name: 'settings-authorized-apps', path: '/settings/apps', signedIn: true, ready: { en: /not allowed any third-party apps/, 'zh-CN': /还没有允许任何第三方应用/ } },
]

async function contextFor(language: (typeof LANGUAGES)[number], signedIn: boolean, viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page; foreign: string[] }> {
  const context = await browser.newContext({ locale: language.browserLocale, viewport })
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  const foreign: string[] = []
  page.on('request', (request) => {
    const url = request.url()
    if (!url.startsWith(t.base) && !url.startsWith('data:') && !url.startsWith('blob:')) foreign.push(url)
  })
  // The page's language is the context's: saved in the browser, and — signed in — on the account,
  // whose saved language wins over the browser's (a context in the other language before this one
  // left it there).
  await page.addInitScript((code) => localStorage.setItem('latchkey.language', code), language.code)
  if (signedIn) {
    await page.goto(`${t.base}/signin`)
    await page.evaluate(async ({ login, password, locale }) => {
      const signin = await fetch('/api/v1/signin', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password }) })
      if (!signin.ok) throw new Error(`sign-in answered ${signin.status}`)
      const me = await fetch('/api/v1/me', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ locale }) })
      if (!me.ok) throw new Error(`PATCH /me answered ${me.status}`)
      // A two-factor set-up stays pending across page loads: each case starts with none.
      const cancelled = await fetch('/api/v1/me/two-factor/setup', { method: 'DELETE' })
      if (!cancelled.ok) throw new Error(`DELETE /me/two-factor/setup answered ${cancelled.status}`)
    }, { login: who.email, password: who.password, locale: language.code })
  }
  return { context, page, foreign }
}

describe.each(LANGUAGES)('every page in $code', (language) => {
  it.each(PAGES)('$name has no serious accessibility violations and only same-origin requests', async (pageCase) => {
    const layouts = [{ suffix: '', viewport: { width: 1280, height: 800 } }, ...(pageCase.phone ? [{ suffix: '-phone', viewport: { width: 390, height: 844 } }] : [])]
    for (const { suffix, viewport } of layouts) {
      const { context, page, foreign } = await contextFor(language, pageCase.signedIn ?? false, viewport)
      try {
        await page.goto(`${t.base}${pageCase.path}`)
        if (pageCase.before) await pageCase.before(page)
        await page.getByText(pageCase.ready[language.code]).first().waitFor().catch(async (err) => {
          const text = await page.locator('body').innerText({ timeout: 1000 }).catch(() => '')
          throw new Error(`${pageCase.name} did not show ${pageCase.ready[language.code]} at ${page.url()}; the page says: ${text.replace(/\s+/g, ' ').slice(0, 400)}`, { cause: err })
        })
        expect(await page.locator('html').getAttribute('lang')).toBe(language.code)
        const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze()
        expect(results.passes.length).toBeGreaterThan(10)
        const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        expect(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([])
        expect(foreign).toEqual([])
        if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, `${pageCase.name}-${language.code}${suffix}.png`), fullPage: true })
      } finally {
        await context.close()
      }
    }
  }, BROWSER_FLOW)
})

/** Waits for the page's English ready text; when it never comes, the error says what the page showed instead. */
async function waitForReady(page: Page, pageCase: PageCase): Promise<void> {
  await page.getByText(pageCase.ready.en).first().waitFor().catch(async (err: unknown) => {
    const text = await page.locator('body').innerText({ timeout: 1000 }).catch(() => '')
    throw new Error(`${pageCase.name} did not show ${pageCase.ready.en} at ${page.url()}; the page says: ${text.replace(/\s+/g, ' ').slice(0, 400)}`, { cause: err })
  })
}

interface InputField {
  name: string
  type: string
  autocomplete: string
  /** False when a paste handler cancelled the paste (dispatchEvent returns false). */
  pasteAllowed: boolean
}

// Runs in the page (this project compiles without DOM types, so it is a string).
const INPUT_FIELDS = `[...document.querySelectorAll('input')].map((input) => ({
  name: input.name,
  type: input.type,
  autocomplete: input.getAttribute('autocomplete') ?? '',
  pasteAllowed: input.dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: new DataTransfer() })),
}))`

describe('passwords and signing out in every page', () => {
  it('masks every password field, names it for password managers and lets a password be pasted', async () => {
    const withPasswords = ['signup', 'signin', 'reset-password', 'settings-account', 'settings-security']
    for (const pageCase of PAGES.filter((p) => withPasswords.includes(p.name))) {
      const { context, page } = await contextFor(LANGUAGES[0], pageCase.signedIn ?? false, { width: 1280, height: 800 })
      try {
        await page.goto(`${t.base}${pageCase.path}`)
        await waitForReady(page, pageCase)
        const fields = await page.evaluate<InputField[]>(INPUT_FIELDS)
        const passwords = fields.filter((f) => f.type === 'password' || /password/i.test(`${f.name} ${f.autocomplete}`))
        expect(passwords.length, pageCase.name).toBeGreaterThan(0)
        for (const field of passwords) {
          expect(field, pageCase.name).toMatchObject({ type: 'password', pasteAllowed: true })
          expect(['current-password', 'new-password'], `${pageCase.name} ${field.name}`).toContain(field.autocomplete)
        }
      } finally {
        await context.close()
      }
    }
  }, BROWSER_FLOW)

  it('offers "Sign out" in the account menu of every signed-in page', async () => {
    for (const pageCase of PAGES.filter((p) => p.signedIn && !p.before)) {
      const { context, page } = await contextFor(LANGUAGES[0], true, { width: 1280, height: 800 })
      try {
        await page.goto(`${t.base}${pageCase.path}`)
        await waitForReady(page, pageCase)
        await page.locator('button.avatar').click()
        await page.getByRole('menuitem', { name: 'Sign out' }).waitFor()
      } catch (err) {
        throw new Error(`${pageCase.name} (${pageCase.path}) offers no "Sign out"`, { cause: err })
      } finally {
        await context.close()
      }
    }
  }, BROWSER_FLOW)
})
