/**
 * `latchkey backup <file>`: a consistent copy of a running SQLite database.
 *
 * SQLite's `VACUUM INTO` writes the whole database, as of one read transaction, to a new file:
 * in WAL mode that read neither blocks the server's writes nor sees half of one, so the copy is
 * a snapshot of the last commit before it began (and compact, without the WAL). The copy is
 * written beside the target under a temporary name, checked with `PRAGMA integrity_check`, and
 * only then put in place, so a failed or interrupted backup never leaves a file that looks whole.
 *
 * PostgreSQL has its own tool for this (pg_dump takes a consistent snapshot too): the command
 * says how to run it rather than doing it worse.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { dialectOf } from './connect.ts'

export class BackupError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BackupError'
  }
}

export interface BackupResult {
  source: string
  target: string
  bytes: number
}

/** The database URL without its password, fit to print. */
export function withoutPassword(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl)
    url.password = ''
    return url.toString()
  } catch {
    return '<DATABASE_URL>'
  }
}

/** What to run instead on PostgreSQL: pg_dump's custom format, restored with pg_restore. */
export function pgDumpAdvice(databaseUrl: string, target: string): string {
  const url = withoutPassword(databaseUrl)
  return [
    'DATABASE_URL is PostgreSQL: back it up with pg_dump, which takes a consistent snapshot while the server runs:',
    '',
    `    pg_dump --format=custom --no-owner --file='${target}' '${url}'`,
    '',
    '(with PGPASSWORD set, or a ~/.pgpass entry, if the database needs a password), and restore it into an empty database with:',
    '',
    `    pg_restore --no-owner --dbname='<new database URL>' '${target}'`,
  ].join('\n')
}

function quoteSqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}

/** Puts the finished copy at `target`; without `overwrite`, never replaces a file that appeared meanwhile. */
function putInPlace(temporary: string, target: string, overwrite: boolean): void {
  if (overwrite) return fs.renameSync(temporary, target)
  try {
    // link() fails with EEXIST if the target exists: no window between checking and writing.
    fs.linkSync(temporary, target)
    fs.unlinkSync(temporary)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw new BackupError(`${target} already exists; pass --force to replace it.`)
    // A file system without hard links: check, then rename.
    if (fs.existsSync(target)) throw new BackupError(`${target} already exists; pass --force to replace it.`)
    fs.renameSync(temporary, target)
  }
}

export function backupSqlite(databaseUrl: string, targetPath: string, options: { overwrite?: boolean } = {}): BackupResult {
  if (dialectOf(databaseUrl) !== 'sqlite') throw new BackupError(pgDumpAdvice(databaseUrl, targetPath))
  const source = path.resolve(databaseUrl.slice('sqlite:'.length))
  const target = path.resolve(targetPath)
  if (databaseUrl.slice('sqlite:'.length) === ':memory:') throw new BackupError('DATABASE_URL is an in-memory database: there is nothing on disk to back up.')
  if (!fs.existsSync(source)) throw new BackupError(`There is no database at ${source} (DATABASE_URL).`)
  if (target === source || target === `${source}-wal` || target === `${source}-shm`) throw new BackupError('The backup file must not be the database itself.')
  if (!options.overwrite && fs.existsSync(target)) throw new BackupError(`${target} already exists; pass --force to replace it.`)
  if (!fs.existsSync(path.dirname(target))) throw new BackupError(`The folder ${path.dirname(target)} does not exist.`)

  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.partial`)
  try {
    const db = new DatabaseSync(source, { readOnly: true })
    try {
      // The server may hold the write lock for a moment (a checkpoint): wait rather than fail.
      db.exec('PRAGMA busy_timeout = 10000')
      db.exec(`VACUUM INTO ${quoteSqlString(temporary)}`)
    } finally {
      db.close()
    }
    const copy = new DatabaseSync(temporary, { readOnly: true })
    try {
      const result = copy.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]
      if (result.length !== 1 || result[0].integrity_check !== 'ok') throw new BackupError(`The copy failed SQLite's integrity check: ${result.map((r) => r.integrity_check).join('; ')}`)
    } finally {
      copy.close()
    }
    putInPlace(temporary, target, options.overwrite === true)
  } finally {
    fs.rmSync(temporary, { force: true })
  }
  return { source, target, bytes: fs.statSync(target).size }
}
