/**
 * The `latchkey` CLI end to end: a real Latchkey server on loopback (SQLite and PostgreSQL), the
 * real CLI as a child process (`node bin/latchkey.js ...`, its own config directory), and real
 * Chromium doing the person's part in the browser. $BROWSER points at a small script that writes
 * the URL it was given to a file, as a browser launcher would receive it.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { launchChromium } from '../../test/helpers/browser.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { signedUpUser, type TestApp } from '../../test/helpers/app.ts'
import { freePort, listeningApp } from '../../test/helpers/web.ts'
import type { CredentialsFile } from './credentials.ts'

const BIN = path.resolve(import.meta.dirname, '../../bin/latchkey.js')
const MINUTE_MS = 60_000

let browser: Browser
beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-US' })
  const page = await context.newPage()
  page.setDefaultTimeout(30_000)
  onTestFinished(async ({ task }) => {
    if (task.result?.state === 'fail') {
      const text = await page.locator('body').innerText({ timeout: 1000 }).catch(() => '')
      console.error(`page at failure ${page.url()}: ${text.replace(/\s+/g, ' ').slice(0, 600)}`)
    }
    await context.close()
  })
  return page
}

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

class CliProcess {
  stdout = ''
  stderr = ''
  readonly done: Promise<Result>
  readonly #child: ReturnType<typeof spawn>

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.#child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    this.#child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()))
    this.#child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()))
    this.done = new Promise((resolve) => {
      this.#child.on('close', (code) => resolve({ code, stdout: this.stdout, stderr: this.stderr }))
      this.#child.on('error', (err) => resolve({ code: null, stdout: this.stdout, stderr: `${this.stderr}could not start the CLI: ${err.message}` }))
    })
    onTestFinished(() => {
      if (this.#child.exitCode === null) this.#child.kill('SIGKILL')
    })
  }

  /** Waits until stderr (where the CLI talks to the person) matches. */
  async waitForStderr(pattern: RegExp): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null
    await expect.poll(() => (match = pattern.exec(this.stderr)), { timeout: 20_000, message: `stderr never matched ${pattern}` }).not.toBeNull()
    return match!
  }

  signal(name: NodeJS.Signals): void {
    this.#child.kill(name)
  }
}

/** A person's terminal: a config directory of their own and a "browser" that records URLs. */
class Terminal {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cli-e2e-'))
  readonly configDir = path.join(this.dir, 'config', 'latchkey')
  readonly urlFile = path.join(this.dir, 'opened-urls')
  readonly browserScript = path.join(this.dir, 'browser.sh')

  constructor() {
    fs.writeFileSync(this.browserScript, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${this.urlFile}'\n`, { mode: 0o755 })
    onTestFinished(() => fs.rmSync(this.dir, { recursive: true, force: true }))
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, LATCHKEY_CONFIG_DIR: this.configDir, BROWSER: this.browserScript, ...extra }
    delete env.LATCHKEY_SERVER
    delete env.DISPLAY
    return env
  }

  start(args: string[], extra?: Record<string, string>): CliProcess {
    return new CliProcess(args, this.env(extra))
  }

  run(args: string[], extra?: Record<string, string>): Promise<Result> {
    return this.start(args, extra).done
  }

  openedUrls(): string[] {
    return fs.existsSync(this.urlFile) ? fs.readFileSync(this.urlFile, 'utf8').split('\n').filter(Boolean) : []
  }

  /** The nth URL the CLI asked the browser to open (1-based). */
  async browserUrl(nth = 1): Promise<string> {
    await expect.poll(() => this.openedUrls().length, { timeout: 20_000, message: 'the CLI never opened the browser' }).toBeGreaterThanOrEqual(nth)
    return this.openedUrls()[nth - 1]
  }

  get credentialsFile(): string {
    return path.join(this.configDir, 'credentials.json')
  }

  credentials(): CredentialsFile {
    return JSON.parse(fs.readFileSync(this.credentialsFile, 'utf8')) as CredentialsFile
  }

  editCredentials(change: (data: CredentialsFile) => void): void {
    const data = this.credentials()
    change(data)
    fs.writeFileSync(this.credentialsFile, JSON.stringify(data), { mode: 0o600 })
  }

