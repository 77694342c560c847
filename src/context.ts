/**
 * Everything a domain function may need, built once per process: the database, the clock,
 * the mailer, the password hasher, rate limits and config. Domain functions take this plus
 * plain inputs and know nothing of HTTP.
 */
import type { Logger } from 'pino'
import type { Clock } from './clock.ts'
import type { Config } from './config.ts'
import type { Transaction } from 'kysely'
import type { Database, Db } from './db/schema.ts'
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

/** Runs `work` in one transaction, then lets the mailer send what the transaction queued. */
export async function inTransaction<T>(ctx: AppContext, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  const result = await ctx.db.transaction().execute(work)
  ctx.mailer.kick()
  return result
}

export function link(ctx: AppContext, pathname: string, fragment?: Record<string, string>): string {
  const url = new URL(pathname, ctx.config.publicUrl)
  // Tokens ride in the fragment: browsers never send it to servers or in Referer headers.
  if (fragment) url.hash = new URLSearchParams(fragment).toString()
  return url.toString()
}
