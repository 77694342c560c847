/**
 * Shareable invite links (SPEC §7): chosen roles, valid for 7 days, at most 30 joins,
 * revocable, and only usable while its creator could still create it. The URL is `${PUBLIC_URL}/join/<token>`: a 256-bit token of which only the
 * SHA-256 is stored, so the list can never show a link again (it is shown once, on creation).
 *
 * Who may create one follows email invitations: Admins with any roles; Developers and
 * Community Managers ("invite Developers on non-Enterprise plans") only Developer links. A
 * link's invitation cannot become a suggestion (no one to approve it per join), so any other
 * role from them is refused. Admins revoke any link; others only the links they made.
 *
 * Joining runs in one transaction: the person's lock, then the team's (the order every join
 * takes), a re-read of the link, the 10-team and member checks, then one conditional UPDATE
 * (`uses < max_uses`, not revoked, not expired) and the seat check after the member is added.
 * Parallel joins through one link therefore never pass 30 uses, nor the seats bought.
 */
import type { Selectable } from 'kysely'
import { recordAudit, type RequestMeta } from '../../audit/audit.ts'
import { normalizeEmail } from '../../accounts/emails.ts'
import type { AppContext } from '../../context.ts'
import { inTransaction } from '../../context.ts'
import { hashToken, newId, newToken } from '../../crypto.ts'
import type { Queryable, TeamInviteLinksTable } from '../../db/schema.ts'
import { AppError } from '../../errors.ts'
import type { Account } from '../../accounts/queries.ts'
import { isTeamMember, lockPerson, lockTeam, lockTeamFor, memberRoles } from '../access.ts'
import { actorOf, recordTeamActivity } from '../activity.ts'
import { addMember, requireConfirmedEmail, requireRoomForAnotherTeam } from '../joining.ts'
import { allows, isSupportOnly, normalizeRoles, roleColumns, rolesOf, type TeamRole } from '../roles.ts'
import { countSeats, currentSeatUsage, noSeatForOneMore, requireSeatsForChange } from '../seats.ts'
import { imagePath } from '../../images/images.ts'
import { currentUsernames } from '../../accounts/usernames.ts'
import { INVITE_LINK_MAX_USES } from '../limits.ts'

export const INVITE_LINK_TTL_MS = 7 * 24 * 3600 * 1000
/** A team creates at most this many links in any 24 hours (revoked ones count: rows are kept for the log). */
export const INVITE_LINKS_PER_DAY = 100
const DAY_MS = 24 * 3600 * 1000
/** The list shows this many links, newest first. */
export const INVITE_LINKS_LISTED = 100

export type InviteLinkState = 'active' | 'expired' | 'revoked' | 'used_up'
export type InviteLinkInvalidReason = Exclude<InviteLinkState, 'active'> | 'unknown'

type LinkRow = Selectable<TeamInviteLinksTable>

export interface InviteLinkView {
  id: string
  roles: TeamRole[]
  state: InviteLinkState
  createdBy: string | null
  createdAt: string
  expiresAt: string
  maxUses: number
  uses: number
  usesLeft: number
  revokedAt: string | null
  revokedBy: string | null
  /**
   * An active link through which nobody can join right now: a join needs a paid seat and none
   * is free. Links hold no seats (SPEC §7), so the creator is warned instead of refused.
   */
  noFreeSeat: boolean
}

/**
 * `creatorEntitled`: whether the link's creator could still create it (see creatorMayStill). A
 * link whose creator was removed, left, or lost the role it needs counts as revoked.
 */
export function linkState(row: Pick<LinkRow, 'revoked_at' | 'expires_at' | 'uses' | 'max_uses'>, now: number, creatorEntitled = true): InviteLinkState {
  if (row.revoked_at !== null || !creatorEntitled) return 'revoked'
  if (now >= Number(row.expires_at)) return 'expired'
  if (row.uses >= row.max_uses) return 'used_up'
  return 'active'
}

/**
 * A link acts with its creator's authority, so it works only while they could still create it:
 * still a member, and an Admin for a link with any role other than Developer. Otherwise a
 * demoted Admin's Admin link would keep making Admins for up to 7 days, and a removed member
 * would keep a way in.
 */
export function creatorMayStill(linkRoles: readonly TeamRole[], creatorRoles: readonly TeamRole[] | null): boolean {
  if (creatorRoles === null) return false
  if (allows(creatorRoles, 'invite_any_role')) return true
  return allows(creatorRoles, 'invite_developers') && linkRoles.length === 1 && linkRoles[0] === 'developer'
}

