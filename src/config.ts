/**
 * Configuration is read from the environment once, at start-up, and validated here so a
 * typo stops the process with a message that names the variable instead of failing later.
 */
import fs from 'node:fs'
import { isIP } from 'node:net'
import path from 'node:path'

export interface RateLimitConfig {
  /** Sign-in attempts per IP per minute (credential stuffing from one address). */
  signinPerIpPerMinute: number
  /** Failed sign-ins per account per 15 minutes before a back-off (NIST 800-63B §5.2.2). */
  signinFailuresPerAccountPer15Minutes: number
  /** Wrong second-factor codes per account per 15 minutes (6-digit codes need this, RFC 6238 §5.2). */
  twoFactorFailuresPerAccountPer15Minutes: number
  /** Consecutive failed sign-ins after which password sign-in is locked until a reset. */
  signinLockAfterFailures: number
  signupPerIpPerHour: number
  recoveryPerIpPerHour: number
  recoveryPerEmailPerHour: number
  resendPerAccountPerHour: number
  /** Requests to join teams (discovery) per account per hour: each one emails every Admin. */
  joinRequestsPerAccountPerHour: number
  /** On-demand DNS checks of a team's domains per team per hour. */
  domainChecksPerTeamPerHour: number
  /** Team invitations (emails and suggestions) per inviter per hour, and per team per hour. */
  invitationsPerInviterPerHour: number
  invitationsPerTeamPerHour: number
  /** Avatar and team logo uploads per account per hour: each one is seconds of decoding. */
  imageUploadsPerAccountPerHour: number
  teamSlugChecksPerAccountPerHour: number
  /** Device-flow code entries (and confirmations) per IP: the user code is the guessable part. */
  deviceCodeEntriesPerIpPerMinute: number
  /** OAuth token and device authorization requests per IP. */
  oauthTokenPerIpPerMinute: number
}

export interface Config {
  env: 'production' | 'development' | 'test'
  host: string
  port: number
  publicUrl: URL
  /** `sqlite:<path>` or `postgres://...` */
  databaseUrl: string
  /**
   * PostgreSQL connections this process's query pool may open. Each instance opens at most this
   * many, plus one LISTEN connection when REDIS_URL is not set (the README's scale-out budget).
   */
  databasePoolSize: number
  /**
   * On SIGTERM, how long `/readyz` answers 503 while requests are still served, so a load
   * balancer's health check takes the instance out before it stops accepting connections.
   */
  shutdownDrainSeconds: number
  smtpUrl?: string
  mailFrom: string
  redisUrl?: string
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  trustProxy: boolean
  /** Bearer token /metrics asks for; without one, only requests made on this machine are answered. */
  metricsToken?: string
  termsVersion: string
  /** Where the operator publishes the terms of use and the privacy policy; sign-up links to them. */
  termsUrl?: string
  privacyUrl?: string
  /** Work factor of the sign-in-recovery captcha: the largest counter a client may have to find. */
  captchaMaxCounter: number
  rateLimits: RateLimitConfig
  argon2: { memoryKiB: number; iterations: number; parallelism: number }
  /** 32 bytes that encrypt TOTP secrets at rest; without it a key kept in the database is used. */
  encryptionKey?: Buffer
  /** The in-process cache of live sessions (sessions/session-cache.ts); ttlSeconds 0 turns it off. */
  sessionCache: { ttlSeconds: number; maxEntries: number }
  /**
   * Paid seats a new team starts with. Seats belong to billing (SPEC §9), which does not exist
   * yet: until it does, an Admin or Billing member sets them, and this is where they start.
   */
  teamDefaultSeats: number
  /**
   * Sign in with Google (SPEC §2, §3): on when GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET are
   * set. The issuer is Google's unless GOOGLE_ISSUER names another OpenID provider.
   */
  google?: { clientId: string; clientSecret: string; issuer: URL }
  /**
   * SSO_CA_FILE: PEM certificates trusted, besides Node's own roots, for outbound HTTPS to
   * identity providers (Google, a team's OIDC IdP) — a company CA, or the tests' own IdP.
   * There is deliberately no switch that allows plain HTTP or unchecked certificates.
   */
  ssoCaPem?: string
  /** The DNS resolver that checks team domains' TXT records: the system's unless servers are given. */
  dns: { servers: string[]; timeoutMs: number }
  /**
   * Team SSO (src/sso). `metadataAllowLoopback`: test suites only (NODE_ENV=test and
   * SSO_METADATA_ALLOW_LOOPBACK=true together) — a metadata URL may then name a loopback
   * address over http, where the test IdP runs; every other private address stays refused.
   */
  sso: { metadataAllowLoopback: boolean }
}

