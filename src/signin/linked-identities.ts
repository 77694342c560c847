/**
 * Outside identities tied to accounts (owner of `linked_identities`): Google, a team's OIDC or
 * SAML IdP. Keyed by issuer + subject, never by email: an address changed or recycled at the
 * provider cannot move a person into someone else's account.
 */
import type { Selectable } from 'kysely'
import type { Queryable, LinkedIdentitiesTable } from '../db/schema.ts'
import { newId } from '../crypto.ts'

export type LinkedIdentity = Selectable<LinkedIdentitiesTable>

export async function findLinkedIdentity(db: Queryable, issuer: string, subject: string): Promise<LinkedIdentity | undefined> {
  return db.selectFrom('linked_identities').selectAll().where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst()
}

/** Ties the identity to the account (the unique index refuses a second owner). */
export async function linkIdentity(
  db: Queryable,
  input: { accountId: string; method: LinkedIdentity['method']; connectionId: string | null; issuer: string; subject: string; email: string; at: number },
): Promise<LinkedIdentity> {
  const row: LinkedIdentity = {
    id: newId(),
    account_id: input.accountId,
    method: input.method,
    connection_id: input.connectionId,
    issuer: input.issuer,
    subject: input.subject,
    email: input.email,
    created_at: input.at,
    last_used_at: input.at,
  }
  await db.insertInto('linked_identities').values(row).execute()
  return row
}

export async function touchLinkedIdentity(db: Queryable, id: string, input: { email: string; at: number }): Promise<void> {
  await db.updateTable('linked_identities').set({ last_used_at: input.at, email: input.email }).where('id', '=', id).execute()
}
