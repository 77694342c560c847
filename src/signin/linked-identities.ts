/**
 * The owner of `linked_identities`: outside identities (Google, a team's OIDC or SAML IdP) tied
 * to an account. An identity is found by issuer + subject and never by email: a changed or
 * recycled address at the provider (a re-registered Workspace domain gets the old addresses
 * but new subjects) must not move a person into someone else's account. Method-neutral, so
 * Google sign-in and team SSO share these functions.
 */
import type { Selectable } from 'kysely'
import { newId } from '../crypto.ts'
import type { LinkedIdentitiesTable, Queryable } from '../db/schema.ts'

export type LinkedIdentity = Selectable<LinkedIdentitiesTable>

export interface IdentityKey {
  issuer: string
  subject: string
}

export async function findLinkedIdentity(db: Queryable, issuer: string, subject: string): Promise<LinkedIdentity | undefined> {
  return db.selectFrom('linked_identities').selectAll().where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst()
}

/**
 * Ties an identity to an account. One identity belongs to one account (unique issuer +
 * subject): linking one that is already someone's fails with the unique violation, which the
 * caller turns into its own answer (team SSO: the first link stands; Google: identity_already_linked).
 */
export async function linkIdentity(
  db: Queryable,
  input: IdentityKey & { accountId: string; method: LinkedIdentity['method']; connectionId?: string | null; email: string; at: number },
): Promise<LinkedIdentity> {
  const row: LinkedIdentity = {
    id: newId(),
    account_id: input.accountId,
    method: input.method,
    connection_id: input.connectionId ?? null,
    issuer: input.issuer,
    subject: input.subject,
    email: input.email,
    created_at: input.at,
    last_used_at: input.at,
  }
  await db.insertInto('linked_identities').values(row).execute()
  return row
}

/** The identities an account can sign in with, oldest first. */
export async function listLinkedIdentities(db: Queryable, accountId: string): Promise<LinkedIdentity[]> {
  return db.selectFrom('linked_identities').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute()
}

/** Removes one of the account's identities; false when it has no such identity. */
export async function unlinkIdentity(db: Queryable, accountId: string, identityId: string): Promise<boolean> {
  const result = await db.deleteFrom('linked_identities').where('id', '=', identityId).where('account_id', '=', accountId).executeTakeFirst()
  return Number(result.numDeletedRows) === 1
}

/** A sign-in with the identity: when it was last used, and the address the provider gives now (kept as an attribute only). */
export async function touchLinkedIdentity(db: Queryable, identityId: string, input: { at: number; email?: string }): Promise<void> {
  await db
    .updateTable('linked_identities')
    .set({ last_used_at: input.at, ...(input.email ? { email: input.email } : {}) })
    .where('id', '=', identityId)
    .execute()
}