/** The creator's roles in the link's team, or null when they are not a member (or deleted). */
async function creatorRolesOf(db: Queryable, row: Pick<LinkRow, 'team_id' | 'created_by'>): Promise<TeamRole[] | null> {
  return row.created_by === null ? null : memberRoles(db, row.team_id, row.created_by)
}

/** The team's seat counts, read once for every link shown with them. */
type TeamSeats = { counts: Awaited<ReturnType<typeof countSeats>>; bought: number }

async function teamSeats(db: Queryable, teamId: string): Promise<TeamSeats> {
  const [counts, team] = await Promise.all([countSeats(db, teamId), db.selectFrom('teams').select('seats').where('id', '=', teamId).executeTakeFirstOrThrow()])
  return { counts, bought: team.seats }
}

/** `seats` null: the link is known not to be active (revoked), so no seat is read for it. */
function linkView(row: LinkRow, now: number, seats: TeamSeats | null, creatorEntitled = true): InviteLinkView {
  const state = linkState(row, now, creatorEntitled)
  return {
    id: row.id,
    roles: rolesOf(row),
    state,
    createdBy: row.created_by_username,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    expiresAt: new Date(Number(row.expires_at)).toISOString(),
    maxUses: row.max_uses,
    uses: row.uses,
    usesLeft: state === 'active' ? Math.max(0, row.max_uses - row.uses) : 0,
    revokedAt: row.revoked_at === null ? null : new Date(Number(row.revoked_at)).toISOString(),
    revokedBy: row.revoked_by_username,
    noFreeSeat: state === 'active' && seats !== null && noSeatForOneMore(seats.counts, seats.bought, isSupportOnly(rolesOf(row))),
  }
}

export function inviteLinkUrl(ctx: AppContext, token: string): string {
  return new URL(`/join/${token}`, ctx.config.publicUrl).toString()
}

export async function createInviteLink(
  ctx: AppContext,
  input: { account: Account; teamId: string; roles: TeamRole[]; meta: RequestMeta },
): Promise<InviteLinkView & { url: string; token: string }> {
  const roles = normalizeRoles(input.roles)
  if (roles.length === 0) throw new AppError('invalid_request', { message: 'Choose at least one role.', fields: { roles: 'too_short' } })
  return inTransaction(ctx, async (trx) => {
    const { team, roles: actorRoles } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'invite_developers')
    if (!allows(actorRoles, 'invite_any_role') && !(roles.length === 1 && roles[0] === 'developer')) {
      throw new AppError('team_permission_denied', {
        message: 'Only an Admin can create an invite link with roles other than Developer.',
        fields: { roles: 'not_allowed' },
        details: { action: 'invite_any_role' },
      })
    }
    const now = ctx.clock.now()
    // Under the team lock, so parallel creations count each other.
    const recent = await trx
      .selectFrom('team_invite_links')
      .select('created_at')
      .where('team_id', '=', team.id)
      .where('created_at', '>', now - DAY_MS)
      .orderBy('created_at', 'desc')
      .limit(INVITE_LINKS_PER_DAY)
      .execute()
    if (recent.length >= INVITE_LINKS_PER_DAY) {
      const retryAt = new Date(Number(recent.at(-1)!.created_at) + DAY_MS).toISOString()
      throw new AppError('too_many_requests', {
        message: `This team has created ${INVITE_LINKS_PER_DAY} invite links in the last 24 hours, the most it can. Share an existing link, or try again after ${retryAt}.`,
        details: { limit: 'invite_links_team', retryAt },
      })
    }
    const token = newToken()
    const row: LinkRow = {
      id: newId(),
      team_id: team.id,
      token_hash: hashToken(token),
      ...roleColumns(roles),
      created_by: input.account.id,
      created_by_username: input.account.username,
      created_at: now,
      expires_at: now + INVITE_LINK_TTL_MS,
      max_uses: INVITE_LINK_MAX_USES,
      uses: 0,
      revoked_at: null,
      revoked_by_username: null,
    }
    await trx.insertInto('team_invite_links').values(row).execute()
    await recordTeamActivity(trx, {
      teamId: team.id,
      actor: actorOf(input.account),
      type: 'invite_link.created',
      meta: input.meta,
      at: now,
      details: { inviteLinkId: row.id, roles, expiresAt: new Date(row.expires_at).toISOString(), maxUses: row.max_uses },
    })
    return { ...linkView(row, now, await teamSeats(trx, team.id)), url: inviteLinkUrl(ctx, token), token }
  })
}

