/**
 * What a person meets running the CLI for the first time from a checkout: the command on the
 * system's older Node, `latchkey login` with no server, and which database `mail list` reads.
 * Each runs the real command as a process.
 */
import { execFile, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/databases.ts'
import { describeDatabase } from '../db/connect.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BIN = path.join(ROOT, 'bin/latchkey.js')

interface Run { code: number | null; stdout: string; stderr: string }

function run(node: string, args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(node, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr })
    })
  })
}

/** The machine's own `node` when it is older than 24 (the trap); undefined when there is none. */
function olderSystemNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!fs.existsSync(candidate)) continue
    const version = execFileVersion(candidate)
    if (version && Number(version.slice(1).split('.')[0]) < 24) return candidate
  }
  return undefined
}

function execFileVersion(node: string): string | undefined {
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  } catch {
    return undefined
  }
}

const oldNode = olderSystemNode()

describe('bin/latchkey.js on an older Node', () => {
  // This machine's system node is 20; where there is no older node there is no trap to test.
  it.skipIf(!oldNode)('hands over to the project\'s Node 24 from node_modules and runs the command', async () => {
    const result = await run(oldNode!, [BIN, '--version'])
    expect(result).toMatchObject({ code: 0, stdout: '0.1.0\n' })
  })

  it.skipIf(!oldNode)('says in one line which Node it needs and how, when the project has none', async () => {
    // A copy of the command outside the checkout: no node_modules beside it.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-bin-'))
    try {
      fs.mkdirSync(path.join(dir, 'bin'))
      fs.copyFileSync(BIN, path.join(dir, 'bin/latchkey.js'))
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
      const result = await run(oldNode!, [path.join(dir, 'bin/latchkey.js'), '--version'])
      expect(result.code).toBe(1)
      expect(result.stdout).toBe('')
      expect(result.stderr.trim().split('\n')).toEqual([
        `latchkey needs Node.js 24 or newer (this is ${execFileVersion(oldNode!)}): run \`npx latchkey\` in the project after \`npm ci\` (it brings Node.js 24), or install Node.js 24.`,
      ])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('runs directly on Node 24', async () => {
    expect(await run(process.execPath, [BIN, '--version'])).toMatchObject({ code: 0, stdout: '0.1.0\n' })
  })
})

describe('latchkey login without --server', () => {
  it('says how to name the server, with the address a checkout serves', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-home-'))
    try {
      const result = await run(process.execPath, [BIN, 'login'], { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), LATCHKEY_SERVER: undefined })
      expect(result.code).toBe(2)
      expect(result.stderr).toContain('Which Latchkey server?')
      expect(result.stderr).toContain('`latchkey login --server http://localhost:3000` for the server `npm start` runs on this computer')
      expect(result.stderr).toContain('LATCHKEY_SERVER')
    } finally {
      fs.rmSync(home, { recursive: true, force: true })
    }
  })
})

describe('describeDatabase', () => {
  it('gives a SQLite file its full path and hides a PostgreSQL password', () => {
    expect(describeDatabase('sqlite:data/latchkey.db')).toBe(`sqlite:${path.resolve('data/latchkey.db')}`)
    expect(describeDatabase('postgres://latchkey:s3cret@db:5432/latchkey')).toBe('postgres://latchkey:***@db:5432/latchkey')
    expect(describeDatabase('postgres://postgres@127.0.0.1:5432/postgres')).toBe('postgres://postgres@127.0.0.1:5432/postgres')
  })
})

describe.each(DIALECTS)('mail list on %s', (dialect) => {
  let database: TestDatabase | undefined
  afterEach(async () => {
    await database?.drop()
    database = undefined
  })

  it('reads the database DATABASE_URL names, as the server does, and says which', async () => {
    database = await createTestDatabase(dialect)
    const result = await run(process.execPath, [BIN, 'mail', 'list'], { DATABASE_URL: database.url })
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('The outbox is empty.\n')
    expect(result.stderr).toBe(`Reading the mail outbox in ${describeDatabase(database.url)} (from DATABASE_URL).\n`)
  })
})

describe('mail list without DATABASE_URL', () => {
  it('says it reads the default SQLite file and how to read the server\'s database instead', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cwd-'))
    try {
      const result = await new Promise<Run>((resolve) => {
        execFile(process.execPath, [BIN, 'mail', 'list'], { cwd: dir, env: { ...process.env, DATABASE_URL: undefined }, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr })
        })
      })
      expect(result.code).toBe(0)
      expect(result.stderr).toBe(`Reading the mail outbox in sqlite:${path.join(fs.realpathSync(dir), 'data/latchkey.db')} (the default: DATABASE_URL is not set; set it as for the server to read the server's database).\n`)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
