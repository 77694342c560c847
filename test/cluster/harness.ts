/**
 * A real deployment on loopback for the cluster suites: HAProxy (Debian's `haproxy`) in front
 * of two `latchkey serve` processes sharing one PostgreSQL database and one Redis, with mail to
 * a real SMTP catcher. Redis is always a private `redis-server` on a free port, so a test can
 * kill it without touching anyone else's; PostgreSQL is a fresh database on the shared server
 * or, when a test must stop it, a private cluster made with initdb in a temporary directory.
 *
 * Every process started here is recorded and stopped by `Cluster.close()`, and killed
 * (synchronously) if the test process exits first, so a failed test leaves nothing running.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { createApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { SmtpCatcher } from '../helpers/smtp.ts'
import { freePort } from '../helpers/web.ts'

const root = path.resolve(import.meta.dirname, '../..')
const MAIN = path.join(root, 'src/cli/main.ts')
export const HAPROXY = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy'
const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server'

/** Health checks every 200 ms, two in a row to change state: an instance leaves or joins within ~0.5 s. */
const CHECK = { interMs: 200, fall: 2, rise: 2 }
/** Longer than the balancer needs to see /readyz turn 503 (fall × inter), with room for a slow moment. */
export const DRAIN_SECONDS = 2

// ---------------------------------------------------------------- processes, cleaned up whatever happens
const running = new Set<ChildProcess>()
const privateClusters = new Set<string>()
process.on('exit', () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  for (const dataDir of privateClusters) stopPostgresSync(dataDir, 'immediate')
})

function track(child: ChildProcess): ChildProcess {
  running.add(child)
  child.once('exit', () => running.delete(child))
  return child
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
}

async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const done = exited(child)
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  await done
  clearTimeout(timer)
}

/** Polls `ready` every 50 ms until it holds; fails after `timeoutMs` with `what`. */
export async function waitUntil(what: string, ready: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await ready())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The last 64 KB a process wrote, for the failure message. */
function capture(child: ChildProcess): () => string {
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-64 * 1024)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return () => output
}

// ---------------------------------------------------------------- Redis: a private redis-server
export class PrivateRedis {
  readonly port: number
  #process?: ChildProcess

  private constructor(port: number) {
    this.port = port
  }

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort())
    await redis.start()
    return redis
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    const child = track(spawn(REDIS_SERVER, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] }))
    const output = capture(child)
    this.#process = child
    await waitUntil(`redis-server on port ${this.port}:\n${output()}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}:\n${output()}`)
      return (await this.ping()) === '+PONG'
    }, 15_000)
  }

  /** Kills it the hard way (SIGKILL), as a crash or an OOM kill would. */
  async kill(): Promise<void> {
    await stopProcess(this.#process, 'SIGKILL')
  }

  async stop(): Promise<void> {
    await stopProcess(this.#process, 'SIGTERM')
  }

  ping(): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect(this.port, '127.0.0.1')
      socket.setTimeout(1000)
      let reply = ''
      socket.on('connect', () => socket.write('PING\r\n'))
      socket.on('data', (data) => {
        reply += data.toString()
        if (reply.includes('\r\n')) socket.end()
      })
      socket.on('close', () => resolve(reply.trim()))
      socket.on('timeout', () => socket.destroy())
      socket.on('error', () => resolve(''))
    })
  }
}

// ---------------------------------------------------------------- PostgreSQL: a private cluster
const PG_BIN = process.env.PGBIN ?? (() => {
  const versions = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : []
  return path.join('/usr/lib/postgresql', versions[0] ?? '15', 'bin')
})()

/** initdb and postgres refuse to run as root: then they run as the `postgres` system user. */
function pgCommand(bin: string, args: string[]): [string, string[]] {
  const full = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', path.join(PG_BIN, bin), ...args] : [path.join(PG_BIN, bin), ...args]
  return [full[0], full.slice(1)]
}

function stopPostgresSync(dataDir: string, mode: 'fast' | 'immediate'): void {
  if (fs.existsSync(path.join(dataDir, 'postmaster.pid'))) spawnSync(...pgCommand('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']), { cwd: '/tmp', stdio: 'ignore' })
}

