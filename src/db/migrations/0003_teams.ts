// Frozen in time: a migration imports no application code and never changes once released.
import type { Kysely } from 'kysely'
import { sql } from 'kysely'

/**
 * Teams (SPEC §7). Roles are four 0/1 columns rather than a list, so the rules that guard
 * invariants ("at least one Admin", "support members are free") are plain SQL conditions
 * inside the transaction that changes them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('teams')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('seats', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('teams_slug').unique().on('teams').column('slug').execute()

  // account_id has no ON DELETE: an account in a team cannot be deleted (SPEC §6), and the
  // foreign key refuses it even if a caller forgot to check.
  await db.schema
    .createTable('team_members')
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('role_admin', 'integer', (c) => c.notNull())
    .addColumn('role_billing', 'integer', (c) => c.notNull())
    .addColumn('role_developer', 'integer', (c) => c.notNull())
    .addColumn('role_community_manager', 'integer', (c) => c.notNull())
    .addColumn('joined_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'account_id'])
    .execute()
  await db.schema.createIndex('team_members_account').on('team_members').column('account_id').execute()

  // Invitations and a Developer's suggestions share a table: a suggestion is an invitation
  // that has no token yet and waits for an Admin.
  await db.schema
    .createTable('team_invitations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_normalized', 'text', (c) => c.notNull())
    .addColumn('role_admin', 'integer', (c) => c.notNull())
    .addColumn('role_billing', 'integer', (c) => c.notNull())
    .addColumn('role_developer', 'integer', (c) => c.notNull())
    .addColumn('role_community_manager', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text')
    .addColumn('invited_by', 'text')
    .addColumn('locale', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .addColumn('closed_at', 'bigint')
    .execute()
  await db.schema.createIndex('team_invitations_token_hash').unique().on('team_invitations').column('token_hash').execute()
  // One open invitation or suggestion per address and team.
  await db.schema
    .createIndex('team_invitations_open_email')
    .unique()
    .on('team_invitations')
    .columns(['team_id', 'email_normalized'])
    .where(sql.ref('status'), 'in', [sql.lit('pending'), sql.lit('suggested')])
    .execute()

  await db.schema
    .createTable('team_activity')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('actor_id', 'text')
    .addColumn('actor_username', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('team_activity_team_at').on('team_activity').columns(['team_id', 'at', 'id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['team_activity', 'team_invitations', 'team_members', 'teams']) {
    await db.schema.dropTable(table).ifExists().execute()
  }
}
