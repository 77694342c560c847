/**
 * Summarises a V8 CPU profile (`node --cpu-prof`) of the server's main thread: where the
 * time went by area (Node's HTTP core, Fastify, logging, metrics, Kysely, pg, Latchkey's own
 * code, GC, idle) and the functions with the most self time. Only samples inside the last
 * `windowSeconds` of activity count, i.e. the measured load, not start-up.
 *   node bench/profile-top.ts file.cpuprofile [windowSeconds=8] [rows=25]
 */
import fs from 'node:fs'

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number }

export function area(frame: CallFrame): string {
  const { url, functionName } = frame
  if (functionName === '(idle)') return 'idle (waiting for I/O)'
  if (functionName === '(garbage collector)') return 'garbage collector'
  if (functionName === '(program)') return 'V8/native (program)'
  if (/node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|fast-json-stringify|fast-querystring|fast-uri|@fastify\/ajv-compiler|ajv|typebox|secure-json-parse|cookie|process-warning|toad-cache)\b/.test(url)) return 'Fastify (routing, hooks, validation, serialisation, cookies)'
  if (/node_modules\/(pino|sonic-boom|pino-std-serializers|fast-redact|on-exit-leak-free|thread-stream)\b/.test(url)) return 'pino logging'
  if (/node_modules\/(prom-client|tdigest|bintrees)\b/.test(url)) return 'prom-client metrics'
  if (/node_modules\/kysely\b/.test(url)) return 'Kysely (query building)'
  if (/node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-[a-z]+|pgpass)\b/.test(url)) return 'pg driver'
  if (/node_modules\/(ioredis|rate-limiter-flexible)\b/.test(url)) return 'rate limits / redis'
  if (isLatchkey(url)) return 'Latchkey (src/)'
  if (url.startsWith('node:') || url === '' || /^internal\//.test(url)) return 'Node core (http, net, streams, crypto, timers)'
  return 'other dependencies'
}

/** Latchkey's own code: src/ as tests run it, or dist/server/ as `npm start` runs it (same lines). */
function isLatchkey(url: string): boolean {
  return /\/(src|dist\/server)\//.test(url) && !url.includes('node_modules')
}

function key(frame: CallFrame): string {
  const where = frame.url
    .replace(/.*node_modules\//, '')
    .replace(/^file:\/\/.*?\/dist\/server\/(.*)\.js$/, 'src/$1.ts')
    .replace(/^file:\/\/.*?\/(src|bench)\//, '$1/')
  return `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`
}

export function summarizeProfile(file: string, windowSeconds = 8, rows = 25): string {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  let t = p.startTime
  const times = p.timeDeltas.map((d) => (t += d))
  // The window ends at the last sample that was not idle.
  let end = p.samples.length - 1
  while (end > 0 && byId.get(p.samples[end])!.callFrame.functionName === '(idle)') end--
  let start = end
  while (start > 0 && times[end] - times[start - 1] < windowSeconds * 1e6) start--

  const self = new Map<string, number>()
  const areas = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let total = 0
  for (let i = start; i <= end; i++) {
    const d = p.timeDeltas[i + 1] ?? 0
    total += d
    const node = byId.get(p.samples[i])!
    self.set(key(node.callFrame), (self.get(key(node.callFrame)) ?? 0) + d)
    const a = area(node.callFrame)
    areas.set(a, (areas.get(a) ?? 0) + d)
    const seen = new Set<string>()
    for (let x: number | undefined = node.id; x !== undefined; x = parent.get(x)) {
      const frame = byId.get(x)!.callFrame
      if (!isLatchkey(frame.url)) continue
      const k = key(frame)
      if (seen.has(k)) continue
      seen.add(k)
      inclusive.set(k, (inclusive.get(k) ?? 0) + d)
    }
  }
  const busy = total - (areas.get('idle (waiting for I/O)') ?? 0)
  const pct = (v: number, of: number) => `${((v / of) * 100).toFixed(1).padStart(5)}%`
  const lines = [`window ${(total / 1e6).toFixed(2)} s of the main thread, ${pct(busy, total).trim()} busy`, '', 'by area (share of busy time):']
  for (const [k, v] of [...areas].filter(([k]) => !k.startsWith('idle')).sort((a, b) => b[1] - a[1])) lines.push(`  ${pct(v, busy)}  ${k}`)
  lines.push('', `top ${rows} functions by self time (share of busy time):`)
  for (const [k, v] of [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, rows)) lines.push(`  ${pct(v, busy)}  ${k}`)
  lines.push('', "Latchkey's own functions, inclusive (share of busy time):")
  for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`  ${pct(v, busy)}  ${k}`)
  return lines.join('\n')
}

if (import.meta.main) {
  const [file, windowSeconds, rows] = process.argv.slice(2)
  console.log(summarizeProfile(file, Number(windowSeconds ?? 8), Number(rows ?? 25)))
}
