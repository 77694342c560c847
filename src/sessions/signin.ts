/**
 * Signing in (SPEC §3): password, then a second factor when 2FA is on (a 5-minute ticket
 * bound to that attempt), or a passkey alone. Every failure that could tell an attacker
 * whether an account exists looks the same from outside: same error, status and argon2 time.
 * Distinct errors (deactivated, locked) go only to someone who proved the password.
 */
import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import { sql } from 'kysely'
import { auditRow, recordAudit, type RequestMeta } from '../audit/audit.ts'
import { canonicalEmail, normalizeEmail } from '../accounts/emails.ts'
import { consumeToken, issueToken, retireOutstandingLinks } from '../accounts/tokens.ts'
import { normalizeUsername } from '../accounts/usernames.ts'
import { MINUTE_MS } from '../clock.ts'
import type { AppContext } from '../context.ts'
import { inTransaction, link } from '../context.ts'
import { hashToken, newId, newToken } from '../crypto.ts'
import { AppError } from '../errors.ts'
import { localeOf } from '../accounts/accounts.ts'
import { notifySecurity } from '../notifications/notifications.ts'
import { verifyPasskeyAssertion } from '../passkeys/passkeys.ts'
import { normalizePassword } from '../passwords/policy.ts'
import { verifySecondFactor, type SecondFactor } from '../two-factor/two-factor.ts'
import { createSession, evictCachedSessions, newSession, revokeAllSessions, type Account, type Session } from './sessions.ts'

export const TICKET_LIFETIME_MS = 5 * MINUTE_MS
export const TICKET_MAX_ATTEMPTS = 5

export interface SignInContext {
  staySignedIn: boolean
  meta: RequestMeta
  /** Identifies the browser or app for "new device" notices: a device cookie, or UA + IP. */
  deviceKey: string
  /** `api` when the token goes to an app or script instead of a browser cookie. */
  kind?: 'web' | 'api'
}

export type SignInResult =
  | { kind: 'session'; token: string; session: Session; account: Account }
  | { kind: 'two_factor'; ticket: string; expiresAt: number; methods: ('totp' | 'recovery_code' | 'passkey')[] }

function loginKey(login: string): { column: 'email_normalized' | 'username_normalized'; value: string } | null {
  const trimmed = login.trim()
  if (trimmed.includes('@')) {
    try {
      return { column: 'email_normalized', value: normalizeEmail(canonicalEmail(trimmed)) }
    } catch {
      return null
    }
  }
  return { column: 'username_normalized', value: normalizeUsername(trimmed) }
}

/** The account a login names, and whether it has 2FA on: one query on the sign-in path. */
export async function findAccountByLogin(ctx: AppContext, login: string): Promise<(Account & { two_factor_enabled_at: number | null }) | undefined> {
  const key = loginKey(login)
  if (!key) return undefined
  return ctx.db
    .selectFrom('accounts')
    .leftJoin('two_factor', 'two_factor.account_id', 'accounts.id')
    .selectAll('accounts')
    .select('two_factor.enabled_at as two_factor_enabled_at')
    .where(`accounts.${key.column}`, '=', key.value)
    .executeTakeFirst()
}

