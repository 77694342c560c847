/**
 * `latchkey login`: signs the CLI in through the browser (authorization code + PKCE, loopback
 * redirect) or, with --device, through a code typed on any other device (RFC 8628). Either way
 * the sign-in must finish within 5 minutes (the server refuses it after that too).
 */
import os from 'node:os'
import { accountLabel, CredentialStore, type StoredAccount } from './credentials.ts'
import { CliError } from './errors.ts'
import { startLoopback } from './loopback.ts'
import {
  authorizationRequest,
  discover,
  exchangeCode,
  pollDeviceAuthorization,
  revoke,
  startDeviceAuthorization,
  userInfo,
  type Server,
  type Tokens,
  type UserInfo,
} from './oauth-client.ts'
import { openBrowser } from './open-browser.ts'

/** Spec §3: the whole flow must complete within 5 minutes. */
export const LOGIN_TIMEOUT_MS = 5 * 60_000

export interface LoginOptions {
  server?: string
  device?: boolean
  /** false with --no-browser: print the URL only. */
  browser?: boolean
}

/** LATCHKEY_LOGIN_TIMEOUT_SECONDS shortens the wait (tests); it can never lengthen it past 5 minutes. */
export function loginTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env.LATCHKEY_LOGIN_TIMEOUT_SECONDS)
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, LOGIN_TIMEOUT_MS) : LOGIN_TIMEOUT_MS
}

function duration(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}` : `${Math.round(ms / 1000)} seconds`
}

function say(line = ''): void {
  process.stderr.write(`${line}\n`)
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Rejects as soon as `signal` aborts, even if `work` is still waiting on the network. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

async function browserLogin(server: Server, deviceName: string, options: LoginOptions, signal: AbortSignal, timeoutMs: number): Promise<{ tokens: Tokens; info: UserInfo }> {
  const loopback = await startLoopback()
  try {
    const request = await authorizationRequest(server, loopback.redirectUri, deviceName)
    const url = request.url.href
    // Listen for this state before the browser can possibly come back.
    const redirected = loopback.wait(request.state, signal)
    redirected.catch(() => {})
    if (options.browser === false) {
      say(`Open this address in a browser on this computer to sign in to ${server.url}:\n\n    ${url}\n`)
    } else {
      const opened = await openBrowser(url)
      if (opened.opened) {
        say(`Your browser has been opened to sign in to ${server.url}. If it did not open, go to:\n\n    ${url}\n`)
      } else {
        say(`Could not open a browser (${opened.reason}).`)
        say(`Open this address in a browser on this computer to sign in to ${server.url}:\n\n    ${url}\n`)
        say('No browser on this computer? Run `latchkey login --device` instead.')
      }
    }
    say(`Waiting for you to sign in in the browser (up to ${duration(timeoutMs)}; Ctrl-C to cancel)...`)
    const outcome = await redirected
    try {
      const tokens = await exchangeCode(server, request, outcome.url)
      const info = await fetchUserInfo(server, tokens)
      outcome.respond(true, `The Latchkey CLI is signed in to ${server.url} as ${accountLabel(info)}.`)
      return { tokens, info }
    } catch (err) {
      outcome.respond(false, err instanceof Error ? err.message : String(err))
      throw err
    }
  } finally {
    loopback.close()
  }
}

async function deviceLogin(server: Server, deviceName: string, signal: AbortSignal, timeoutMs: number): Promise<{ tokens: Tokens; info: UserInfo }> {
  const auth = await startDeviceAuthorization(server, deviceName)
  say(`To sign in to ${server.url}, open this page in a browser on any device:\n\n    ${auth.verificationUri}\n\nand enter this code:\n\n    ${auth.userCode}\n`)
  if (auth.verificationUriComplete) say(`Or open this address, which has the code in it already:\n\n    ${auth.verificationUriComplete}\n`)
  const limitMs = Math.min(timeoutMs, auth.expiresInSeconds * 1000)
  say(`Waiting for the code to be approved (up to ${duration(limitMs)}; Ctrl-C to cancel)...`)
  const expiresAt = Date.now() + auth.expiresInSeconds * 1000
  // RFC 8628 §3.5: wait `interval` seconds between polls, 5 more after each slow_down.
  let intervalMs = Math.max(auth.intervalSeconds, 1) * 1000
  for (;;) {
    await sleep(intervalMs, signal)
    if (Date.now() >= expiresAt) throw new CliError('timed_out', 'The code expired before it was approved. Run `latchkey login --device` again.')
    const result = await abortable(pollDeviceAuthorization(server, auth.deviceCode), signal)
    if (result === 'pending') continue
    if (result === 'slow_down') {
      intervalMs += 5_000
      continue
    }
    return { tokens: result, info: await fetchUserInfo(server, result) }
  }
}

async function fetchUserInfo(server: Server, tokens: Tokens): Promise<UserInfo> {
  const info = await userInfo(server, tokens.accessToken, tokens.sub)
  if (!info) throw new CliError('failure', `The server at ${server.url} did not accept the access token it just issued.`)
  return info
}

/** Said when no server is given or known: how to name it, with the address a checkout's `npm start` serves. */
export const LOGIN_SERVER_MISSING = 'Which Latchkey server? Give its address (the server\'s PUBLIC_URL) with --server: `latchkey login --server https://id.example.com`, or `latchkey login --server http://localhost:3000` for the server `npm start` runs on this computer. Or set LATCHKEY_SERVER.'

