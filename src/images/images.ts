/**
 * Avatars (SPEC §6) and team logos (SPEC §7): uploads are re-encoded (see process.ts) and
 * stored in the `images` table under a random 128-bit id; a new upload gets a new id, so a
 * served image never changes and can be cached for good. An image belongs to its account or
 * team and is deleted with it, and when it is replaced or removed.
 */
import { randomBytes } from 'node:crypto'
import type { RequestMeta } from '../audit/audit.ts'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import type { Queryable } from '../db/schema.ts'
import { evictCachedSessions } from '../sessions/sessions.ts'
import { type Account } from '../accounts/queries.ts'
import { lockTeamFor } from '../teams/access.ts'
import { actorOf, recordTeamActivity } from '../teams/activity.ts'
import { reencodeOffThread, type Reencoded } from './reencode.ts'

/** SPEC §6: avatars up to 500 KB. */
export const AVATAR_MAX_BYTES = 500 * 1000
export const LOGO_MAX_BYTES = 1000 * 1000

const IMAGE_ID_RE = /^[A-Za-z0-9_-]{22}$/

/** Where an image is served, relative to PUBLIC_URL (so the web app uses it as is). */
export function imagePath(id: string | null): string | null {
  return id ? `/images/${id}.png` : null
}

function newImageId(): string {
  return randomBytes(16).toString('base64url')
}

async function storeImage(ctx: AppContext, trx: Queryable, owner: { accountId: string } | { teamId: string }, image: Reencoded): Promise<string> {
  const { png, width, height } = image
  const id = newImageId()
  await trx
    .insertInto('images')
    .values({
      id,
      account_id: 'accountId' in owner ? owner.accountId : null,
      team_id: 'teamId' in owner ? owner.teamId : null,
      content_type: 'image/png',
      width,
      height,
      data: png.toString('base64'),
      created_at: ctx.clock.now(),
    })
    .execute()
  return id
}

// ---------------------------------------------------------------- avatars

export async function setAvatar(ctx: AppContext, input: { account: Account; bytes: Buffer }): Promise<{ avatarUrl: string }> {
  await ctx.limits.consume('image_uploads_account', input.account.id)
  // Decoded before the transaction: the CPU work holds no database connection or lock.
  const image = await reencodeOffThread(input.bytes, AVATAR_MAX_BYTES)
  const id = await inTransaction(ctx, async (trx) => {
    const id = await storeImage(ctx, trx, { accountId: input.account.id }, image)
    await trx.updateTable('accounts').set({ avatar_image_id: id, updated_at: ctx.clock.now() }).where('id', '=', input.account.id).execute()
    await trx.deleteFrom('images').where('account_id', '=', input.account.id).where('id', '!=', id).execute()
    return id
  })
  await evictCachedSessions(ctx, input.account.id)
  return { avatarUrl: imagePath(id)! }
}

export async function removeAvatar(ctx: AppContext, input: { account: Account }): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    await trx.updateTable('accounts').set({ avatar_image_id: null, updated_at: ctx.clock.now() }).where('id', '=', input.account.id).execute()
    await trx.deleteFrom('images').where('account_id', '=', input.account.id).execute()
  })
  await evictCachedSessions(ctx, input.account.id)
}

// ---------------------------------------------------------------- team logos

export async function setTeamLogo(ctx: AppContext, input: { account: Account; teamId: string; bytes: Buffer; meta: RequestMeta }): Promise<{ logoUrl: string }> {
  await ctx.limits.consume('image_uploads_account', input.account.id)
  const image = await reencodeOffThread(input.bytes, LOGO_MAX_BYTES)
  return inTransaction(ctx, async (trx) => {
    const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'change_settings')
    const id = await storeImage(ctx, trx, { teamId: team.id }, image)
    const now = ctx.clock.now()
    await trx.updateTable('teams').set({ logo_image_id: id, updated_at: now }).where('id', '=', team.id).execute()
    await trx.deleteFrom('images').where('team_id', '=', team.id).where('id', '!=', id).execute()
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'team.logo_changed', meta: input.meta, at: now, details: { imageId: id } })
    return { logoUrl: imagePath(id)! }
  })
}

export async function removeTeamLogo(ctx: AppContext, input: { account: Account; teamId: string; meta: RequestMeta }): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'change_settings')
    if (team.logo_image_id === null) return
    const now = ctx.clock.now()
    await trx.updateTable('teams').set({ logo_image_id: null, updated_at: now }).where('id', '=', team.id).execute()
    await trx.deleteFrom('images').where('team_id', '=', team.id).execute()
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'team.logo_removed', meta: input.meta, at: now })
  })
}

// ---------------------------------------------------------------- serving

export async function readImage(db: Queryable, id: string): Promise<{ contentType: string; bytes: Buffer } | undefined> {
  if (!IMAGE_ID_RE.test(id)) return undefined
  const row = await db.selectFrom('images').select(['content_type', 'data']).where('id', '=', id).executeTakeFirst()
  return row ? { contentType: row.content_type, bytes: Buffer.from(row.data, 'base64') } : undefined
}
