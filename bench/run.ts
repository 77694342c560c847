/**
 * `npm run bench`: Latchkey and Better Auth (the peer harness in ../shared/peer-better-auth)
 * under the same load in one invocation, back to back, so every figure is a ratio measured
 * on this machine in this session. About 25 minutes on 2 cores.
 *
 *   npm run bench                 # full run
 *   QUICK=1 npm run bench         # smoke run: 1 run of 3 s per scenario, 100 000 accounts at scale
 *   SKIP_PEER=1 npm run bench     # Latchkey only (ratios against Better Auth are left out)
 *
 * Latchkey phase: a private PostgreSQL 15 cluster (initdb defaults, like the peer's, plus
 * pg_stat_statements to count SQL), `latchkey serve` in production mode with the rate limits
 * raised out of the way, floors (bare node:http hello, argon2id with Latchkey's parameters),
 * then every scenario at 10 and 1 connection(s): 3 s warm-up, 3 timed runs of 10 s, medians.
 * Then the peer harness runs from a copy in /tmp with its own cluster. Results:
 * bench/results/<UTC stamp>/summary.md (+ raw/, profile/, better-auth/, run.log), and the
 * README's table between its bench markers.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { runScenario, waitQuiet, type Counters, type ScenarioResult } from './load.ts'
import { summarizeProfile } from './profile-top.ts'
import { rssMiB } from './proc.ts'
import { BENCH_PASSWORD, seedFiller, seedSigninUsers, signinEmail, SIGNIN_USERS } from './seed.ts'
import { writeSummary } from './summary.ts'

const root = path.resolve(import.meta.dirname, '..')
const peerSource = path.resolve(root, '..', 'shared', 'peer-better-auth')
const QUICK = process.env.QUICK === '1'
const SKIP_PEER = process.env.SKIP_PEER === '1'
const PGBIN = process.env.PGBIN ?? '/usr/lib/postgresql/15/bin'
const PGPORT = Number(process.env.PGPORT ?? 55433)
const APP_PORT = Number(process.env.APP_PORT ?? 3100)
const HELLO_PORT = Number(process.env.HELLO_PORT ?? 3101)
const CONNECTIONS = [10, 1]
const DURATION_S = QUICK ? 3 : 10
const RUNS = QUICK ? 1 : 3
const WARMUP_S = QUICK ? 1 : 3
const HASH_SECONDS = QUICK ? 2 : 5
const SESSIONS = 64
const BASE_ACCOUNTS = 1000
const QUIET_MAX_S = Number(process.env.QUIET_MAX ?? 15)
const SCALE_ACCOUNTS = Number(process.env.SCALE_ACCOUNTS ?? (QUICK ? 100_000 : 1_000_000))

const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z') + (QUICK ? '-quick' : '')
const results = path.join(root, 'bench', 'results', stamp)
const raw = path.join(results, 'raw')
// Server logs and profiles are large and of no lasting use: they stay out of the results.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-'))
fs.mkdirSync(raw, { recursive: true })
fs.mkdirSync(path.join(results, 'profile'), { recursive: true })
const logFile = fs.openSync(path.join(results, 'run.log'), 'a')
function log(line: string): void {
  const text = `${line}\n`
  process.stderr.write(text)
  fs.writeSync(logFile, text)
}
function step(title: string): void {
  log(`\n=== ${new Date().toISOString().slice(11, 19)}  ${title}`)
}
function save(name: string, data: unknown): void {
  fs.writeFileSync(path.join(raw, `${name}.json`), JSON.stringify(data, null, 2))
}

// ---------------------------------------------------------------- processes we start, stopped on exit
const started = new Set<ChildProcess>()
let pgData: string | undefined
/** Prefix that runs PostgreSQL's binaries as an unprivileged user when we are root. */
let pgRunAs: string[] = []
function pgCommand(bin: string, args: string[]): [string, string[]] {
  const full = [...pgRunAs, `${PGBIN}/${bin}`, ...args]
  return [full[0], full.slice(1)]
}
function cleanup(): void {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL')
  if (pgData && fs.existsSync(pgData)) {
    spawnSync(...pgCommand('pg_ctl', ['-D', pgData, '-m', 'fast', '-w', 'stop']), { cwd: '/tmp', stdio: 'ignore' })
    fs.rmSync(pgData, { recursive: true, force: true })
    pgData = undefined
  }
  fs.rmSync(scratch, { recursive: true, force: true })
}
process.on('exit', cleanup)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130))

