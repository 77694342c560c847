/**
 * Every storage test runs on SQLite and on PostgreSQL, each test in a database of its own,
 * copied from a template made once per run (migrated, with the server secret and an OAuth
 * signing key, as after a first start) and dropped when the test ends.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export type TestDialect = 'sqlite' | 'postgres'
export const DIALECTS: TestDialect[] = ['sqlite', 'postgres']

export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
/** Set by the global setup (one per run, so parallel runs never share a template). */
export function templateDb(): string {
  const name = process.env.LATCHKEY_TEST_TEMPLATE_DB
  if (!name) throw new Error('LATCHKEY_TEST_TEMPLATE_DB is not set: run the tests through vitest (see test/helpers/global-setup.ts)')
  return name
}

/** The SQLite template file, also made by the global setup. */
function sqliteTemplate(): string {
  const file = process.env.LATCHKEY_TEST_SQLITE_TEMPLATE
  if (!file) throw new Error('LATCHKEY_TEST_SQLITE_TEMPLATE is not set: run the tests through vitest (see test/helpers/global-setup.ts)')
  return file
}

export function postgresUrl(database: string): string {
  const url = new URL(POSTGRES_ADMIN_URL)
  url.pathname = `/${database}`
  return url.toString()
}

export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

export interface TestDatabase {
  url: string
  drop(): Promise<void>
}

export async function createTestDatabase(dialect: TestDialect): Promise<TestDatabase> {
  const name = `lk_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-'))
    const file = path.join(dir, `${name}.db`)
    fs.copyFileSync(sqliteTemplate(), file)
    return { url: `sqlite:${file}`, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) }
  }
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${templateDb()}`)
  return { url: postgresUrl(name), drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}
