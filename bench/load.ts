/**
 * One scenario under load: autocannon over keep-alive connections on loopback, a warm-up,
 * then several timed runs; the same shape and the same measurements as the Better Auth peer
 * harness (src/bench-http.mjs there), so the figures compare run for run.
 *
 * Per run: 2xx responses per second; latency percentiles from every 2xx response time
 * (float ms, not autocannon's 1 ms histogram); server and PostgreSQL CPU per request served
 * (requests the server received, counted on its side, including those cut off by the time
 * bound); SQL statements per request (pg_stat_statements calls in the Latchkey database).
 */
import autocannon from 'autocannon'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { cpuOfPid, cpuOfTree, machineCpu, median, rssMiB, summarizeLatencies } from './proc.ts'

type Request = autocannon.Request

export interface Counters {
  /** Requests the server received for this scenario's route (or null: use autocannon's count). */
  requests(): Promise<number | null>
  /** SQL statements the server sent (or null when not counted). */
  statements(): Promise<number | null>
}

export interface ScenarioOptions {
  label: string
  url: string
  connections: number
  durationSeconds: number
  runs: number
  warmupSeconds: number
  requests: Request[]
  serverPid?: number
  pgPid?: number
  counters?: Counters
  log?: (line: string) => void
}

export interface RunDetail {
  run: number
  elapsed_s: number
  ok: number
  non2xx: number
  errors: number
  status_codes: Record<string, { count: number }>
  server_requests: number
  rps: number
  p50_ms: number
  p90_ms: number
  p99_ms: number
  max_ms: number
  mean_ms: number
  server_cpu_per_req_ms: number
  pg_cpu_per_req_ms: number
  sql_per_req: number | null
  loadgen_cpu_s: number
  machine_busy_cores: number
  /** Busy CPUs not explained by the server, PostgreSQL and the load generator: noise. */
  other_cores_approx: number
  steal_cores: number
  server_rss_mib: number
}

export interface ScenarioResult {
  label: string
  connections: number
  median: { rps: number; p50_ms: number; p99_ms: number; server_cpu_per_req_ms: number; pg_cpu_per_req_ms: number; sql_per_req: number | null; server_rss_mib: number }
  spread: { rps_min: number; rps_max: number }
  runs_detail: RunDetail[]
}

const MAX_REQUESTS = 2_000_000

function once(options: ScenarioOptions, seconds: number): Promise<{ res: autocannon.Result; lat: number[]; elapsed: number }> {
  return new Promise((resolve, reject) => {
    const lat: number[] = []
    const t0 = performance.now()
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        amount: MAX_REQUESTS,
        requests: options.requests,
        timeout: 30,
        renderProgressBar: false,
        renderResultsTable: false,
        renderLatencyTable: false,
      },
      (err, res) => {
        clearTimeout(timer)
        if (err) return reject(err)
        resolve({ res, lat, elapsed: (performance.now() - t0) / 1000 })
      },
    )
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) lat.push(responseTime)
    })
    const timer = setTimeout(() => instance.stop(), seconds * 1000)
  })
}

/** Requests cut off by the time bound are still being served: wait until the count stops moving. */
async function settle(counters: Counters | undefined): Promise<void> {
  if (!counters) return
  let previous = await counters.requests()
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 200))
    const current = await counters.requests()
    if (current === previous) return
    previous = current
  }
}

/**
 * Waits (at most `maxSeconds`) until the machine is quiet: under 10 % of its CPUs busy for 2
 * seconds in a row. Other work on the machine would otherwise be measured as ours.
 */
