/** The account's avatar (SPEC §6): an image from src/images, which the account row points at. */
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { AVATAR_MAX_BYTES, deleteImages, imagePath, prepareUpload, replaceImage } from '../images/images.ts'
import { evictAfterCommit } from '../sessions/sessions.ts'
import type { Account } from './queries.ts'

export async function setAvatar(ctx: AppContext, input: { account: Account; bytes: Buffer }): Promise<{ avatarUrl: string }> {
  const image = await prepareUpload(ctx, input.account.id, input.bytes, AVATAR_MAX_BYTES)
  const id = await inTransaction(ctx, async (trx) => {
    const id = await replaceImage(ctx, trx, { accountId: input.account.id }, image)
    await trx.updateTable('accounts').set({ avatar_image_id: id, updated_at: ctx.clock.now() }).where('id', '=', input.account.id).execute()
    await evictAfterCommit(ctx, trx, input.account.id)
    return id
  })
  return { avatarUrl: imagePath(id)! }
}

export async function removeAvatar(ctx: AppContext, input: { account: Account }): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    await trx.updateTable('accounts').set({ avatar_image_id: null, updated_at: ctx.clock.now() }).where('id', '=', input.account.id).execute()
    await deleteImages(trx, { accountId: input.account.id })
    await evictAfterCommit(ctx, trx, input.account.id)
  })
}