/**
 * A PostgreSQL cluster of our own (bench/run.ts does the same), so a test can stop and start
 * it under load without disturbing the shared server on 5432.
 */
export class PrivatePostgres {
  readonly port: number
  readonly dataDir: string

  private constructor(port: number, dataDir: string) {
    this.port = port
    this.dataDir = dataDir
  }

  static async start(): Promise<PrivatePostgres> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cluster-pg-'))
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dataDir])
    const pg = new PrivatePostgres(await freePort(), dataDir)
    privateClusters.add(dataDir)
    // No fsync: the data is thrown away with the test, and initdb is 10× faster without it.
    execFileSync(...pgCommand('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']), { cwd: '/tmp', stdio: ['ignore', 'ignore', 'pipe'] })
    await pg.start()
    execFileSync(...pgCommand('psql', ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-qc', 'CREATE DATABASE latchkey']), { cwd: '/tmp', stdio: ['ignore', 'ignore', 'pipe'] })
    return pg
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/latchkey`
  }

  /** Not blocking: the test's load keeps running while PostgreSQL starts or stops. */
  async start(): Promise<void> {
    await promisify(execFile)(
      ...pgCommand('pg_ctl', ['-D', this.dataDir, '-l', path.join(this.dataDir, 'server.log'), '-w', '-t', '60', '-o', `-c listen_addresses=127.0.0.1 -p ${this.port} -c unix_socket_directories=${this.dataDir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`, 'start']),
      { cwd: '/tmp' },
    )
  }

  /** `pg_ctl stop -m fast`: every connection is terminated (57P01) and new ones are refused. */
  async stop(): Promise<void> {
    await promisify(execFile)(...pgCommand('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']), { cwd: '/tmp' })
  }

  destroy(): void {
    stopPostgresSync(this.dataDir, 'fast')
    privateClusters.delete(this.dataDir)
    fs.rmSync(this.dataDir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------- Latchkey instances
export class Instance {
  readonly name: string
  readonly port: number
  readonly #env: Record<string, string>
  #process?: ChildProcess
  #output: () => string = () => ''

  constructor(name: string, port: number, env: Record<string, string>) {
    this.name = name
    this.port = port
    this.#env = env
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get pid(): number | undefined {
    return this.#process?.pid
  }

  get alive(): boolean {
    return this.#process !== undefined && this.#process.exitCode === null && this.#process.signalCode === null
  }

  output(): string {
    return this.#output()
  }

  /** `latchkey serve` as a process of its own, as `npm start` runs it (with the same V8 flag). */
  async start(): Promise<void> {
    const child = track(spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--max-semi-space-size=16', MAIN, 'serve'], {
      cwd: root,
      env: { ...process.env, ...this.#env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }))
    this.#process = child
    this.#output = capture(child)
    await waitUntil(`instance ${this.name} to answer /readyz`, async () => {
      if (child.exitCode !== null) throw new Error(`instance ${this.name} exited with ${child.exitCode}:\n${this.#output()}`)
      return fetch(`${this.url}/readyz`).then((r) => r.ok, () => false)
    }, 60_000)
  }

  /** SIGTERM, as an orchestrator sends it; resolves with the exit code and how long it took. */
  async terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null; tookMs: number }> {
    const child = this.#process
    if (!child) throw new Error(`instance ${this.name} is not running`)
    const started = Date.now()
    const done = exited(child)
    child.kill('SIGTERM')
    const result = await done
    return { ...result, tookMs: Date.now() - started }
  }

  async stop(): Promise<void> {
    await stopProcess(this.#process, 'SIGTERM', 20_000)
  }
}

// ---------------------------------------------------------------- HAProxy
/**
 * The balancer as the README's scale-out section configures it, plus two test-only lines:
 * it keeps the client's X-Forwarded-For (so one test process can act as many addresses) and
 * names the instance that answered in `x-latchkey-instance`. No L7 retries: every failure an
 * instance causes reaches the test.
 */
