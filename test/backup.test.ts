/**
 * `latchkey backup`: the real command, as its own process, copying the SQLite database of a
 * server that keeps writing; then a server started on the copy signs in an account made before
 * the backup. And the refusals: an existing file (unless --force), and PostgreSQL (pg_dump).
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createApp } from '../src/app.ts'
import { ManualClock } from '../src/clock.ts'
import { loadConfig } from '../src/config.ts'
import { person, signedUpUser, testApp, testEnvironment } from './helpers/app.ts'
import { freePort } from './helpers/web.ts'
import type { ConfirmationSent } from '../src/accounts/schemas.ts'

const BIN = path.resolve(import.meta.dirname, '../bin/latchkey.js')

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

function latchkey(args: string[], env: Record<string, string>): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', BIN, ...args], { env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

function scratchDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-backup-'))
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('latchkey backup on SQLite', () => {
  it('copies the database while the server writes; a server started on the copy signs in an account made before', { timeout: 120_000 }, async () => {
    const t = await testApp('sqlite', { RATE_LIMIT_SIGNUP_PER_IP_PER_HOUR: '100000' })
    const databaseUrl = t.app.ctx.config.databaseUrl
    const ada = await signedUpUser(t)
    const dir = scratchDir()
    const copy = path.join(dir, 'latchkey-backup.db')

    // Sign-ups (each several rows in one transaction) without pause until the backup is done.
    let backupRunning = true
    let writesDuringBackup = 0
    let backupStartedAt = 0
    const writer = (async () => {
      const client = t.client()
      while (backupRunning) {
        const res = await client.post<ConfirmationSent>('/api/v1/signup', { ...person('writer'), acceptTerms: true })
        if (res.status !== 202) throw new Error(`sign-up failed during the backup: ${JSON.stringify(res.body)}`)
        if (backupStartedAt) writesDuringBackup++
      }
    })()
    backupStartedAt = Date.now()
    const backup = await latchkey(['backup', copy], { DATABASE_URL: databaseUrl })
    backupRunning = false
    await writer
    console.log(`backup took ${Date.now() - backupStartedAt} ms; ${writesDuringBackup} sign-ups committed meanwhile`)
    expect(backup.stderr).toBe('')
    expect(backup.code).toBe(0)
    expect(backup.stdout).toMatch(/^Backed up .+ to .+latchkey-backup\.db \(\d+ bytes; integrity checked\)\.\n$/)
    expect(writesDuringBackup).toBeGreaterThan(0)
    expect(fs.readdirSync(dir)).toEqual(['latchkey-backup.db'])

    // A snapshot: whole, every reference resolves, and nothing that was not in the live database.
    const snapshot = new DatabaseSync(copy, { readOnly: true })
    const copied = snapshot.prepare('SELECT email FROM accounts').all().map((r) => String(r.email))
    expect(snapshot.prepare('PRAGMA integrity_check').all()).toEqual([{ integrity_check: 'ok' }])
    expect(snapshot.prepare('PRAGMA foreign_key_check').all()).toEqual([])
    snapshot.close()
    const live = (await t.app.ctx.db.selectFrom('accounts').select('email').execute()).map((r) => r.email)
    expect(copied).toContain(ada.email)
    for (const email of copied) expect(live).toContain(email)

    // Restore: a server on the copy, over a real socket.
    // Its PUBLIC_URL is the socket's address: the server answers at PUBLIC_URL only.
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const restored = await createApp(loadConfig(testEnvironment(`sqlite:${copy}`, t.smtp.url, { PUBLIC_URL: base })), { clock: new ManualClock(t.clock.now()) })
    onTestFinished(() => restored.close())
    await restored.server.listen({ port, host: '127.0.0.1' })
    const signin = await fetch(`${base}/api/v1/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ login: ada.email, password: ada.password, returnToken: true }),
    })
    const body = (await signin.json()) as { token?: string; account?: { username: string } }
    expect(signin.status, JSON.stringify(body)).toBe(200)
    expect(body.account?.username).toBe(ada.username)
    const me = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${body.token}` } })
    expect(me.status).toBe(200)
    expect(((await me.json()) as { email: string }).email).toBe(ada.email)
  })

  it('refuses to replace an existing file unless told to with --force', { timeout: 60_000 }, async () => {
    const t = await testApp('sqlite')
    const ada = await signedUpUser(t)
    const dir = scratchDir()
    const existing = path.join(dir, 'yesterday.db')
    fs.writeFileSync(existing, 'an older backup')
    const env = { DATABASE_URL: t.app.ctx.config.databaseUrl }

    const refused = await latchkey(['backup', existing], env)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toBe(`${existing} already exists; pass --force to replace it.\n`)
    expect(fs.readFileSync(existing, 'utf8')).toBe('an older backup')

    const replaced = await latchkey(['backup', existing, '--force'], env)
    expect(replaced.code, replaced.stderr).toBe(0)
    const copy = new DatabaseSync(existing, { readOnly: true })
    expect(copy.prepare('SELECT username FROM accounts WHERE email = ?').get(ada.email)).toEqual({ username: ada.username })
    copy.close()
    expect(fs.readdirSync(dir)).toEqual(['yesterday.db'])
  })

  it('on PostgreSQL, copies nothing and gives the pg_dump command, without the password', async () => {
    const dir = scratchDir()
    const target = path.join(dir, 'latchkey.dump')
    const result = await latchkey(['backup', target], { DATABASE_URL: 'postgres://latchkey:s3cret-pw@db.internal:5432/latchkey' })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('DATABASE_URL is PostgreSQL: back it up with pg_dump')
    expect(result.stderr).toContain(`pg_dump --format=custom --no-owner --file='${target}' 'postgres://latchkey@db.internal:5432/latchkey'`)
    expect(result.stderr).toContain('pg_restore --no-owner')
    expect(result.stderr).not.toContain('s3cret-pw')
    expect(fs.readdirSync(dir)).toEqual([])
  })
})
