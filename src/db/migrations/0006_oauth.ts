// Frozen in time: a migration imports no application code and never changes once released.
import type { Kysely } from 'kysely'

/**
 * Latchkey as an OAuth 2.0 / OpenID Connect provider (oidc-provider). Its artifacts (codes,
 * tokens, grants, interactions, device codes, sessions) live in one table keyed by model and
 * id, with the columns its adapter looks things up by. Signing keys, operator-registered
 * clients, consents and the link between an app sign-in and a Latchkey session have tables
 * of their own.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('oauth_models')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('user_code', 'text')
    .addColumn('uid', 'text')
    .addColumn('client_id', 'text')
    .addColumn('account_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('consumed_at', 'bigint')
    .addPrimaryKeyConstraint('oauth_models_pk', ['model', 'id'])
    .execute()
  await db.schema.createIndex('oauth_models_grant').on('oauth_models').column('grant_id').execute()
  await db.schema.createIndex('oauth_models_user_code').on('oauth_models').columns(['model', 'user_code']).execute()
  await db.schema.createIndex('oauth_models_uid').on('oauth_models').columns(['model', 'uid']).execute()
  await db.schema.createIndex('oauth_models_account_client').on('oauth_models').columns(['account_id', 'client_id']).execute()
  await db.schema.createIndex('oauth_models_expires').on('oauth_models').column('expires_at').execute()

  // Private keys are sealed with the secrets key (AES-256-GCM), like TOTP seeds.
  await db.schema
    .createTable('oauth_signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('private_jwk_encrypted', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .execute()

  // Confidential clients an operator registered; the secret is kept only as a SHA-256 hash.
  await db.schema
    .createTable('oauth_clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('redirect_uris', 'text', (c) => c.notNull())
    .addColumn('first_party', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()

  // What a person allowed a third-party client (SPEC: authorized apps).
  await db.schema
    .createTable('oauth_consents')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('granted_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('oauth_consents_pk', ['account_id', 'client_id'])
    .execute()

  // An app sign-in (desktop app / CLI) is a Latchkey session of kind 'api' tied to one grant.
  // No foreign keys on purpose: a link whose session is gone marks the grant dead (its tokens
  // stop working at once) until the sweep removes both.
  await db.schema
    .createTable('oauth_app_sessions')
    .addColumn('session_id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('grant_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('device_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('oauth_app_sessions_grant').unique().on('oauth_app_sessions').column('grant_id').execute()
  await db.schema.createIndex('oauth_app_sessions_account').on('oauth_app_sessions').column('account_id').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['oauth_app_sessions', 'oauth_consents', 'oauth_clients', 'oauth_signing_keys', 'oauth_models']) {
    await db.schema.dropTable(table).execute()
  }
}
