// Frozen in time: a migration imports no application code and never changes once released.
import type { Kysely } from 'kysely'

/**
 * Google sign-in and team SSO (SPEC §2, §3, §7 Enterprise controls, §8).
 *
 * - `linked_identities`: an outside identity (Google, a team's OIDC or SAML IdP) tied to an
 *   account, keyed by issuer + subject and never by email, so a changed or recycled address at
 *   the provider cannot move a person into someone else's account.
 * - `sso_connections`: a team's SAML or OIDC identity provider. The IdP entity ID is unique across
 *   teams (one team cannot answer for another's IdP); the OIDC client secret is stored encrypted.
 * - `sso_requests`: SAML AuthnRequest IDs and OIDC state awaiting their answer, shared by every
 *   instance, keyed per connection so one IdP cannot answer another's request.
 * - `sso_used_assertions`: assertion IDs already consumed, kept until their NotOnOrAfter, so a
 *   captured response cannot sign in twice (SAML Profiles §4.1.4.5).
 * - `team_signin_policies`: JIT and the Enterprise sign-in controls of one team.
 * - `sso_setup_links`: a link for a company's IT administrator to set up one team's SSO.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sso_connections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('protocol', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('idp_initiated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('idp_entity_id', 'text')
    .addColumn('idp_sso_url', 'text')
    .addColumn('idp_certificates', 'text')
    .addColumn('oidc_issuer', 'text')
    .addColumn('oidc_client_id', 'text')
    .addColumn('oidc_client_secret', 'text')
    .addColumn('tested_at', 'bigint')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('sso_connections_team').on('sso_connections').column('team_id').execute()
  await db.schema.createIndex('sso_connections_idp_entity').on('sso_connections').column('idp_entity_id').unique().execute()

  await db.schema
    .createTable('linked_identities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'text', (c) => c.references('sso_connections.id').onDelete('cascade'))
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('linked_identities_subject').on('linked_identities').columns(['issuer', 'subject']).unique().execute()
  await db.schema.createIndex('linked_identities_account').on('linked_identities').column('account_id').execute()

  await db.schema
    .createTable('sso_requests')
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sso_requests_pk', ['connection_id', 'request_id'])
    .execute()
  await db.schema.createIndex('sso_requests_expiry').on('sso_requests').column('expires_at').execute()

  await db.schema
    .createTable('sso_used_assertions')
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('assertion_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sso_used_assertions_pk', ['connection_id', 'assertion_id'])
    .execute()
  await db.schema.createIndex('sso_used_assertions_expiry').on('sso_used_assertions').column('expires_at').execute()

  await db.schema
    .createTable('team_signin_policies')
    .addColumn('team_id', 'text', (c) => c.primaryKey().references('teams.id').onDelete('cascade'))
    .addColumn('jit_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('password_signin_disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('google_signin_disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('require_two_factor', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_session_minutes', 'integer')
    .addColumn('google_workspace_domain', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('sso_setup_links')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute()
  await db.schema.createIndex('sso_setup_links_team').on('sso_setup_links').column('team_id').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sso_setup_links').execute()
  await db.schema.dropTable('team_signin_policies').execute()
  await db.schema.dropTable('sso_used_assertions').execute()
  await db.schema.dropTable('sso_requests').execute()
  await db.schema.dropTable('linked_identities').execute()
  await db.schema.dropTable('sso_connections').execute()
}