export async function waitQuiet(maxSeconds: number, log: (line: string) => void): Promise<void> {
  const cores = os.availableParallelism()
  let quiet = 0
  let last = 0
  let previous = machineCpu()
  for (let waited = 1; waited <= maxSeconds; waited++) {
    await new Promise((r) => setTimeout(r, 1000))
    const current = machineCpu()
    last = (current.busy - previous.busy) / cores
    previous = current
    if (last < 0.1) {
      if (++quiet >= 2) return
    } else quiet = 0
  }
  log(`[quiet] machine still busy after ${maxSeconds}s (${(last * 100).toFixed(0)}% of ${cores} CPUs in the last second); measuring anyway`)
}

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const log = options.log ?? ((line: string) => console.error(line))
  const { label } = options
  if (options.warmupSeconds > 0) {
    const { res } = await once(options, options.warmupSeconds)
    await settle(options.counters)
    log(`[${label}] warm-up ${options.warmupSeconds}s: 2xx=${res['2xx']} non2xx=${res.non2xx} errors=${res.errors}`)
  }
  const runs: RunDetail[] = []
  for (let i = 1; i <= options.runs; i++) {
    const r0 = (await options.counters?.requests()) ?? null
    const q0 = (await options.counters?.statements()) ?? null
    const s0 = options.serverPid ? cpuOfPid(options.serverPid) : 0
    const p0 = cpuOfTree(options.pgPid)
    const l0 = process.cpuUsage()
    const m0 = machineCpu()
    const { res, lat, elapsed } = await once(options, options.durationSeconds)
    const m1 = machineCpu()
    const l1 = process.cpuUsage(l0)
    const sMid = options.serverPid ? cpuOfPid(options.serverPid) : 0
    const pMid = cpuOfTree(options.pgPid)
    await settle(options.counters)
    const r1 = (await options.counters?.requests()) ?? null
    const q1 = (await options.counters?.statements()) ?? null
    const s1 = options.serverPid ? cpuOfPid(options.serverPid) : 0
    const p1 = cpuOfTree(options.pgPid)
    const ok = res['2xx']
    const served = r0 !== null && r1 !== null ? r1 - r0 : ok + res.non2xx
    const perRequest = (x: number) => (x * 1000) / Math.max(1, served)
    const run: RunDetail = {
      run: i,
      elapsed_s: +elapsed.toFixed(3),
      ok,
      non2xx: res.non2xx,
      errors: res.errors,
      status_codes: res.statusCodeStats,
      server_requests: served,
      rps: ok / elapsed,
      ...summarizeLatencies(lat),
      server_cpu_per_req_ms: perRequest(s1 - s0),
      pg_cpu_per_req_ms: perRequest(p1 - p0),
      sql_per_req: q0 !== null && q1 !== null ? (q1 - q0) / Math.max(1, served) : null,
      loadgen_cpu_s: +((l1.user + l1.system) / 1e6).toFixed(2),
      machine_busy_cores: +((m1.busy - m0.busy) / elapsed).toFixed(2),
      other_cores_approx: +((m1.busy - m0.busy - (sMid - s0) - (pMid - p0) - (l1.user + l1.system) / 1e6) / elapsed).toFixed(2),
      steal_cores: +((m1.steal - m0.steal) / elapsed).toFixed(3),
      server_rss_mib: options.serverPid ? rssMiB(options.serverPid) : NaN,
    }
    runs.push(run)
    log(
      `[${label}] run ${i}: ${run.rps.toFixed(1)} req/s ok=${ok} non2xx=${run.non2xx} err=${run.errors} p50=${run.p50_ms.toFixed(2)}ms p99=${run.p99_ms.toFixed(2)}ms ` +
        `cpu/req server=${run.server_cpu_per_req_ms.toFixed(3)}ms pg=${run.pg_cpu_per_req_ms.toFixed(3)}ms sql/req=${run.sql_per_req?.toFixed(2) ?? '-'} ` +
        `machine=${run.machine_busy_cores} cores (other≈${run.other_cores_approx}) loadgen=${run.loadgen_cpu_s}s rss=${run.server_rss_mib.toFixed(0)}MiB`,
    )
  }
  const pick = (k: keyof RunDetail) => median(runs.map((r) => r[k] as number))
  return {
    label,
    connections: options.connections,
    median: {
      rps: pick('rps'),
      p50_ms: pick('p50_ms'),
      p99_ms: pick('p99_ms'),
      server_cpu_per_req_ms: pick('server_cpu_per_req_ms'),
      pg_cpu_per_req_ms: pick('pg_cpu_per_req_ms'),
      sql_per_req: runs[0].sql_per_req === null ? null : pick('sql_per_req'),
      server_rss_mib: Math.max(...runs.map((r) => r.server_rss_mib)),
    },
    spread: { rps_min: Math.min(...runs.map((r) => r.rps)), rps_max: Math.max(...runs.map((r) => r.rps)) },
    runs_detail: runs,
  }
}
