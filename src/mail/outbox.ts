import type { Queryable } from '../db/schema.ts'

export async function listOutbox(db: Queryable, options: { limit: number; to?: string }) {
  let query = db.selectFrom('mail_outbox').select(['id', 'to_address', 'subject', 'status', 'created_at', 'template']).orderBy('created_at', 'desc').limit(options.limit)
  if (options.to) query = query.where('to_address', '=', options.to)
  return query.execute()
}

/** Ids are UUIDs; a prefix must be long enough not to match half the outbox by accident. */
export const MIN_ID_PREFIX = 4

/**
 * One message by its id or by a unique prefix of it, as `git show` takes a short commit hash:
 * `latchkey mail show 3f2a` instead of copying 36 characters. An ambiguous prefix returns the
 * ids it matches (a few), so the caller can say which.
 */
export async function findOutboxMessage(db: Queryable, idOrPrefix: string) {
  const exact = await db.selectFrom('mail_outbox').selectAll().where('id', '=', idOrPrefix).executeTakeFirst()
  if (exact) return { message: exact, matches: [exact.id] }
  const prefix = idOrPrefix.toLowerCase()
  if (prefix.length < MIN_ID_PREFIX || !/^[0-9a-f-]+$/.test(prefix)) return { message: undefined, matches: [] }
  // Only hex digits and dashes: nothing a LIKE pattern treats specially.
  const rows = await db.selectFrom('mail_outbox').selectAll().where('id', 'like', `${prefix}%`).orderBy('id').limit(5).execute()
  return { message: rows.length === 1 ? rows[0] : undefined, matches: rows.map((r) => r.id) }
}
