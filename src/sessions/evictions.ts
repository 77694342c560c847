/**
 * How a session revocation made in one process reaches the session cache of every other
 * process that serves requests (ARCHITECTURE "The hot path", step 5). One feed per process,
 * chosen the same way everywhere from the configuration, so the operator CLI (a separate
 * process) publishes where the servers listen:
 *
 * - REDIS_URL set: Redis pub/sub, the channel every instance subscribes to. The revoking
 *   instance answers only once every instance that received the eviction has acknowledged it
 *   (see RedisFeed): a revoked session fails on its very next request, on any instance.
 * - PostgreSQL without Redis: the database's own LISTEN/NOTIFY, so the CLI (and a second
 *   instance) is heard without any other service. Not acknowledged (NOTIFY does not say who
 *   listens): another instance drops its copy milliseconds after the revocation is answered,
 *   not before. Several instances should run with Redis (README, "Running several instances").
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
/** How often a server's subscriber connection proves that it still hears the channel (PING). */
export const REDIS_PING_INTERVAL_MS = 200
/**
 * How long a PING's answer lets a server answer from its cache, counted from when the PING was
 * sent. An instance that stops hearing Redis (stalled, cut off without the connection closing)
 * stops trusting its cache this long after its last answered PING.
 */
export const REDIS_CACHE_LEASE_MS = 1000
/**
 * The longest a revocation waits for the acknowledgements of the instances that received it:
 * past that, every silent instance's lease has run out (see RedisFeed), so none of them can
 * answer the revoked session from its cache any more. The margin covers timer lateness.
 */
export const EVICTION_ACK_WAIT_MS = REDIS_CACHE_LEASE_MS + 200

interface EvictionMessage {
  /** The sending process, which has already evicted locally. */
  from: string
  accounts: string[]
  /** Set when the sender waits for acknowledgements (Redis), sent back to `from` with this id. */
  id?: string
}

/** A receiver's answer to an eviction, on the sender's own acknowledgement channel. */
interface EvictionAck {
  id: string
  /** The acknowledging process: each one counts once. */
  by: string
}

