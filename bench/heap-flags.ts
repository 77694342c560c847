/**
 * How Node/V8 flags change the server's resident size under sustained load: starts
 * `latchkey serve` (SQLite, production mode) once per flag set, loads GET /api/v1/me with
 * autocannon at 10 connections, and prints req/s, server CPU per request and RSS after the load.
 *   node bench/heap-flags.ts none --max-semi-space-size=16 --max-semi-space-size=16,--heap-growing-percent=0
 * `latchkey serve` sets --heap-growing-percent=50 itself unless the flags name it
 * (`--heap-growing-percent=0` is V8's own heap growth). Env: SECS (load seconds, default 30), ROUNDS (default 1). The full benchmark (`npm run bench`)
 * stays the authority; this isolates one question on a quiet machine.
 */
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { rssMiB } from './proc.ts'

const PORT = Number(process.env.PORT ?? 3197)
const SECS = Number(process.env.SECS ?? 30)
const ROUNDS = Number(process.env.ROUNDS ?? 1)
const flagSets = process.argv.slice(2).map((arg) => (arg === 'none' ? [] : arg.split(',')))
if (!flagSets.length) throw new Error('name at least one flag set, e.g. none --max-semi-space-size=16')
const root = path.resolve(import.meta.dirname, '..')
const base = `http://127.0.0.1:${PORT}`

function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * (1000 / 100)
}

async function post(url: string, body: object): Promise<Response> {
  return fetch(`${base}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

function load(token: string, seconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url: base, connections: 10, duration: seconds, requests: [{ method: 'GET', path: '/api/v1/me', headers: { cookie: `latchkey_session=${token}` } }] }, (err, result) => (err ? reject(err) : resolve(result)))
  })
}

// The server as `npm start` runs it: built (types stripped) into dist/server.
execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'scripts/build-server.ts'], { cwd: root, stdio: 'ignore' })

for (let round = 0; round < ROUNDS; round++) {
  for (const flags of flagSets) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-heap-flags-'))
    const child = spawn(process.execPath, [...flags, 'dist/server/cli/main.js', 'serve'], {
      cwd: root,
      stdio: 'ignore',
      env: { ...process.env, PORT: String(PORT), PUBLIC_URL: base, DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, NODE_ENV: 'production', RATE_LIMIT_SIGNUP_PER_IP_PER_HOUR: '100000', RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '100000' },
    })
    try {
      for (let i = 0; i < 150; i++) {
        if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) break
        await new Promise((r) => setTimeout(r, 200))
      }
      const password = 'correct horse battery staple'
      await post('/api/v1/signup', { email: 'heap@example.com', username: 'heapflags', password, acceptTerms: true })
      const { token } = (await (await post('/api/v1/signin', { login: 'heapflags', password, returnToken: true })).json()) as { token: string }
      await load(token, 2)
      const before = cpuMs(child.pid!)
      const result = await load(token, SECS)
      const served = result['2xx'] + result.non2xx
      const cpu = (cpuMs(child.pid!) - before) / served
      console.log(`${(flags.join(' ') || '(no flags)').padEnd(50)} ${Math.round(served / SECS)} req/s  ${cpu.toFixed(4)} ms CPU/req  RSS ${rssMiB(child.pid!).toFixed(0)} MiB  non-2xx ${result.non2xx}`)
    } finally {
      child.kill()
      await new Promise((r) => child.once('exit', r))
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}