function portFree(port: number): boolean {
  const out = spawnSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' })
  return !out.stdout?.trim()
}

async function waitHttp(url: string, child: ChildProcess, seconds = 30): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    if (child.exitCode !== null) throw new Error(`process for ${url} exited with ${child.exitCode}`)
    const ok = await fetch(url).then((r) => r.ok, () => false)
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timeout waiting for ${url}`)
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await exited
  started.delete(child)
}

// ---------------------------------------------------------------- PostgreSQL: a private cluster
async function startPostgres(): Promise<{ pid: number; url: string }> {
  pgData = fs.mkdtempSync('/tmp/latchkey-bench-pg-')
  if (process.getuid?.() === 0) {
    // initdb and postgres refuse to run as root: an unprivileged OS user, like the peer harness.
    if (spawnSync('id', ['postgres']).status !== 0) execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'])
    execFileSync('chown', ['postgres', pgData])
    pgRunAs = ['runuser', '-u', 'postgres', '--']
  }
  const run = (bin: string, args: string[]) => execFileSync(...pgCommand(bin, args), { cwd: '/tmp', stdio: ['ignore', 'ignore', 'inherit'] })
  run('initdb', ['-D', pgData, '-U', 'bench', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8'])
  // initdb defaults, as the peer's cluster; pg_stat_statements only counts statements.
  run('pg_ctl', ['-D', pgData, '-l', `${pgData}/server.log`, '-w', '-o', `-c listen_addresses=127.0.0.1 -p ${PGPORT} -c unix_socket_directories=${pgData} -c shared_preload_libraries=pg_stat_statements`, 'start'])
  const pid = Number(fs.readFileSync(`${pgData}/postmaster.pid`, 'utf8').split('\n')[0])
  const admin = new pg.Client({ connectionString: `postgres://bench@127.0.0.1:${PGPORT}/postgres` })
  await admin.connect()
  await admin.query('CREATE DATABASE latchkey')
  await admin.query('CREATE EXTENSION pg_stat_statements')
  await admin.end()
  log(`postmaster PID ${pid}, data dir ${pgData}`)
  return { pid, url: `postgres://bench@127.0.0.1:${PGPORT}/latchkey` }
}

// ---------------------------------------------------------------- Latchkey
const encryptionKey = randomBytes(32).toString('base64')
function serverEnv(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(APP_PORT),
    PUBLIC_URL: `http://127.0.0.1:${APP_PORT}`,
    DATABASE_URL: databaseUrl,
    // All load comes from one address: the per-IP limits would answer 429 and distort it.
    RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '1000000',
    RATE_LIMIT_SIGNUP_PER_IP_PER_HOUR: '1000000',
    RATE_LIMIT_RECOVERY_PER_IP_PER_HOUR: '1000000',
    // As production should have it (without it every process warns and reads the key from the database).
    ENCRYPTION_KEY: encryptionKey,
    ...extra,
  }
  // Same as the peer harness: libuv's default thread pool unless Latchkey itself sets one.
  delete env.UV_THREADPOOL_SIZE
  delete env.REDIS_URL
  delete env.SMTP_URL
  return env
}

// The server runs as `npm start` runs it: the same Node flags (the heap sizing there is part of
// what is measured) and the same entry point (the built server), read from package.json so the
// two cannot drift apart.
const START: { flags: string[]; entry: string } = (() => {
  const words: string[] = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts.start.split(/\s+/)
  const entry = words.find((word) => /\.[cm]?[jt]s$/.test(word))
  if (!entry) throw new Error('no entry point in the start script of package.json')
  return { flags: words.filter((word) => word.startsWith('--')), entry }
})()
const START_FLAGS = START.flags