function haproxyConfig(port: number, socket: string, errorFile: string, instances: Instance[]): string {
  return `global
  stats socket ${socket} mode 600 level admin
  maxconn 4096

defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  timeout http-keep-alive 10s
  timeout check 5s
  option forwardfor
  # The balancer's own 503 (no instance ready) in Latchkey's error shape.
  errorfile 503 ${errorFile}

frontend latchkey
  bind 127.0.0.1:${port}
  default_backend instances

backend instances
  balance roundrobin
  option httpchk
  http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host 127.0.0.1
  http-check expect status 200
  default-server inter ${CHECK.interMs}ms fall ${CHECK.fall} rise ${CHECK.rise}
  http-response set-header x-latchkey-instance %s
${instances.map((i) => `  server ${i.name} 127.0.0.1:${i.port} check`).join('\n')}
`
}

export const BALANCER_503 = [
  'HTTP/1.1 503 Service Unavailable',
  'content-type: application/json; charset=utf-8',
  'cache-control: no-store',
  'retry-after: 1',
  'connection: close',
  '',
  '{"error":{"code":"service_unavailable","message":"No instance is ready. Try again shortly."}}',
  '',
].join('\r\n')

export class Balancer {
  readonly port: number
  readonly #dir: string
  #process?: ChildProcess
  #output: () => string = () => ''

  constructor(port: number, dir: string) {
    this.port = port
    this.#dir = dir
  }

  get socket(): string {
    return path.join(this.#dir, 'admin.sock')
  }

  async start(instances: Instance[]): Promise<void> {
    const config = path.join(this.#dir, 'haproxy.cfg')
    const errorFile = path.join(this.#dir, '503.http')
    fs.writeFileSync(errorFile, BALANCER_503)
    fs.writeFileSync(config, haproxyConfig(this.port, this.socket, errorFile, instances))
    const child = track(spawn(HAPROXY, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] }))
    this.#process = child
    this.#output = capture(child)
    await waitUntil('HAProxy to mark every instance UP', async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}:\n${this.#output()}`)
      const states = await this.states().catch(() => ({}) as Record<string, string>)
      return instances.every((i) => states[i.name] === 'UP')
    })
  }

  /** Each instance's state as HAProxy sees it (`UP`, `DOWN`, `UP 1/2`, ...), from its stats socket. */
  async states(): Promise<Record<string, string>> {
    const csv = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(this.socket)
      let data = ''
      socket.on('connect', () => socket.write('show stat\n'))
      socket.on('data', (chunk) => (data += chunk.toString()))
      socket.on('end', () => resolve(data))
      socket.on('error', reject)
    })
    const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n')
    const columns = header.split(',')
    const out: Record<string, string> = {}
    for (const row of rows) {
      const cells = row.split(',')
      if (cells[columns.indexOf('pxname')] === 'instances' && !['BACKEND', 'FRONTEND'].includes(cells[columns.indexOf('svname')])) {
        out[cells[columns.indexOf('svname')]] = cells[columns.indexOf('status')]
      }
    }
    return out
  }

  async waitFor(instance: string, state: 'UP' | 'DOWN', timeoutMs = 30_000): Promise<void> {
    await waitUntil(`HAProxy to see ${instance} ${state}`, async () => (await this.states())[instance] === state, timeoutMs)
  }

  output(): string {
    return this.#output()
  }

  async stop(): Promise<void> {
    await stopProcess(this.#process, 'SIGTERM')
  }
}

// ---------------------------------------------------------------- the whole deployment
export interface ClusterOptions {
  /** A private PostgreSQL cluster (for tests that stop it) instead of a fresh database on the shared server. */
  privatePostgres?: boolean
  env?: Record<string, string>
}

interface ClusterParts {
  balancer: Balancer
  instances: Instance[]
  redis: PrivateRedis
  smtp: SmtpCatcher
  postgres?: PrivatePostgres
  database?: TestDatabase
  dir: string
}

export class Cluster {
  readonly balancer: Balancer
  readonly instances: Instance[]
  readonly redis: PrivateRedis
  readonly smtp: SmtpCatcher
  readonly postgres?: PrivatePostgres
  readonly #database?: TestDatabase
  readonly #dir: string

  private constructor(parts: ClusterParts) {
    this.balancer = parts.balancer
    this.instances = parts.instances
    this.redis = parts.redis
    this.smtp = parts.smtp
    this.postgres = parts.postgres
    this.#database = parts.database
    this.#dir = parts.dir
  }

