/**
 * Images for avatars (SPEC §6, src/accounts/avatar.ts) and team logos (SPEC §7,
 * src/teams/logo.ts): uploads are re-encoded (see process.ts) and stored in the `images` table under a random 128-bit id; a new upload gets a new id, so a
 * served image never changes and can be cached for good. An image belongs to its account or
 * team and is deleted with it, and when it is replaced or removed.
 */
import { randomBytes } from 'node:crypto'
import type { AppContext } from '../context.ts'
import type { Queryable } from '../db/schema.ts'
import { reencodeOffThread, type Reencoded } from './reencode.ts'

export { AVATAR_MAX_BYTES, LOGO_MAX_BYTES } from './limits.ts'

const IMAGE_ID_RE = /^[A-Za-z0-9_-]{22}$/

/** Where an image is served, relative to PUBLIC_URL (so the web app uses it as is). */
export function imagePath(id: string | null): string | null {
  return id ? `/images/${id}.png` : null
}

function newImageId(): string {
  return randomBytes(16).toString('base64url')
}

export type ImageOwner = { accountId: string } | { teamId: string }

async function storeImage(ctx: AppContext, trx: Queryable, owner: ImageOwner, image: Reencoded): Promise<string> {
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

/**
 * The checks every upload passes before any transaction: the uploader's hourly budget, then
 * the re-encoding (CPU work in a worker thread, holding no database connection or lock).
 */
export async function prepareUpload(ctx: AppContext, uploaderId: string, bytes: Buffer, maxBytes: number): Promise<Reencoded> {
  await ctx.limits.consume('image_uploads_account', uploaderId)
  return reencodeOffThread(bytes, maxBytes)
}

/**
 * Stores the owner's new image and deletes its others, in the caller's transaction (the owner
 * points its row at the returned id in the same one).
 */
export async function replaceImage(ctx: AppContext, trx: Queryable, owner: ImageOwner, image: Reencoded): Promise<string> {
  const id = await storeImage(ctx, trx, owner, image)
  await deleteImages(trx, owner, id)
  return id
}

/** Deletes the owner's images, all or all but `keepId`. */
export async function deleteImages(trx: Queryable, owner: ImageOwner, keepId?: string): Promise<void> {
  let query = 'accountId' in owner ? trx.deleteFrom('images').where('account_id', '=', owner.accountId) : trx.deleteFrom('images').where('team_id', '=', owner.teamId)
  if (keepId) query = query.where('id', '!=', keepId)
  await query.execute()
}

// ---------------------------------------------------------------- serving

export async function readImage(db: Queryable, id: string): Promise<{ contentType: string; bytes: Buffer } | undefined> {
  if (!IMAGE_ID_RE.test(id)) return undefined
  const row = await db.selectFrom('images').select(['content_type', 'data']).where('id', '=', id).executeTakeFirst()
  return row ? { contentType: row.content_type, bytes: Buffer.from(row.data, 'base64') } : undefined
}
