/**
 * Two-factor authentication (SPEC §5): TOTP with 10 single-use recovery codes. Turning it on
 * revokes every session and hands the browser that turned it on a fresh one; each code works
 * once; recovery codes are stored as SHA-256 hashes (they are 50-bit random, so a slow hash adds
 * nothing).
 */
import { randomInt } from 'node:crypto'
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import { verifyPasswordOf } from '../accounts/reauth-password.ts'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { decryptSecret, encryptSecret, hashToken, newId } from '../crypto.ts'
import type { Queryable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { notifySecurity } from '../notifications/notifications.ts'
import { retireOutstandingLinks } from '../accounts/tokens.ts'
import { createSession, markReauthenticated, revokeAllSessions, type Authenticated } from '../sessions/sessions.ts'
import type { Account } from '../accounts/queries.ts'
import { matchingStep, newTotpSecret, otpauthUri } from './totp.ts'

export const RECOVERY_CODE_COUNT = 10
/** At or below this many unused codes the person is warned by email. */
export const RECOVERY_CODES_LOW = 3
const CODE_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'

function newRecoveryCode(): string {
  const chars = Array.from({ length: 10 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)])
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`
}

/** People type codes with spaces, dashes and capitals; none of that matters. */
function recoveryCodeHash(code: string): string {
  return hashToken(code.toLowerCase().replace(/[\s-]/g, ''))
}

async function storeNewRecoveryCodes(db: Queryable, accountId: string, now: number): Promise<string[]> {
  await db.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute()
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode)
  await db
    .insertInto('recovery_codes')
    .values(codes.map((code) => ({ id: newId(), account_id: accountId, code_hash: recoveryCodeHash(code), created_at: now, used_at: null })))
    .execute()
  return codes
}

export async function isTwoFactorEnabled(db: Queryable, accountId: string): Promise<boolean> {
  const row = await db.selectFrom('two_factor').select('enabled_at').where('account_id', '=', accountId).executeTakeFirst()
  return row?.enabled_at != null
}

export async function twoFactorStatus(ctx: AppContext, accountId: string) {
  const row = await ctx.db.selectFrom('two_factor').select(['enabled_at']).where('account_id', '=', accountId).executeTakeFirst()
  const remaining = await ctx.db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow()
  const enabled = row?.enabled_at != null
  return {
    enabled,
    enabledAt: enabled ? new Date(row!.enabled_at!).toISOString() : null,
    recoveryCodesRemaining: enabled ? Number(remaining.n) : 0,
    // A set-up started and neither confirmed nor cancelled: the page shows its key again.
    setupPending: row !== undefined && !enabled,
  }
}

/** The key of a pending set-up as the page shows it: secret, otpauth URI and QR code. */
async function setupKey(ctx: AppContext, email: string, secret: string) {
  const uri = otpauthUri(secret, email, ctx.config.publicUrl.hostname === 'localhost' ? 'Latchkey' : `Latchkey (${ctx.config.publicUrl.hostname})`)
  // The QR code library is needed only here, by few people and rarely: loaded on first use.
  const { default: QRCode } = await import('qrcode')
  return { secret, otpauthUri: uri, qrCode: await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 1, width: 240 }) }
}

async function pendingSecret(ctx: AppContext, db: Queryable, accountId: string): Promise<string | undefined> {
  const row = await db.selectFrom('two_factor').select(['secret_encrypted', 'enabled_at']).where('account_id', '=', accountId).executeTakeFirst()
  return row && row.enabled_at === null ? decryptSecret(ctx.secretsKey, row.secret_encrypted) : undefined
}

/**
 * Starts turning 2FA on, or shows the set-up already started: a person who scanned the key and
 * then reloaded the page (or pressed "Turn on" again) must not get a new key that makes the one
 * in their app useless. Only cancelling (`cancelTwoFactorSetup`) throws a pending key away.
 */
export async function beginTwoFactorSetup(ctx: AppContext, auth: Authenticated, input: { password: string }) {
  const { account, session } = auth
  if (!account.password_hash) throw new AppError('password_required')
  // Until the address is confirmed the account may belong to someone else's sign-up attempt:
  // no second factor that would outlive the owner's password reset.
  if (account.email_confirmed_at === null) throw new AppError('email_not_confirmed', { message: 'Confirm your email address before turning on two-factor authentication.' })
  await verifyPasswordOf(ctx, account, input.password)
  // The password just entered is a fresh proof: confirming the code next needs no second prompt.
  return startTwoFactorSetup(ctx, account, (trx, now) => markReauthenticated(ctx, trx, session, now))
}

/**
 * The key of a set-up, new or pending, for an account whose password was just proven (by the
 * settings page above, or by a sign-in a team's "require 2FA" stopped: src/signin/two-factor-setup.ts).
 */
export async function startTwoFactorSetup(ctx: AppContext, account: Account, alsoInTransaction?: (trx: Queryable, now: number) => Promise<void>) {
  if (await isTwoFactorEnabled(ctx.db, account.id)) throw new AppError('two_factor_already_enabled')
  const now = ctx.clock.now()
  const secret = await inTransaction(ctx, async (trx) => {
    await alsoInTransaction?.(trx, now)
    const pending = await pendingSecret(ctx, trx, account.id)
    if (pending) return pending
    const fresh = newTotpSecret()
    await trx.deleteFrom('two_factor').where('account_id', '=', account.id).execute()
    await trx.insertInto('two_factor').values({ account_id: account.id, secret_encrypted: encryptSecret(ctx.secretsKey, fresh), enabled_at: null, last_used_step: null, created_at: now }).execute()
    return fresh
  })
  return setupKey(ctx, account.email, secret)
}

/** The pending set-up's key again (after a reload), or `two_factor_setup_missing`. */
export async function pendingTwoFactorSetup(ctx: AppContext, auth: Authenticated) {
  const secret = await pendingSecret(ctx, ctx.db, auth.account.id)
  if (!secret) throw new AppError('two_factor_setup_missing')
  return setupKey(ctx, auth.account.email, secret)
}

/** Throws a pending set-up's key away; 2FA already on is left alone (turning it off needs the password). */
export async function cancelTwoFactorSetup(ctx: AppContext, accountId: string): Promise<void> {
  await ctx.db.deleteFrom('two_factor').where('account_id', '=', accountId).where('enabled_at', 'is', null).execute()
}

/**
 * Turns 2FA on with a current code. SPEC §4/§5 "enabling revokes all sessions": every session
 * and token issued before ends, this browser's too, so nothing signed in with the password alone
 * survives. The browser that confirmed, having just shown both factors, gets a fresh session
 * (`token`) in the same transaction instead of being sent to sign in again, where the code it
 * just used would be refused as already used (a code works once).
 */
export async function confirmTwoFactorSetup(ctx: AppContext, auth: Authenticated, input: { code: string }, meta: RequestMeta) {
  const { account, session } = auth
  const step = await checkSetupCode(ctx, account.id, input.code)
  const result = await inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now()
    const { recoveryCodes, revoked } = await turnOnTwoFactor(ctx, trx, account, step, now)
    const fresh = await createSession(ctx, trx, { accountId: account.id, staySignedIn: session.stay_signed_in === 1, kind: session.kind, meta })
    // The confirming session was among those revoked: the others are what the person lost.
    const otherSessionsRevoked = Math.max(0, revoked - 1)
    await recordAudit(trx, { accountId: account.id, type: 'two_factor.enabled', meta, at: now, details: { sessionsRevoked: revoked, newSessionId: fresh.session.id } })
    return { recoveryCodes, otherSessionsRevoked, token: fresh.token }
  })
  return result
}

/** The TOTP step a pending set-up's first code matches, or the error to answer with. */
export async function checkSetupCode(ctx: AppContext, accountId: string, code: string): Promise<number> {
  const row = await ctx.db.selectFrom('two_factor').selectAll().where('account_id', '=', accountId).executeTakeFirst()
  if (!row) throw new AppError('two_factor_setup_missing')
  if (row.enabled_at !== null) throw new AppError('two_factor_already_enabled')
  if (code === '') throw new AppError('invalid_request', { message: 'Enter the 6-digit code from your authenticator app.', fields: { code: 'required' } })
  const step = matchingStep(decryptSecret(ctx.secretsKey, row.secret_encrypted), code, ctx.clock.now())
  if (step === null) throw new AppError('two_factor_code_invalid', { fields: { code: 'invalid' } })
  return step
}

/**
 * In the caller's transaction: 2FA on, fresh recovery codes, every session ended (SPEC §4/§5:
 * nothing signed in with the password alone survives), outstanding links retired, the person told.
 */
export async function turnOnTwoFactor(ctx: AppContext, trx: Queryable, account: Account, step: number, now: number): Promise<{ recoveryCodes: string[]; revoked: number }> {
  // Conditional: two confirmations racing turn it on once and mint one set of codes.
  const turnedOn = await trx
    .updateTable('two_factor')
    .set({ enabled_at: now, last_used_step: step })
    .where('account_id', '=', account.id)
    .where('enabled_at', 'is', null)
    .executeTakeFirst()
  if (Number(turnedOn.numUpdatedRows) !== 1) throw new AppError('two_factor_already_enabled')
  const recoveryCodes = await storeNewRecoveryCodes(trx, account.id, now)
  const revoked = await revokeAllSessions(ctx, trx, { accountId: account.id })
  await retireOutstandingLinks(ctx, trx, account.id)
  await notifySecurity(ctx, trx, account, 'two_factor_enabled', { username: account.username })
  return { recoveryCodes, revoked }
}

export async function disableTwoFactor(ctx: AppContext, auth: Authenticated, input: { password: string }, meta: RequestMeta): Promise<void> {
  const { account } = auth
  await verifyPasswordOf(ctx, account, input.password)
  await inTransaction(ctx, async (trx) => {
    const removed = await trx.deleteFrom('two_factor').where('account_id', '=', account.id).where('enabled_at', 'is not', null).executeTakeFirst()
    if (Number(removed.numDeletedRows) !== 1) throw new AppError('two_factor_not_enabled')
    await trx.deleteFrom('recovery_codes').where('account_id', '=', account.id).execute()
    await recordAudit(trx, { accountId: account.id, type: 'two_factor.disabled', meta, at: ctx.clock.now() })
    await notifySecurity(ctx, trx, account, 'two_factor_disabled', { username: account.username, byOperator: false })
  })
}

export async function regenerateRecoveryCodes(ctx: AppContext, auth: Authenticated, input: { password: string }, meta: RequestMeta): Promise<string[]> {
  const { account } = auth
  await verifyPasswordOf(ctx, account, input.password)
  return inTransaction(ctx, async (trx) => {
    if (!(await isTwoFactorEnabled(trx, account.id))) throw new AppError('two_factor_not_enabled')
    const now = ctx.clock.now()
    const codes = await storeNewRecoveryCodes(trx, account.id, now)
    await recordAudit(trx, { accountId: account.id, type: 'two_factor.recovery_codes_regenerated', meta, at: now })
    await notifySecurity(ctx, trx, account, 'recovery_codes_regenerated', { username: account.username })
    return codes
  })
}

/** Operator action, after they have verified the person's identity out of band (SPEC §5). */
export async function resetTwoFactorByOperator(ctx: AppContext, account: Account, meta: RequestMeta): Promise<boolean> {
  return inTransaction(ctx, async (trx) => {
    const removed = await trx.deleteFrom('two_factor').where('account_id', '=', account.id).executeTakeFirst()
    await trx.deleteFrom('recovery_codes').where('account_id', '=', account.id).execute()
    const wasOn = Number(removed.numDeletedRows) === 1
    if (wasOn) {
      await recordAudit(trx, { accountId: account.id, type: 'two_factor.reset_by_operator', meta, at: ctx.clock.now() })
      await notifySecurity(ctx, trx, account, 'two_factor_disabled', { username: account.username, byOperator: true })
    }
    return wasOn
  })
}

export type SecondFactor = { code: string } | { recoveryCode: string }

/**
 * Verifies an authenticator code or a recovery code for an account with 2FA on. Each is
 * spent by one conditional UPDATE, so a replayed or raced code fails.
 */
export async function verifySecondFactor(ctx: AppContext, account: Pick<Account, 'id' | 'email' | 'username' | 'locale' | 'notification_preferences'>, factor: SecondFactor): Promise<'totp' | 'recovery_code'> {
  const now = ctx.clock.now()
  if ('code' in factor) {
    const row = await ctx.db.selectFrom('two_factor').selectAll().where('account_id', '=', account.id).executeTakeFirst()
    if (!row || row.enabled_at === null) throw new AppError('two_factor_not_enabled')
    const step = matchingStep(decryptSecret(ctx.secretsKey, row.secret_encrypted), factor.code, now)
    if (step === null) throw new AppError('two_factor_code_invalid', { fields: { code: 'invalid' } })
    const spent = await ctx.db
      .updateTable('two_factor')
      .set({ last_used_step: step })
      .where('account_id', '=', account.id)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .executeTakeFirst()
    if (Number(spent.numUpdatedRows) !== 1) throw new AppError('two_factor_code_reused', { fields: { code: 'reused' } })
    return 'totp'
  }
  return inTransaction(ctx, async (trx) => {
    const spent = await trx
      .updateTable('recovery_codes')
      .set({ used_at: now })
      .where('account_id', '=', account.id)
      .where('code_hash', '=', recoveryCodeHash(factor.recoveryCode))
      .where('used_at', 'is', null)
      .executeTakeFirst()
    if (Number(spent.numUpdatedRows) !== 1) throw new AppError('recovery_code_invalid', { fields: { recoveryCode: 'invalid' } })
    const left = await trx
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('account_id', '=', account.id)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow()
    if (Number(left.n) <= RECOVERY_CODES_LOW) {
      await notifySecurity(ctx, trx, account, 'recovery_codes_low', { username: account.username, remaining: Number(left.n) })
    }
    return 'recovery_code' as const
  })
}
