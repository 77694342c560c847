// Frozen in time: a migration imports no application code and never changes once released.
import type { Kysely } from 'kysely'

/**
 * Team public profiles and URL changes (SPEC §7): a description, a website and a public switch
 * on the team; and the slugs a team used before, so old links keep finding it for a while.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('teams').addColumn('description', 'text', (c) => c.notNull().defaultTo('')).execute()
  await db.schema.alterTable('teams').addColumn('website', 'text').execute()
  await db.schema.alterTable('teams').addColumn('profile_public', 'integer', (c) => c.notNull().defaultTo(0)).execute()

  // One row per previous slug; the slug stays the team's (refused to others) until it expires.
  await db.schema
    .createTable('team_slug_history')
    .addColumn('slug', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('changed_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('team_slug_history_team').on('team_slug_history').columns(['team_id', 'changed_at']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('team_slug_history').execute()
  await db.schema.alterTable('teams').dropColumn('profile_public').execute()
  await db.schema.alterTable('teams').dropColumn('website').execute()
  await db.schema.alterTable('teams').dropColumn('description').execute()
}