  account(username: string) {
    const account = this.credentials().accounts.find((a) => a.username === username)
    if (!account) throw new Error(`${username} is not in ${this.credentialsFile}`)
    return account
  }
}

/** The person's part on /app-signin: sign in if the page asks, then continue as that account. */
async function approveInBrowser(page: Page, url: string, who: { email: string; password: string; username: string }): Promise<void> {
  await page.goto(url)
  await page.getByLabel('Email or username').fill(who.email)
  await page.getByLabel('Password').fill(who.password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('button', { name: /^Continue as / }).click()
}

/** Several CLI processes, a browser and a server on a shared 2-core machine. */
const SLOW = { timeout: 120_000 }
const SERVER_ENV = { RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '10000' }

/**
 * The CLI sleeps in real time between device-code polls, and the server paces them (RFC 8628
 * §3.5 slow_down) with its clock: in these tests that clock keeps pace with real time.
 */
function clockFollowsRealTime(t: TestApp): void {
  let last = Date.now()
  const timer = setInterval(() => {
    const now = Date.now()
    t.clock.advance(now - last)
    last = now
  }, 20)
  onTestFinished(() => clearInterval(timer))
}

/** Refresh tokens the server has issued so far (each refresh issues one). */
async function refreshTokenCount(t: TestApp): Promise<number> {
  const row = await t.app.ctx.db.selectFrom('oauth_models').select((eb) => eb.fn.countAll<number>().as('n')).where('model', '=', 'RefreshToken').executeTakeFirstOrThrow()
  return Number(row.n)
}

async function bearerStatus(base: string, path: string, accessToken: string): Promise<number> {
  return (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${accessToken}` } })).status
}

describe.each(DIALECTS)('the latchkey CLI against a real server on %s', (dialect) => {
  it('signs in through the browser, adds a second account, switches, and logs out (revoking at the server)', SLOW, async () => {
    const t = await listeningApp(dialect, SERVER_ENV)
    const [alice, bob] = [await signedUpUser(t), await signedUpUser(t)]
    const term = new Terminal()

    // First account: the CLI opens the browser at the authorization endpoint.
    const login = term.start(['login', '--server', t.base])
    const url = new URL(await term.browserUrl())
    expect(url.origin + url.pathname).toBe(`${t.base}/oauth/auth`)
    expect(url.searchParams.get('client_id')).toBe('latchkey-cli')
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('scope')).toBe('openid profile email offline_access')
    expect(url.searchParams.get('device_name')).toBe(`latchkey CLI on ${os.hostname()}`)
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    const page = await newPage()
    await approveInBrowser(page, url.href, alice)
    await page.getByText('You can close this tab and go back to the terminal').waitFor()
    const first = await login.done
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain(`Signed in to ${t.base} as ${alice.username} <${alice.email}>.`)

    // Tokens live in the config directory, readable by the owner only.
    expect(fs.statSync(term.configDir).mode & 0o777).toBe(0o700)
    expect(fs.statSync(term.credentialsFile).mode & 0o777).toBe(0o600)
    expect(term.account(alice.username).refreshToken).toBeTruthy()

    const whoami = await term.run(['whoami'])
    expect(whoami.code, whoami.stderr).toBe(0)
    expect(whoami.stdout).toContain(`Signed in to ${t.base} as ${alice.username}`)
    expect(whoami.stdout).toContain(`Email: ${alice.email}`)

    // Second account, with --no-browser: the URL is printed, nothing is opened; the server is
    // the active account's.
    const second = term.start(['login', '--no-browser'])
    const [, printed] = await second.waitForStderr(/^\s+(http:\/\/localhost:\d+\/oauth\/auth\?\S+)$/m)
    expect(term.openedUrls()).toHaveLength(1)
    const page2 = await newPage()
    await approveInBrowser(page2, printed, bob)
    await page2.getByText('You can close this tab and go back to the terminal').waitFor()
    const secondResult = await second.done
    expect(secondResult.code, secondResult.stderr).toBe(0)
    expect(secondResult.stdout).toContain(`as ${bob.username} <${bob.email}>`)
    expect(secondResult.stdout).toContain('2 accounts are signed in')

    const listed = await term.run(['accounts'])
    expect(listed.code).toBe(0)
    const rows = listed.stdout.split('\n').filter((line) => line.includes(t.base))
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatch(new RegExp(`^\\s+1\\s+${t.base}\\s+${alice.username}\\s+${alice.email}$`))
    expect(rows[1]).toMatch(new RegExp(`^\\*\\s+2\\s+${t.base}\\s+${bob.username}\\s+${bob.email}$`))
    expect((await term.run(['whoami'])).stdout).toContain(`as ${bob.username}`)

    // Switch by username, by number, by email.
    expect((await term.run(['switch', alice.username])).stdout).toContain(`Now using ${alice.username}`)
    expect((await term.run(['whoami'])).stdout).toContain(`as ${alice.username}`)
    expect((await term.run(['switch', '2'])).stdout).toContain(`Now using ${bob.username}`)
    expect((await term.run(['switch', alice.email])).stdout).toContain(`Now using ${alice.username}`)
    const unknown = await term.run(['switch', 'nobody'])
    expect(unknown.code).toBe(3)
    expect(unknown.stderr).toContain('No signed-in account is "nobody"')

    // Logging out of bob ends his session at the server: his tokens stop working there.
    const bobTokens = term.account(bob.username)
    expect(await bearerStatus(t.base, '/oauth/userinfo', bobTokens.accessToken)).toBe(200)
    const logout = await term.run(['logout', bob.username])
    expect(logout.code, logout.stderr).toBe(0)
    expect(logout.stdout).toContain(`Signed out of ${bob.username} <${bob.email}> on ${t.base}.`)
    expect(logout.stderr).toBe('')
    expect(await bearerStatus(t.base, '/oauth/userinfo', bobTokens.accessToken)).toBe(401)
    expect(term.credentials().accounts.map((a) => a.username)).toEqual([alice.username])
    // Put his old tokens back: the server refuses the refresh token too.
    term.editCredentials((data) => {
      data.accounts.push({ ...bobTokens, accessTokenExpiresAt: 0 })
      data.active = `${bobTokens.server}#${bobTokens.sub}`
    })
    const ended = await term.run(['whoami'])
    expect(ended.code).toBe(3)
    expect(ended.stderr).toContain(`Your session for ${bob.username} <${bob.email}> on ${t.base} was ended`)
    expect(ended.stderr).toContain(`latchkey login --server ${t.base}`)

    const all = await term.run(['logout', '--all'])
    expect(all.code, all.stderr).toBe(0)
    expect(all.stdout).toContain(`Signed out of ${alice.username}`)
    expect((await term.run(['accounts'])).stdout).toContain('No account is signed in on this computer.')
    const nobody = await term.run(['whoami'])
    expect(nobody.code).toBe(3)
    expect(nobody.stderr).toContain('You are not signed in.')
  })

  it('signing in again to the same account replaces its session here and ends the old one at the server', SLOW, async () => {
    const t = await listeningApp(dialect, SERVER_ENV)
    const alice = await signedUpUser(t)
    const term = new Terminal()
    const first = term.start(['login', '--server', t.base])
    await approveInBrowser(await newPage(), await term.browserUrl(1), alice)
    expect((await first.done).code).toBe(0)
    const old = term.account(alice.username)

    const again = term.start(['login'])
    await approveInBrowser(await newPage(), await term.browserUrl(2), alice)
    const result = await again.done
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).not.toContain('accounts are signed in')
    expect(term.credentials().accounts).toHaveLength(1)
    const renewed = term.account(alice.username)
    expect(renewed.refreshToken).not.toBe(old.refreshToken)
    expect(await bearerStatus(t.base, '/oauth/userinfo', old.accessToken)).toBe(401)
    expect(await bearerStatus(t.base, '/oauth/userinfo', renewed.accessToken)).toBe(200)
  })

  it('signs in with the device flow: code typed on the verification page, approved in the browser', SLOW, async () => {
    const t = await listeningApp(dialect, SERVER_ENV)
    clockFollowsRealTime(t)
    const alice = await signedUpUser(t)
    const term = new Terminal()
    const login = term.start(['login', '--server', t.base, '--device'])
    const [, verificationUri] = await login.waitForStderr(/open this page in a browser on any device:\s+(\S+)/)
    const [, userCode] = await login.waitForStderr(/and enter this code:\s+(\S+)/)
    const [, complete] = await login.waitForStderr(/which has the code in it already:\s+(\S+)/)
    expect(new URL(complete).searchParams.get('user_code')).toBe(userCode)
    expect(term.openedUrls()).toEqual([])

    const page = await newPage()
    await page.goto(verificationUri)
    await page.locator('#user_code').fill(userCode)
    // A typed code needs no "Is this your device?" step: on to sign-in and "Continue as".
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.getByLabel('Email or username').fill(alice.email)
    await page.getByLabel('Password').fill(alice.password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.getByRole('button', { name: /^Continue as / }).click()
    await page.getByText('You are signed in').waitFor()

    const result = await login.done
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain(`Signed in to ${t.base} as ${alice.username} <${alice.email}>.`)
    expect((await term.run(['whoami'])).stdout).toContain(`as ${alice.username}`)
  })

  it('reports a device sign-in cancelled on the "Is this your device?" page', SLOW, async () => {
    const t = await listeningApp(dialect, SERVER_ENV)
    clockFollowsRealTime(t)
    const term = new Terminal()
    const login = term.start(['login', '--server', t.base, '--device'])
    const [, complete] = await login.waitForStderr(/which has the code in it already:\s+(\S+)/)
    const page = await newPage()
    await page.goto(complete)
    await page.getByRole('heading', { name: 'Is this your device?' }).waitFor()
    await page.getByRole('button', { name: 'Cancel' }).click()
    const result = await login.done
    expect(result.code).toBe(5)
    expect(result.stderr).toContain('Sign-in was not completed')
    expect(fs.existsSync(term.credentialsFile)).toBe(false)
  })

  it('prints the server\'s reason when a device sign-in is approved after 5 minutes', SLOW, async () => {
    const t = await listeningApp(dialect, SERVER_ENV)
    clockFollowsRealTime(t)
    const alice = await signedUpUser(t)
    const term = new Terminal()
    const login = term.start(['login', '--server', t.base, '--device'])
    const [, complete] = await login.waitForStderr(/which has the code in it already:\s+(\S+)/)
    const page = await newPage()
    await page.goto(complete)
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.getByLabel('Email or username').fill(alice.email)
    await page.getByLabel('Password').fill(alice.password)
    t.clock.advance(5 * MINUTE_MS + 1000)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.getByRole('button', { name: 'Go back to the app' }).click()
    const result = await login.done
    expect(result.code).toBe(5)
    expect(result.stderr).toContain('This sign-in request expired. Go back to the app and start again.')
  })

  it('reports a sign-in skipped in the browser, and prints the URL when no browser can be opened', SLOW, async () => {
    const t = await listeningApp(dialect, SERVER_ENV)
    const term = new Terminal()
    const login = term.start(['login', '--server', t.base], { BROWSER: '/nonexistent/browser' })
    await login.waitForStderr(/Could not open a browser \(\/nonexistent\/browser was not found\)/)
    const [, url] = await login.waitForStderr(/^\s+(http:\/\/localhost:\d+\/oauth\/auth\?\S+)$/m)
    const page = await newPage()
    await page.goto(url)
    await page.getByRole('button', { name: 'Skip and go back to the app' }).click()
    await page.getByText('You can close this tab and go back to the terminal').waitFor()
    await page.getByText('The person chose not to sign in.').waitFor()
    const result = await login.done
    expect(result.code).toBe(5)
    expect(result.stderr).toContain('Sign-in was not completed: The person chose not to sign in.')
    expect(fs.existsSync(term.credentialsFile)).toBe(false)
  })

  it('prints the server\'s reason when the request expired there (5 minutes)', SLOW, async () => {
    const t = await listeningApp(dialect, SERVER_ENV)
    const alice = await signedUpUser(t)
    const term = new Terminal()
    const login = term.start(['login', '--server', t.base])
    const page = await newPage()
    await page.goto(await term.browserUrl())
    await page.getByLabel('Email or username').waitFor()
    t.clock.advance(5 * MINUTE_MS + 1000)
    await page.getByLabel('Email or username').fill(alice.email)
    await page.getByLabel('Password').fill(alice.password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.getByRole('button', { name: 'Go back to the app' }).click()
    await page.getByText('You can close this tab and go back to the terminal').waitFor()
    const result = await login.done
    expect(result.code).toBe(5)
    expect(result.stderr).toContain('This sign-in request expired. Go back to the app and start again.')
  })

  it('refreshes an expired or refused access token and keeps the rotated refresh token; a reused one ends the session', SLOW, async () => {
    const t = await listeningApp(dialect, SERVER_ENV)
    const alice = await signedUpUser(t)
    const term = new Terminal()
    const login = term.start(['login', '--server', t.base])
    const page = await newPage()
    await approveInBrowser(page, await term.browserUrl(), alice)
    expect((await login.done).code).toBe(0)
    const signedIn = term.account(alice.username)

    // The access token's expiry passed: whoami refreshes first, silently.
    term.editCredentials((data) => (data.accounts[0].accessTokenExpiresAt = Date.now() - 1000))
    const afterExpiry = await term.run(['whoami'])
    expect(afterExpiry.code, afterExpiry.stderr).toBe(0)
    expect(afterExpiry.stdout).toContain(`as ${alice.username}`)
    expect(afterExpiry.stderr).toBe('')
    const rotated = term.account(alice.username)
    expect(rotated.refreshToken).not.toBe(signedIn.refreshToken)
    expect(rotated.accessToken).not.toBe(signedIn.accessToken)
    expect(rotated.accessTokenExpiresAt).toBeGreaterThan(Date.now())
    expect(fs.statSync(term.credentialsFile).mode & 0o777).toBe(0o600)

    // The server turns the access token down before its expiry: refresh, then retry once.
    term.editCredentials((data) => (data.accounts[0].accessToken = 'not-a-token'))
    const afterRefusal = await term.run(['whoami'])
    expect(afterRefusal.code, afterRefusal.stderr).toBe(0)
    const current = term.account(alice.username)
    expect(current.refreshToken).not.toBe(rotated.refreshToken)

    // Two commands at once with an expired token: one refreshes, the other waits for the lock
    // and uses the new tokens, so the rotated refresh token is never spent twice.
    // The lock is held while the three start, so all of them find the token expired.
    term.editCredentials((data) => (data.accounts[0].accessTokenExpiresAt = 0))
    const refreshTokensBefore = await refreshTokenCount(t)
    const lock = path.join(term.configDir, 'credentials.lock')
    fs.writeFileSync(lock, '')
    const racing = [term.start(['whoami']), term.start(['whoami']), term.start(['whoami'])]
    await new Promise((resolve) => setTimeout(resolve, 4000))
    fs.rmSync(lock)
    const both = await Promise.all(racing.map((r) => r.done))
    expect(both.map((r) => r.code), both.map((r) => r.stderr).join('\n')).toEqual([0, 0, 0])
    expect(await refreshTokenCount(t)).toBe(refreshTokensBefore + 1)
    const afterRace = term.account(alice.username)
    expect(afterRace.refreshToken).not.toBe(current.refreshToken)
    expect((await term.run(['whoami'])).code).toBe(0)

    // A spent refresh token presented again: the server ends the whole grant.
    term.editCredentials((data) => {
      data.accounts[0].refreshToken = rotated.refreshToken
      data.accounts[0].accessTokenExpiresAt = 0
    })
    const reused = await term.run(['whoami'])
    expect(reused.code).toBe(3)
    expect(reused.stderr).toContain(`Your session for ${alice.username} <${alice.email}> on ${t.base} was ended`)
    expect(reused.stderr).toContain(`Run \`latchkey login --server ${t.base}\``)
    expect(term.credentials().accounts).toEqual([])
    // ...including the newest refresh token, which the CLI had not spent.
    term.editCredentials((data) => {
      data.accounts.push({ ...afterRace, accessTokenExpiresAt: 0 })
      data.active = `${afterRace.server}#${afterRace.sub}`
    })
    expect((await term.run(['whoami'])).code).toBe(3)
  })

  it('gives up after the time allowed, and Ctrl-C cancels; either way the loopback port is closed', SLOW, async () => {
    const t = await listeningApp(dialect, SERVER_ENV)
    const term = new Terminal()

    const slow = term.start(['login', '--server', t.base], { LATCHKEY_LOGIN_TIMEOUT_SECONDS: '2' })
    const redirect = new URL(await term.browserUrl()).searchParams.get('redirect_uri')!
    const timedOut = await slow.done
    expect(timedOut.code).toBe(6)
    expect(timedOut.stderr).toContain('Sign-in did not finish within 2 seconds, so it was abandoned. Run `latchkey login` to try again.')
    await expect(fetch(redirect)).rejects.toThrow()

    const cancelled = term.start(['login', '--server', t.base])
    const redirect2 = new URL(await term.browserUrl(2)).searchParams.get('redirect_uri')!
    await cancelled.waitForStderr(/Ctrl-C to cancel/)
    expect((await fetch(`${redirect2}?state=wrong`)).status).toBe(400)
    cancelled.signal('SIGINT')
    const result = await cancelled.done
    expect(result.code).toBe(130)
    expect(result.stderr).toContain('Sign-in cancelled.')
    await expect(fetch(redirect2)).rejects.toThrow()
  })
})

