import net from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { HOUR_MS, SECOND_MS } from '../clock.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { person, PUBLIC_URL, testApp, type TestApp } from '../../test/helpers/app.ts'
import { SmtpCatcher } from '../../test/helpers/smtp.ts'
import { findOutboxMessage } from './outbox.ts'
import { LOCALES, renderMail, TEMPLATES, type TemplateName, type TemplateVars } from './templates.ts'
import type { ConfirmationSent } from '../accounts/schemas.ts'

const CONFIRM_LINK = new RegExp(`${PUBLIC_URL.replace(/\./g, '\\.')}/confirm-email#token=[A-Za-z0-9_-]{43}`)

/** Reads `read` until `done` holds or `timeoutMs` passes, and returns the last value read. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs
  let value = await read()
  while (!done(value) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25))
    value = await read()
  }
  return value
}

function outboxRow(t: TestApp, to: string) {
  return t.app.ctx.db.selectFrom('mail_outbox').selectAll().where('to_address', '=', to).executeTakeFirstOrThrow()
}

async function signUp(t: TestApp, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}, origin?: string | null) {
  const who = person()
  const res = await t.client({ origin }).request<ConfirmationSent>('POST', '/api/v1/signup', JSON.stringify({ ...who, acceptTerms: true, ...extra }), headers)
  expect(res.status).toBe(202)
  return who
}

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe.each(DIALECTS)('the outbox by id on %s', (dialect) => {
  async function twoMessages(t: TestApp) {
    const [ada, bob] = [await signUp(t), await signUp(t)]
    await t.smtp.waitFor(ada.email, /confirm/i)
    await t.smtp.waitFor(bob.email, /confirm/i)
    // Ids that share their first eight characters, as two random UUIDs rarely do.
    const rows = await t.app.ctx.db.selectFrom('mail_outbox').select(['id', 'to_address']).orderBy('created_at').execute()
    const ids = ['3f2a9c01-0000-4000-8000-000000000001', '3f2a9c01-ffff-4000-8000-000000000002']
    for (const [i, row] of rows.slice(0, 2).entries()) await t.app.ctx.db.updateTable('mail_outbox').set({ id: ids[i] }).where('id', '=', row.id).execute()
    return ids
  }

  it('finds a message by its whole id or by a unique start of it', async () => {
    const t = await testApp(dialect)
    const [first, second] = await twoMessages(t)
    expect((await findOutboxMessage(t.app.ctx.db, first)).message?.id).toBe(first)
    expect((await findOutboxMessage(t.app.ctx.db, '3f2a9c01-f')).message?.id).toBe(second)
    expect((await findOutboxMessage(t.app.ctx.db, '3F2A9C01-0')).message?.id).toBe(first)
  })

  it('names every id an ambiguous start matches, and finds nothing for one under 4 characters', async () => {
    const t = await testApp(dialect)
    const ids = await twoMessages(t)
    expect(await findOutboxMessage(t.app.ctx.db, '3f2a9c')).toEqual({ message: undefined, matches: ids })
    expect(await findOutboxMessage(t.app.ctx.db, '3f2')).toEqual({ message: undefined, matches: [] })
    expect(await findOutboxMessage(t.app.ctx.db, '3f2a%')).toEqual({ message: undefined, matches: [] })
  })
})

describe.each(DIALECTS)('mail over SMTP on %s', (dialect) => {
  it('sends the sign-up confirmation with a text part and an HTML part', async () => {
    const t = await testApp(dialect)
    const who = await signUp(t)
    const mail = await t.smtp.waitFor(who.email, /confirm/i)
    expect(mail.raw.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' })
    expect(mail.text).toMatch(CONFIRM_LINK)
    expect(mail.html).toMatch(/^<!doctype html>/i)
    expect(mail.html).toMatch(CONFIRM_LINK)
    expect(mail.html).toContain(who.username)
  })

  it('sends from the configured MAIL_FROM', async () => {
    const t = await testApp(dialect)
    const who = await signUp(t)
    const mail = await t.smtp.waitFor(who.email, /confirm/i)
    expect(mail.raw.from?.value).toEqual([{ name: 'Latchkey', address: 'no-reply@latchkey.test' }])
    expect(mail.raw.to).toMatchObject({ value: [{ address: who.email }] })
  })

  it("builds the link from PUBLIC_URL, never from the request's Host", async () => {
    const t = await testApp(dialect)
    // A script (no Origin, no cookie) calling the instance by another name is answered (a
    // browser's request at another host is refused 421 wrong_host before it gets here), so
    // the Host it sent must still not leak into the link.
    const who = await signUp(t, {}, { host: 'evil.example', 'x-forwarded-host': 'evil.example' }, null)
    const mail = await t.smtp.waitFor(who.email, /confirm/i)
    const link = /https?:\/\/\S+/.exec(mail.text)?.[0]
    expect(link).toBeDefined()
    expect(new URL(link!).origin).toBe(PUBLIC_URL)
    expect(mail.text).not.toContain('evil.example')
    expect(mail.html).not.toContain('evil.example')
  })

  it('carries the token in the URL fragment, not the query', async () => {
    const t = await testApp(dialect)
    const who = await signUp(t)
    const mail = await t.smtp.waitFor(who.email, /confirm/i)
    const url = new URL(/https?:\/\/\S+/.exec(mail.text)![0])
    expect(url.pathname).toBe('/confirm-email')
    expect(url.search).toBe('')
    expect(url.hash).toMatch(/^#token=[A-Za-z0-9_-]{43}$/)
  })

  it('writes the email in Chinese for a zh-CN sign-up', async () => {
    const t = await testApp(dialect)
    const who = await signUp(t, { locale: 'zh-CN' })
    const mail = await t.smtp.waitFor(who.email)
    expect(mail.subject).toBe('请确认你的邮箱地址')
    expect(mail.text).toContain('你好')
    expect(mail.text).toMatch(CONFIRM_LINK)
    expect(mail.html).toContain('<html lang="zh-CN">')
    expect(mail.html).toContain('确认邮箱')
  })

  it('writes the email in Chinese when the browser prefers Chinese and the body names no locale', async () => {
    const t = await testApp(dialect)
    const who = await signUp(t, {}, { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' })
    const mail = await t.smtp.waitFor(who.email)
    expect(mail.subject).toBe('请确认你的邮箱地址')
  })

  it('marks the outbox row sent and removes the bodies once delivered', async () => {
    const t = await testApp(dialect)
    const who = await signUp(t)
    await t.smtp.waitFor(who.email, /confirm/i)
    const row = await until(() => outboxRow(t, who.email), (r) => r.status === 'sent')
    expect(row).toMatchObject({ status: 'sent', text_body: null, html_body: null, last_error: null, attempts: 1 })
    expect(row.sent_at).toBe(t.clock.now())
    expect(row.subject).toBe('Confirm your email address')
  })

  it('keeps the message in the outbox, bodies and all, when SMTP_URL is not set', async () => {
    const t = await testApp(dialect, { SMTP_URL: '' })
    expect(t.app.ctx.mailer.delivers).toBe(false)
    const who = await signUp(t)
    t.app.ctx.mailer.kick()
    const row = await outboxRow(t, who.email)
    expect(row).toMatchObject({ status: 'outbox', template: 'confirm_email', locale: 'en', attempts: 0, sent_at: null })
    expect(row.text_body).toMatch(CONFIRM_LINK)
    expect(row.html_body).toMatch(CONFIRM_LINK)
    expect(t.smtp.messages).toHaveLength(0)
  })

  it('keeps the message pending while the SMTP server is down, then delivers it on a later attempt', async () => {
    const port = await closedPort()
    const t = await testApp(dialect, { SMTP_URL: `smtp://127.0.0.1:${port}` })
    const who = await signUp(t)

    const failed = await until(() => outboxRow(t, who.email), (r) => r.attempts >= 1 && r.last_error !== null)
    expect(failed.status).toBe('pending')
    expect(failed.attempts).toBeGreaterThanOrEqual(1)
    expect(failed.last_error).toMatch(/ECONNREFUSED|connect/i)
    expect(failed.text_body).toMatch(CONFIRM_LINK)
    expect(failed.next_attempt_at).toBeGreaterThan(t.clock.now())

    const catcher = await new SmtpCatcher().start(port)
    onTestFinished(() => catcher.stop())
    t.clock.advance(failed.next_attempt_at - t.clock.now() + SECOND_MS)
    t.app.ctx.mailer.kick()

    const mail = await catcher.waitFor(who.email, /confirm/i)
    expect(mail.text).toMatch(CONFIRM_LINK)
    const sent = await until(() => outboxRow(t, who.email), (r) => r.status === 'sent')
    expect(sent).toMatchObject({ status: 'sent', text_body: null, html_body: null, last_error: null })
    expect(sent.attempts).toBe(failed.attempts + 1)
  })
})

describe.each(DIALECTS)('an SMTP outage on %s', (dialect) => {
  it('keeps every message through an hour without SMTP, retrying, and delivers them all when it returns', async () => {
    const port = await closedPort()
    const t = await testApp(dialect, { SMTP_URL: `smtp://127.0.0.1:${port}` })
    const started = t.clock.now()
    const people = [await signUp(t), await signUp(t), await signUp(t)]
    const pending = () => t.app.ctx.db.selectFrom('mail_outbox').selectAll().where('to_address', 'in', people.map((p) => p.email)).execute()

    // An hour of simulated time: each step jumps to the next retry that is due and runs it.
    let passes = 0
    for (; passes < 40 && t.clock.now() - started < HOUR_MS; passes++) {
      await t.app.ctx.mailer.deliverNow()
      const rows = await pending()
      expect(rows.map((r) => r.status)).toEqual(['pending', 'pending', 'pending'])
      t.clock.advance(Math.max(SECOND_MS, Math.min(...rows.map((r) => r.next_attempt_at)) - t.clock.now()))
    }
    const waited = await pending()
    expect(t.clock.now() - started).toBeGreaterThanOrEqual(HOUR_MS)
    for (const row of waited) {
      expect(row).toMatchObject({ status: 'pending', sent_at: null })
      expect(row.last_error).toMatch(/ECONNREFUSED|connect/i)
      expect(row.text_body).toMatch(CONFIRM_LINK)
      // Back-off: about nine attempts in the hour, not one every few seconds.
      expect(row.attempts).toBeGreaterThanOrEqual(8)
      expect(row.attempts).toBeLessThanOrEqual(12)
    }

    const catcher = await new SmtpCatcher().start(port)
    onTestFinished(() => catcher.stop())
    t.clock.advance(Math.max(...waited.map((r) => r.next_attempt_at)) - t.clock.now())
    await t.app.ctx.mailer.deliverNow()
    for (const who of people) expect((await catcher.waitFor(who.email, /confirm/i)).text).toMatch(CONFIRM_LINK)
    expect(catcher.messages).toHaveLength(3)
    expect((await pending()).map((r) => r.status)).toEqual(['sent', 'sent', 'sent'])
  })
})

/** Every value a template takes holds markup, so escaping shows wherever a value lands. */
const HOSTILE = '<script>alert("x")</script>'
const HOSTILE_URL = `${PUBLIC_URL}/x?a=1&b="><script>alert(1)</script>`
const SAMPLE_VALUES: Record<string, string | number | boolean> = {
  username: HOSTILE,
  previousUsername: HOSTILE,
  link: HOSTILE_URL,
  signinUrl: HOSTILE_URL,
  recoveryUrl: HOSTILE_URL,
  disavowLink: HOSTILE_URL,
  newEmail: `${HOSTILE}@example.com`,
  cancelledEmailChange: `${HOSTILE}@example.com`,
  browser: HOSTILE,
  os: HOSTILE,
  ip: HOSTILE,
  at: HOSTILE,
  name: HOSTILE,
  byOperator: true,
  remaining: 2,
  teamName: HOSTILE,
  inviter: HOSTILE,
  suggestedBy: HOSTILE,
  roles: HOSTILE,
  email: `${HOSTILE}@example.com`,
  requester: HOSTILE,
  question: HOSTILE,
  answer: HOSTILE,
}

