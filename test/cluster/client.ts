/**
 * HTTP clients for the cluster suites, over real sockets through the balancer (or straight to
 * one instance): a browser-like client with a cookie jar, and a bounded load generator that
 * counts every request and every failure.
 */
import { randomInt } from 'node:crypto'
import net from 'node:net'
import { STRONG_PASSWORD } from '../helpers/app.ts'
import type { ConfirmationSent } from '../../src/accounts/schemas.ts'

export interface Reply<T = unknown> {
  status: number
  body: T
  headers: Headers
  /** The instance that answered (the balancer's `x-latchkey-instance`), or '' straight to an instance. */
  instance: string
}

/** A client address of its own: TRUST_PROXY takes it from X-Forwarded-For, and rate limits count per address. */
export function freshIp(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`
}

/** A browser on one address: keeps cookies (one origin, like the TestClient), sends Origin, never follows redirects. */
export class HttpClient {
  readonly base: string
  readonly ip: string
  readonly origin: string | null
  readonly jar = new Map<string, string>()
  bearer?: string
  /** Which instance answered each request, in order. */
  readonly served: string[] = []

  constructor(base: string, options: { ip?: string; origin?: string | null } = {}) {
    this.base = base
    this.ip = options.ip ?? freshIp()
    this.origin = options.origin === undefined ? base : options.origin
  }

  async request<T = unknown>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const res = await fetch(new URL(url, this.base), {
      method,
      redirect: 'manual',
      headers: {
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0',
        'x-forwarded-for': this.ip,
        ...(this.origin ? { origin: this.origin } : {}),
        ...(this.jar.size ? { cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
        ...(this.bearer ? { authorization: `Bearer ${this.bearer}` } : {}),
        ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    })
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';')
      const [name, value] = [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()]
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a))
      if (!value || expired) this.jar.delete(name)
      else this.jar.set(name, value)
    }
    const instance = res.headers.get('x-latchkey-instance') ?? ''
    this.served.push(instance)
    const text = await res.text()
    const parsed = (res.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) : text
    return { status: res.status, body: parsed as T, headers: res.headers, instance }
  }

  get<T = unknown>(url: string) {
    return this.request<T>('GET', url)
  }
  post<T = unknown>(url: string, body: unknown = {}) {
    return this.request<T>('POST', url, body)
  }
  delete<T = unknown>(url: string) {
    return this.request<T>('DELETE', url)
  }
}

let people = 0
export function person(prefix = 'node') {
  people += 1
  const id = `${prefix}${people}${Math.random().toString(36).slice(2, 7)}`
  return { email: `${id}@example.com`, username: id, password: STRONG_PASSWORD }
}

// ---------------------------------------------------------------- a raw keep-alive connection
/**
 * One HTTP/1.1 keep-alive connection on a plain socket, for tests where the order of events is
 * the point: `send`'s `then` runs synchronously in the very callback that read the last byte of
 * the answer, so a request written there leaves the moment the previous one was answered, with
 * none of fetch's own scheduling in between (which would give the server time to catch up).
 * Answers must carry Content-Length (Latchkey's do); chunked ones are refused.
 */
export interface RawAnswer {
  status: number
  /** The balancer's `x-latchkey-instance`, or '' straight to an instance. */
  instance: string
}

export class RawConnection {
  readonly #socket: net.Socket
  #buffer = Buffer.alloc(0)
  #waiting?: { then?: () => void; resolve: (answer: RawAnswer) => void; reject: (err: Error) => void }

  private constructor(socket: net.Socket) {
    this.#socket = socket
    socket.setNoDelay(true)
    socket.on('data', (chunk) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk])
      this.#answered()
    })
    socket.on('error', (err) => this.#fail(err))
    socket.on('close', () => this.#fail(new Error('connection closed')))
  }

  static open(base: string): Promise<RawConnection> {
    const url = new URL(base)
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname)
      socket.once('connect', () => resolve(new RawConnection(socket)))
      socket.once('error', reject)
    })
  }

  /** Writes one request; resolves with the answer once all of it is in, after running `then`. */
  send(method: string, path: string, headers: Record<string, string>, then?: () => void): Promise<RawAnswer> {
    if (this.#waiting) throw new Error('one request at a time')
    return new Promise((resolve, reject) => {
      this.#waiting = { then, resolve, reject }
      const lines = [`${method} ${path} HTTP/1.1`, 'host: 127.0.0.1', 'content-length: 0', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
      this.#socket.write(`${lines.join('\r\n')}\r\n\r\n`)
    })
  }

  close(): void {
    this.#socket.destroy()
  }

  #answered(): void {
    const end = this.#buffer.indexOf('\r\n\r\n')
    if (end < 0 || !this.#waiting) return
    const head = this.#buffer.subarray(0, end).toString('latin1')
    if (/^transfer-encoding:/im.test(head)) return this.#fail(new Error(`chunked answer: ${head}`))
    const length = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0)
    if (this.#buffer.length < end + 4 + length) return
    this.#buffer = this.#buffer.subarray(end + 4 + length)
    const { then, resolve } = this.#waiting
    this.#waiting = undefined
    then?.()
    resolve({ status: Number(head.split(' ')[1]), instance: /^x-latchkey-instance:\s*(\S+)/im.exec(head)?.[1] ?? '' })
  }

  #fail(err: Error): void {
    const waiting = this.#waiting
    this.#waiting = undefined
    waiting?.reject(err)
  }
}

// ---------------------------------------------------------------- bounded load
export interface LoadFigures {
  requests: number
  failures: number
  signins: number
  sessionChecks: number
  durationMs: number
  /** Requests answered by each instance. */
  byInstance: Record<string, number>
  /** Requests by status (`error` for a request that got no answer). */
  byStatus: Record<string, number>
  /** The first few failures, described. */
  failed: string[]
}

export interface LoadOptions {
  base: string
  /** Accounts to sign in as (round-robin). */
  accounts: { login: string; password: string }[]
  /** Requests in flight at once. */
  connections: number
  /** Session checks after each sign-in. */
  checksPerSignin: number
  /** Hard bounds: the load stops at whichever comes first (or at `stop()`). */
  maxRequests: number
  maxDurationMs: number
  /**
   * Whether a reply counts as a failure. The default: anything but 200. The dependency suite
   * accepts `503 service_unavailable` while the database is down.
   */
  failed?: (status: number, body: unknown) => boolean
}

/**
 * Steady load as an API client would make it: sign in (`returnToken`), then check the session
 * a few times with `Authorization: Bearer`, over and over, from `connections` loops at once.
 * Every request and failure is counted; nothing is retried.
 */
export class Load {
  readonly figures: LoadFigures = { requests: 0, failures: 0, signins: 0, sessionChecks: 0, durationMs: 0, byInstance: {}, byStatus: {}, failed: [] }
  readonly #options: LoadOptions
  #stopping = false
  #done?: Promise<void>
  #started = 0
  #next = 0

  constructor(options: LoadOptions) {
    this.#options = options
  }

  start(): this {
    this.#started = Date.now()
    this.#done = Promise.all(Array.from({ length: this.#options.connections }, () => this.#loop())).then(() => {
      this.figures.durationMs = Date.now() - this.#started
    })
    return this
  }

  /** Stops after the requests in flight, and returns the figures. */
  async stop(): Promise<LoadFigures> {
    this.#stopping = true
    await this.#done
    return this.figures
  }

  #more(): boolean {
    return !this.#stopping && this.figures.requests < this.#options.maxRequests && Date.now() - this.#started < this.#options.maxDurationMs
  }

  async #loop(): Promise<void> {
    while (this.#more()) {
      // A client address per sign-in and its session checks: the load stays under the per-IP
      // budgets with their production values (the per-account ones see only successes).
      const ip = freshIp()
      const account = this.#options.accounts[this.#next++ % this.#options.accounts.length]
      const signin = await this.#call('signin', 'POST', '/api/v1/signin', ip, undefined, { login: account.login, password: account.password, returnToken: true })
      const token = signin?.status === 200 ? (signin.body as { token?: string }).token : undefined
      if (!token) continue
      for (let i = 0; i < this.#options.checksPerSignin && this.#more(); i++) {
        await this.#call('check', 'GET', '/api/v1/me', ip, token)
      }
    }
  }

  async #call(kind: 'signin' | 'check', method: string, url: string, ip: string, token?: string, body?: unknown): Promise<{ status: number; body: unknown } | undefined> {
    const f = this.figures
    f.requests++
    if (kind === 'signin') f.signins++
    else f.sessionChecks++
    try {
      const res = await fetch(new URL(url, this.#options.base), {
        method,
        headers: {
          'user-agent': 'latchkey-cluster-load',
          'x-forwarded-for': ip,
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      })
      const text = await res.text()
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {
        // Not JSON: kept as text for the failure message.
      }
      const instance = res.headers.get('x-latchkey-instance') ?? '(balancer)'
      f.byInstance[instance] = (f.byInstance[instance] ?? 0) + 1
      f.byStatus[res.status] = (f.byStatus[res.status] ?? 0) + 1
      const failed = this.#options.failed ? this.#options.failed(res.status, parsed) : res.status !== 200
      if (failed) this.#fail(`${method} ${url} → ${res.status} from ${instance}: ${text.slice(0, 200)}`)
      return { status: res.status, body: parsed }
    } catch (err) {
      f.byStatus.error = (f.byStatus.error ?? 0) + 1
      this.#fail(`${method} ${url} → no answer: ${(err as Error).message} ${String((err as { cause?: Error }).cause?.message ?? '')}`)
      return undefined
    }
  }

  #fail(description: string): void {
    this.figures.failures++
    if (this.figures.failed.length < 10) this.figures.failed.push(`${((Date.now() - this.#started) / 1000).toFixed(2)} s: ${description}`)
  }
}

/** Signs `count` accounts up through the balancer (no mail needed: sign-in does not ask for a confirmed address). */
export async function makeAccounts(base: string, count: number): Promise<{ login: string; password: string }[]> {
  const accounts: { login: string; password: string }[] = []
  for (let i = 0; i < count; i++) {
    const who = person('load')
    const res = await new HttpClient(base).post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })
    if (res.status !== 202) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`)
    accounts.push({ login: who.username, password: who.password })
  }
  return accounts
}