describe('the latchkey CLI without a reachable server', () => {
  it('names the URL it could not reach', async () => {
    const term = new Terminal()
    const port = await freePort()
    const login = await term.run(['login', '--server', `http://127.0.0.1:${port}`])
    expect(login.code).toBe(4)
    expect(login.stderr).toContain(`Could not reach the Latchkey server at http://127.0.0.1:${port} (connection refused).`)
  })

  it('says when the host name does not resolve, or the server never answers', async () => {
    const term = new Terminal()
    const dns = await term.run(['login', '--server', 'https://latchkey.invalid'])
    expect(dns.code).toBe(4)
    expect(dns.stderr).toContain('Could not reach the Latchkey server at https://latchkey.invalid (the host name could not be resolved).')

    // A real socket that accepts the connection and never says a word.
    const silent = net.createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => {
      silent.close()
    })
    const server = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`
    const hung = await term.run(['login', '--server', server], { LATCHKEY_REQUEST_TIMEOUT_SECONDS: '1' })
    expect(hung.code).toBe(4)
    expect(hung.stderr).toContain(`Could not reach the Latchkey server at ${server} (no answer within 1 second).`)
  })

  it('whoami says the server is down; logout still forgets the account, with a warning', async () => {
    const term = new Terminal()
    const server = `http://127.0.0.1:${await freePort()}`
    fs.mkdirSync(term.configDir, { recursive: true, mode: 0o700 })
    const account = { server, sub: 'sub-1', username: 'alice', email: 'alice@example.com', name: 'Alice', accessToken: 'a', accessTokenExpiresAt: Date.now() + MINUTE_MS, refreshToken: 'r', scope: null, signedInAt: new Date().toISOString() }
    fs.writeFileSync(term.credentialsFile, JSON.stringify({ version: 1, active: `${server}#sub-1`, accounts: [account] }), { mode: 0o600 })

    const whoami = await term.run(['whoami'])
    expect(whoami.code).toBe(4)
    expect(whoami.stderr).toContain(`Could not reach the Latchkey server at ${server} (connection refused).`)
    expect(term.credentials().accounts).toHaveLength(1)

    const logout = await term.run(['logout'])
    expect(logout.code).toBe(0)
    expect(logout.stderr).toContain(`Warning: Could not reach the Latchkey server at ${server} (connection refused).`)
    expect(logout.stdout).toContain(`Signed out of alice <alice@example.com> on ${server}.`)
    expect(term.credentials().accounts).toEqual([])
  })

  it('asks which server when none is given and none is known', async () => {
    const result = await new Terminal().run(['login'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Which Latchkey server? Give its address (the server\'s PUBLIC_URL) with --server: `latchkey login --server https://id.example.com`, or `latchkey login --server http://localhost:3000`')
  })

  it('keeps the operator subcommands of `accounts` beside the listing', async () => {
    const term = new Terminal()
    const help = await term.run(['accounts', '--help'])
    expect(help.stdout).toMatch(/deactivate <emailOrUsername>/)
    expect(help.stdout).toMatch(/reactivate <emailOrUsername>/)
    expect(help.stdout).toMatch(/list\s/)
    const listed = await term.run(['accounts'])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toContain('No account is signed in on this computer.')
  })
})
