/**
 * Kysely's SqliteDialect expects a better-sqlite3-shaped database. This adapter gives it
 * Node's built-in `node:sqlite` instead, so Latchkey needs no native compile.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import type { SqliteDatabase, SqliteStatement } from 'kysely'

function toSqlite(value: unknown): SQLInputValue {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value === undefined) return null
  if (value instanceof Date) return value.getTime()
  return value as SQLInputValue
}

class Statement implements SqliteStatement {
  readonly reader: boolean
  #statement: StatementSync
  constructor(statement: StatementSync) {
    this.#statement = statement
    this.reader = statement.columns().length > 0
  }
  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.#statement.all(...parameters.map(toSqlite))
  }
  run(parameters: ReadonlyArray<unknown>): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.#statement.run(...parameters.map(toSqlite))
  }
  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return this.#statement.iterate(...parameters.map(toSqlite)) as IterableIterator<unknown>
  }
}

export interface NodeSqliteDatabase extends SqliteDatabase {
  /** `PRAGMA data_version`: changes when another connection or process commits to the file. */
  dataVersion(): number
}

export function openSqlite(file: string): NodeSqliteDatabase {
  const db = new DatabaseSync(file)
  // WAL lets readers run while a write is in progress; busy_timeout waits out a second
  // process (the CLI) holding the write lock instead of failing at once.
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;')
  // Prepared statements are reused: Kysely asks for the same SQL text on every hot-path call.
  const cache = new Map<string, Statement>()
  const dataVersion = db.prepare('PRAGMA data_version')
  return {
    close: () => db.close(),
    dataVersion: () => Number((dataVersion.get() as { data_version: number }).data_version),
    prepare: (sql: string) => {
      let statement = cache.get(sql)
      if (!statement) {
        statement = new Statement(db.prepare(sql))
        if (cache.size > 500) cache.clear()
        cache.set(sql, statement)
      }
      return statement
    },
  }
}