export async function listInviteLinks(ctx: AppContext, teamId: string): Promise<{ links: InviteLinkView[] }> {
  const rows = await ctx.db
    .selectFrom('team_invite_links as l')
    .leftJoin('team_members as m', (join) => join.onRef('m.team_id', '=', 'l.team_id').onRef('m.account_id', '=', 'l.created_by'))
    .selectAll('l')
    .select(['m.role_admin as creator_admin', 'm.role_billing as creator_billing', 'm.role_developer as creator_developer', 'm.role_community_manager as creator_community_manager'])
    .where('l.team_id', '=', teamId)
    .orderBy('l.created_at', 'desc')
    .orderBy('l.id')
    .limit(INVITE_LINKS_LISTED)
    .execute()
  const now = ctx.clock.now()
  const seats = await teamSeats(ctx.db, teamId)
  // The creator's name now: the one stored is the name at creation, stale after a rename.
  const usernames = await currentUsernames(ctx.db, rows.flatMap((row) => (row.created_by === null ? [] : [row.created_by])))
  return {
    links: rows.map(({ creator_admin, creator_billing, creator_developer, creator_community_manager, ...row }) => {
      const creator_username = row.created_by === null ? undefined : usernames.get(row.created_by)
      const creator = creator_admin === null ? null : rolesOf({ role_admin: creator_admin, role_billing: creator_billing ?? 0, role_developer: creator_developer ?? 0, role_community_manager: creator_community_manager ?? 0 })
      return linkView({ ...row, created_by_username: creator_username ?? row.created_by_username }, now, seats, creatorMayStill(rolesOf(row), creator))
    }),
  }
}

/** Revoking an already revoked link changes nothing and answers the same. */
export async function revokeInviteLink(ctx: AppContext, input: { account: Account; teamId: string; linkId: string; meta: RequestMeta }): Promise<InviteLinkView> {
  return inTransaction(ctx, async (trx) => {
    const { team, roles: actorRoles } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'invite_developers')
    const stored = await trx.selectFrom('team_invite_links').selectAll().where('id', '=', input.linkId).where('team_id', '=', team.id).executeTakeFirst()
    if (!stored) throw new AppError('not_found', { message: 'No such invite link in this team.' })
    const creatorNow = stored.created_by === null ? undefined : (await currentUsernames(trx, [stored.created_by])).get(stored.created_by)
    const row = { ...stored, created_by_username: creatorNow ?? stored.created_by_username }
    if (!allows(actorRoles, 'manage_invitations') && row.created_by !== input.account.id) {
      throw new AppError('team_permission_denied', { message: 'Only an Admin or the member who created this link can revoke it.', details: { action: 'manage_invitations' } })
    }
    const now = ctx.clock.now()
    if (row.revoked_at !== null) return linkView(row, now, null)
    await trx.updateTable('team_invite_links').set({ revoked_at: now, revoked_by_username: input.account.username }).where('id', '=', row.id).execute()
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'invite_link.revoked', meta: input.meta, at: now, details: { inviteLinkId: row.id, uses: row.uses } })
    return linkView({ ...row, revoked_at: now, revoked_by_username: input.account.username }, now, null)
  })
}

// ---------------------------------------------------------------- opening and joining

const MESSAGES: Record<InviteLinkInvalidReason, string> = {
  unknown: 'This invite link is not valid. Check that it was copied whole, or ask the team for a new one.',
  expired: 'This invite link has expired (links last 7 days). Ask the team for a new one.',
  revoked: 'This invite link was revoked by the team. Ask the team for a new one.',
  used_up: `This invite link was used by its maximum of ${INVITE_LINK_MAX_USES} people. Ask the team for a new one.`,
}

/** One code; `reason` (also in `fields.token`) says which. A known link names its team. */
function linkInvalid(reason: InviteLinkInvalidReason, teamName?: string): AppError {
  return new AppError('invite_link_invalid', { message: MESSAGES[reason], fields: { token: reason }, details: { reason, ...(teamName ? { teamName } : {}) } })
}

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/

async function linkByToken(db: Queryable, token: string): Promise<LinkRow | undefined> {
  if (!TOKEN_RE.test(token)) return undefined
  return db.selectFrom('team_invite_links').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst()
}

