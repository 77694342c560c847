/**
 * A scripted walk of every account-core flow against a real `latchkey serve` process over
 * real sockets, with the operator's CLI in a second process, on SQLite and on PostgreSQL.
 * On PostgreSQL, the server and CLI are the build that `npm start` runs (scripts/build-server.ts,
 * types stripped into plain JavaScript), so the production entry point is walked too.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { PNG } from 'pngjs'
import { solveChallenge, type Challenge } from 'altcha-lib'
import { deriveKey } from 'altcha-lib/algorithms/sha'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectErrorCode } from './helpers/api.ts'
import { createTestDatabase, DIALECTS, type TestDatabase } from './helpers/databases.ts'
import { SmtpCatcher, tokenFrom } from './helpers/smtp.ts'
import { freePort } from './helpers/web.ts'

const root = path.resolve(import.meta.dirname, '..')
const sourceMain = path.join(root, 'src/cli/main.ts')
let cliMain = sourceMain


/** Runs the CLI asynchronously: a blocking spawn would starve this process's SMTP catcher. */
function cli(env: Record<string, string>, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--disable-warning=ExperimentalWarning', cliMain, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })
}

describe.each(DIALECTS)('walkthrough against a running server on %s', (dialect) => {
  let server: ChildProcess
  let database: TestDatabase
  let smtp: SmtpCatcher
  let base: string
  let env: Record<string, string>
  let output = ''
  let builtDir: string | undefined

  beforeAll(async () => {
    if (dialect === 'postgres') {
      const built = path.join(root, 'dist', `server-walkthrough-${process.pid}`)
      execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(root, 'scripts/build-server.ts'), built], { stdio: 'ignore' })
      builtDir = built
      cliMain = path.join(built, 'cli/main.js')
    } else cliMain = sourceMain
    database = await createTestDatabase(dialect)
    smtp = await new SmtpCatcher().start()
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    env = {
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: base,
      DATABASE_URL: database.url,
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Latchkey <no-reply@latchkey.test>',
      CAPTCHA_MAX_COUNTER: '200',
      LOG_LEVEL: 'info',
      // No load balancer to drain from: SIGTERM at the end stops at once.
      SHUTDOWN_DRAIN_SECONDS: '0',
    }
    server = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', cliMain, 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    server.stdout!.on('data', (d) => (output += d))
    server.stderr!.on('data', (d) => (output += d))
    for (let i = 0; i < 300; i++) {
      const ready = await fetch(`${base}/readyz`).then((r) => r.ok, () => false)
      if (ready) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`server did not start:\n${output}`)
  })

  afterAll(async () => {
    server?.kill('SIGTERM')
    await new Promise((r) => server?.once('exit', r))
    await smtp?.stop()
    await database?.drop()
    if (builtDir) fs.rmSync(builtDir, { recursive: true, force: true })
  })

  it('walks sign-up to deletion, including the operator CLI', async () => {
    let cookie = ''
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`${base}${url}`, {
        method,
        headers: { origin: base, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0', ...(cookie ? { cookie } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      })
      const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('latchkey_session='))
      if (setCookie) cookie = setCookie.split(';')[0]
      const text = await res.text()
      return { status: res.status, body: text ? JSON.parse(text) : null }
    }
    const email = `walker.${dialect}@example.com`
    const password = 'a long walk in the park'

    expect((await call('POST', '/api/v1/signup', { email, username: `walker-${dialect}`, password, acceptTerms: true })).status).toBe(202)
    const confirm = await smtp.waitFor(email, /Confirm/)
    expect(confirm.text).toContain(`${base}/confirm-email#token=`)
    expect((await call('POST', '/api/v1/email/confirm', { token: tokenFrom(confirm) })).status).toBe(200)

    const signin = await call('POST', '/api/v1/signin', { login: `walker-${dialect}`, password, staySignedIn: true })
    expect(signin.status).toBe(200)
    const firstToken = cookie.split('=')[1]
    expect(firstToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect((await call('GET', '/api/v1/me')).body).toMatchObject({ email, emailConfirmed: true })
    const sessions = await call('GET', '/api/v1/me/sessions')
    expect(sessions.body.sessions[0]).toMatchObject({ current: true, browser: 'Firefox 140', os: 'Linux', ip: '127.0.0.1' })

    expect((await call('PATCH', '/api/v1/me', { displayName: 'Walker', publicProfile: true })).status).toBe(200)
    // The image worker is a module of its own (its URL must survive the build).
    const avatar = await call('PUT', '/api/v1/me/avatar', { image: PNG.sync.write(new PNG({ width: 32, height: 32 })).toString('base64') })
    expect(avatar.status).toBe(200)
    const image = await fetch(`${base}${avatar.body.avatarUrl}`)
    expect([image.status, image.headers.get('content-type')]).toEqual([200, 'image/png'])
    expect((await fetch(`${base}/api/v1/users/walker-${dialect}`)).status).toBe(200)

    // Operator: deactivation ends the session at once; reactivation lets the person back in.
    const deactivate = await cli(env, 'accounts', 'deactivate', email)
    expect(deactivate.status, deactivate.stderr).toBe(0)
    expect(deactivate.stdout).toContain('deactivated; 1 session(s) ended')
    expect((await call('GET', '/api/v1/me')).status).toBe(401)
    expectErrorCode(await call('POST', '/api/v1/signin', { login: email, password }), 'account_deactivated')
    expect((await cli(env, 'accounts', 'reactivate', email)).status).toBe(0)
    expect((await call('POST', '/api/v1/signin', { login: email, password })).status).toBe(200)

    // Trouble signing in: captcha, emailed link, reset, all sessions gone.
    const challenge: Challenge = (await call('GET', '/api/v1/captcha')).body
    const solution = await solveChallenge({ challenge, deriveKey })
    const captcha = Buffer.from(JSON.stringify({ challenge, solution })).toString('base64')
    expect((await call('POST', '/api/v1/recovery', { email, captcha })).status).toBe(202)
    const reset = await smtp.waitFor(email, /password reset/)
    const newPassword = 'an even longer walk home'
    expect((await call('POST', '/api/v1/password/reset', { token: tokenFrom(reset), password: newPassword })).status).toBe(200)
    expect((await call('GET', '/api/v1/me')).status).toBe(401)
    expect((await call('POST', '/api/v1/signin', { login: email, password: newPassword })).status).toBe(200)

    // The CLI reads the outbox the server wrote to.
    const list = await cli(env, 'mail', 'list', '--to', email)
    expect(list.status).toBe(0)
    expect(list.stdout).toContain('Your username and a password reset link')
    const id = list.stdout.split('\n').find((l) => l.includes('Confirm your email'))!.split(/\s+/)[0]
    const show = await cli(env, 'mail', 'show', id)
    expect(show.stdout).toContain('Subject: Confirm your email address')
    expect(show.stdout).toContain('(body removed after delivery)')

    expect((await call('DELETE', '/api/v1/me', { password: newPassword })).status).toBe(200)
    expect((await call('POST', '/api/v1/signin', { login: email, password: newPassword })).status).toBe(401)
    await smtp.waitFor(email, /deleted/)

    // Nothing secret reached the server's logs.
    expect(output).not.toContain(password)
    expect(output).not.toContain(newPassword)
    expect(output).not.toContain(firstToken)
  }, 120_000)

  it('migrates twice without harm', async () => {
    const first = await cli(env, 'migrate')
    expect(first.status, first.stderr).toBe(0)
    expect(first.stdout).toContain('up to date')
    const status = await cli(env, 'migrate', '--status')
    expect(status.stdout).toMatch(/applied\s+0001_accounts/)
  })

  it('names the bad variable when configuration is invalid', async () => {
    const res = await cli({ ...env, PORT: 'eighty' }, 'migrate')
    expect(res.status).toBe(2)
    expect(res.stderr).toContain('PORT must be a whole number')
  })

  it('says which account was not found', async () => {
    const res = await cli(env, 'accounts', 'deactivate', 'nobody@example.com')
    expect(res.status).toBe(2)
    expect(res.stderr).toContain('No account with email or username "nobody@example.com"')
  })
})
