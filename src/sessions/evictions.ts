/**
 * How a session revocation made in one process reaches the session cache of every other
 * process that serves requests (ARCHITECTURE "The hot path", step 5). One feed per process,
 * chosen the same way everywhere from the configuration, so the operator CLI (a separate
 * process) publishes where the servers listen:
 *
 * - REDIS_URL set: Redis pub/sub, the channel every instance subscribes to.
 * - PostgreSQL without Redis: the database's own LISTEN/NOTIFY, so the CLI (and a second
 *   instance) is heard without any other service.
 * - SQLite without Redis: one host, one file. Before a cached answer the server asks SQLite
 *   for `PRAGMA data_version`, which changes when another process (the CLI) commits, and
 *   then drops the whole cache. The process's own writes do not move it.
 *
 * A feed that is not connected says so (`canServeFromCache()` is false), the cache is
 * emptied, and every request reads the database until the feed is back: an eviction lost
 * while disconnected can then do no harm.
 */
import type { Redis } from 'ioredis'
import { sql } from 'kysely'
import pg from 'pg'
import type { Logger } from 'pino'
import { newId } from '../crypto.ts'
import type { Db } from '../db/schema.ts'
import type { SessionCache } from './session-cache.ts'

/** Redis channel and PostgreSQL notification channel alike. */
export const EVICTION_CHANNEL = 'latchkey_session_evictions'
const RECONNECT_DELAY_MS = 1000
/** The longest the shared Redis client waits between reconnect attempts (app.ts sets it). */
export const REDIS_RECONNECT_MAX_DELAY_MS = 500
/**
 * After Redis returns, how long a resubscribed instance still reads every session from the
 * database. Each connection reconnects on its own schedule: this instance may hear the channel
 * again while another instance's publishing connection is still waiting for its next attempt
 * (up to REDIS_RECONNECT_MAX_DELAY_MS). A revocation made there in that gap reaches this
 * instance only when that connection is back, so trusting the cache at once could accept a
 * revoked session for that long. Waiting out every other connection's reconnect closes the gap.
 */
export const REDIS_RESUBSCRIBE_SETTLE_MS = 4 * REDIS_RECONNECT_MAX_DELAY_MS

interface EvictionMessage {
  /** The sending process, which has already evicted locally. */
  from: string
  accounts: string[]
}

export interface EvictionFeed {
  /** Tells every other process to drop what it cached for these accounts. Never throws. */
  publish(accountIds: string[]): Promise<void>
  /** Starts hearing other processes' evictions (servers only; the CLI only publishes). */
  start(): Promise<void>
  /** True while every eviction made elsewhere reaches this process. Called on every cached read. */
  canServeFromCache(): boolean
  close(): Promise<void>
}

abstract class MessageFeed implements EvictionFeed {
  protected readonly instanceId = newId()
  protected readonly cache: SessionCache
  protected readonly log: Logger
  protected live = false
  protected closed = false

  constructor(cache: SessionCache, log: Logger) {
    this.cache = cache
    this.log = log
  }

  abstract start(): Promise<void>
  abstract close(): Promise<void>
  protected abstract send(payload: string): Promise<unknown>

  canServeFromCache(): boolean {
    return this.live
  }

  async publish(accountIds: string[]): Promise<void> {
    if (accountIds.length === 0) return
    const message: EvictionMessage = { from: this.instanceId, accounts: accountIds }
    try {
      await this.send(JSON.stringify(message))
    } catch (err) {
      // The change is committed; what is left is other instances' caches, which forget it
      // within SESSION_CACHE_TTL_SECONDS at most.
      this.log.error({ err, accounts: accountIds.length }, 'could not publish a session eviction; other instances may accept the old sessions until their cache entries expire')
    }
  }

  protected receive(payload: string): void {
    let message: EvictionMessage
    try {
      message = JSON.parse(payload) as EvictionMessage
    } catch {
      return
    }
    if (message.from === this.instanceId || !Array.isArray(message.accounts)) return
    this.cache.evictAccounts(message.accounts)
  }

  /** Connected and subscribed: start from an empty cache, since messages may have been missed. */
  protected up(): void {
    this.cache.clear()
    if (!this.live) this.log.info('session eviction feed connected')
    this.live = true
  }

  protected down(reason: string): void {
    this.cache.clear()
    if (this.live) this.log.warn({ reason }, 'session eviction feed disconnected: sessions are read from the database until it is back')
    this.live = false
  }
}

class RedisFeed extends MessageFeed {
  readonly #publisher: Redis
  #subscriber?: Redis
  #settling?: NodeJS.Timeout

