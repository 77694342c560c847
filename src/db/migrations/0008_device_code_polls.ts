// Frozen in time: a migration imports no application code and never changes once released.
import type { Kysely } from 'kysely'

/**
 * When a device code was last polled at the token endpoint (RFC 8628 §3.5): a poll sooner than
 * the interval after it is answered `slow_down`. A column, not memory, so every instance sees it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('oauth_models').addColumn('polled_at', 'bigint').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('oauth_models').dropColumn('polled_at').execute()
}
