/**
 * Turns one bench run's raw figures (and the peer harness's summary.json beside them) into
 * summary.md: the targets, the tables at 10 and 1 connection(s), the floors, the ratios.
 * With `updateReadme`, the README's table between its bench markers is replaced too.
 *   node bench/summary.ts bench/results/<stamp>      # re-render an existing run
 */
import fs from 'node:fs'
import path from 'node:path'

interface Median { rps: number; p50_ms: number; p99_ms: number; server_cpu_per_req_ms: number; pg_cpu_per_req_ms: number; sql_per_req: number | null; server_rss_mib: number }
interface Scenario { median: Median; spread: { rps_min: number; rps_max: number }; runs_detail: { non2xx: number; errors: number; rps: number; machine_busy_cores: number; other_cores_approx?: number }[] }
interface PeerHttp { key: string; connections: number; rps: number; p50_ms: number; p99_ms: number; server_cpu_per_req_ms: number; pg_cpu_per_req_ms: number; db_queries_per_req: number; rps_min: number; rps_max: number }
interface PeerSummary { env?: { versions?: Record<string, string> }; http: PeerHttp[]; hash: { algo: string; hps_1core: number; hps_2cores?: number }[] }

const root = path.resolve(import.meta.dirname, '..')
const README_START = '<!-- bench:start -->'
const README_END = '<!-- bench:end -->'

const fr = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : x >= 1000 ? Math.round(x).toLocaleString('en-US').replace(/,/g, ' ') : x >= 100 ? x.toFixed(0) : x.toFixed(1))
const f = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d))
const ratio = (a: number | undefined, b: number | undefined, d = 1) => (a && b ? `${(a / b).toFixed(d)}×` : '–')