async function startLatchkey(databaseUrl: string, name: string, extra: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ChildProcess> {
  const out = fs.openSync(path.join(scratch, `server-${name}.log`), 'a')
  const child = spawn(process.execPath, [...START_FLAGS, ...nodeArgs, START.entry, 'serve'], { cwd: root, env: serverEnv(databaseUrl, extra), stdio: ['ignore', out, out] })
  started.add(child)
  await waitHttp(`http://127.0.0.1:${APP_PORT}/readyz`, child)
  log(`latchkey serve (${name}) PID ${child.pid} (node ${START_FLAGS.join(' ')} ${START.entry})${Object.keys(extra).length ? ` with ${Object.entries(extra).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`)
  return child
}

function latchkeyCounters(route: string, method: string, statsDb: pg.Client): Counters {
  const pattern = new RegExp(`^latchkey_http_requests_total\\{[^}]*method="${method}"[^}]*route="${route.replace(/\//g, '\\/')}"[^}]*\\} (\\d+)`, 'gm')
  return {
    async requests() {
      const text = await (await fetch(`http://127.0.0.1:${APP_PORT}/metrics`)).text()
      let n = 0
      for (const m of text.matchAll(pattern)) n += Number(m[1])
      return n
    },
    async statements() {
      const { rows } = await statsDb.query(`SELECT coalesce(sum(calls), 0)::bigint AS n FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'latchkey')`)
      return Number(rows[0].n)
    },
  }
}

async function signInToken(login: string): Promise<{ token: string; sessionId: string }> {
  const res = await fetch(`http://127.0.0.1:${APP_PORT}/api/v1/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password: BENCH_PASSWORD, staySignedIn: true, returnToken: true }),
  })
  const body = (await res.json()) as { token: string; session: { id: string } }
  if (res.status !== 200) throw new Error(`sign-in ${login}: ${res.status} ${JSON.stringify(body)}`)
  return { token: body.token, sessionId: body.session.id }
}

async function me(token: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${APP_PORT}/api/v1/me`, { headers: { cookie: `latchkey_session=${token}` } })
  await res.arrayBuffer()
  return res.status
}

const base = `http://127.0.0.1:${APP_PORT}`
const tag = Math.random().toString(36).slice(2, 7)
let signupCounter = 0
const scenarios = {
  me: (tokens: string[]) => {
    let n = 0
    return [{ method: 'GET', path: '/api/v1/me', setupRequest: (req: object) => ({ ...req, headers: { cookie: `latchkey_session=${tokens[n++ % tokens.length]}` } }) }]
  },
  signin: () => {
    let n = 0
    return [{
      method: 'POST',
      path: '/api/v1/signin',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req: object) => ({ ...req, body: JSON.stringify({ login: signinEmail(n++ % SIGNIN_USERS), password: BENCH_PASSWORD, returnToken: true }) }),
    }]
  },
  signup: () => [{
    method: 'POST',
    path: '/api/v1/signup',
    headers: { 'content-type': 'application/json' },
    setupRequest: (req: object) => {
      const id = `${tag}${signupCounter++}`
      return { ...req, body: JSON.stringify({ email: `su${id}@bench.test`, username: `su${id}`, password: BENCH_PASSWORD, acceptTerms: true }) }
    },
  }],
}

async function measure(label: string, c: number, options: { requests: object[]; server?: ChildProcess; pgPid?: number; counters?: Counters; url?: string; durationS?: number; runs?: number; warmupS?: number }): Promise<ScenarioResult> {
  step(`${label}, ${c} connection(s): ${options.runs ?? RUNS} x ${options.durationS ?? DURATION_S}s after ${options.warmupS ?? WARMUP_S}s warm-up`)
  await waitQuiet(QUIET_MAX_S, log)
  const result = await runScenario({
    label: `${label}-c${c}`,
    url: options.url ?? base,
    connections: c,
    durationSeconds: options.durationS ?? DURATION_S,
    runs: options.runs ?? RUNS,
    warmupSeconds: options.warmupS ?? WARMUP_S,
    requests: options.requests,
    serverPid: options.server?.pid,
    pgPid: options.pgPid,
    counters: options.counters,
    log,
  })
  save(`${label}-c${c}`, result)
  return result
}

