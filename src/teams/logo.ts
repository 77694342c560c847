/** The team's logo (SPEC §7): an image from src/images, which the team row points at; Admins change it. */
import type { RequestMeta } from '../audit/audit.ts'
import type { Account } from '../accounts/queries.ts'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { deleteImages, imagePath, LOGO_MAX_BYTES, prepareUpload, replaceImage } from '../images/images.ts'
import { lockTeamFor } from './access.ts'
import { actorOf, recordTeamActivity } from './activity.ts'

export async function setTeamLogo(ctx: AppContext, input: { account: Account; teamId: string; bytes: Buffer; meta: RequestMeta }): Promise<{ logoUrl: string }> {
  const image = await prepareUpload(ctx, input.account.id, input.bytes, LOGO_MAX_BYTES)
  return inTransaction(ctx, async (trx) => {
    const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'change_settings')
    const id = await replaceImage(ctx, trx, { teamId: team.id }, image)
    const now = ctx.clock.now()
    await trx.updateTable('teams').set({ logo_image_id: id, updated_at: now }).where('id', '=', team.id).execute()
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
    await deleteImages(trx, { teamId: team.id })
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'team.logo_removed', meta: input.meta, at: now })
  })
}