export interface InviteLinkPreview {
  team: { slug: string; name: string; logoUrl: string | null }
  roles: TeamRole[]
  expiresAt: string
  usesLeft: number
  /** Null when signed out. */
  alreadyMember: boolean | null
  emailConfirmed: boolean | null
}

/**
 * What the join page shows before the person decides, signed in or not (a signed-out visitor
 * sees which team the link joins before making an account); an unusable link is an error that
 * says why.
 */
export async function previewInviteLink(ctx: AppContext, input: { account: Account | null; token: string }): Promise<InviteLinkPreview> {
  const row = await linkByToken(ctx.db, input.token)
  if (!row) throw linkInvalid('unknown')
  const team = await ctx.db.selectFrom('teams').select(['id', 'slug', 'name', 'logo_image_id']).where('id', '=', row.team_id).executeTakeFirst()
  if (!team) throw linkInvalid('unknown')
  const state = linkState(row, ctx.clock.now(), creatorMayStill(rolesOf(row), await creatorRolesOf(ctx.db, row)))
  if (state !== 'active') throw linkInvalid(state, team.name)
  return {
    team: { slug: team.slug, name: team.name, logoUrl: imagePath(team.logo_image_id) },
    roles: rolesOf(row),
    expiresAt: new Date(Number(row.expires_at)).toISOString(),
    usesLeft: row.max_uses - row.uses,
    alreadyMember: input.account ? await isTeamMember(ctx.db, team.id, input.account.id) : null,
    emailConfirmed: input.account ? input.account.email_confirmed_at !== null : null,
  }
}

export async function joinWithInviteLink(ctx: AppContext, input: { account: Account; token: string; meta: RequestMeta }): Promise<{ slug: string; name: string; roles: TeamRole[] }> {
  const { account } = input
  const found = await linkByToken(ctx.db, input.token)
  if (!found) throw linkInvalid('unknown')
  return inTransaction(ctx, async (trx) => {
    await lockPerson(ctx, trx, account.id)
    // The team was deleted since the link was read: the link is gone with it.
    const team = await lockTeam(ctx, trx, found.team_id).catch((err: unknown) => {
      throw err instanceof AppError && err.code === 'not_found' ? linkInvalid('unknown') : err
    })
    // Read again under the team lock: uses and revocation are what the last join left.
    const row = await trx.selectFrom('team_invite_links').selectAll().where('id', '=', found.id).executeTakeFirst()
    if (!row) throw linkInvalid('unknown')
    const now = ctx.clock.now()
    // The creator's roles under the team lock: a demotion or removal a moment ago counts.
    const state = linkState(row, now, creatorMayStill(rolesOf(row), await creatorRolesOf(trx, row)))
    if (state !== 'active') throw linkInvalid(state, team.name)
    requireConfirmedEmail(account)
    if (await isTeamMember(trx, team.id, account.id)) throw new AppError('already_team_member', { message: 'You are already a member of this team.' })
    await requireRoomForAnotherTeam(trx, account.id)

    const before = await currentSeatUsage(trx, team)
    // An open email invitation (or suggestion) for this person is settled by joining: its
    // held seat passes to the member.
    await trx
      .updateTable('team_invitations')
      .set({ status: 'accepted', closed_at: now })
      .where('team_id', '=', team.id)
      .where('email_normalized', '=', normalizeEmail(account.email))
      .where('status', 'in', ['pending', 'suggested'])
      .execute()
    const used = await trx
      .updateTable('team_invite_links')
      .set((eb) => ({ uses: eb('uses', '+', 1) }))
      .where('id', '=', row.id)
      .where('uses', '<', row.max_uses)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst()
    if (Number(used.numUpdatedRows) !== 1) throw linkInvalid('used_up', team.name)

    const roles = rolesOf(row)
    await addMember(ctx, trx, { teamId: team.id, accountId: account.id, roles, at: now })
    await requireSeatsForChange(trx, team, before, false)

    await recordTeamActivity(trx, {
      teamId: team.id,
      actor: actorOf(account),
      type: 'member.joined',
      meta: input.meta,
      at: now,
      details: { accountId: account.id, username: account.username, roles, via: 'invite_link', inviteLinkId: row.id, linkCreatedBy: row.created_by_username, supportMember: isSupportOnly(roles) },
    })
    await recordAudit(trx, { accountId: account.id, type: 'team.joined', meta: input.meta, at: now, details: { teamId: team.id, slug: team.slug, inviteLinkId: row.id } })
    return { slug: team.slug, name: team.name, roles }
  })
}
