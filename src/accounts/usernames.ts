/**
 * Username rules (SPEC §2): 3–32 letters, digits, `-` and `_`, not starting or ending with a
 * separator, unique without regard to case, reserved names refused.
 */
import { randomInt } from 'node:crypto'
import { AppError } from '../errors.ts'
import type { Queryable } from '../db/schema.ts'

export const USERNAME_PATTERN = '^[A-Za-z0-9](?:[A-Za-z0-9_-]{1,30})[A-Za-z0-9]$'
const USERNAME_RE = new RegExp(USERNAME_PATTERN)

// Names that would impersonate the service or collide with routes under /u/ and the API.
const RESERVED = new Set([
  'admin', 'administrator', 'api', 'app', 'apps', 'auth', 'billing', 'docs', 'help', 'info',
  'latchkey', 'login', 'logout', 'me', 'mail', 'noreply', 'no-reply', 'null', 'oauth', 'oidc',
  'operator', 'postmaster', 'root', 'security', 'settings', 'signin', 'signout', 'signup',
  'sso', 'staff', 'status', 'support', 'system', 'team', 'teams', 'undefined', 'user', 'users',
  'webmaster', 'www', 'abuse', 'hostmaster', 'owner', 'official', 'moderator',
])

export function normalizeUsername(username: string): string {
  return username.toLowerCase()
}

export function checkUsername(username: string, field = 'username'): string {
  if (!USERNAME_RE.test(username)) {
    const reason = username.length < 3 ? 'too_short' : username.length > 32 ? 'too_long' : 'invalid_characters'
    throw new AppError('username_invalid', {
      message: 'A username has 3 to 32 letters, digits, "-" or "_", and starts and ends with a letter or digit.',
      fields: { [field]: reason },
    })
  }
  if (RESERVED.has(normalizeUsername(username))) {
    throw new AppError('username_invalid', { message: 'This username is reserved.', fields: { [field]: 'reserved' } })
  }
  return username
}

/** Up to three free names near the one that was taken, checked in one query; `now` (ctx.clock) gives the year. */
export async function suggestUsernames(db: Queryable, taken: string, now: number): Promise<string[]> {
  const base = taken.replace(/[-_]+$/, '').slice(0, 26) || 'user'
  const candidates = new Set<string>()
  const year = new Date(now).getUTCFullYear()
  candidates.add(`${base}${year % 100}`)
  candidates.add(`${base}-dev`)
  while (candidates.size < 8) candidates.add(`${base}${randomInt(100, 10000)}`)
  const valid = [...candidates].filter((c) => USERNAME_RE.test(c) && !RESERVED.has(c.toLowerCase()))
  const existing = await db
    .selectFrom('accounts')
    .select('username_normalized')
    .where('username_normalized', 'in', valid.map(normalizeUsername))
    .execute()
  const used = new Set(existing.map((r) => r.username_normalized))
  return valid.filter((c) => !used.has(normalizeUsername(c))).slice(0, 3)
}

export async function usernameTakenError(db: Queryable, username: string, now: number, field = 'username'): Promise<AppError> {
  return new AppError('username_taken', {
    fields: { [field]: 'taken' },
    details: { suggestions: await suggestUsernames(db, username, now) },
  })
}

/** What the sign-up form shows while someone types a username. */
export async function usernameAvailability(db: Queryable, username: string, now: number): Promise<{ available: boolean; reason?: string; message?: string; suggestions: string[] }> {
  try {
    checkUsername(username)
  } catch (err) {
    const e = err as AppError
    return { available: false, reason: e.fields?.username ?? 'invalid', message: e.message, suggestions: [] }
  }
  const taken = await db.selectFrom('accounts').select('id').where('username_normalized', '=', normalizeUsername(username)).executeTakeFirst()
  if (!taken) return { available: true, suggestions: [] }
  return { available: false, reason: 'taken', message: 'This username is taken.', suggestions: await suggestUsernames(db, username, now) }
}

/**
 * The current username of each account id given (deleted accounts are absent). Logs and lists
 * keep the name an account had at the time; they show this one beside it, so a rename does not
 * leave a stranger's name in them.
 */
export async function currentUsernames(db: Queryable, accountIds: Iterable<string>): Promise<Map<string, string>> {
  const ids = [...new Set(accountIds)]
  if (!ids.length) return new Map()
  const rows = await db.selectFrom('accounts').select(['id', 'username']).where('id', 'in', ids).execute()
  return new Map(rows.map((row) => [row.id, row.username]))
}
