/**
 * Sessions (SPEC §4): opaque 256-bit tokens stored only as SHA-256 hashes. "Stay signed in"
 * lasts 30 days; otherwise a session ends after 30 minutes without activity (and at most
 * 24 hours after sign-in, NIST 800-63B-4 §2.2.3 for AAL2-style reauthentication).
 */
import Bowser from 'bowser'
import type { AuditEventType, RequestMeta } from '../audit/audit.ts'
import { recordAudit } from '../audit/audit.ts'
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../clock.ts'
import type { AppContext } from '../context.ts'
import { afterCommit, inTransaction, Listeners } from '../context.ts'
import { hashToken, newId, newToken } from '../crypto.ts'
import type { Account } from '../accounts/queries.ts'
import type { Queryable, SessionsTable } from '../db/schema.ts'
import type { Selectable } from 'kysely'

export const STAY_SIGNED_IN_MS = 30 * DAY_MS
export const IDLE_TIMEOUT_MS = 30 * MINUTE_MS
export const UNREMEMBERED_MAX_MS = 24 * HOUR_MS
/** last_active_at is written at most this often per session, so reads stay reads. */
export const ACTIVITY_WRITE_INTERVAL_MS = MINUTE_MS

/**
 * Last activity seen by this instance, newer than the database's copy until the coalesced
 * write lands; the idle rule reads the later of the two. Bounded: oldest entries fall out.
 */