export async function signIn(ctx: AppContext, input: SignInContext & { login: string; password: string }): Promise<SignInResult> {
  await ctx.limits.consume('signin_ip', input.meta.ip)
  const password = normalizePassword(input.password)
  const key = loginKey(input.login)
  const account = await findAccountByLogin(ctx, input.login)
  // One bucket per account (its email and username share it), or per typed login when there is
  // none. Spent before the hash, so a burst of parallel guesses cannot all pass a check made
  // before any failure was counted; a success gives the point back.
  const failureKey = account ? `account:${account.id}` : key ? `${key.column}:${key.value}` : `raw:${input.login}`
  await ctx.limits.consume('signin_failures_account', failureKey)
  const passwordOk = await ctx.hasher.verify(account?.password_hash ?? null, password)

  // A locked account answers the same whatever the password, so the lock is no guessing oracle.
  if (account?.password_signin_locked) throw new AppError('signin_locked')
  if (!account || !passwordOk) {
    await recordFailure(ctx, account ?? null, input.meta)
    throw new AppError('invalid_credentials', { fields: { login: 'invalid', password: 'invalid' } })
  }
  if (account.status !== 'active') throw new AppError('account_deactivated')
  await ctx.limits.reset('signin_failures_account', failureKey)

  const rehash = account.password_hash && ctx.hasher.needsRehash(account.password_hash) ? await ctx.hasher.hash(password) : null
  if (account.failed_signins > 0 || rehash) {
    await ctx.db.updateTable('accounts').set({ failed_signins: 0, ...(rehash ? { password_hash: rehash } : {}) }).where('id', '=', account.id).execute()
    await evictCachedSessions(ctx, account.id)
  }

  if (account.two_factor_enabled_at != null) {
    const ticket = newToken()
    const now = ctx.clock.now()
    await ctx.db
      .insertInto('signin_tickets')
      .values({ id: newId(), token_hash: hashToken(ticket), account_id: account.id, stay_signed_in: input.staySignedIn ? 1 : 0, device_hash: hashToken(input.deviceKey), created_at: now, expires_at: now + TICKET_LIFETIME_MS, used_at: null })
      .execute()
    const hasPasskey = await ctx.db.selectFrom('passkeys').select('id').where('account_id', '=', account.id).executeTakeFirst()
    return { kind: 'two_factor', ticket, expiresAt: now + TICKET_LIFETIME_MS, methods: hasPasskey ? ['totp', 'recovery_code', 'passkey'] : ['totp', 'recovery_code'] }
  }
  return { kind: 'session', ...(await completeSignIn(ctx, account, { ...input, method: 'password' })) }
}

/** The second step: an authenticator code, a recovery code, or a passkey, within the ticket's 5 minutes. */
export async function signInSecondFactor(
  ctx: AppContext,
  input: { ticket: string; factor: SecondFactor | { passkey: { challengeId: string; response: AuthenticationResponseJSON } }; meta: RequestMeta; deviceKey: string; kind?: 'web' | 'api' },
): Promise<{ token: string; session: Session; account: Account }> {
  const now = ctx.clock.now()
  // Each attempt is reserved before the code is checked: parallel guesses on one ticket cannot
  // exceed its five attempts. The ticket only works on the device that typed the password, so a
  // leaked ticket is useless elsewhere.
  const ticket = await ctx.db
    .updateTable('signin_tickets')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('token_hash', '=', hashToken(input.ticket))
    .where('device_hash', '=', hashToken(input.deviceKey))
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .where('attempts', '<', TICKET_MAX_ATTEMPTS)
    .returning(['id', 'account_id', 'stay_signed_in'])
    .executeTakeFirst()
  if (!ticket) throw new AppError('ticket_invalid', { fields: { ticket: 'invalid' } })
  const account = await ctx.db.selectFrom('accounts').selectAll().where('id', '=', ticket.account_id).executeTakeFirst()
  if (!account || account.status !== 'active') throw new AppError('ticket_invalid', { fields: { ticket: 'invalid' } })
  // Spent up front for the same reason; a success gives it back.
  const limitKey = `2fa:${account.id}`
  await ctx.limits.consume('two_factor_account', limitKey)

  let method: string
  try {
    if ('passkey' in input.factor) {
      await verifyPasskeyAssertion(ctx, { ...input.factor.passkey, purpose: 'second_factor', accountId: account.id })
      method = 'passkey'
    } else {
      method = await verifySecondFactor(ctx, account, input.factor)
    }
  } catch (err) {
    await recordAudit(ctx.db, { accountId: account.id, type: 'two_factor.failed', meta: input.meta, at: now })
    throw err
  }
  // The ticket is single use even if two requests race with valid codes.
  const spent = await ctx.db.updateTable('signin_tickets').set({ used_at: now }).where('id', '=', ticket.id).where('used_at', 'is', null).executeTakeFirst()
  if (Number(spent.numUpdatedRows) !== 1) throw new AppError('ticket_invalid', { fields: { ticket: 'invalid' } })
  await ctx.limits.reset('two_factor_account', limitKey)
  return completeSignIn(ctx, account, { staySignedIn: ticket.stay_signed_in === 1, meta: input.meta, deviceKey: input.deviceKey, kind: input.kind, method: `password+${method}` })
}

