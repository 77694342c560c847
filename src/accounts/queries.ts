/**
 * The account row and the queries other capabilities make on `accounts`: this folder owns the
 * table, so signing in, sessions, teams and the rest call these instead of querying it.
 */
import type { Selectable } from 'kysely'
import type { AccountsTable } from '../db/schema.ts'

export type Account = Selectable<AccountsTable>