  constructor(redis: Redis, cache: SessionCache, log: Logger) {
    super(cache, log)
    this.#publisher = redis
  }

  protected send(payload: string): Promise<number> {
    return this.#publisher.publish(EVICTION_CHANNEL, payload)
  }

  async start(): Promise<void> {
    const subscriber = this.#publisher.duplicate()
    this.#subscriber = subscriber
    subscriber.on('error', (err) => this.log.warn({ err: err.message }, 'redis subscriber error'))
    subscriber.on('message', (_channel: string, payload: string) => this.receive(payload))
    subscriber.on('close', () => {
      clearTimeout(this.#settling)
      this.down('redis connection closed')
    })
    // ioredis subscribes again by itself after a reconnect, without telling when it is done;
    // subscribing here too (idempotent) gives a reply to wait for. Then the cache stays unused
    // until every other instance's publisher has had time to reconnect too (see
    // REDIS_RESUBSCRIBE_SETTLE_MS); up() empties it again at the end of that wait.
    subscriber.on('ready', () => {
      if (this.live || this.closed) return
      subscriber.subscribe(EVICTION_CHANNEL).then(
        () => {
          clearTimeout(this.#settling)
          this.#settling = setTimeout(() => {
            if (!this.closed && subscriber.status === 'ready') this.up()
          }, REDIS_RESUBSCRIBE_SETTLE_MS)
        },
        (err) => this.log.warn({ err: err.message }, 'redis subscribe failed'),
      )
    })
    try {
      await subscriber.subscribe(EVICTION_CHANNEL)
      this.up()
    } catch (err) {
      // Redis is down at start-up: serve from the database; 'ready' brings the cache in later.
      this.log.warn({ err: (err as Error).message }, 'redis subscribe failed')
    }
  }

  async close(): Promise<void> {
    this.closed = true
    this.live = false
    clearTimeout(this.#settling)
    this.#subscriber?.disconnect()
  }
}

class PostgresFeed extends MessageFeed {
  readonly #db: Db
  readonly #databaseUrl: string
  #client?: pg.Client
  #retry?: NodeJS.Timeout

  constructor(databaseUrl: string, db: Db, cache: SessionCache, log: Logger) {
    super(cache, log)
    this.#databaseUrl = databaseUrl
    this.#db = db
  }

  protected send(payload: string): Promise<unknown> {
    return sql`select pg_notify(${EVICTION_CHANNEL}, ${payload})`.execute(this.#db)
  }

  async start(): Promise<void> {
    await this.#listen()
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#databaseUrl })
    this.#client = client
    let lost = false
    const onLost = (reason: string) => {
      if (lost) return
      lost = true
      this.down(reason)
      client.end().catch(() => {})
      if (!this.closed) this.#retry = setTimeout(() => void this.#listen().catch(() => {}), RECONNECT_DELAY_MS)
    }
    client.on('error', (err) => onLost(err.message))
    client.on('end', () => onLost('connection ended'))
    client.on('notification', (n) => {
      if (n.channel === EVICTION_CHANNEL && n.payload) this.receive(n.payload)
    })
    try {
      await client.connect()
      await client.query(`LISTEN ${EVICTION_CHANNEL}`)
    } catch (err) {
      onLost((err as Error).message)
      throw err
    }
    if (!lost) this.up()
  }

  async close(): Promise<void> {
    this.closed = true
    this.live = false
    clearTimeout(this.#retry)
    await this.#client?.end().catch(() => {})
  }
}

class SqliteFeed implements EvictionFeed {
  readonly #dataVersion: () => number
  readonly #cache: SessionCache
  #seen: number | undefined

  constructor(dataVersion: () => number, cache: SessionCache) {
    this.#dataVersion = dataVersion
    this.#cache = cache
  }

  // Other processes' commits are seen through data_version; nothing to send.
  async publish(): Promise<void> {}

  async start(): Promise<void> {
    this.#seen = this.#dataVersion()
  }

  canServeFromCache(): boolean {
    if (this.#seen === undefined) return false
    const version = this.#dataVersion()
    if (version !== this.#seen) {
      this.#seen = version
      this.#cache.clear()
    }
    return true
  }

  async close(): Promise<void> {
    this.#seen = undefined
  }
}

export function evictionFeed(options: {
  cache: SessionCache
  log: Logger
  db: Db
  databaseUrl: string
  redis?: Redis
  sqliteDataVersion?: () => number
}): EvictionFeed {
  if (options.redis) return new RedisFeed(options.redis, options.cache, options.log)
  if (options.sqliteDataVersion) return new SqliteFeed(options.sqliteDataVersion, options.cache)
  return new PostgresFeed(options.databaseUrl, options.db, options.cache, options.log)
}