/** Passwordless: a discoverable passkey with user verification is both factors at once. */
export async function signInWithPasskey(
  ctx: AppContext,
  input: SignInContext & { challengeId: string; response: AuthenticationResponseJSON },
): Promise<{ token: string; session: Session; account: Account }> {
  await ctx.limits.consume('signin_ip', input.meta.ip)
  const { accountId } = await verifyPasskeyAssertion(ctx, { challengeId: input.challengeId, response: input.response, purpose: 'signin', accountId: null })
  const account = await ctx.db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow()
  if (account.status !== 'active') throw new AppError('account_deactivated')
  return completeSignIn(ctx, account, { ...input, method: 'passkey' })
}

/** Creates the session, records the sign-in and warns about a device not seen before. */
async function completeSignIn(ctx: AppContext, account: Account, input: SignInContext & { method: string }) {
  const deviceHash = hashToken(input.deviceKey)
  if (ctx.dialect === 'postgres') {
    const done = await signInOnKnownDevice(ctx, account, input, deviceHash)
    if (done) return done
  }
  return inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now()
    const created = await createSession(ctx, trx, { accountId: account.id, staySignedIn: input.staySignedIn, kind: input.kind, meta: input.meta })
    await recordAudit(trx, { accountId: account.id, type: 'signin.succeeded', meta: input.meta, at: now, details: { sessionId: created.session.id, method: input.method } })
    const known = await trx
      .updateTable('known_devices')
      .set({ last_seen_at: now })
      .where('account_id', '=', account.id)
      .where('device_hash', '=', deviceHash)
      .executeTakeFirst()
    if (Number(known.numUpdatedRows) === 0) {
      const anyKnown = await trx.selectFrom('known_devices').select('device_hash').where('account_id', '=', account.id).executeTakeFirst()
      await trx.insertInto('known_devices').values({ account_id: account.id, device_hash: deviceHash, first_seen_at: now, last_seen_at: now }).execute()
      // The very first device is the one that signed up: nothing to warn about.
      if (anyKnown) {
        const token = await issueToken(trx, ctx.clock, { accountId: account.id, purpose: 'signin_disavow', sessionId: created.session.id })
        await notifySecurity(ctx, trx, account, 'signin_new_device', {
          username: account.username,
          browser: created.session.browser,
          os: created.session.os,
          ip: created.session.ip,
          at: new Date(now).toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
          disavowLink: link(ctx, '/signin/disavow', { token }),
        })
      }
    }
    return { ...created, account }
  })
}

/**
 * The common sign-in, from a device the account has used before, as one PostgreSQL statement
 * instead of a five-statement transaction: data-modifying CTEs commit together, and the two
 * inserts read from the device update, so on a device not seen before nothing is written and
 * the caller takes the full path (new-device record and warning).
 */
async function signInOnKnownDevice(ctx: AppContext, account: Account, input: SignInContext & { method: string }, deviceHash: string) {
  const now = ctx.clock.now()
  const created = newSession(ctx, { accountId: account.id, staySignedIn: input.staySignedIn, kind: input.kind, meta: input.meta })
  const audit = auditRow({ accountId: account.id, type: 'signin.succeeded', meta: input.meta, at: now, details: { sessionId: created.session.id, method: input.method } })
  const { rows } = await sql<{ known: number }>`
    with device as (
      update known_devices set last_seen_at = ${now}
      where account_id = ${account.id} and device_hash = ${deviceHash}
      returning account_id
    ),
    new_session as (${insertFrom('sessions', created.session)}),
    new_audit as (${insertFrom('audit_events', audit)})
    select count(*)::int as known from device`.execute(ctx.db)
  return rows[0]?.known ? { ...created, account } : undefined
}

