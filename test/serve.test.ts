/**
 * What a person sees when starting `latchkey serve` from the README: the address to open is
 * PUBLIC_URL (not the socket it bound), every log line is JSON for log collectors, a terminal
 * also gets one plain line, and a busy port is one sentence, not a stack trace.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from './helpers/web.ts'

const root = path.resolve(import.meta.dirname, '..')
const main = path.join(root, 'src/cli/main.ts')
const NODE_ARGS = ['--disable-warning=ExperimentalWarning', main, 'serve']

interface Started {
  child: ChildProcess
  output: () => string
  port: number
}

/** Every server started, so a start-up that times out still leaves no process behind. */
const started: ChildProcess[] = []

/** Starts `latchkey serve` on a fresh SQLite file, bound to 127.0.0.1 with PUBLIC_URL at localhost. */
async function serve(dir: string, port: number): Promise<Started> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `sqlite:${path.join(dir, 'serve.db')}` }
  delete env.PUBLIC_URL
  delete env.SMTP_URL
  const child = spawn(process.execPath, NODE_ARGS, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  started.push(child)
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  for (;;) {
    if (child.exitCode !== null) throw new Error(`latchkey serve exited with ${child.exitCode}:\n${output}`)
    if (output.includes('Latchkey is running')) return { child, output: () => output, port }
    await new Promise((r) => setTimeout(r, 100))
  }
}

function run(args: string[], env: Record<string, string | undefined>): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(args[0], args.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })
}

describe('latchkey serve, started as the README says', () => {
  let dir: string
  let server: Started

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-serve-'))
    server = await serve(dir, await freePort())
  })

  afterAll(async () => {
    for (const child of started) {
      if (child.exitCode !== null || child.signalCode !== null) continue
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    }
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('logs PUBLIC_URL as the address to open, in JSON', () => {
    const lines = server.output().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    const running = lines.find((line) => String(line.msg).startsWith('Latchkey is running'))
    expect(running).toMatchObject({ msg: `Latchkey is running: open http://localhost:${server.port}`, publicUrl: `http://localhost:${server.port}`, address: `http://127.0.0.1:${server.port}` })
    // Fastify's own line names the socket: it must not read as the address to open.
    const bound = lines.find((line) => String(line.msg).includes('127.0.0.1'))
    expect(bound?.msg).toContain(`the app answers at PUBLIC_URL http://localhost:${server.port} only`)
  })

  it('writes only JSON lines when stdout is not a terminal', () => {
    for (const line of server.output().trim().split('\n')) expect(() => JSON.parse(line), line).not.toThrow()
  })

  it('redirects a page opened at the bound address to PUBLIC_URL', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/signup?from=log`, { headers: { accept: 'text/html' }, redirect: 'manual' })
    expect(res.status).toBe(307)
    expect(res.headers.get('location')).toBe(`http://localhost:${server.port}/signup?from=log`)
    const page = await fetch(res.headers.get('location')!, { headers: { accept: 'text/html' } })
    expect(page.status).toBe(200)
  })

  it('answers the site root with the app to any client, and an unknown API-ish path with the JSON 404', async () => {
    const root = await fetch(`http://localhost:${server.port}/`, { headers: { accept: '*/*' } })
    expect(root.status).toBe(200)
    expect(root.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await root.text()).toContain('<div id="root">')
    const typo = await fetch(`http://localhost:${server.port}/no-such-thing`, { headers: { accept: '*/*' } })
    expect(typo.status).toBe(404)
    expect(await typo.json()).toMatchObject({ error: { code: 'not_found' } })
  })

  it('says that a port in use is in use, in one line, and exits 1', async () => {
    const second = await run([process.execPath, ...NODE_ARGS], { PORT: String(server.port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATABASE_URL: `sqlite:${path.join(dir, 'second.db')}`, PUBLIC_URL: undefined })
    expect(second.status).toBe(1)
    expect(second.stderr.trim()).toBe(`Cannot start: port ${server.port} on 127.0.0.1 is already in use (another Latchkey, or another program). Stop it, or pick another port with PORT (and change PUBLIC_URL to match if you set it).`)
  })

  it('prints a plain line with the address to open when stdout is a terminal', async () => {
    const port = await freePort()
    // util-linux `script` gives the server a pseudo-terminal; the group is ended once the line shows.
    const command = [process.execPath, ...NODE_ARGS].map((arg) => `'${arg}'`).join(' ')
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', DATABASE_URL: `sqlite:${path.join(dir, 'tty.db')}` }
    delete env.PUBLIC_URL
    delete env.SMTP_URL
    const terminal = spawn('script', ['-qefc', command, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let output = ''
    terminal.stdout!.on('data', (d) => (output += d))
    try {
      const line = new RegExp(`^Latchkey is running: open http://localhost:${port}\\r?$`, 'm')
      while (!line.test(output)) {
        if (terminal.exitCode !== null) throw new Error(`exited with ${terminal.exitCode}:\n${output}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    } finally {
      process.kill(-terminal.pid!, 'SIGTERM')
    }
  })
})