  /** The balancer's address: PUBLIC_URL of every instance. */
  get base(): string {
    return `http://127.0.0.1:${this.balancer.port}`
  }

  instance(name: string): Instance {
    const found = this.instances.find((i) => i.name === name)
    if (!found) throw new Error(`no instance ${name}`)
    return found
  }

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    for (const [binary, hint] of [[HAPROXY, 'haproxy'], [REDIS_SERVER, 'redis-server']]) {
      if (!fs.existsSync(binary)) throw new Error(`${binary} is missing: apt-get install ${hint} (.ci/run installs it)`)
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cluster-'))
    const parts: Partial<ClusterParts> = { dir }
    try {
      parts.redis = await PrivateRedis.start()
      parts.smtp = await new SmtpCatcher().start()
      let databaseUrl: string
      if (options.privatePostgres) {
        parts.postgres = await PrivatePostgres.start()
        databaseUrl = parts.postgres.url
        // What a first start creates (migrations, server secrets, an OAuth signing key), made
        // once here so the two instances do not both generate them at the same moment.
        await (await createApp(loadConfig({ NODE_ENV: 'test', DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' }))).close()
      } else {
        parts.database = await createTestDatabase('postgres')
        databaseUrl = parts.database.url
      }
      const balancerPort = await freePort()
      const base = `http://127.0.0.1:${balancerPort}`
      const env: Record<string, string> = {
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PUBLIC_URL: base,
        DATABASE_URL: databaseUrl,
        REDIS_URL: parts.redis.url,
        SMTP_URL: parts.smtp.url,
        MAIL_FROM: 'Latchkey <no-reply@latchkey.test>',
        TRUST_PROXY: 'true',
        LOG_LEVEL: 'warn',
        SHUTDOWN_DRAIN_SECONDS: String(DRAIN_SECONDS),
        // Cheap hashes: the suites measure the cluster, not argon2 (production costs have their own test).
        ARGON2_MEMORY_KIB: '1024',
        ARGON2_ITERATIONS: '1',
        CAPTCHA_MAX_COUNTER: '50',
        DATABASE_POOL_SIZE: '5',
        ...options.env,
      }
      parts.instances = [new Instance('a', await freePort(), env), new Instance('b', await freePort(), env)]
      await Promise.all(parts.instances.map((i) => i.start()))
      parts.balancer = new Balancer(balancerPort, dir)
      await parts.balancer.start(parts.instances)
      return new Cluster(parts as ClusterParts)
    } catch (err) {
      await Cluster.#teardown(parts)
      throw err
    }
  }

  /** Restarts one instance the way a rolling deploy does: SIGTERM, wait for it to exit, start it, wait until the balancer sends to it. */
  async restart(name: string): Promise<{ code: number | null; stopMs: number; downMs: number }> {
    const instance = this.instance(name)
    const started = Date.now()
    const { code, tookMs } = await instance.terminate()
    await instance.start()
    await this.balancer.waitFor(name, 'UP')
    return { code, stopMs: tookMs, downMs: Date.now() - started }
  }

  /** What every process wrote lately, for a failure message. */
  logs(): string {
    return [...this.instances.map((i) => `--- instance ${i.name}\n${i.output()}`), `--- haproxy\n${this.balancer.output()}`].join('\n')
  }

  async close(): Promise<void> {
    await Cluster.#teardown({ balancer: this.balancer, instances: this.instances, redis: this.redis, smtp: this.smtp, postgres: this.postgres, database: this.#database, dir: this.#dir })
  }

  static async #teardown(parts: Partial<ClusterParts>): Promise<void> {
    await parts.balancer?.stop().catch(() => {})
    await Promise.all((parts.instances ?? []).map((i) => i.stop().catch(() => {})))
    await parts.redis?.stop().catch(() => {})
    await parts.smtp?.stop().catch(() => {})
    await parts.database?.drop().catch(() => {})
    parts.postgres?.destroy()
    if (parts.dir) fs.rmSync(parts.dir, { recursive: true, force: true })
  }
}