export function writeSummary(dir: string, options: { updateReadme?: boolean } = {}): string {
  const raw = path.join(dir, 'raw')
  const load = <T>(name: string): T | undefined => (fs.existsSync(path.join(raw, `${name}.json`)) ? (JSON.parse(fs.readFileSync(path.join(raw, `${name}.json`), 'utf8')) as T) : undefined)
  const env = JSON.parse(fs.readFileSync(path.join(dir, 'env.json'), 'utf8'))
  const peerFile = path.join(dir, 'better-auth', 'summary.json')
  const peer: PeerSummary | undefined = fs.existsSync(peerFile) ? JSON.parse(fs.readFileSync(peerFile, 'utf8')) : undefined
  const ba = (key: string, c: number) => peer?.http.find((h) => h.key === key && h.connections === c)
  const lk = (key: string, c: number) => load<Scenario>(`${key}-c${c}`)
  const hash1 = load<{ median_hps: number; median_ms_per_hash: number }>('hash-argon2id-x1')
  const hash2 = load<{ median_hps: number; params: Record<string, number> }>('hash-argon2id-x2')
  const baArgon = peer?.hash.find((h) => h.algo === 'argon2id')
  const baScrypt = peer?.hash.find((h) => h.algo === 'scrypt')
  const revocation = load<{ apiRevoke: { passed: boolean; nextRequestStatus: number }; cliDeactivate: { passed: boolean; nextRequestStatus: number }; loadDuringChecks: { rps: number } }>('revocation')
  const rss = load<{ after_all_mib: number }>('rss')
  const db = load<{ base: { accounts: number; sessions: number }; scale: { accounts: number; sessions: number } }>('db-size')

  // ------------------------------------------------ targets (10 connections)
  const me = lk('me-1k', 10)?.median
  const me1m = lk('me-1m', 10)?.median
  const signin = lk('signin-1k', 10)?.median
  const signup = lk('signup', 10)?.median
  const hello = lk('hello', 10)?.median
  const baGet = ba('getsession-nocache', 10)
  const baSignin = ba('signin', 10)
  const baSignup = ba('signup', 10)
  const floor = hash2?.median_hps
  type Check = [string, string, number | undefined, (v: number) => 'met' | 'minimum only' | 'missed', (v: number) => string, number?]
  // Server + PostgreSQL CPU per request: what a request costs, nearly unaffected by other work
  // on the machine, so the ratio it gives holds when throughput is disturbed.
  const cpu = (m: { server_cpu_per_req_ms: number; pg_cpu_per_req_ms: number } | undefined) => (m ? m.server_cpu_per_req_ms + m.pg_cpu_per_req_ms : undefined)
  const cpuRatio = (peer: PeerHttp | undefined, own: Median | undefined) => (peer && own ? cpu(peer)! / cpu(own)! : undefined)
  const grade = (goal: number, minimum: number, higherIsBetter = true) => (v: number) =>
    (higherIsBetter ? v >= goal : v <= goal) ? 'met' as const : (higherIsBetter ? v >= minimum : v <= minimum) ? 'minimum only' as const : 'missed' as const
  const times = (v: number) => `${v.toFixed(1)}×`
  const percent = (v: number) => `${(v * 100).toFixed(0)} %`
  const checks: Check[] = [
    ['session check ÷ Better Auth get-session (cookie cache off)', '≥ 20× (minimum 10×)', me && baGet ? me.rps / baGet.rps : undefined, grade(20, 10), times, cpuRatio(baGet, me)],
    ['session check ÷ bare node:http hello', '≥ 40 %', me && hello ? me.rps / hello.rps : undefined, grade(0.4, 0.4), percent],
    ['session check p99 latency', '≤ 10 ms', me?.p99_ms, grade(10, 10, false), (v) => `${v.toFixed(2)} ms`],
    ['sign-in ÷ argon2id floor (2 cores, same run)', '≥ 85 %', signin && floor ? signin.rps / floor : undefined, grade(0.85, 0.85), percent],
    ['sign-in ÷ Better Auth sign-in', '≥ 5×', signin && baSignin ? signin.rps / baSignin.rps : undefined, grade(5, 5), times, cpuRatio(baSignin, signin)],
    ['sign-up ÷ argon2id floor (2 cores, same run)', '≥ 80 %', signup && floor ? signup.rps / floor : undefined, grade(0.8, 0.8), percent],
    ['sign-up ÷ Better Auth sign-up', '≥ 4×', signup && baSignup ? signup.rps / baSignup.rps : undefined, grade(4, 4), times, cpuRatio(baSignup, signup)],
    ['session check at 1M accounts ÷ at 1k', '≥ 0.9 (minimum 0.8)', me && me1m ? me1m.rps / me.rps : undefined, grade(0.9, 0.8), (v) => v.toFixed(2)],
    ['server RSS after all scenarios', '≤ 200 MB (minimum ≤ 300 MB)', rss ? (rss.after_all_mib * 2 ** 20) / 1e6 : undefined, grade(200, 300, false), (v) => `${v.toFixed(0)} MB`],
  ]
  const mark = { met: '✅ met', 'minimum only': '🟡 minimum only', missed: '❌ missed' }
  let targets = '| target (10 connections, PostgreSQL) | goal | measured (req/s) | | by CPU cost per request |\n|---|---|---:|---|---:|\n'
  for (const [name, goal, value, judge, show, byCpu] of checks) {
    targets += `| ${name} | ${goal} | ${value === undefined ? '–' : show(value)} | ${value === undefined ? 'not measured' : mark[judge(value)]} | ${byCpu === undefined ? '' : `${show(byCpu)} (${mark[judge(byCpu)]})`} |\n`
  }
  if (revocation) {
    const ok = revocation.apiRevoke.passed && revocation.cliDeactivate.passed
    targets += `| revoked session refused on the very next request, under load | API revoke and CLI deactivation | ${revocation.apiRevoke.nextRequestStatus} / ${revocation.cliDeactivate.nextRequestStatus} | ${ok ? '✅ met' : '❌ missed'} | |\n`
  }

  // ------------------------------------------------ tables per connection count
  const rows: [string, string | null, string, string | null][] = [
    ['session check `GET /api/v1/me`, 1k accounts', 'me-1k', 'get-session, cookie cache off', 'getsession-nocache'],
    ['session check, 1M accounts', 'me-1m', '', null],
    ['session check, cache off (database path), 1k', 'me-nocache-1k', '', null],
    ['session check, cache off (database path), 1M', 'me-nocache-1m', '', null],
    ['', null, 'get-session, cookie cache on', 'getsession-cache'],
    ['sign-in (500 users round-robin), 1k accounts', 'signin-1k', 'sign-in/email', 'signin'],
    ['sign-in, 1M accounts', 'signin-1m', '', null],
    ['sign-up (distinct users)', 'signup', 'sign-up/email', 'signup'],
    ['floor: bare node:http hello', 'hello', 'floor: hello (peer phase)', 'hello'],
  ]
  let tables = ''
  for (const c of [10, 1]) {
    tables += `\n### ${c} connection${c > 1 ? 's' : ''} in flight\n\n`
    tables += '| Latchkey | req/s (min–max) | p50 ms | p99 ms | CPU ms/req | PG CPU ms/req | SQL/req | Better Auth | req/s | p50 ms | p99 ms | CPU ms/req | PG CPU ms/req | SQL/req | req/s ratio | CPU-cost ratio |\n'
    tables += '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n'
    for (const [name, key, baName, baKey] of rows) {
      const l = key ? lk(key, c) : undefined
      const b = baKey ? ba(baKey, c) : undefined
      if (!l && !b) continue
      const errors = l ? l.runs_detail.reduce((a, r) => a + r.non2xx + r.errors, 0) : 0
      const left = l
        ? `| ${name}${errors ? ` ⚠ ${errors} non-2xx` : ''} | ${fr(l.median.rps)} (${fr(l.spread.rps_min)}–${fr(l.spread.rps_max)}) | ${f(l.median.p50_ms)} | ${f(l.median.p99_ms)} | ${f(l.median.server_cpu_per_req_ms, key === 'hello' ? 3 : 2)} | ${key === 'hello' ? '–' : f(l.median.pg_cpu_per_req_ms, 3)} | ${key === 'hello' ? '–' : f(l.median.sql_per_req)} `
        : '| | | | | | | '
      const right = b
        ? `| ${baName} | ${fr(b.rps)} | ${f(b.p50_ms)} | ${f(b.p99_ms)} | ${f(b.server_cpu_per_req_ms, baKey === 'hello' ? 3 : 2)} | ${baKey === 'hello' ? '–' : f(b.pg_cpu_per_req_ms, 3)} | ${baKey === 'hello' ? '–' : f(b.db_queries_per_req)} `
        : '| | | | | | | '
      const costRatio = l && b && key !== 'hello' ? `${(cpu(b)! / cpu(l.median)!).toFixed(1)}×` : ''
      tables += `${left}${right}| ${l && b ? ratio(l.median.rps, b.rps) : ''} | ${costRatio} |\n`
    }
  }

  const floors =
    '| floor | this run, Latchkey phase | this run, peer phase |\n|---|---:|---:|\n' +
    `| argon2id m=${hash2?.params.memoryKiB ?? 19456} KiB, t=${hash2?.params.iterations ?? 2}, p=${hash2?.params.parallelism ?? 1}: hashes/s on 1 core | ${f(hash1?.median_hps, 1)} | ${f(baArgon?.hps_1core, 1)} |\n` +
    `| argon2id, hashes/s on 2 cores (2 in flight) | ${f(floor, 1)} | ${f(baArgon?.hps_2cores, 1)} |\n` +
    `| scrypt (Better Auth's hash), hashes/s on 2 cores | – | ${f(baScrypt?.hps_2cores, 1)} |\n` +
    `| bare node:http hello, req/s at 10 connections | ${fr(hello?.rps)} | ${fr(ba('hello', 10)?.rps)} |\n` +
    `| PostgreSQL 1-row primary-key SELECT through pg.Pool, queries/s at 10 | – | ${fr(ba('pg-select', 10)?.rps)} |\n`

  let noise = '| scenario | conns | req/s per run | machine busy (cores) | other ≈ (cores) |\n|---|---:|---|---|---|\n'
  for (const c of [10, 1]) {
    for (const key of ['hello', 'me-1k', 'me-1m', 'me-nocache-1k', 'me-nocache-1m', 'signin-1k', 'signin-1m', 'signup']) {
      const l = lk(key, c)
      if (!l) continue
      const d = l.runs_detail
      noise += `| ${key} | ${c} | ${d.map((r) => fr(r.rps)).join(' / ')} | ${d.map((r) => r.machine_busy_cores.toFixed(2)).join(' / ')} | ${d.map((r) => f(r.other_cores_approx)).join(' / ')} |\n`
    }
  }

  const versions = { ...env.versions, ...(peer?.env?.versions?.['better-auth'] ? { 'better-auth': peer.env.versions['better-auth'] } : {}) }
  const md = `# Latchkey vs Better Auth, ${env.date.slice(0, 16).replace('T', ' ')} UTC${env.quick ? ' (QUICK smoke run: not for comparison)' : ''}

${env.machine.cpu}, ${env.machine.cores} cores, ${env.machine.mem_gib} GiB, Linux ${env.machine.kernel}; commit ${env.commit}.
Versions: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}.
Load: autocannon, keep-alive, loopback; ${env.load.warmup_s} s warm-up then ${env.load.runs} × ${env.load.duration_s} s per scenario, medians; session check round-robin over ${env.load.sessions} sessions (cookie), sign-in over ${env.load.signin_users} users.
Database sizes: ${db ? `${db.base.accounts} accounts / ${db.base.sessions} sessions ("1k"), then ${db.scale.accounts} / ${db.scale.sessions} ("1M")` : '–'}.

## Targets

${targets}
## Results
${tables}
Ratios divide Latchkey's req/s by Better Auth's in the same row; the CPU-cost ratio divides Better Auth's server + PostgreSQL CPU per request by Latchkey's (what throughput would be on a machine doing nothing else: both are CPU-bound on the same 2 cores). Better Auth runs with its defaults (scrypt), its rate limiter off; Latchkey with its defaults (argon2id, session cache on, LOG_LEVEL info), its per-IP rate limits raised.

## Floors, measured in this run

${floors}
## Memory and revocation

- Server RSS after every scenario (the process that ran the 1M-account scenarios and the revocation check): ${rss ? `${rss.after_all_mib.toFixed(1)} MiB` : '–'}.
- Revocation under load (${revocation ? fr(revocation.loadDuringChecks.rps) : '–'} req/s of session checks meanwhile): a session revoked through \`DELETE /api/v1/me/sessions/:id\` from another session answered ${revocation?.apiRevoke.nextRequestStatus ?? '–'} on the very next request; after \`latchkey accounts deactivate\` in a process of its own (PostgreSQL LISTEN/NOTIFY, no Redis) the account's cached session answered ${revocation?.cliDeactivate.nextRequestStatus ?? '–'}.

## Noise: every timed run

"Other" is CPU busy on the machine beyond the server, PostgreSQL and the load generator (other people's work on a shared machine).

${noise}
## How it was measured

- req/s counts 2xx responses; latency percentiles come from every 2xx response time.
- CPU per request: the server process's user+system time (/proc) over the requests it received (counted server-side from \`/metrics\`, including those cut off at the end of a run); PostgreSQL's is the whole cluster's (postmaster and backends).
- SQL per request: \`pg_stat_statements\` calls in the Latchkey database over the requests served (BEGIN/COMMIT included, as the peer harness counts them by wrapping \`client.query\`). The peer counts statements in its server process. pg_stat_statements is loaded only in Latchkey's cluster, a small cost to Latchkey. Statements by count: \`sql-statements.md\`.
- Floors: argon2id with Latchkey's parameters through @node-rs/argon2 in a process of its own with UV_THREADPOOL_SIZE = in flight; hello is a bare \`node:http\` server under the same load generator.
- CPU profiles of the server under the session check and sign-in: \`profile/\`. The peer's own summary: \`better-auth/summary.md\`.
`
  fs.writeFileSync(path.join(dir, 'summary.md'), md)

  if (options.updateReadme) {
    const readmePath = path.join(root, 'README.md')
    const readme = fs.readFileSync(readmePath, 'utf8')
    const start = readme.indexOf(README_START)
    const end = readme.indexOf(README_END)
    if (start !== -1 && end > start) {
      const rel = path.relative(root, dir)
      const block = `${README_START}\nLatest full run: ${env.date.slice(0, 10)}, ${env.machine.cores} cores, commit ${env.commit} ([\`${rel}/summary.md\`](${rel}/summary.md)).\n\n${targets}${tables.replace(/^\n### 1 connection[\s\S]*$/m, '')}${README_END}`
      fs.writeFileSync(readmePath, readme.slice(0, start) + block + readme.slice(end + README_END.length))
    }
  }
  return md
}

if (import.meta.main) {
  const dir = process.argv[2]
  if (!dir) throw new Error('usage: node bench/summary.ts bench/results/<stamp> [--readme]')
  console.log(writeSummary(path.resolve(dir), { updateReadme: process.argv.includes('--readme') }))
}