/** Where the process `instanceId` hears the acknowledgements of its evictions. */
function ackChannel(instanceId: string): string {
  return `${EVICTION_CHANNEL}:ack:${instanceId}`
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

  /** Applies another process's eviction; returns the message (for its acknowledgement), or undefined for garbage. */
  protected receive(payload: string): EvictionMessage | undefined {
    let message: EvictionMessage
    try {
      message = JSON.parse(payload) as EvictionMessage
    } catch {
      return undefined
    }
    if (typeof message?.from !== 'string' || !Array.isArray(message.accounts)) return undefined
    if (message.from !== this.instanceId) this.cache.evictAccounts(message.accounts)
    return message
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

/**
 * Evictions over Redis pub/sub, acknowledged. Why: Redis answers the revoking instance's PUBLISH
 * while the message may still be on its way to the others (Redis writes its reply to the
 * publisher and the message to each subscriber one after the other, and a busy receiver may
 * read an HTTP request before the Redis socket). The revocation's answer could then reach the
 * client, and the client's next request reach another instance, before that instance had
 * dropped its cached copy: it accepted the revoked session once, in 1 round in 20 to 1 in 200
 * in the cluster suite (test/cluster/balancer.test.ts). So:
 *
 * 1. The sender publishes the eviction with an id. PUBLISH returns how many subscriptions
 *    received it, counted by Redis at that moment: that is how many acknowledgements to wait for.
 * 2. Every receiver (the sender's own subscriber included) drops the account's entries, then
 *    publishes an acknowledgement on the sender's channel. Requests it reads after that miss
 *    the cache and find the row gone.
 * 3. The sender answers the revocation once all have acknowledged: the next request, on any
 *    instance, is refused.
 *
 * A receiver that does not acknowledge (stalled, cut off, a stray `redis-cli SUBSCRIBE`) must not
 * hold revocations forever, nor be trusted: the wait ends after EVICTION_ACK_WAIT_MS, and by then
 * it cannot answer from its cache either. Each server PINGs on its subscriber connection every
 * REDIS_PING_INTERVAL_MS and answers from its cache only within REDIS_CACHE_LEASE_MS of the
 * sending of its last answered PING. Redis answers a connection in order: a PONG arrives after
 * every message published before that PING was processed. So a server that has not read the
 * eviction holds a lease from a PING sent before the PUBLISH, which ends within
 * REDIS_CACHE_LEASE_MS of it, before the sender stops waiting. Revocations are rare and checks
 * constant: the checks pay one comparison with the monotonic clock, the revocation a few
 * Redis round trips.
 */
class RedisFeed extends MessageFeed {
  readonly #publisher: Redis
  #subscriber?: Redis
  /** The CLI's subscription to its acknowledgement channel (a server's is made by start()). */
  #ackSubscription?: Promise<unknown>
  #settling?: NodeJS.Timeout
  #pinger?: NodeJS.Timeout
  #pinging = false
  /** performance.now() until which answered PINGs vouch for this instance hearing every eviction. */
  #leaseUntil = 0
  /** Bumped when the subscriber connection closes: a PONG from before then vouches for nothing. */
  #connection = 0
  readonly #awaiting = new Map<string, { acked: Set<string>; expected: number; done: () => void }>()

  constructor(redis: Redis, cache: SessionCache, log: Logger) {
    super(cache, log)
    this.#publisher = redis
  }

  protected send(payload: string): Promise<number> {
    return this.#publisher.publish(EVICTION_CHANNEL, payload)
  }

  // The lease is real elapsed time between network events, not the application's (injectable)
  // clock: a test's frozen clock must not keep a stalled feed trusted, nor end a live one's lease.
  override canServeFromCache(): boolean {
    return this.live && performance.now() < this.#leaseUntil
  }

  override async publish(accountIds: string[]): Promise<void> {
    if (accountIds.length === 0) return
    const id = newId()
    let done!: () => void
    const allAcked = new Promise<void>((resolve) => (done = resolve))
    const waiting = { acked: new Set<string>(), expected: Infinity, done }
    // Registered before publishing: an acknowledgement may arrive before PUBLISH's own reply.
    this.#awaiting.set(id, waiting)
    let timer: NodeJS.Timeout | undefined
    try {
      await this.#listeningForAcks()
      const message: EvictionMessage = { id, from: this.instanceId, accounts: accountIds }
      waiting.expected = await this.send(JSON.stringify(message))
      if (waiting.acked.size >= waiting.expected) return
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, EVICTION_ACK_WAIT_MS, true)))
      if (await Promise.race([allAcked.then(() => false), timedOut])) {
        this.log.warn({ expected: waiting.expected, acknowledged: waiting.acked.size, waitedMs: EVICTION_ACK_WAIT_MS }, 'not every instance acknowledged a session eviction; waited until their cache leases ran out')
      }
    } catch (err) {
      // The change is committed; what is left is other instances' caches, which forget it
      // within SESSION_CACHE_TTL_SECONDS at most.
      this.log.error({ err, accounts: accountIds.length }, 'could not publish a session eviction; other instances may accept the old sessions until their cache entries expire')
    } finally {
      clearTimeout(timer)
      this.#awaiting.delete(id)
    }
  }

  #heard(channel: string, payload: string): void {
    if (channel === EVICTION_CHANNEL) {
      const message = this.receive(payload)
      // Evicted above, synchronously: whatever this process reads after the acknowledgement
      // leaves finds the cache without the account.
      if (message?.id) {
        const ack: EvictionAck = { id: message.id, by: this.instanceId }
        this.#publisher.publish(ackChannel(message.from), JSON.stringify(ack)).catch((err) => this.log.warn({ err: err.message }, 'could not acknowledge a session eviction'))
      }
      return
    }
    let ack: EvictionAck
    try {
      ack = JSON.parse(payload) as EvictionAck
    } catch {
      return
    }
    const waiting = this.#awaiting.get(ack?.id)
    if (!waiting || typeof ack.by !== 'string') return
    waiting.acked.add(ack.by)
    if (waiting.acked.size >= waiting.expected) waiting.done()
  }

  /** The connection this process hears the channels on (made once). */
  #connect(): Redis {
    const subscriber = this.#publisher.duplicate()
    this.#subscriber = subscriber
    subscriber.on('error', (err) => this.log.warn({ err: err.message }, 'redis subscriber error'))
    subscriber.on('message', (channel: string, payload: string) => this.#heard(channel, payload))
    return subscriber
  }

  /**
   * A server hears acknowledgements on the connection start() subscribed (if that failed, its
   * evictions wait out EVICTION_ACK_WAIT_MS: safe, only slower). The CLI, which never starts the
   * feed, subscribes before its first eviction, and again after a failure.
   */
  async #listeningForAcks(): Promise<void> {
    if (!this.#subscriber) {
      const subscriber = this.#connect()
      this.#ackSubscription = subscriber.subscribe(ackChannel(this.instanceId)).catch((err: unknown) => {
        subscriber.disconnect()
        this.#subscriber = undefined
        throw err
      })
    }
    await this.#ackSubscription
  }

  async start(): Promise<void> {
    const subscriber = this.#connect()
    subscriber.on('close', () => {
      this.#connection++
      clearTimeout(this.#settling)
      this.down('redis connection closed')
    })
    // ioredis subscribes again by itself after a reconnect, without telling when it is done;
    // subscribing here too (idempotent) gives a reply to wait for. Then the cache stays unused
    // until every other instance's publisher has had time to reconnect too (see
    // REDIS_RESUBSCRIBE_SETTLE_MS); up() empties it again at the end of that wait.
    subscriber.on('ready', () => {
      if (this.live || this.closed) return
      subscriber.subscribe(EVICTION_CHANNEL, ackChannel(this.instanceId)).then(
        () => {
          clearTimeout(this.#settling)
          this.#settling = setTimeout(() => {
            if (!this.closed && subscriber.status === 'ready') this.up()
          }, REDIS_RESUBSCRIBE_SETTLE_MS)
        },
        (err) => this.log.warn({ err: err.message }, 'redis subscribe failed'),
      )
    })
    this.#pinger = setInterval(() => void this.#ping(subscriber), REDIS_PING_INTERVAL_MS)
    this.#pinger.unref()
    try {
      await subscriber.subscribe(EVICTION_CHANNEL, ackChannel(this.instanceId))
      // The first lease, so the cache is usable from the first request.
      await this.#ping(subscriber)
      this.up()
    } catch (err) {
      // Redis is down at start-up: serve from the database; 'ready' brings the cache in later.
      this.log.warn({ err: (err as Error).message }, 'redis subscribe failed')
    }
  }

  /** One PING at a time; its answer extends the lease from when it was sent. */
  async #ping(connection: Redis): Promise<void> {
    if (this.#pinging || connection.status !== 'ready') return
    this.#pinging = true
    const sent = performance.now()
    const current = this.#connection
    try {
      await connection.ping()
      if (current === this.#connection) this.#leaseUntil = Math.max(this.#leaseUntil, sent + REDIS_CACHE_LEASE_MS)
    } catch {
      // The connection's own events say what happened; the lease just runs out.
    } finally {
      this.#pinging = false
    }
  }

  async close(): Promise<void> {
    this.closed = true
    this.live = false
    clearTimeout(this.#settling)
    clearInterval(this.#pinger)
    this.#subscriber?.disconnect()
    for (const waiting of this.#awaiting.values()) waiting.done()
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