export class SessionActivity {
  readonly #seen = new Map<string, number>()
  readonly #max: number
  constructor(maxEntries = 100_000) {
    this.#max = maxEntries
  }
  record(sessionId: string, at: number): void {
    this.#seen.delete(sessionId)
    this.#seen.set(sessionId, at)
    if (this.#seen.size > this.#max) this.#seen.delete(this.#seen.keys().next().value!)
  }
  lastSeen(sessionId: string): number | undefined {
    return this.#seen.get(sessionId)
  }
  forget(sessionId: string): void {
    this.#seen.delete(sessionId)
  }
}

const activityByContext = new WeakMap<AppContext, SessionActivity>()
function activityOf(ctx: AppContext): SessionActivity {
  let activity = activityByContext.get(ctx)
  if (!activity) activityByContext.set(ctx, (activity = new SessionActivity()))
  return activity
}

export type Session = Selectable<SessionsTable>

export interface Authenticated {
  session: Session
  account: Account
}

function describeDevice(userAgent: string): { browser: string; os: string } {
  if (!userAgent) return { browser: 'Unknown', os: 'Unknown' }
  const parsed = Bowser.parse(userAgent)
  const browser = [parsed.browser.name, parsed.browser.version?.split('.')[0]].filter(Boolean).join(' ')
  const os = [parsed.os.name, parsed.os.versionName ?? parsed.os.version].filter(Boolean).join(' ')
  // Never the raw header: it is attacker-chosen text that would land in security emails.
  return { browser: browser || 'Unknown browser', os: os || 'Unknown' }
}

type LifetimeCap = (db: Queryable, accountId: string) => Promise<number | null>
const lifetimeCaps = new WeakMap<AppContext, LifetimeCap>()

/**
 * SPEC §4 "a team may set a shorter maximum session length for its members": the longest a new
 * session of the account may live, asked once when the session is created (src/sso/policies.ts
 * answers, wired in src/app.ts so sessions imports no team code). The hot path then only compares
 * `expires_at`, with no database read per request.
 */
export function setSessionLifetimeCap(ctx: AppContext, cap: LifetimeCap): void {
  lifetimeCaps.set(ctx, cap)
}

/** The cap for a new session of the account, in milliseconds, or null when none applies. */
export async function sessionLifetimeCapMs(ctx: AppContext, db: Queryable, accountId: string): Promise<number | null> {
  const cap = lifetimeCaps.get(ctx)
  return cap ? cap(db, accountId) : null
}

/**
 * `device`: what the sessions list shows instead of what the user agent says, for a session an
 * app signed in to (its name as the browser; an OS the user agent cannot tell).
 */
export async function createSession(
  ctx: AppContext,
  db: Queryable,
  input: { accountId: string; staySignedIn: boolean; kind?: 'web' | 'api'; meta: RequestMeta; device?: { browser: string; os?: string } },
): Promise<{ token: string; session: Session }> {
  const created = newSession(ctx, { ...input, maxLifetimeMs: await sessionLifetimeCapMs(ctx, db, input.accountId) })
  await db.insertInto('sessions').values(created.session).execute()
  return created
}

/**
 * A session row and its token, not yet stored (the sign-in fast path writes it itself).
 * `maxLifetimeMs`: a team's maximum session length (see sessionLifetimeCapMs); it only shortens.
 */
export function newSession(
  ctx: AppContext,
  input: { accountId: string; staySignedIn: boolean; kind?: 'web' | 'api'; meta: RequestMeta; device?: { browser: string; os?: string }; maxLifetimeMs?: number | null },
): { token: string; session: Session } {
  // An app names itself; only a browser's user agent is parsed (bowser is not free on the sign-in path).
  const described = input.device ? { browser: input.device.browser, os: input.device.os ?? describeDevice(input.meta.userAgent).os } : describeDevice(input.meta.userAgent)
  const now = ctx.clock.now()
  const token = newToken()
  const session: Session = {
    id: newId(),
    account_id: input.accountId,
    token_hash: hashToken(token),
    kind: input.kind ?? 'web',
    stay_signed_in: input.staySignedIn ? 1 : 0,
    ip: input.meta.ip,
    user_agent: input.meta.userAgent.slice(0, 512),
    browser: described.browser,
    os: described.os,
    created_at: now,
    last_active_at: now,
    expires_at: now + Math.min(input.staySignedIn ? STAY_SIGNED_IN_MS : UNREMEMBERED_MAX_MS, input.maxLifetimeMs ?? Infinity),
    reauthenticated_at: now,
  }
  return { token, session }
}

function isExpired(session: Session, now: number): boolean {
  if (now >= session.expires_at) return true
  return session.stay_signed_in === 0 && now - session.last_active_at >= IDLE_TIMEOUT_MS
}

/**
 * The hot-path join: session and account in one indexed lookup by token hash. The one read of
 * `accounts` outside src/accounts/, on purpose: ARCHITECTURE's session check is one round trip,
 * and it reads the whole row (selectAll), so no column list here can drift from the owner's.
 */
async function loadSession(ctx: AppContext, tokenHash: string): Promise<Authenticated | undefined> {
  const row = await ctx.db
    .selectFrom('sessions')
    .innerJoin('accounts', 'accounts.id', 'sessions.account_id')
    .selectAll('accounts')
    .select([
      'sessions.id as s_id',
      'sessions.token_hash as s_token_hash',
      'sessions.kind as s_kind',
      'sessions.stay_signed_in as s_stay_signed_in',
      'sessions.ip as s_ip',
      'sessions.user_agent as s_user_agent',
      'sessions.browser as s_browser',
      'sessions.os as s_os',
      'sessions.created_at as s_created_at',
      'sessions.last_active_at as s_last_active_at',
      'sessions.expires_at as s_expires_at',
      'sessions.reauthenticated_at as s_reauthenticated_at',
    ])
    .where('sessions.token_hash', '=', tokenHash)
    .executeTakeFirst()
  if (!row) return undefined
  const { s_id, s_token_hash, s_kind, s_stay_signed_in, s_ip, s_user_agent, s_browser, s_os, s_created_at, s_last_active_at, s_expires_at, s_reauthenticated_at, ...account } = row
  const session: Session = {
    id: s_id, account_id: account.id, token_hash: s_token_hash, kind: s_kind, stay_signed_in: s_stay_signed_in,
    ip: s_ip, user_agent: s_user_agent, browser: s_browser, os: s_os, created_at: s_created_at,
    last_active_at: s_last_active_at, expires_at: s_expires_at, reauthenticated_at: s_reauthenticated_at,
  }
  return { session, account: account as Account }
}

/**
 * The hot path: a cache hit, or one indexed join that then fills the cache. Every
 * invalid-token reason (unknown, revoked, expired, deactivated) gives the same `null`, so
 * callers cannot leak which one it was; `expired` only tells the client to show "session
 * expired" instead of "sign in". Unknown tokens are never cached (no one can fill the cache
 * with guesses).
 */
/**
 * `touch: false` checks a session without counting the request as its activity: listing the
 * other accounts signed in in a browser must not keep their idle clocks from running.
 */
export async function authenticate(ctx: AppContext, token: string, options: { touch?: boolean } = {}): Promise<{ auth: Authenticated } | { auth: null; expired: boolean }> {
  if (token.length !== 43) return { auth: null, expired: false }
  const tokenHash = hashToken(token)
  const cache = ctx.sessionCache
  const cacheUsable = cache.enabled && ctx.evictions.canServeFromCache()
  let found = cacheUsable ? cache.get(tokenHash, ctx.clock.now()) : undefined
  if (!found) {
    const generation = cache.generation
    found = await loadSession(ctx, tokenHash)
    if (!found) return { auth: null, expired: false }
    // Only live sessions of active accounts are cached (checked below before any use).
    if (cacheUsable && found.account.status === 'active' && !isExpired(found.session, ctx.clock.now())) {
      cache.set(tokenHash, found, generation, ctx.clock.now())
    }
  }
  // `found.session` may be the cached copy: its last_active_at is what the database holds.
  const { session: stored, account } = found
  const now = ctx.clock.now()
  const activity = activityOf(ctx)
  const session: Session = { ...stored, last_active_at: Math.max(stored.last_active_at, activity.lastSeen(stored.id) ?? 0) }
  if (isExpired(session, now) || account.status !== 'active') {
    activity.forget(session.id)
    cache.evictToken(tokenHash)
    // An expired session is dead weight; remove it so it cannot be listed or revived.
    void ctx.db.deleteFrom('sessions').where('id', '=', session.id).execute().catch(() => {})
    return { auth: null, expired: account.status === 'active' }
  }
  if (options.touch === false) return { auth: { session, account } }
  const writeDue = now - stored.last_active_at >= ACTIVITY_WRITE_INTERVAL_MS
  activity.record(session.id, now)
  session.last_active_at = now
  if (writeDue) {
    // Keeps the cached copy in step with the write, so the next hit does not write again.
    stored.last_active_at = now
    // Off the response path: a lost activity write only makes the idle clock a minute stricter.
    void ctx.db
      .updateTable('sessions')
      .set({ last_active_at: now })
      .where('id', '=', session.id)
      .execute()
      .catch((err) => ctx.log.warn({ err }, 'could not record session activity'))
  }
  return { auth: { session, account } }
}

/**
 * Drops what this process and every other one cached for the account, so the very next request
 * reads the database. Only ever after the commit: a request between the eviction and the commit
 * would cache the old row again. Callers register it with `evictAfterCommit`.
 */
async function evictCachedSessions(ctx: AppContext, accountId: string): Promise<void> {
  ctx.sessionCache.evictAccounts([accountId])
  await ctx.evictions.publish([accountId])
}

/**
 * For every change to an account's sessions or to its account row (`/me` answers from the
 * cached copy): the cached copies go once `db`'s transaction has committed, or at once when
 * `db` is no transaction. The session and account owners call it themselves.
 */
export function evictAfterCommit(ctx: AppContext, db: Queryable, accountId: string): Promise<void> {
  return afterCommit(db, `evict-sessions:${accountId}`, () => evictCachedSessions(ctx, accountId))
}

/**
 * A team's maximum session length, set or lowered, or a person joining such a team: the live
 * sessions of these accounts end at most `maxLifetimeMs` after they began, in one statement, and
 * every instance drops its cached copies after the commit (the cached `expires_at` is the old one).
 */
export async function capSessionLifetimes(ctx: AppContext, db: Queryable, accountIds: readonly string[], maxLifetimeMs: number): Promise<number> {
  if (!accountIds.length) return 0
  const result = await db
    .updateTable('sessions')
    .set((eb) => ({ expires_at: eb('created_at', '+', maxLifetimeMs) }))
    .where('account_id', 'in', [...accountIds])
    .where((eb) => eb('expires_at', '>', eb('created_at', '+', maxLifetimeMs)))
    .executeTakeFirst()
  await afterCommit(db, `evict-sessions:${[...accountIds].sort().join(',')}`, async () => {
    ctx.sessionCache.evictAccounts([...accountIds])
    await ctx.evictions.publish([...accountIds])
  })
  return Number(result.numUpdatedRows)
}

/** Which sessions are ending: one, all of an account's, or all but one. */
export interface EndingSessions {
  accountId: string
  sessionId?: string
  exceptSessionId?: string
}

/**
 * Told inside the revoking transaction which sessions end, before their rows go, so work tied
 * to them ends in the same commit (OAuth revokes the grants of app sessions: src/app.ts wires it).
 */
export const sessionsEnding = new Listeners<[db: Queryable, ending: EndingSessions]>()

/** Which of these sessions are still live at `now` (not ended, not expired). */
export async function liveSessionIds(db: Queryable, sessionIds: readonly string[], now: number): Promise<Set<string>> {
  if (!sessionIds.length) return new Set()
  const rows = await db.selectFrom('sessions').select('id').where('id', 'in', [...sessionIds]).where('expires_at', '>', now).execute()
  return new Set(rows.map((row) => row.id))
}

/** Activity seen outside a request (an app's token issued or refreshed): these sessions were active at `now`. */
export async function markSessionsActive(db: Queryable, sessionIds: readonly string[], now: number): Promise<void> {
  if (!sessionIds.length) return
  await db.updateTable('sessions').set({ last_active_at: now }).where('id', 'in', [...sessionIds]).execute()
}

export async function listSessions(ctx: AppContext, accountId: string) {
  const now = ctx.clock.now()
  const rows = await ctx.db
    .selectFrom('sessions')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('last_active_at', 'desc')
    .execute()
  return rows.filter((s) => !isExpired(s, now))
}

export async function revokeSession(ctx: AppContext, input: { accountId: string; sessionId: string; meta: RequestMeta; type?: AuditEventType }): Promise<boolean> {
  return inTransaction(ctx, async (trx) => {
    const revoked = await endSession(ctx, trx, { accountId: input.accountId, sessionId: input.sessionId })
    if (revoked) await recordAudit(trx, { accountId: input.accountId, type: input.type ?? 'session.revoked', meta: input.meta, at: ctx.clock.now(), details: { sessionId: input.sessionId } })
    return revoked
  })
}

/** Ends one session of the account (false when there was none), in the caller's transaction. */
export async function endSession(ctx: AppContext, db: Queryable, input: { accountId: string; sessionId: string }): Promise<boolean> {
  await sessionsEnding.notify(ctx, db, input)
  const result = await db.deleteFrom('sessions').where('id', '=', input.sessionId).where('account_id', '=', input.accountId).executeTakeFirst()
  await evictAfterCommit(ctx, db, input.accountId)
  return Number(result.numDeletedRows) === 1
}

/** Revokes every session of the account, or every one but `exceptSessionId`, in the caller's transaction. */
export async function revokeAllSessions(ctx: AppContext, db: Queryable, input: { accountId: string; exceptSessionId?: string }): Promise<number> {
  await sessionsEnding.notify(ctx, db, input)
  let query = db.deleteFrom('sessions').where('account_id', '=', input.accountId)
  if (input.exceptSessionId) query = query.where('id', '!=', input.exceptSessionId)
  const result = await query.executeTakeFirst()
  await evictAfterCommit(ctx, db, input.accountId)
  return Number(result.numDeletedRows)
}

/** Ends the sessions of these tokens (a browser's earlier session of an account signing in again). */
export async function endSessionsByToken(ctx: AppContext, db: Queryable, accountId: string, tokens: string[]): Promise<void> {
  if (tokens.length === 0) return
  await db.deleteFrom('sessions').where('account_id', '=', accountId).where('token_hash', 'in', tokens.map(hashToken)).execute()
  await evictAfterCommit(ctx, db, accountId)
}

/**
 * Re-authentication: the session gets a new token (no fixation across privilege changes) and a
 * fresh `reauthenticated_at`; the old token fails at once.
 */
export async function rotateSessionToken(ctx: AppContext, db: Queryable, session: Session, now: number): Promise<string> {
  const token = newToken()
  await db.updateTable('sessions').set({ token_hash: hashToken(token), reauthenticated_at: now }).where('id', '=', session.id).execute()
  await evictAfterCommit(ctx, db, session.account_id)
  return token
}

/** Proving the password again (changing it) counts as re-authenticating this session. */
export async function markReauthenticated(ctx: AppContext, db: Queryable, session: Session, now: number): Promise<void> {
  await db.updateTable('sessions').set({ reauthenticated_at: now }).where('id', '=', session.id).execute()
  await evictAfterCommit(ctx, db, session.account_id)
}