export class ConfigError extends Error {
  readonly variable: string
  constructor(variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`)
    this.name = 'ConfigError'
    this.variable = variable
  }
}

type Env = Record<string, string | undefined>

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`)
  return value
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`)
  }
  return raw as T
}

function metricsToken(env: Env): string | undefined {
  const token = env.METRICS_TOKEN
  if (!token) return undefined
  if (token.length < 32 || !/^[\x21-\x7e]+$/.test(token)) throw new ConfigError('METRICS_TOKEN', 'must be at least 32 printable characters without spaces (e.g. openssl rand -hex 32)')
  return token
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false
  throw new ConfigError(name, `must be true or false, got "${raw}"`)
}

function url(env: Env, name: string, protocols: string[], fallback?: string): URL | undefined {
  const raw = env[name] || fallback
  if (!raw) return undefined
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw new ConfigError(name, 'must be an absolute URL')
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${parsed.protocol}`)
  }
  return parsed
}

/**
 * `DNS_SERVERS`: comma-separated `ip`, `ip:port` or `[ipv6]:port`, in the form node:dns
 * `Resolver.setServers` takes. Empty: the system's resolvers (/etc/resolv.conf).
 */
function dnsServers(env: Env, name: string): string[] {
  const raw = env[name]
  if (!raw || !raw.trim()) return []
  return raw.split(',').map((entry) => {
    const server = entry.trim()
    const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(server)
    const withPort = /^([^:]+):(\d{1,5})$/.exec(server)
    const [host, port] = bracketed ? [bracketed[1], bracketed[2]] : withPort ? [withPort[1], withPort[2]] : [server, undefined]
    const family = isIP(host)
    if (!family || (bracketed && family !== 6) || (withPort && family !== 4)) {
      throw new ConfigError(name, `must list IP addresses, each optionally with a port (127.0.0.1:5353, [::1]:53), got "${server}"`)
    }
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw new ConfigError(name, `has a port out of range in "${server}"`)
    return server
  })
}

function google(env: Env): Config['google'] {
  const clientId = env.GOOGLE_CLIENT_ID?.trim()
  const clientSecret = env.GOOGLE_CLIENT_SECRET?.trim()
  if (!clientId && !clientSecret) return undefined
  if (!clientId) throw new ConfigError('GOOGLE_CLIENT_ID', 'must be set with GOOGLE_CLIENT_SECRET')
  if (!clientSecret) throw new ConfigError('GOOGLE_CLIENT_SECRET', 'must be set with GOOGLE_CLIENT_ID')
  // HTTPS only: the ID token's issuer and keys are trusted because of where they came from.
  const issuer = url(env, 'GOOGLE_ISSUER', ['https:'], 'https://accounts.google.com')!
  if (issuer.search || issuer.hash) throw new ConfigError('GOOGLE_ISSUER', 'must be an issuer URL without a query or fragment')
  return { clientId, clientSecret, issuer }
}

