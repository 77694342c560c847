/**
 * The session cache stays correct across processes: a revocation or account change made by
 * one instance, or by the operator CLI in a process of its own, ends what every other
 * instance cached. The clock is frozen throughout, so a cached entry can never simply time
 * out: when another instance stops accepting a session, the eviction is what did it.
 */
import { randomInt } from 'node:crypto'
import { Redis } from 'ioredis'
import pino from 'pino'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { setAccountActive } from '../accounts/accounts.ts'
import { createApp, openContext, type App } from '../app.ts'
import { OPERATOR } from '../audit/audit.ts'
import { ManualClock, SECOND_MS } from '../clock.ts'
import { loadConfig, type Config } from '../config.ts'
import { createTestDatabase, type TestDialect } from '../../test/helpers/databases.ts'
import { PUBLIC_URL, signedUpUser, TestClient, type TestApp } from '../../test/helpers/app.ts'
import { SmtpCatcher } from '../../test/helpers/smtp.ts'
import { PrivateRedis } from '../../test/cluster/harness.ts'
import { EVICTION_ACK_WAIT_MS, EVICTION_CHANNEL, evictionFeed, REDIS_CACHE_LEASE_MS, REDIS_RECONNECT_MAX_DELAY_MS, REDIS_RESUBSCRIBE_SETTLE_MS, type EvictionFeed } from './evictions.ts'
import type { Account } from '../accounts/queries.ts'
import type { Session } from './sessions.ts'
import { SessionCache } from './session-cache.ts'
import type { SignedIn } from '../signin/schemas.ts'

/** Requests go to PUBLIC_URL's host: the server answers nowhere else. */
const PUBLIC_HOST = new URL(PUBLIC_URL).host

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Several instances of one deployment: one database, one clock, one mail catcher. */
async function deployment(dialect: TestDialect, env: Record<string, string>, count = 2): Promise<{ instances: TestApp[]; config: Config }> {
  const database = await createTestDatabase(dialect)
  const smtp = await new SmtpCatcher().start()
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12))
  const config = loadConfig({
    NODE_ENV: 'test',
    PUBLIC_URL,
    DATABASE_URL: database.url,
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Latchkey <no-reply@latchkey.test>',
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_ITERATIONS: '1',
    CAPTCHA_MAX_COUNTER: '50',
    ...env,
  })
  const apps: App[] = []
  onTestFinished(async () => {
    for (const app of apps) await app.close()
    await smtp.stop()
    await database.drop()
  })
  for (let i = 0; i < count; i++) apps.push(await createApp(config, { clock }))
  const instances = apps.map((app): TestApp => Object.assign({ app, clock, smtp, dialect, client: (options?: ConstructorParameters<typeof TestClient>[1]) => new TestClient(app, options) }, { close: () => app.close() }))
  return { config, instances }
}

