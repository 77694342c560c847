/**
 * Floor: argon2id hashes per second with Latchkey's parameters (config.ts defaults, the OWASP
 * baseline m=19456 KiB, t=2, p=1) through @node-rs/argon2, as the server runs them.
 * Run by bench/run.ts in a process of its own with UV_THREADPOOL_SIZE set to --inflight (and
 * pinned to one CPU with taskset for the 1-core figure), the way the peer harness does.
 *   node bench/hash-floor.ts --inflight 2 --seconds 5 --runs 3
 */
import { hash, verify } from '@node-rs/argon2'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { loadConfig } from '../src/config.ts'
import { machineCpu, median } from './proc.ts'

const { values } = parseArgs({ options: { inflight: { type: 'string', default: '2' }, seconds: { type: 'string', default: '5' }, runs: { type: 'string', default: '3' } } })
const inflight = Number(values.inflight)
const seconds = Number(values.seconds)
const runs = Number(values.runs)
const { memoryKiB, iterations, parallelism } = loadConfig({}).argon2
const params = { algorithm: 2, memoryCost: memoryKiB, timeCost: iterations, parallelism }
const PASSWORD = 'bench-password-123!'

const sample = await hash(PASSWORD, params)
if (!(await verify(sample, PASSWORD))) throw new Error('argon2id hash does not verify')
await Promise.all(Array.from({ length: inflight }, () => hash(PASSWORD, params)))

const results: { hps: number; mean_ms: number; machine_busy_cores: number }[] = []
for (let i = 0; i < runs; i++) {
  const lat: number[] = []
  const deadline = performance.now() + seconds * 1000
  const t0 = performance.now()
  const m0 = machineCpu()
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (performance.now() < deadline) {
        const s = performance.now()
        await hash(PASSWORD, params)
        lat.push(performance.now() - s)
      }
    }),
  )
  const elapsed = (performance.now() - t0) / 1000
  const m1 = machineCpu()
  results.push({ hps: lat.length / elapsed, mean_ms: lat.reduce((a, b) => a + b, 0) / lat.length, machine_busy_cores: +((m1.busy - m0.busy) / elapsed).toFixed(2) })
  console.error(`[argon2id x${inflight} pool=${process.env.UV_THREADPOOL_SIZE ?? 4}] run ${i + 1}: ${results.at(-1)!.hps.toFixed(1)} hashes/s, ${results.at(-1)!.mean_ms.toFixed(1)} ms/hash`)
}
console.log(JSON.stringify({ inflight, params: { memoryKiB, iterations, parallelism }, median_hps: median(results.map((r) => r.hps)), median_ms_per_hash: median(results.map((r) => r.mean_ms)), runs: results }))
