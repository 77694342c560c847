/**
 * Everything a domain function may need, built once per process: the database, the clock,
 * the mailer, the password hasher, rate limits and config. Domain functions take this plus
 * plain inputs and know nothing of HTTP.
 */
import type { Logger } from 'pino'
import type { Clock } from './clock.ts'
import type { Config } from './config.ts'
import type { Transaction } from 'kysely'
import type { Database, Db, Queryable } from './db/schema.ts'
import type { Mailer } from './mail/mailer.ts'
import type { PasswordHasher } from './passwords/hashing.ts'
import type { RateLimits } from './http/rate-limits.ts'
import type { Captcha } from './recovery/captcha.ts'
import type { EvictionFeed } from './sessions/evictions.ts'
import type { SessionCache } from './sessions/session-cache.ts'

export interface AppContext {
  config: Config
  db: Db
  dialect: 'sqlite' | 'postgres'
  clock: Clock
  log: Logger
  mailer: Mailer
  hasher: PasswordHasher
  limits: RateLimits
  captcha: Captcha
  /** AES-256 key for secrets stored encrypted (TOTP seeds). */
  secretsKey: Buffer
  /** Live sessions by token hash, and the feed that empties it when another process revokes. */
  sessionCache: SessionCache
  evictions: EvictionFeed
}

type AfterCommit = () => Promise<void> | void

/** Work waiting for the commit of each open `inTransaction`, keyed by the transaction object. */
const afterCommitWork = new WeakMap<Transaction<Database>, Map<string, AfterCommit>>()

/**
 * Runs `work` in one transaction; once it has committed, runs the work registered on it with
 * `afterCommit` (evicting cached sessions, ...) and lets the mailer send what it queued. If
 * `work` throws, the transaction rolls back and none of that work runs.
 */
export async function inTransaction<T>(ctx: AppContext, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  const pending = new Map<string, AfterCommit>()
  const result = await ctx.db.transaction().execute((trx) => {
    afterCommitWork.set(trx, pending)
    return work(trx)
  })
  for (const run of pending.values()) {
    try {
      await run()
    } catch (err) {
      // The change is committed; a failed follow-up must not turn it into an error answer.
      ctx.log.error({ err }, 'work after a commit failed')
    }
  }
  ctx.mailer.kick()
  return result
}

/**
 * Runs `run` once `db`'s transaction has committed, or at once when `db` is no transaction (the
 * statement before it has committed by itself). Work with the same `key` runs once per
 * transaction. A transaction not opened with `inTransaction` is refused: its commit could not
 * be seen, and running the work early is the bug this exists to prevent.
 */
export async function afterCommit(db: Queryable, key: string, run: AfterCommit): Promise<void> {
  if (!db.isTransaction) return run()
  const pending = afterCommitWork.get(db as Transaction<Database>)
  if (!pending) throw new Error('afterCommit: open the transaction with inTransaction(ctx, ...)')
  if (!pending.has(key)) pending.set(key, run)
}

/**
 * Listeners one capability offers another without importing it (sessions tell OAuth that
 * sessions ended; accounts ask teams before a deletion). Registered per AppContext when the
 * process is wired (src/app.ts), so two apps in one test process stay apart.
 */
export class Listeners<Args extends unknown[]> {
  readonly #byContext = new WeakMap<AppContext, ((...args: Args) => Promise<void>)[]>()

  add(ctx: AppContext, listener: (...args: Args) => Promise<void>): void {
    const list = this.#byContext.get(ctx)
    if (list) list.push(listener)
    else this.#byContext.set(ctx, [listener])
  }

  /** Calls each listener in turn, in the caller's transaction when it passes one. */
  async notify(ctx: AppContext, ...args: Args): Promise<void> {
    const list = this.#byContext.get(ctx)
    if (list) for (const listener of list) await listener(...args)
  }
}

export function link(ctx: AppContext, pathname: string, fragment?: Record<string, string>): string {
  const url = new URL(pathname, ctx.config.publicUrl)
  // Tokens ride in the fragment: browsers never send it to servers or in Referer headers.
  if (fragment) url.hash = new URLSearchParams(fragment).toString()
  return url.toString()
}
