// Frozen in time: a migration imports no application code and never changes once released.
import type { Kysely } from 'kysely'

/**
 * Team invite links (SPEC §7) and uploaded images (team logos, avatars: SPEC §6, §7).
 *
 * An invite link stores only the SHA-256 of its 256-bit token. `uses` is raised by one
 * conditional UPDATE (`uses < max_uses`) in the transaction that adds the member, under the
 * team row lock, so the use limit holds when joins race.
 *
 * Images are stored re-encoded (a fixed-size PNG, base64 text so both databases store it the
 * same way) under a random id; each belongs to one account or one team and goes with it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('team_invite_links')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('role_admin', 'integer', (c) => c.notNull())
    .addColumn('role_billing', 'integer', (c) => c.notNull())
    .addColumn('role_developer', 'integer', (c) => c.notNull())
    .addColumn('role_community_manager', 'integer', (c) => c.notNull())
    // No foreign key: the creator may leave the team and delete their account; the list
    // still shows who made the link.
    .addColumn('created_by', 'text')
    .addColumn('created_by_username', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('max_uses', 'integer', (c) => c.notNull())
    .addColumn('uses', 'integer', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoked_by_username', 'text')
    .execute()
  await db.schema.createIndex('team_invite_links_token_hash').unique().on('team_invite_links').column('token_hash').execute()
  await db.schema.createIndex('team_invite_links_team').on('team_invite_links').columns(['team_id', 'created_at']).execute()

  await db.schema
    .createTable('images')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.references('accounts.id').onDelete('cascade'))
    .addColumn('team_id', 'text', (c) => c.references('teams.id').onDelete('cascade'))
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('images_account').on('images').column('account_id').execute()
  await db.schema.createIndex('images_team').on('images').column('team_id').execute()

  await db.schema.alterTable('accounts').addColumn('avatar_image_id', 'text').execute()
  await db.schema.alterTable('teams').addColumn('logo_image_id', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('teams').dropColumn('logo_image_id').execute()
  await db.schema.alterTable('accounts').dropColumn('avatar_image_id').execute()
  await db.schema.dropTable('images').ifExists().execute()
  await db.schema.dropTable('team_invite_links').ifExists().execute()
}
