/**
 * Wires one Latchkey process together: database (migrated), mailer, hasher, rate limits,
 * captcha, HTTP server. Tests call this with an injected clock; the CLI calls it to serve.
 */
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import pino, { type Logger } from 'pino'
import { systemClock, type Clock } from './clock.ts'
import type { Config } from './config.ts'
import type { AppContext } from './context.ts'
import { connect, migrateToLatest } from './db/connect.ts'
import { startDraining } from './http/ops.ts'
import { RateLimits } from './http/rate-limits.ts'
import { Mailer } from './mail/mailer.ts'
import { bundledCommonPasswords } from './passwords/common-passwords.ts'
import { PasswordHasher } from './passwords/hashing.ts'
import { Captcha, serverSecret } from './recovery/captcha.ts'
import { evictionFeed, REDIS_RECONNECT_MAX_DELAY_MS } from './sessions/evictions.ts'
import { sessionsEnding, setSessionLifetimeCap } from './sessions/sessions.ts'
import { nameSessionsWith } from './sessions/routes.ts'
import { appSessionNames } from './oauth/interactions.ts'
import { accountDeleting, credentialsChanged, emailChanged } from './accounts/lifecycle.ts'
import { retireOpenTickets } from './signin/second-factor.ts'
import { requireNoTeamsBeforeDeletion } from './teams/teams.ts'
import { cancelJoinRequestsForEmailChange } from './teams/discovery/join-requests.ts'
import { revokeAppSessionGrants } from './oauth/adapter.ts'
import { SessionCache } from './sessions/session-cache.ts'
import { buildServer } from './server.ts'
import { memberJoined } from './teams/joining.ts'
import { applyPolicyToNewMember, maxSessionMsFor } from './sso/policies.ts'

export interface App {
  ctx: AppContext
  server: FastifyInstance
  /** Stops at once: for tests and one-off processes. A serving process uses `shutdown`. */
  close(): Promise<void>
  /**
   * Leaves without dropping a request (SIGTERM): `/readyz` turns 503 and requests are still
   * served for `drainMs`, so the load balancer takes the instance out; then the server stops
   * accepting, closes idle keep-alive connections, finishes the requests in flight, and closes
   * its database, Redis and mail connections.
   */
  shutdown(options: { drainMs: number }): Promise<void>
}

/** How long requests in flight may take to finish once the server stops accepting. */
const IN_FLIGHT_GRACE_MS = 10_000

/** Secrets never reach the logs: credentials in headers and any password-like body field. */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  // An IT set-up link's token, sent by scripts instead of the cookie (src/sso/setup-links.ts).
  'req.headers["x-latchkey-setup-link"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  // OAuth (src/oauth): never a token, code or client secret.
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.client_secret',
  '*.code_verifier',
]

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } })
}

/** Resolves once the client is ready, or after `timeoutMs` (Redis down at start-up: serve anyway). */
function connected(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      redis.off('ready', done)
      resolve()
    }
    const timer = setTimeout(done, timeoutMs)
    redis.once('ready', done)
  })
}

export interface OpenContext {
  ctx: AppContext
  close(): Promise<void>
}

/** Everything but HTTP: what the CLI needs for operator actions, and what the server builds on. */
/**
 * What capabilities are told about each other's events, wired here so that the lower one never
 * imports the higher (scripts/check-imports.ts keeps the folders free of cycles).
 */
function wireCapabilities(ctx: AppContext): void {
  // An app's OAuth grant ends with its session, in the same transaction.
  sessionsEnding.add(ctx, (db, ending) => revokeAppSessionGrants(db, ending))
  // The active sessions list shows an app session's device name.
  nameSessionsWith(ctx, appSessionNames)
  // Teams refuse the deletion of an account still in one, and drop join requests its old address allowed.
  accountDeleting.add(ctx, (db, accountId) => requireNoTeamsBeforeDeletion(db, accountId))
  // Open 2FA tickets (signin's) die with the credential change that makes them stale.
  credentialsChanged.add(ctx, (db, accountId) => retireOpenTickets(db, accountId))
  emailChanged.add(ctx, async (db, change) => {
    await cancelJoinRequestsForEmailChange(db, change)
  })
  // A team's maximum session length (SPEC §4): new sessions are capped when created, and the live
  // ones of someone joining the team are shortened in the joining transaction.
  setSessionLifetimeCap(ctx, (db, accountId) => maxSessionMsFor(db, accountId))
  memberJoined.add(ctx, (db, joined) => applyPolicyToNewMember(ctx, db, joined))
}

