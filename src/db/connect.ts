import fs from 'node:fs'
import path from 'node:path'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration'
import pg from 'pg'
import { openSqlite } from './node-sqlite.ts'
import type { Database, Db } from './schema.ts'
import * as m0001 from './migrations/0001_accounts.ts'
import * as m0002 from './migrations/0002_two_factor_passkeys_notifications.ts'
import * as m0003 from './migrations/0003_teams.ts'
import * as m0004 from './migrations/0004_team_invite_links_and_images.ts'
import * as m0005 from './migrations/0005_team_domains_and_join_requests.ts'
import * as m0006 from './migrations/0006_oauth.ts'
import * as m0007 from './migrations/0007_team_profiles.ts'
import * as m0008 from './migrations/0008_device_code_polls.ts'
import * as m0009 from './migrations/0009_sso.ts'
import * as m0010 from './migrations/0010_sso_oidc_issuer.ts'

export type Dialect = 'sqlite' | 'postgres'

export interface DatabaseHandle {
  db: Db
  dialect: Dialect
  close(): Promise<void>
  /** SQLite only: see NodeSqliteDatabase.dataVersion. */
  sqliteDataVersion?: () => number
}

// Migrations are listed here, in order, rather than read from a folder at run time, so a
// packaged install cannot pick up stray files and the order is explicit.
const MIGRATIONS: Record<string, Migration> = {
  '0001_accounts': m0001,
  '0002_two_factor_passkeys_notifications': m0002,
  '0003_teams': m0003,
  '0004_team_invite_links_and_images': m0004,
  '0005_team_domains_and_join_requests': m0005,
  '0006_oauth': m0006,
  '0007_team_profiles': m0007,
  '0008_device_code_polls': m0008,
  '0009_sso': m0009,
  '0010_sso_oidc_issuer': m0010,
}

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS }

export function dialectOf(databaseUrl: string): Dialect {
  return databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres'
}

export function connect(databaseUrl: string, options: { poolSize?: number } = {}): DatabaseHandle {
  if (dialectOf(databaseUrl) === 'sqlite') {
    const file = databaseUrl.slice('sqlite:'.length)
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
    const database = openSqlite(file)
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) })
    return { db, dialect: 'sqlite', close: () => db.destroy(), sqliteDataVersion: () => database.dataVersion() }
  }
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    // A database that does not answer fails the request (503) instead of holding it forever.
    connectionTimeoutMillis: 5000,
    // int8 columns hold epoch milliseconds, well inside Number's exact range.
    types: {
      getTypeParser: (oid: number, format?: 'text' | 'binary') =>
        oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
    },
  })
  // An idle client's network error must not crash the process; the pool replaces the client.
  pool.on('error', () => {})
  // Nor may a checked-out one's: pg-pool listens only while a client is idle, and a connection
  // held between two statements of a transaction when the server goes away (57P01 on a
  // restart) emits 'error' with no listener, which ended the process. The statement that next
  // uses it fails instead (answered 503), and the pool drops it when it is released.
  pool.on('connect', (client) => client.on('error', () => {}))
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return { db, dialect: 'postgres', close: () => db.destroy() }
}

/**
 * Runs every pending migration. Safe to run twice and from several instances at once:
 * Kysely takes an advisory lock on PostgreSQL and a lock table on SQLite.
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

export async function listMigrations(db: Db): Promise<{ name: string; executedAt?: Date }[]> {
  const migrator = new Migrator({ db, provider })
  return (await migrator.getMigrations()).map((m) => ({ name: m.name, executedAt: m.executedAt }))
}

/**
 * The database as a person can check it: a SQLite file's full path, a PostgreSQL URL without
 * its password.
 */
export function describeDatabase(databaseUrl: string): string {
  if (databaseUrl.startsWith('sqlite:')) return `sqlite:${path.resolve(databaseUrl.slice('sqlite:'.length))}`
  try {
    const url = new URL(databaseUrl)
    if (url.password) url.password = '***'
    return url.toString()
  } catch {
    return databaseUrl
  }
}
