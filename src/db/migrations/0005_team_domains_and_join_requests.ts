// Frozen in time: a migration imports no application code and never changes once released.
import type { Kysely } from 'kysely'
import { sql } from 'kysely'

/**
 * Team discovery (SPEC §7): email domains a team claims and proves with a DNS TXT record,
 * the team's discovery switch and question, and people's requests to join.
 *
 * A domain can be claimed (pending) by several teams, but verified by one only: a partial
 * unique index holds that even when two teams verify at the same moment.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('team_domains')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    // Lower-case ASCII (IDNs in punycode), no trailing dot.
    .addColumn('domain', 'text', (c) => c.notNull())
    // The TXT record's value: public by design (it is published in DNS), so kept as is.
    .addColumn('verification_token', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('added_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('verified_at', 'bigint')
    .addColumn('last_checked_at', 'bigint')
    .addColumn('last_check_outcome', 'text')
    .execute()
  await db.schema.createIndex('team_domains_team_domain').unique().on('team_domains').columns(['team_id', 'domain']).execute()
  await db.schema
    .createIndex('team_domains_verified_domain')
    .unique()
    .on('team_domains')
    .column('domain')
    .where(sql.ref('status'), '=', sql.lit('verified'))
    .execute()

  await db.schema
    .createTable('team_discovery')
    .addColumn('team_id', 'text', (c) => c.primaryKey().references('teams.id').onDelete('cascade'))
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('question', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('team_join_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    // The requester's email domain when they asked: a later change of email cancels the request.
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('question', 'text')
    .addColumn('answer', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .addColumn('decided_by', 'text')
    .execute()
  // One pending request per person and team.
  await db.schema
    .createIndex('team_join_requests_pending')
    .unique()
    .on('team_join_requests')
    .columns(['team_id', 'account_id'])
    .where(sql.ref('status'), '=', sql.lit('pending'))
    .execute()
  await db.schema.createIndex('team_join_requests_account').on('team_join_requests').columns(['account_id', 'status']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['team_join_requests', 'team_discovery', 'team_domains']) {
    await db.schema.dropTable(table).ifExists().execute()
  }
}