/**
 * Variables for any template, looked up by variable name, so a new template is covered as
 * soon as its variables have a sample here; records which variables the template reads.
 */
function sampleVars<N extends TemplateName>(read: Set<string> = new Set()): TemplateVars<N> {
  return new Proxy({} as TemplateVars<N>, {
    get(_target, key) {
      if (typeof key !== 'string') return undefined
      read.add(key)
      if (!(key in SAMPLE_VALUES)) throw new Error(`mail.test.ts has no sample value for the template variable "${key}"`)
      return SAMPLE_VALUES[key]
    },
  })
}

function hostileValuesReadBy(name: TemplateName): string[] {
  const read = new Set<string>()
  renderMail(name, sampleVars(read), 'en')
  return [...read].filter((key) => String(SAMPLE_VALUES[key]).includes('<script'))
}

const TEMPLATE_NAMES = Object.keys(TEMPLATES) as TemplateName[]
const EVERY_RENDERING = TEMPLATE_NAMES.flatMap((name) => LOCALES.map((locale) => ({ name, locale })))
const WITH_VALUES = EVERY_RENDERING.filter(({ name }) => hostileValuesReadBy(name).length > 0)

describe('renderMail', () => {
  it.each(EVERY_RENDERING)('renders $name in $locale with a subject, a text part and an HTML part', ({ name, locale }) => {
    const mail = renderMail(name, sampleVars(), locale)
    expect(mail.subject.trim()).not.toBe('')
    expect(mail.text.trim()).not.toBe('')
    expect(mail.html).toMatch(/^<!doctype html><html lang="[^"]+">/)
    expect(mail.html).toContain(`<html lang="${locale}">`)
    expect(mail.html).toContain('</body></html>')
  })

  it.each(TEMPLATE_NAMES)('writes %s in Chinese for zh-CN and in English for en', (name) => {
    const han = /[\u4e00-\u9fff]/
    const zh = renderMail(name, sampleVars(), 'zh-CN')
    const en = renderMail(name, sampleVars(), 'en')
    expect(zh.subject).toMatch(han)
    expect(zh.text).toMatch(han)
    expect(en.subject).not.toMatch(han)
    expect(en.text).not.toMatch(han)
  })

  it.each(WITH_VALUES)('escapes every value of $name in the $locale HTML part', ({ name, locale }) => {
    const mail = renderMail(name, sampleVars(), locale)
    expect(mail.html).not.toMatch(/<script/i)
    expect(mail.html).toContain('&lt;script&gt;')
  })

  it('escapes a username like <script> in the HTML part and keeps it as typed in the text part', () => {
    const mail = renderMail('confirm_email', { username: '<script>', link: `${PUBLIC_URL}/confirm-email#token=abc` }, 'en')
    expect(mail.html).toContain('Hi &lt;script&gt;,')
    expect(mail.html).not.toContain('<script>')
    expect(mail.text).toContain('Hi <script>,')
  })

  it('escapes quotes in a link so it cannot leave the href attribute', () => {
    const mail = renderMail('recovery', { username: 'ada', link: `${PUBLIC_URL}/reset-password#token=a" onclick="alert(1)` }, 'en')
    expect(mail.html).toContain('href="http://latchkey.test/reset-password#token=a&quot; onclick=&quot;alert(1)"')
    expect(mail.html).not.toContain('" onclick="')
  })
})
