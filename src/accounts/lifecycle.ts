/**
 * What other capabilities are told about an account's life, without this folder importing them
 * (src/app.ts wires the listeners): teams refuse a deletion while the person is in one, and
 * cancel requests to join that the old email address's domain allowed.
 */
import { Listeners } from '../context.ts'
import type { Queryable } from '../db/schema.ts'

/** Before the account row goes, in the deleting transaction; a listener throws to refuse. */
export const accountDeleting = new Listeners<[db: Queryable, accountId: string]>()

/**
 * After a credential change (password changed or reset, 2FA turned on, a sign-in disavowed), in
 * the same transaction: whatever another folder issued before it must stop working (signin's open
 * second-step tickets).
 */
export const credentialsChanged = new Listeners<[db: Queryable, accountId: string]>()

/** After the new address is stored, in the same transaction. */
export const emailChanged = new Listeners<[db: Queryable, change: { accountId: string; newEmailNormalized: string; at: number }]>()
