/**
 * Storage for the one-time hand-offs between an IdP's answer and the browser's finish step
 * (src/signin/sso-flow.ts decides what they hold). They share `sso_requests`, this folder's
 * table of per-connection pending state, under their own prefix, so every instance sees them and
 * deleting a connection drops its hand-offs too.
 */
import type { AppContext } from '../context.ts'
import { hashToken } from '../crypto.ts'

const HANDOFF_PREFIX = 'handoff:'

function keyOf(token: string): string {
  return HANDOFF_PREFIX + hashToken(token)
}

export async function storeHandoff(ctx: AppContext, input: { connectionId: string; token: string; value: string; expiresAt: number }): Promise<void> {
  await ctx.db.insertInto('sso_requests').values({ connection_id: input.connectionId, request_id: keyOf(input.token), value: input.value, expires_at: input.expiresAt }).execute()
}

/** The stored value while it has not expired, else null. */
export async function readHandoff(ctx: AppContext, connectionId: string, token: string): Promise<string | null> {
  const row = await ctx.db.selectFrom('sso_requests').select(['value', 'expires_at']).where('connection_id', '=', connectionId).where('request_id', '=', keyOf(token)).executeTakeFirst()
  return row && row.expires_at > ctx.clock.now() ? row.value : null
}

/** Deletes it; true for exactly one caller (the one conditional delete decides a race). */
export async function consumeHandoff(ctx: AppContext, connectionId: string, token: string): Promise<boolean> {
  const taken = await ctx.db.deleteFrom('sso_requests').where('connection_id', '=', connectionId).where('request_id', '=', keyOf(token)).executeTakeFirst()
  return Number(taken.numDeletedRows) === 1
}