function caFile(env: Env, name: string): string | undefined {
  const file = env[name]
  if (!file) return undefined
  let pem: string
  try {
    pem = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(name, `cannot be read: ${(err as Error).message}`)
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(name, 'must be a PEM file with at least one certificate')
  return pem
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['production', 'development', 'test'] as const, 'development')
  const port = integer(env, 'PORT', 3000, 0, 65535)
  const publicUrl = url(env, 'PUBLIC_URL', ['http:', 'https:'], `http://localhost:${port}`)!
  if (publicUrl.pathname !== '/' || publicUrl.search || publicUrl.hash) {
    throw new ConfigError('PUBLIC_URL', 'must be an origin without a path, query or fragment (e.g. https://accounts.example.com)')
  }

  const databaseUrl = env.DATABASE_URL || `sqlite:${path.join('data', 'latchkey.db')}`
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must start with sqlite: or postgres://')
  }
  const smtp = url(env, 'SMTP_URL', ['smtp:', 'smtps:'])
  const redis = url(env, 'REDIS_URL', ['redis:', 'rediss:'])

  const mailFrom = env.MAIL_FROM || `Latchkey <no-reply@${publicUrl.hostname}>`
  if (!/@[^@\s>]+>?$/.test(mailFrom)) throw new ConfigError('MAIL_FROM', 'must be an email address, e.g. "Latchkey <no-reply@example.com>"')

  let encryptionKey: Buffer | undefined
  if (env.ENCRYPTION_KEY) {
    encryptionKey = Buffer.from(env.ENCRYPTION_KEY, 'base64')
    if (encryptionKey.length !== 32) throw new ConfigError('ENCRYPTION_KEY', 'must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)')
  }

  const metadataAllowLoopback = bool(env, 'SSO_METADATA_ALLOW_LOOPBACK', false)
  if (metadataAllowLoopback && nodeEnv !== 'test') {
    throw new ConfigError('SSO_METADATA_ALLOW_LOOPBACK', 'is for test suites only (it lets an Admin make this server fetch from its own loopback); it needs NODE_ENV=test')
  }

  return {
    env: nodeEnv,
    google: google(env),
    ssoCaPem: caFile(env, 'SSO_CA_FILE'),
    encryptionKey,
    sso: { metadataAllowLoopback },
    host: env.HOST || '127.0.0.1',
    port,
    publicUrl,
    databaseUrl,
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    shutdownDrainSeconds: integer(env, 'SHUTDOWN_DRAIN_SECONDS', 5, 0, 300),
    smtpUrl: smtp?.toString(),
    mailFrom,
    redisUrl: redis?.toString(),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, nodeEnv === 'test' ? 'silent' : 'info'),
    trustProxy: bool(env, 'TRUST_PROXY', false),
    metricsToken: metricsToken(env),
    termsVersion: env.TERMS_VERSION || '2026-01',
    termsUrl: url(env, 'TERMS_URL', ['https:', 'http:'])?.href,
    privacyUrl: url(env, 'PRIVACY_URL', ['https:', 'http:'])?.href,
    captchaMaxCounter: integer(env, 'CAPTCHA_MAX_COUNTER', 50_000, 1, 10_000_000),
    // 25: on a self-hosted install nobody sells seats, so the old 1 (the Free plan's one
    // member) stopped the third person joining. 25 seats a small company's team without anyone
    // having to find the seats setting, and still bounds what a leaked invite link (30 joins)
    // can add before an Admin notices. 10,000 is the most a team may have (teams/seats.ts).
    teamDefaultSeats: integer(env, 'TEAM_DEFAULT_SEATS', 25, 1, 10_000),
    rateLimits: {
      signinPerIpPerMinute: integer(env, 'RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE', 60, 1, 1_000_000),
      signinFailuresPerAccountPer15Minutes: integer(env, 'RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT', 10, 1, 1000),
      twoFactorFailuresPerAccountPer15Minutes: integer(env, 'RATE_LIMIT_TWO_FACTOR_FAILURES_PER_ACCOUNT', 10, 1, 1000),
      signinLockAfterFailures: integer(env, 'SIGNIN_LOCK_AFTER_FAILURES', 100, 1, 100),
      signupPerIpPerHour: integer(env, 'RATE_LIMIT_SIGNUP_PER_IP_PER_HOUR', 30, 1, 1_000_000),
      recoveryPerIpPerHour: integer(env, 'RATE_LIMIT_RECOVERY_PER_IP_PER_HOUR', 20, 1, 1_000_000),
      recoveryPerEmailPerHour: integer(env, 'RATE_LIMIT_RECOVERY_PER_EMAIL_PER_HOUR', 5, 1, 1000),
      resendPerAccountPerHour: integer(env, 'RATE_LIMIT_RESEND_PER_ACCOUNT_PER_HOUR', 5, 1, 1000),
      joinRequestsPerAccountPerHour: integer(env, 'RATE_LIMIT_JOIN_REQUESTS_PER_ACCOUNT_PER_HOUR', 10, 1, 1000),
      domainChecksPerTeamPerHour: integer(env, 'RATE_LIMIT_DOMAIN_CHECKS_PER_TEAM_PER_HOUR', 60, 1, 100_000),
      invitationsPerInviterPerHour: integer(env, 'RATE_LIMIT_INVITATIONS_PER_INVITER_PER_HOUR', 500, 1, 1_000_000),
      invitationsPerTeamPerHour: integer(env, 'RATE_LIMIT_INVITATIONS_PER_TEAM_PER_HOUR', 1000, 1, 1_000_000),
      imageUploadsPerAccountPerHour: integer(env, 'RATE_LIMIT_IMAGE_UPLOADS_PER_ACCOUNT_PER_HOUR', 30, 1, 100_000),
      teamSlugChecksPerAccountPerHour: integer(env, 'RATE_LIMIT_TEAM_SLUG_CHECKS_PER_ACCOUNT_PER_HOUR', 600, 1, 1_000_000),
      deviceCodeEntriesPerIpPerMinute: integer(env, 'RATE_LIMIT_DEVICE_CODE_ENTRIES_PER_IP_PER_MINUTE', 20, 1, 1_000_000),
      oauthTokenPerIpPerMinute: integer(env, 'RATE_LIMIT_OAUTH_TOKEN_PER_IP_PER_MINUTE', 300, 1, 1_000_000),
    },
    // Short: evictions reach every instance at once; the TTL only bounds a lost message.
    sessionCache: {
      ttlSeconds: integer(env, 'SESSION_CACHE_TTL_SECONDS', 5, 0, 300),
      maxEntries: integer(env, 'SESSION_CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    },
    dns: { servers: dnsServers(env, 'DNS_SERVERS'), timeoutMs: integer(env, 'DNS_TIMEOUT_MS', 5000, 100, 60_000) },
    // OWASP's argon2id baseline (m=19 MiB, t=2, p=1); stored with every hash so it can be raised.
    argon2: {
      memoryKiB: integer(env, 'ARGON2_MEMORY_KIB', 19456, 1024, 4_194_304),
      iterations: integer(env, 'ARGON2_ITERATIONS', 2, 1, 100),
      parallelism: integer(env, 'ARGON2_PARALLELISM', 1, 1, 16),
    },
  }
}