/** A revoked session is refused on the very next request while the server is under load. */
async function revocationUnderLoad(databaseUrl: string, tokens: string[], server: ChildProcess): Promise<Record<string, unknown>> {
  step('revocation under load: API revoke and operator CLI deactivation, each checked on the very next request')
  const victim = signinEmail(SIGNIN_USERS - 1)
  const victimLogin = await signInToken(victim)
  const victimOther = await signInToken(victim)
  const deactivated = signinEmail(SIGNIN_USERS - 2)
  const deactivatedLogin = await signInToken(deactivated)
  const rotation = [...tokens, victimLogin.token, deactivatedLogin.token]
  const load = runScenario({ label: 'revocation-load', url: base, connections: 10, durationSeconds: 6, runs: 1, warmupSeconds: 0, requests: scenarios.me(rotation), log: () => {} })
  await new Promise((r) => setTimeout(r, 1500))
  const checks: Record<string, unknown> = {}

  // 1. From another session of the same person: DELETE /api/v1/me/sessions/:id.
  const before = await me(victimLogin.token)
  const t0 = performance.now()
  const revoke = await fetch(`${base}/api/v1/me/sessions/${victimLogin.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${victimOther.token}` } })
  const after = await me(victimLogin.token)
  checks.apiRevoke = { statusBefore: before, revokeStatus: revoke.status, nextRequestStatus: after, msFromRevokeToRefusal: +(performance.now() - t0).toFixed(2), passed: before === 200 && revoke.status === 204 && after === 401 }
  log(`[revocation] API: /me before ${before}, DELETE ${revoke.status}, very next /me ${after} -> ${after === 401 ? 'refused' : 'ACCEPTED (FAIL)'}`)

  // 2. The operator CLI, a process of its own (no Redis here: PostgreSQL LISTEN/NOTIFY reaches the server).
  const cliBefore = await me(deactivatedLogin.token)
  const cli = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'accounts', 'deactivate', deactivated], { cwd: root, env: serverEnv(databaseUrl, { LOG_LEVEL: 'warn' }), encoding: 'utf8' })
  const cliAfter = await me(deactivatedLogin.token)
  checks.cliDeactivate = { statusBefore: cliBefore, cliExit: cli.status, cliOutput: cli.stdout.trim(), nextRequestStatus: cliAfter, passed: cliBefore === 200 && cli.status === 0 && cliAfter === 401 }
  log(`[revocation] CLI: /me before ${cliBefore}, \`latchkey accounts deactivate\` exit ${cli.status} (${cli.stdout.trim()}), very next /me ${cliAfter} -> ${cliAfter === 401 ? 'refused' : 'ACCEPTED (FAIL)'}`)
  const loaded = await load
  // The sign-in profile that follows round-robins over every sign-in user, this one included.
  spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'accounts', 'reactivate', deactivated], { cwd: root, env: serverEnv(databaseUrl, { LOG_LEVEL: 'warn' }), stdio: 'ignore' })
  checks.loadDuringChecks = { rps: loaded.median.rps, p99_ms: loaded.median.p99_ms, non2xx: loaded.runs_detail[0].non2xx }
  checks.serverPid = server.pid
  save('revocation', checks)
  return checks
}

async function profileServer(databaseUrl: string, pgPid: number, name: 'me' | 'signin', requests: object[]): Promise<void> {
  const dir = path.join(scratch, `prof-${name}`)
  const server = await startLatchkey(databaseUrl, `profile-${name}`, {}, ['--cpu-prof', `--cpu-prof-dir=${dir}`])
  await measure(`profiled-${name}`, 10, { requests, server, pgPid, durationS: 8, runs: 1, warmupS: 2 })
  await stop(server)
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (!file) throw new Error('no CPU profile written')
  const text = summarizeProfile(path.join(dir, file), 8, 25)
  fs.writeFileSync(path.join(results, 'profile', `${name}.txt`), text + '\n')
  log(text)
}

function versions(): Record<string, string> {
  const v = (p: string) => JSON.parse(fs.readFileSync(path.join(root, 'node_modules', p, 'package.json'), 'utf8')).version as string
  const pgVersion = execFileSync(`${PGBIN}/postgres`, ['--version'], { encoding: 'utf8' }).trim()
  return {
    node: process.version, latchkey: JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version, fastify: v('fastify'), kysely: v('kysely'), pg: v('pg'),
    '@node-rs/argon2': v('@node-rs/argon2'), autocannon: v('autocannon'), postgresql: pgVersion,
  }
}

