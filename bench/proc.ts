/**
 * CPU time and memory of processes and of the whole machine, read from /proc (Linux), the
 * same way the Better Auth peer harness reads them, so the two sets of figures compare.
 */
import fs from 'node:fs'

const HZ = 100 // USER_HZ on Linux x86_64

interface Stat {
  ppid: number
  utime: number
  stime: number
  cutime: number
  cstime: number
}

function statOf(pid: number | string): Stat | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return { ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]), cutime: Number(f[13]), cstime: Number(f[14]) }
  } catch {
    return null
  }
}

/** User + system CPU seconds of one process. */
export function cpuOfPid(pid: number): number {
  const st = statOf(pid)
  return st ? (st.utime + st.stime) / HZ : 0
}

/** A PostgreSQL cluster: the postmaster, its live children, and the children it has reaped. */
export function cpuOfTree(rootPid: number | undefined): number {
  if (!rootPid) return 0
  const root = statOf(rootPid)
  if (!root) return 0
  let ticks = root.utime + root.stime + root.cutime + root.cstime
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    const st = statOf(d)
    if (st && st.ppid === rootPid) ticks += st.utime + st.stime
  }
  return ticks / HZ
}

/** Whole machine: busy and stolen CPU-seconds since boot. */
export function machineCpu(): { busy: number; steal: number } {
  const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const [user, nice, system, , , irq, softirq, steal] = v
  return { busy: (user + nice + system + irq + softirq) / HZ, steal: steal / HZ }
}

/** Resident set size in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : NaN
  } catch {
    return NaN
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const n = s.length
  if (n === 0) return NaN
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

export function summarizeLatencies(lat: number[]) {
  const s = Float64Array.from(lat).sort()
  let sum = 0
  for (const v of s) sum += v
  return { p50_ms: percentile(s, 50), p90_ms: percentile(s, 90), p99_ms: percentile(s, 99), max_ms: s.length ? s[s.length - 1] : NaN, mean_ms: s.length ? sum / s.length : NaN }
}
