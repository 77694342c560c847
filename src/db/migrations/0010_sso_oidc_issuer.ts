// Frozen in time: a migration imports no application code and never changes once released.
import type { Kysely } from 'kysely'

/**
 * An OIDC issuer belongs to one team, like a SAML IdP entity ID: otherwise one team's IdP could
 * vouch for people at another's. The unique index settles two teams saving it at once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('sso_connections_oidc_issuer').on('sso_connections').column('oidc_issuer').unique().execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sso_connections_oidc_issuer').execute()
}