/** argon2id hashes/s with Latchkey's parameters, in a process of its own, the way the peer measures it. */
function hashFloor(): void {
  step('floor: argon2id with Latchkey\'s parameters, 1 core (pinned, 1 in flight) and 2 cores (2 in flight)')
  for (const inflight of [1, 2]) {
    const args = ['--disable-warning=ExperimentalWarning', 'bench/hash-floor.ts', '--inflight', String(inflight), '--seconds', String(HASH_SECONDS), '--runs', String(RUNS)]
    const cmd = inflight === 1 ? ['taskset', ['-c', '0', process.execPath, ...args]] as const : [process.execPath, args] as const
    const out = execFileSync(cmd[0], cmd[1], { cwd: root, env: { ...process.env, UV_THREADPOOL_SIZE: String(inflight) }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    save(`hash-argon2id-x${inflight}`, JSON.parse(out))
  }
}

// ---------------------------------------------------------------- the run
async function main(): Promise<void> {
  for (const port of [PGPORT, APP_PORT, HELLO_PORT]) if (!portFree(port)) throw new Error(`port ${port} is in use; set PGPORT/APP_PORT/HELLO_PORT`)
  if (!fs.existsSync(`${PGBIN}/postgres`)) throw new Error(`PostgreSQL binaries not found in ${PGBIN} (set PGBIN)`)
  if (!SKIP_PEER && !fs.existsSync(path.join(peerSource, 'run.sh'))) throw new Error(`peer harness not found at ${peerSource} (the repository's parent folder must hold shared/)`)
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim()
  const env = {
    date: new Date().toISOString(), commit: git, quick: QUICK,
    machine: { cpu: os.cpus()[0].model, cores: os.availableParallelism(), mem_gib: +(os.totalmem() / 2 ** 30).toFixed(1), kernel: os.release() },
    versions: versions(),
    load: { connections: CONNECTIONS, duration_s: DURATION_S, runs: RUNS, warmup_s: WARMUP_S, sessions: SESSIONS, signin_users: SIGNIN_USERS, scale_accounts: SCALE_ACCOUNTS },
  }
  fs.writeFileSync(path.join(results, 'env.json'), JSON.stringify(env, null, 2))
  log(`results in ${results}`)
  // What `npm start` builds before it starts (the web app is not needed here).
  execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'scripts/build-server.ts'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] })

  step('floor: bare node:http hello')
  const hello = spawn(process.execPath, ['bench/hello.ts'], { cwd: root, env: { ...process.env, PORT: String(HELLO_PORT) }, stdio: 'ignore' })
  started.add(hello)
  await waitHttp(`http://127.0.0.1:${HELLO_PORT}/`, hello)
  for (const c of CONNECTIONS) await measure('hello', c, { requests: [{ method: 'GET', path: '/' }], url: `http://127.0.0.1:${HELLO_PORT}`, server: hello })
  await stop(hello)

  step(`PostgreSQL: private cluster on 127.0.0.1:${PGPORT}`)
  const { pid: pgPid, url: databaseUrl } = await startPostgres()
  execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'migrate'], { cwd: root, env: serverEnv(databaseUrl), stdio: ['ignore', 'inherit', 'inherit'] })
  const statsDb = new pg.Client({ connectionString: `postgres://bench@127.0.0.1:${PGPORT}/postgres` })
  await statsDb.connect()

  step(`seed: ${SIGNIN_USERS} sign-in users with real argon2id hashes, filler up to ${BASE_ACCOUNTS} accounts with a session each`)
  await seedSigninUsers(databaseUrl)
  const baseCounts = await seedFiller(databaseUrl, BASE_ACCOUNTS, log)
  log(`[seed] database: ${baseCounts.accounts} accounts, ${baseCounts.sessions} sessions`)

  const meCounters = latchkeyCounters('/api/v1/me', 'GET', statsDb)
  const signinCounters = latchkeyCounters('/api/v1/signin', 'POST', statsDb)
  const signupCounters = latchkeyCounters('/api/v1/signup', 'POST', statsDb)

  // Sessions for the session check: real sign-ins through the API, "stay signed in".
  let server = await startLatchkey(databaseUrl, 'main')
  const tokens: string[] = []
  for (let i = 0; i < SESSIONS; i++) tokens.push((await signInToken(signinEmail(i))).token)
  if ((await me(tokens[0])) !== 200) throw new Error('session check sanity request failed')

  for (const c of CONNECTIONS) await measure('me-1k', c, { requests: scenarios.me(tokens), server, pgPid, counters: meCounters })
  // The floor right before the scenario it bounds, so both see the machine in the same state.
  await waitQuiet(QUIET_MAX_S, log)
  hashFloor()
  for (const c of CONNECTIONS) await measure('signin-1k', c, { requests: scenarios.signin(), server, pgPid, counters: signinCounters })
  for (const c of CONNECTIONS) await measure('signup', c, { requests: scenarios.signup(), server, pgPid, counters: signupCounters })
  await stop(server)

  step('session check with the cache off (SESSION_CACHE_TTL_SECONDS=0): the database path, 1k accounts')
  server = await startLatchkey(databaseUrl, 'nocache-1k', { SESSION_CACHE_TTL_SECONDS: '0' })
  await measure('me-nocache-1k', 10, { requests: scenarios.me(tokens), server, pgPid, counters: meCounters })
  await stop(server)

  step(`seed: filler up to ${SCALE_ACCOUNTS} accounts, a session each`)
  const scaleCounts = await seedFiller(databaseUrl, SCALE_ACCOUNTS, log)
  log(`[seed] database: ${scaleCounts.accounts} accounts, ${scaleCounts.sessions} sessions`)
  fs.writeFileSync(path.join(raw, 'db-size.json'), JSON.stringify({ base: baseCounts, scale: scaleCounts }, null, 2))

  server = await startLatchkey(databaseUrl, 'main-scale')
  for (const c of CONNECTIONS) await measure('me-1m', c, { requests: scenarios.me(tokens), server, pgPid, counters: meCounters })
  for (const c of CONNECTIONS) await measure('signin-1m', c, { requests: scenarios.signin(), server, pgPid, counters: signinCounters })
  await revocationUnderLoad(databaseUrl, tokens, server)
  const rssAfterAll = rssMiB(server.pid!)
  log(`server RSS after every scenario at scale: ${rssAfterAll.toFixed(1)} MiB`)
  save('rss', { after_all_mib: rssAfterAll, note: 'RSS of the server that ran the 1M-account session check, sign-in and the revocation check' })
  await stop(server)

  step('session check with the cache off (SESSION_CACHE_TTL_SECONDS=0): the database path, at scale')
  server = await startLatchkey(databaseUrl, 'nocache-1m', { SESSION_CACHE_TTL_SECONDS: '0' })
  await measure('me-nocache-1m', 10, { requests: scenarios.me(tokens), server, pgPid, counters: meCounters })
  await stop(server)

  step('CPU profiles (node --cpu-prof) of the server: session check, then sign-in, 10 connections')
  await profileServer(databaseUrl, pgPid, 'me', scenarios.me(tokens))
  await profileServer(databaseUrl, pgPid, 'signin', scenarios.signin())

  step('SQL statements per request, by statement (pg_stat_statements, whole Latchkey phase)')
  const { rows } = await statsDb.query(`SELECT calls, regexp_replace(query, '\\s+', ' ', 'g') AS query FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'latchkey') ORDER BY calls DESC LIMIT 25`)
  fs.writeFileSync(path.join(results, 'sql-statements.md'), '| calls | statement |\n|---:|---|\n' + rows.map((r) => `| ${r.calls} | \`${String(r.query).slice(0, 300).replace(/\|/g, '\\|')}\` |`).join('\n') + '\n')
  await statsDb.end()
  step('stopping PostgreSQL')
  cleanup()

  if (!SKIP_PEER) {
    step('Better Auth: the peer harness, from a copy, under the same load')
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'peer-better-auth-'))
    fs.cpSync(peerSource, copy, { recursive: true })
    const peer = spawn('bash', [path.join(copy, 'run.sh')], {
      cwd: copy,
      env: { ...process.env, RESULTS: path.join(results, 'better-auth'), PROFILE: '0', QUIET_MAX: String(QUIET_MAX_S), ...(QUICK ? { QUICK: '1' } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    started.add(peer)
    peer.stdout!.on('data', (d: Buffer) => fs.writeSync(logFile, d))
    peer.stderr!.on('data', (d: Buffer) => fs.writeSync(logFile, d))
    const code = await new Promise<number | null>((r) => peer.once('exit', r))
    started.delete(peer)
    fs.rmSync(copy, { recursive: true, force: true })
    if (code !== 0) throw new Error(`the peer harness failed (exit ${code}); see ${path.join(results, 'run.log')}`)
  }

  step('summary')
  const summary = writeSummary(results, { updateReadme: !QUICK })
  log(summary)
}

main().then(
  () => process.exit(0),
  (err) => {
    log(`bench failed: ${(err as Error).stack ?? err}`)
    process.exit(1)
  },
)