export async function login(options: LoginOptions, store: CredentialStore = new CredentialStore(), env: NodeJS.ProcessEnv = process.env): Promise<StoredAccount> {
  const serverInput = options.server ?? env.LATCHKEY_SERVER ?? store.active()?.server
  if (!serverInput) throw new CliError('usage', LOGIN_SERVER_MISSING)
  const server = await discover(serverInput)
  const deviceName = `latchkey CLI on ${os.hostname()}`
  const timeoutMs = loginTimeoutMs(env)

  const controller = new AbortController()
  const onSigint = () => controller.abort(new CliError('cancelled', 'Sign-in cancelled.'))
  process.once('SIGINT', onSigint)
  const timer = setTimeout(
    () => controller.abort(new CliError('timed_out', `Sign-in did not finish within ${duration(timeoutMs)}, so it was abandoned. Run \`latchkey login${options.device ? ' --device' : ''}\` to try again.`)),
    timeoutMs,
  )
  let result: { tokens: Tokens; info: UserInfo }
  try {
    result = options.device ? await deviceLogin(server, deviceName, controller.signal, timeoutMs) : await browserLogin(server, deviceName, options, controller.signal, timeoutMs)
  } finally {
    clearTimeout(timer)
    process.off('SIGINT', onSigint)
  }

  const { tokens, info } = result
  const account: StoredAccount = {
    server: server.url,
    sub: info.sub,
    username: info.username,
    email: info.email,
    name: info.name,
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: tokens.accessTokenExpiresAt,
    refreshToken: tokens.refreshToken,
    scope: tokens.scope,
    signedInAt: new Date().toISOString(),
  }
  const previous = await store.withLock(async () => store.upsert(account))
  // Signing in again to the same account replaces its session here: end the old one on the server.
  if (previous?.refreshToken && previous.refreshToken !== account.refreshToken) await revoke(server, previous.refreshToken, 'refresh_token').catch(() => {})

  const count = store.list().length
  console.log(`Signed in to ${server.url} as ${accountLabel(account)}.`)
  if (count > 1) console.log(`This is now the active account (${count} accounts are signed in; \`latchkey switch\` changes which one is used).`)
  if (!account.refreshToken) console.log('The server gave no refresh token: run `latchkey login` again when the access token expires.')
  return account
}