/** `insert into <table> (...) select ... from device`, each value cast to its column's kind. */
function insertFrom(table: string, row: Record<string, unknown>) {
  // Parameters in a select list have no type of their own; absent (null) columns keep their default.
  const entries = Object.entries(row).filter(([, value]) => value != null)
  const columns = sql.join(entries.map(([column]) => sql.ref(column)))
  const values = sql.join(entries.map(([, value]) => (typeof value === 'number' ? sql`${value}::bigint` : sql`${value}::text`)))
  return sql`insert into ${sql.table(table)} (${columns}) select ${values} from device`
}

/** "This wasn't me": ends the session the email was about and sends a password reset link. */
export async function disavowSignIn(ctx: AppContext, token: string, meta: RequestMeta): Promise<void> {
  const row = await inTransaction(ctx, async (trx) => consumeToken(trx, ctx.clock, token, ['signin_disavow']))
  if (!row) throw new AppError('token_invalid', { fields: { token: 'invalid' } })
  await inTransaction(ctx, async (trx) => {
    const account = await trx.selectFrom('accounts').selectAll().where('id', '=', row.account_id).executeTakeFirst()
    if (!account) return
    // Whoever signed in may have more than one session, and the device must not stay trusted:
    // every session ends, that device is forgotten, and older links and tickets die.
    const revoked = await revokeAllSessions(trx, { accountId: account.id })
    await trx.deleteFrom('known_devices').where('account_id', '=', account.id).execute()
    await retireOutstandingLinks(trx, account.id)
    await recordAudit(trx, { accountId: account.id, type: 'signin.disavowed', meta, at: ctx.clock.now(), details: { sessionId: row.session_id, sessionsRevoked: revoked } })
    const resetToken = await issueToken(trx, ctx.clock, { accountId: account.id, purpose: 'password_reset' })
    await ctx.mailer.enqueue(trx, { to: account.email, template: 'recovery', locale: localeOf(account), vars: { username: account.username, link: link(ctx, '/reset-password', { token: resetToken }) } })
  })
  await evictCachedSessions(ctx, row.account_id)
}

/**
 * Counts a failed password. Unknown logins get an audit row too: operators see the attempts,
 * and both outcomes do comparable database work before answering (no timing tell).
 */
async function recordFailure(ctx: AppContext, account: Account | null, meta: RequestMeta): Promise<void> {
  const lockAfter = ctx.config.rateLimits.signinLockAfterFailures
  await ctx.db.transaction().execute(async (trx) => {
    const now = ctx.clock.now()
    if (!account) {
      await recordAudit(trx, { accountId: null, type: 'signin.failed', meta, at: now, details: { reason: 'unknown_login' } })
      return
    }
    // One conditional update: concurrent failures each count, none is lost.
    const updated = await trx
      .updateTable('accounts')
      .set((eb) => ({ failed_signins: eb('failed_signins', '+', 1) }))
      .where('id', '=', account.id)
      .returning(['failed_signins', 'password_signin_locked'])
      .executeTakeFirst()
    await recordAudit(trx, { accountId: account.id, type: 'signin.failed', meta, at: now })
    if (updated && updated.failed_signins >= lockAfter && !updated.password_signin_locked) {
      await trx.updateTable('accounts').set({ password_signin_locked: 1 }).where('id', '=', account.id).execute()
      await recordAudit(trx, { accountId: account.id, type: 'account.signin_locked', meta, at: now, details: { failedSignins: updated.failed_signins } })
    }
  })
  // No cache eviction: the failure count and the lock change nothing a live session shows.
}