export async function openContext(config: Config, options: { clock?: Clock; log?: Logger } = {}): Promise<OpenContext> {
  const log = options.log ?? createLogger(config)
  const clock = options.clock ?? systemClock
  const handle = connect(config.databaseUrl, { poolSize: config.databasePoolSize })
  // Loaded only when configured: a single instance never pays for the Redis client. Its
  // reconnect delay is capped: the eviction feed waits longer than that before trusting its
  // cache again after Redis returns (see evictions.ts).
  const redis = config.redisUrl
    ? new (await import('ioredis')).Redis(config.redisUrl, { maxRetriesPerRequest: 2, retryStrategy: (attempt) => Math.min(attempt * 50, REDIS_RECONNECT_MAX_DELAY_MS) })
    : undefined
  redis?.on('error', (err) => log.warn({ err: err.message }, 'redis error'))
  try {
    // Rate limits count in this process's memory while the client is not connected (see
    // http/rate-limits.ts): wait for it, a little, so the first requests count in Redis.
    if (redis) await connected(redis, 5000)
    const applied = await migrateToLatest(handle.db)
    if (applied.length) log.info({ migrations: applied }, 'database migrated')
    const mailer = new Mailer({ db: handle.db, clock, log, from: config.mailFrom, smtpUrl: config.smtpUrl })
    const sessionCache = new SessionCache({ ttlMs: config.sessionCache.ttlSeconds * 1000, maxEntries: config.sessionCache.maxEntries })
    const evictions = evictionFeed({ cache: sessionCache, log, db: handle.db, databaseUrl: config.databaseUrl, redis, sqliteDataVersion: handle.sqliteDataVersion })
    const ctx: AppContext = {
      config,
      db: handle.db,
      dialect: handle.dialect,
      clock,
      log,
      mailer,
      hasher: new PasswordHasher(config.argon2),
      limits: new RateLimits(config.rateLimits, clock, redis),
      captcha: new Captcha({ db: handle.db, maxCounter: config.captchaMaxCounter, secret: await serverSecret(handle.db, 'captcha_hmac', clock.now()) }),
      secretsKey: config.encryptionKey ?? Buffer.from(await serverSecret(handle.db, 'secrets_key', clock.now()), 'base64url'),
      sessionCache,
      evictions,
    }
    wireCapabilities(ctx)
    if (!config.encryptionKey && config.env === 'production') {
      log.warn('ENCRYPTION_KEY is not set: TOTP secrets are encrypted with a key kept in the database itself')
    }
    return {
      ctx,
      async close() {
        await mailer.stop()
        await evictions.close()
        redis?.disconnect()
        await handle.close()
      },
    }
  } catch (err) {
    redis?.disconnect()
    await handle.close()
    throw err
  }
}

export async function createApp(config: Config, options: { clock?: Clock; log?: Logger } = {}): Promise<App> {
  const opened = await openContext(config, options)
  try {
    // Loaded before the first request, not during it.
    bundledCommonPasswords()
    const server = await buildServer(opened.ctx)
    // Only a serving process caches sessions, so only it listens for other processes' revocations.
    if (opened.ctx.sessionCache.enabled) await opened.ctx.evictions.start()
    opened.ctx.mailer.start()
    return {
      ctx: opened.ctx,
      server,
      async close() {
        await server.close()
        await opened.close()
      },
      async shutdown({ drainMs }) {
        const log = opened.ctx.log
        startDraining(opened.ctx)
        if (drainMs > 0) {
          log.info({ drainMs }, 'draining: /readyz answers 503 while requests are still served')
          await new Promise((resolve) => setTimeout(resolve, drainMs))
        }
        // Fastify stops accepting, closes idle keep-alive connections and waits for the
        // requests in flight (each answered with Connection: close while draining).
        const closed = server.close()
        const deadline = setTimeout(() => {
          log.warn('requests still in flight after the grace period: closing their connections')
          server.server.closeAllConnections()
        }, IN_FLIGHT_GRACE_MS)
        await closed
        clearTimeout(deadline)
        await opened.close()
        log.info('shut down')
      },
    }
  } catch (err) {
    await opened.close()
    throw err
  }
}
