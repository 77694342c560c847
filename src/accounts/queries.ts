/**
 * The account row and the queries other capabilities make on `accounts`: this folder owns the
 * table, so signing in, notifications, teams and the rest call these instead of querying it.
 * Every write here also drops the cached sessions of the account after the commit (a cached
 * session carries its account row).
 */
import type { Selectable } from 'kysely'
import type { AppContext } from '../context.ts'
import type { AccountsTable, Queryable } from '../db/schema.ts'
import { evictAfterCommit } from '../sessions/sessions.ts'
import { canonicalEmail, normalizeEmail } from './emails.ts'
import { normalizeUsername } from './usernames.ts'

export type Account = Selectable<AccountsTable>

export async function findAccountById(db: Queryable, accountId: string): Promise<Account | undefined> {
  return db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst()
}

/** By an address already normalised with `normalizeEmail`. */
export async function findAccountByEmail(db: Queryable, emailNormalized: string): Promise<Account | undefined> {
  return db.selectFrom('accounts').selectAll().where('email_normalized', '=', emailNormalized).executeTakeFirst()
}

/** The account that has confirmed this address (normalised with `normalizeEmail`), if any. */
export async function findConfirmedAccountByEmail(db: Queryable, emailNormalized: string): Promise<Account | undefined> {
  return db.selectFrom('accounts').selectAll().where('email_normalized', '=', emailNormalized).where('email_confirmed_at', 'is not', null).executeTakeFirst()
}

/** The accounts of these addresses (normalised), confirmed or not: who each one is and their language. */
export async function accountsByEmails(db: Queryable, emailsNormalized: readonly string[]): Promise<Pick<Account, 'id' | 'email_normalized' | 'locale'>[]> {
  if (!emailsNormalized.length) return []
  return db.selectFrom('accounts').select(['id', 'email_normalized', 'locale']).where('email_normalized', 'in', [...emailsNormalized]).execute()
}

/** What other capabilities show of a person (member lists, inviters) or need to reach them. */
export type AccountCard = Pick<Account, 'id' | 'username' | 'display_name' | 'avatar_image_id' | 'email' | 'locale' | 'notification_preferences'>

/**
 * The cards of these accounts, by id (missing ids are absent: a deleted account). Lists in other
 * folders read their own rows first and then this, one extra indexed query instead of a join on
 * a table they do not own.
 */
export async function accountCards(db: Queryable, accountIds: readonly string[]): Promise<Map<string, AccountCard>> {
  const ids = [...new Set(accountIds)]
  if (!ids.length) return new Map()
  const rows = await db
    .selectFrom('accounts')
    .select(['id', 'username', 'display_name', 'avatar_image_id', 'email', 'locale', 'notification_preferences'])
    .where('id', 'in', ids)
    .execute()
  return new Map(rows.map((row) => [row.id, row]))
}

/** What a typed login names: a normalised email (it has an @) or username; null for a malformed email. */
export function loginKey(login: string): { column: 'email_normalized' | 'username_normalized'; value: string } | null {
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

/** The account an email or username names (one indexed query on the sign-in path). */
export async function findAccountByLogin(db: Queryable, login: string): Promise<Account | undefined> {
  const key = loginKey(login)
  if (!key) return undefined
  return db.selectFrom('accounts').selectAll().where(key.column, '=', key.value).executeTakeFirst()
}

/** A successful password sign-in: the failure count starts again, and a stronger hash replaces an old one. */
export async function markSignedIn(ctx: AppContext, account: Account, rehash: string | null): Promise<void> {
  if (account.failed_signins === 0 && !rehash) return
  await ctx.db.updateTable('accounts').set({ failed_signins: 0, ...(rehash ? { password_hash: rehash } : {}) }).where('id', '=', account.id).execute()
  await evictAfterCommit(ctx, ctx.db, account.id)
}

/**
 * Counts one failed password in one conditional update (concurrent failures each count, none
 * is lost) and locks password sign-in at `lockAfter`. Returns the count, and whether this
 * failure is the one that locked it. No cache eviction: neither changes what a live session shows.
 */
export async function countFailedSignIn(db: Queryable, accountId: string, lockAfter: number): Promise<{ failedSignins: number; lockedNow: boolean } | undefined> {
  const updated = await db
    .updateTable('accounts')
    .set((eb) => ({ failed_signins: eb('failed_signins', '+', 1) }))
    .where('id', '=', accountId)
    .returning(['failed_signins', 'password_signin_locked'])
    .executeTakeFirst()
  if (!updated) return undefined
  const lockedNow = updated.failed_signins >= lockAfter && !updated.password_signin_locked
  if (lockedNow) await db.updateTable('accounts').set({ password_signin_locked: 1 }).where('id', '=', accountId).execute()
  return { failedSignins: updated.failed_signins, lockedNow }
}

/** A password reset by emailed link: new hash, no failures, unlocked, and the address counts as confirmed. */
export async function resetPasswordHash(ctx: AppContext, db: Queryable, accountId: string, passwordHash: string, now: number): Promise<Account> {
  const account = await db
    .updateTable('accounts')
    // Using the emailed link proves control of the address, so it counts as confirming it.
    .set((eb) => ({ password_hash: passwordHash, failed_signins: 0, password_signin_locked: 0, updated_at: now, email_confirmed_at: eb.fn.coalesce('email_confirmed_at', eb.val(now)) }))
    .where('id', '=', accountId)
    .returningAll()
    .executeTakeFirstOrThrow()
  await evictAfterCommit(ctx, db, accountId)
  return account
}

/** The notification grid, as JSON (its shape belongs to src/notifications). */
export async function saveNotificationPreferences(ctx: AppContext, accountId: string, preferencesJson: string): Promise<void> {
  await ctx.db.updateTable('accounts').set({ notification_preferences: preferencesJson, updated_at: ctx.clock.now() }).where('id', '=', accountId).execute()
  await evictAfterCommit(ctx, ctx.db, accountId)
}

/** Takes the account row's lock until the transaction ends: serialises one person's concurrent joins or sign-ins. */
export async function lockAccountRow(db: Queryable, accountId: string): Promise<void> {
  await db.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirst()
}

export async function usernameOf(db: Queryable, accountId: string): Promise<string | null> {
  return (await db.selectFrom('accounts').select('username').where('id', '=', accountId).executeTakeFirst())?.username ?? null
}
