import type { Queryable } from '../db/schema.ts'

export async function listOutbox(db: Queryable, options: { limit: number; to?: string }) {
  let query = db.selectFrom('mail_outbox').select(['id', 'to_address', 'subject', 'status', 'created_at', 'template']).orderBy('created_at', 'desc').limit(options.limit)
  if (options.to) query = query.where('to_address', '=', options.to)
  return query.execute()
}

export async function showOutboxMessage(db: Queryable, id: string) {
  return db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirst()
}