/** Rate limits live in the shared Redis across runs: a fresh address per test. */
function freshIp(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`
}

async function me(t: TestApp, token: string) {
  const res = await t.app.server.inject({ method: 'GET', url: '/api/v1/me', headers: { host: PUBLIC_HOST, authorization: `Bearer ${token}` } })
  return { status: res.statusCode, body: res.json() }
}

/** Signs up on `t` and returns an API token, and the account, already cached by every instance. */
async function signedInEverywhere(instances: TestApp[]) {
  const [first] = instances
  const user = await signedUpUser(first, { client: first.client({ ip: freshIp() }) })
  const signin = await first.client({ ip: freshIp(), origin: null }).post<SignedIn>('/api/v1/signin', { login: user.email, password: user.password, returnToken: true })
  const token = signin.body.token as string
  for (const t of instances) expect((await me(t, token)).status).toBe(200)
  return { ...user, token }
}

/** Another instance hears of it over the network: wait for it, with time itself frozen. */
async function eventually(assertion: () => Promise<void>) {
  await vi.waitFor(assertion, { timeout: 5000, interval: 10 })
}

/**
 * Over Redis the revoking process answers only once every instance has acknowledged the
 * eviction, so the other instance must refuse at once; LISTEN/NOTIFY and SQLite's data_version
 * only promise "soon".
 */
function afterRevocation(env: Record<string, string>) {
  return 'REDIS_URL' in env ? async (assertion: () => Promise<void>) => assertion() : eventually
}

describe('session cache across instances', () => {
  describe.each([
    ['PostgreSQL and Redis pub/sub', 'postgres', { REDIS_URL }],
    ['PostgreSQL LISTEN/NOTIFY (no Redis)', 'postgres', {}],
    ['SQLite and Redis pub/sub', 'sqlite', { REDIS_URL }],
  ] as const)('through %s', (_name, dialect, env) => {
    it('refuses a session revoked on another instance', async () => {
      const { instances: [a, b] } = await deployment(dialect, env)
      const user = await signedInEverywhere([a, b])
      const sessions = await a.app.server.inject({ method: 'GET', url: '/api/v1/me/sessions', headers: { host: PUBLIC_HOST, authorization: `Bearer ${user.token}` } })
      const current = sessions.json().sessions.find((s: { current: boolean }) => s.current).id
      const revoke = await a.app.server.inject({ method: 'DELETE', url: `/api/v1/me/sessions/${current}`, headers: { host: PUBLIC_HOST, authorization: `Bearer ${user.token}` } })
      expect(revoke.statusCode).toBe(204)
      expect((await me(a, user.token)).status).toBe(401)
      await afterRevocation(env)(async () => expect((await me(b, user.token)).status).toBe(401))
    })

    it('shows a profile change made on another instance', async () => {
      const { instances: [a, b] } = await deployment(dialect, env)
      const user = await signedInEverywhere([a, b])
      const patch = await a.app.server.inject({ method: 'PATCH', url: '/api/v1/me', headers: { host: PUBLIC_HOST, authorization: `Bearer ${user.token}`, 'content-type': 'application/json' }, payload: { displayName: 'Renamed' } })
      expect(patch.statusCode).toBe(200)
      await afterRevocation(env)(async () => expect((await me(b, user.token)).body.displayName).toBe('Renamed'))
    })
  })

  describe.each([
    ['PostgreSQL without Redis (LISTEN/NOTIFY)', 'postgres', {}],
    ['PostgreSQL with Redis', 'postgres', { REDIS_URL }],
    ['SQLite without Redis (data_version)', 'sqlite', {}],
  ] as const)('operator CLI on %s', (_name, dialect, env) => {
    it('ends a cached session when another process deactivates the account', async () => {
      const { instances: [server], config } = await deployment(dialect, env, 1)
      const user = await signedInEverywhere([server])
      // What `latchkey accounts deactivate` does: a context of its own, no HTTP server.
      const cli = await openContext(config, { clock: server.clock })
      try {
        await setAccountActive(cli.ctx, user.email, false, OPERATOR)
      } finally {
        await cli.close()
      }
      await afterRevocation(env)(async () => expect((await me(server, user.token)).status).toBe(401))
    })
  })
})

describe.each(['sqlite', 'postgres'] as const)('session cache on %s', (dialect) => {
  it('serves a cached account until its TTL when a change skips the eviction', async () => {
    const { instances: [t] } = await deployment(dialect, { SESSION_CACHE_TTL_SECONDS: '5' }, 1)
    const user = await signedInEverywhere([t])
    // Behind Latchkey's back, as no code path of its own may do.
    await t.app.ctx.db.updateTable('accounts').set({ display_name: 'Edited in SQL' }).where('email', '=', user.email).execute()
    expect((await me(t, user.token)).body.displayName).not.toBe('Edited in SQL')
    t.clock.advance(5 * SECOND_MS)
    expect((await me(t, user.token)).body.displayName).toBe('Edited in SQL')
  })

  it('reads the database on every request when SESSION_CACHE_TTL_SECONDS is 0', async () => {
    const { instances: [t] } = await deployment(dialect, { SESSION_CACHE_TTL_SECONDS: '0' }, 1)
    const user = await signedInEverywhere([t])
    await t.app.ctx.db.updateTable('accounts').set({ display_name: 'Edited in SQL' }).where('email', '=', user.email).execute()
    expect((await me(t, user.token)).body.displayName).toBe('Edited in SQL')
  })

  it('refuses a session revoked behind its back once its eviction feed is down', async () => {
    const { instances: [t] } = await deployment(dialect, {}, 1)
    const user = await signedInEverywhere([t])
    await t.app.ctx.evictions.close()
    await t.app.ctx.db.deleteFrom('sessions').execute()
    expect((await me(t, user.token)).status).toBe(401)
  })
})

describe('session cache when Redis comes back', () => {
  it('reads the database until every other instance has had time to reconnect, then trusts its cache again', async () => {
    const redis = await PrivateRedis.start()
    onTestFinished(() => redis.stop())
    const client = new Redis(redis.url, { maxRetriesPerRequest: 2, retryStrategy: (attempt) => Math.min(attempt * 50, REDIS_RECONNECT_MAX_DELAY_MS) })
    client.on('error', () => {})
    const feed = evictionFeed({ cache: new SessionCache({ ttlMs: 5000, maxEntries: 10 }), log: pino({ level: 'silent' }), db: undefined as never, databaseUrl: '', redis: client })
    onTestFinished(async () => {
      await feed.close()
      client.disconnect()
    })
    await feed.start()
    expect(feed.canServeFromCache()).toBe(true)

    await redis.kill()
    await vi.waitFor(() => expect(feed.canServeFromCache()).toBe(false), { timeout: 5000, interval: 10 })
    const restarted = Date.now()
    await redis.start()
    await vi.waitFor(() => expect(feed.canServeFromCache()).toBe(true), { timeout: 15_000, interval: 10 })
    // Another instance's publishing connection may still be waiting up to
    // REDIS_RECONNECT_MAX_DELAY_MS for its next attempt: a revocation it makes then would be
    // missed by a cache trusted at once.
    expect(Date.now() - restarted).toBeGreaterThanOrEqual(REDIS_RESUBSCRIBE_SETTLE_MS)
  })
})

/**
 * Evictions over Redis are acknowledged (evictions.ts, RedisFeed): the revoking process returns
 * from `publish` only once every process that received the eviction has dropped the account, or,
 * if one stays silent, once that one's cache lease has run out. On a Redis of their own, so that
 * other suites' instances on the shared one do not answer for them.
 */
describe('session evictions over Redis, acknowledged', () => {
  async function privateRedis() {
    const redis = await PrivateRedis.start()
    onTestFinished(() => redis.stop())
    return redis
  }

  /** An instance's feed and cache, on its own Redis client, started as a server starts it. */
  async function instance(url: string) {
    const client = new Redis(url, { maxRetriesPerRequest: 2, retryStrategy: (attempt) => Math.min(attempt * 50, REDIS_RECONNECT_MAX_DELAY_MS) })
    client.on('error', () => {})
    const cache = new SessionCache({ ttlMs: 60_000, maxEntries: 100 })
    const feed = evictionFeed({ cache, log: pino({ level: 'silent' }), db: undefined as never, databaseUrl: '', redis: client })
    onTestFinished(async () => {
      await feed.close()
      client.disconnect()
    })
    return { cache, feed, client }
  }

  /** Caches a session of `accountId` under `tokenHash`, as the hot path does. */
  function cacheSession(cache: SessionCache, accountId: string, tokenHash: string) {
    cache.set(tokenHash, { session: { id: tokenHash, account_id: accountId } as Session, account: { id: accountId } as Account }, cache.generation, 0)
    expect(cache.get(tokenHash, 0)).toBeDefined()
  }

  /** Publishes an eviction and says how long the publisher was held. */
  async function timedPublish(feed: EvictionFeed, accountId: string) {
    const started = performance.now()
    await feed.publish([accountId])
    return performance.now() - started
  }

  it('returns from a revocation only once every other instance has dropped the account', async () => {
    const redis = await privateRedis()
    const a = await instance(redis.url)
    const others = [await instance(redis.url), await instance(redis.url)]
    await a.feed.start()
    for (const other of others) await other.feed.start()
    // Many rounds: without the acknowledgements, Redis's reply to the publisher often came back
    // before another instance had read the message.
    for (let round = 0; round < 50; round++) {
      const accountId = `account-${round}`
      for (const other of others) cacheSession(other.cache, accountId, `token-${round}`)
      const heldMs = await timedPublish(a.feed, accountId)
      for (const other of others) expect(other.cache.get(`token-${round}`, 0), `round ${round}`).toBeUndefined()
      expect(heldMs).toBeLessThan(EVICTION_ACK_WAIT_MS)
    }
  })

  it('acknowledges evictions published by the operator CLI, which never starts its feed', async () => {
    const redis = await privateRedis()
    const server = await instance(redis.url)
    await server.feed.start()
    const cli = await instance(redis.url)
    for (let round = 0; round < 10; round++) {
      cacheSession(server.cache, 'account-cli', `token-${round}`)
      expect(await timedPublish(cli.feed, 'account-cli')).toBeLessThan(EVICTION_ACK_WAIT_MS)
      expect(server.cache.get(`token-${round}`, 0)).toBeUndefined()
    }
  })

  it('waits out a silent subscriber for at most EVICTION_ACK_WAIT_MS, not forever', async () => {
    const redis = await privateRedis()
    const a = await instance(redis.url)
    await a.feed.start()
    // Subscribed, never acknowledging: a stray `redis-cli SUBSCRIBE`, or a stalled process.
    const silent = new Redis(redis.url)
    onTestFinished(() => silent.disconnect())
    await silent.subscribe(EVICTION_CHANNEL)
    const heldMs = await timedPublish(a.feed, 'account-silent')
    expect(heldMs).toBeGreaterThanOrEqual(EVICTION_ACK_WAIT_MS - 5)
    expect(heldMs).toBeLessThan(EVICTION_ACK_WAIT_MS + 2000)
    // Gone: the next revocation is acknowledged at once again.
    silent.disconnect()
    await vi.waitFor(async () => expect(await timedPublish(a.feed, 'account-silent')).toBeLessThan(EVICTION_ACK_WAIT_MS), { timeout: 10_000, interval: 0 })
  })

  it('stops answering from its cache once it no longer hears Redis answer, before a silent revocation ends', async () => {
    const redis = await privateRedis()
    const b = await instance(redis.url)
    await b.feed.start()
    expect(b.feed.canServeFromCache()).toBe(true)
    // Redis answers no one for a while (the connection stays open): B cannot know what it misses.
    const admin = new Redis(redis.url)
    onTestFinished(() => admin.disconnect())
    const pausedAt = performance.now()
    await admin.call('CLIENT', 'PAUSE', String(4 * REDIS_CACHE_LEASE_MS), 'ALL')
    // The moment a revocation published at the pause, and never acknowledged, stops waiting
    // (it waits at least EVICTION_ACK_WAIT_MS after PUBLISH's answer): B must be untrusting by then.
    await new Promise((resolve) => setTimeout(resolve, pausedAt + EVICTION_ACK_WAIT_MS - performance.now()))
    expect(b.feed.canServeFromCache()).toBe(false)
    // Redis answers again: the PINGs renew the lease, nothing else was lost on the connection.
    await vi.waitFor(() => expect(b.feed.canServeFromCache()).toBe(true), { timeout: 10 * REDIS_CACHE_LEASE_MS, interval: 10 })
  })
})
