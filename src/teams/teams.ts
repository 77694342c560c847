/**
 * Teams (SPEC §7): creating one, the team page, renaming, seats, roles, removing members and
 * leaving. Every change runs in one transaction that starts with `lockTeamFor`, and the rules
 * that protect invariants (the last Admin, seats) are checked or enforced inside it.
 */
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { newId } from '../crypto.ts'
import { isUniqueViolation } from '../db/errors.ts'
import type { Queryable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { pickLocale } from '../mail/templates.ts'
import { accountCards, type Account } from '../accounts/queries.ts'
import { lockPerson, lockTeamFor, type Team } from './access.ts'
import { actorOf, recordTeamActivity } from './activity.ts'
import { openInvitations, type InvitationView } from './invitations/invitations.ts'
import { requireConfirmedEmail, requireRoomForAnotherTeam } from './joining.ts'
import { allows, isSupportOnly, normalizeRoles, roleColumns, rolesOf, type TeamAction, type TeamRole } from './roles.ts'
import { countSeats, currentSeatUsage, requireSeatsForChange, seatUsage, type SeatUsage } from './seats.ts'
import { checkSlug, checkTeamName } from './profile/slugs.ts'
import { slugHolder } from './profile/slug-history.ts'
import { imagePath } from '../images/images.ts'

export interface TeamSummary {
  slug: string
  name: string
  roles: TeamRole[]
  memberCount: number
  joinedAt: string
  /** The team's logo (a path on this server), or null. */
  logoUrl: string | null
}

// ---------------------------------------------------------------- create and read

export async function createTeam(ctx: AppContext, input: { account: Account; name: string; slug: string; meta: RequestMeta }): Promise<TeamSummary> {
  requireConfirmedEmail(input.account)
  const slug = checkSlug(input.slug)
  const name = checkTeamName(input.name)
  try {
    return await inTransaction(ctx, async (trx) => {
      await lockPerson(ctx, trx, input.account.id)
      await requireRoomForAnotherTeam(trx, input.account.id)
      // Taken by a team now, or recently (a previous URL still pointing at its team).
      const taken = await slugHolder(trx, slug, ctx.clock.now())
      if (taken) throw new AppError('team_slug_taken', { fields: { slug: 'taken' } })
      const now = ctx.clock.now()
      const teamId = newId()
      await trx.insertInto('teams').values({ id: teamId, slug, name, seats: ctx.config.teamDefaultSeats, created_at: now, updated_at: now }).execute()
      // SPEC §7 (issue #6): the creator is Admin and Billing, a support member taking no seat.
      const roles: TeamRole[] = ['admin', 'billing']
      await trx.insertInto('team_members').values({ team_id: teamId, account_id: input.account.id, ...roleColumns(roles), joined_at: now }).execute()
      await recordTeamActivity(trx, { teamId, actor: actorOf(input.account), type: 'team.created', meta: input.meta, at: now, details: { name, slug } })
      await recordAudit(trx, { accountId: input.account.id, type: 'team.created', meta: input.meta, at: now, details: { teamId, slug } })
      return { slug, name, roles, memberCount: 1, joinedAt: new Date(now).toISOString(), logoUrl: null }
    })
  } catch (err) {
    // Two creations racing for one slug: the loser hears what a later one would.
    if (isUniqueViolation(err)) throw new AppError('team_slug_taken', { fields: { slug: 'taken' } })
    throw err
  }
}

/** The teams a person belongs to, in the order they joined. */
export async function listMyTeams(ctx: AppContext, accountId: string): Promise<TeamSummary[]> {
  const rows = await ctx.db
    .selectFrom('team_members as mine')
    .innerJoin('teams', 'teams.id', 'mine.team_id')
    .select(['teams.slug', 'teams.name', 'teams.logo_image_id', 'mine.role_admin', 'mine.role_billing', 'mine.role_developer', 'mine.role_community_manager', 'mine.joined_at'])
    .select((eb) => eb.selectFrom('team_members as all').select((inner) => inner.fn.countAll<number>().as('n')).whereRef('all.team_id', '=', 'teams.id').as('member_count'))
    .where('mine.account_id', '=', accountId)
    .orderBy('mine.joined_at')
    .orderBy('teams.slug')
    .execute()
  return rows.map((r) => ({ slug: r.slug, name: r.name, roles: rolesOf(r), memberCount: Number(r.member_count), joinedAt: new Date(r.joined_at).toISOString(), logoUrl: imagePath(r.logo_image_id) }))
}

export interface MemberView {
  accountId: string
  username: string
  displayName: string
  roles: TeamRole[]
  supportMember: boolean
  joinedAt: string
  avatarUrl: string | null
}

export interface TeamPage {
  slug: string
  name: string
  createdAt: string
  logoUrl: string | null
  myRoles: TeamRole[]
  seats: SeatUsage
  members: MemberView[]
  invitations: InvitationView[]
  suggestions: InvitationView[]
}

export async function teamPage(ctx: AppContext, input: { team: Team; myRoles: TeamRole[] }): Promise<TeamPage> {
  const { team } = input
  const [members, open, counts] = await Promise.all([
    teamMembers(ctx.db, team.id),
    openInvitations(ctx.db, team.id),
    countSeats(ctx.db, team.id),
  ])
  return {
    slug: team.slug,
    name: team.name,
    createdAt: new Date(team.created_at).toISOString(),
    logoUrl: imagePath(team.logo_image_id),
    myRoles: input.myRoles,
    seats: seatUsage(team.seats, counts),
    members: members.map((m) => {
      const roles = rolesOf(m)
      return { accountId: m.id, username: m.username, displayName: m.display_name, roles, supportMember: isSupportOnly(roles), joinedAt: new Date(m.joined_at).toISOString(), avatarUrl: imagePath(m.avatar_image_id) }
    }),
    invitations: open.filter((i) => i.status === 'pending'),
    suggestions: open.filter((i) => i.status === 'suggested'),
  }
}

// ---------------------------------------------------------------- settings and seats

export async function renameTeam(ctx: AppContext, input: { account: Account; teamId: string; name: string; meta: RequestMeta }): Promise<{ slug: string; name: string }> {
  const name = checkTeamName(input.name)
  return inTransaction(ctx, async (trx) => {
    const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'change_settings')
    if (team.name === name) return { slug: team.slug, name }
    const now = ctx.clock.now()
    await trx.updateTable('teams').set({ name, updated_at: now }).where('id', '=', team.id).execute()
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'team.renamed', meta: input.meta, at: now, details: { from: team.name, to: name } })
    return { slug: team.slug, name }
  })
}

/**
 * Until billing exists (SPEC §9), seats are set here by an Admin or a Billing member. They
 * cannot go below what members take; invitations beyond the new number stay open, and the
 * first ones accepted take the seats left (acceptance checks).
 */
export async function changeSeats(ctx: AppContext, input: { account: Account; teamId: string; seats: number; meta: RequestMeta }): Promise<SeatUsage> {
  return inTransaction(ctx, async (trx) => {
    const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'change_seats')
    const before = await currentSeatUsage(trx, team)
    if (input.seats < before.takenByMembers) {
      throw new AppError('seats_in_use', {
        message: `Members take ${before.takenByMembers} paid seats: the team needs at least that many. Remove members or change their roles first.`,
        fields: { seats: 'below_usage' },
        details: { seats: before },
      })
    }
    if (input.seats !== team.seats) {
      const now = ctx.clock.now()
      await trx.updateTable('teams').set({ seats: input.seats, updated_at: now }).where('id', '=', team.id).execute()
      await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'team.seats_changed', meta: input.meta, at: now, details: { from: team.seats, to: input.seats } })
    }
    return currentSeatUsage(trx, { id: team.id, seats: input.seats })
  })
}

// ---------------------------------------------------------------- roles

const MEMBER_COLUMNS = ['account_id', 'role_admin', 'role_billing', 'role_developer', 'role_community_manager', 'joined_at'] as const

/** Each member's row with their account card (the accounts folder owns those columns), earliest joined first. */
async function teamMembers(db: Queryable, teamId: string) {
  const rows = await db.selectFrom('team_members').select(MEMBER_COLUMNS).where('team_id', '=', teamId).execute()
  const cards = await accountCards(db, rows.map((row) => row.account_id))
  return rows
    .flatMap((row) => {
      const card = cards.get(row.account_id)
      return card ? [{ ...row, ...card }] : []
    })
    .sort((a, b) => a.joined_at - b.joined_at || (a.username < b.username ? -1 : a.username > b.username ? 1 : 0))
}

async function memberRow(db: Queryable, teamId: string, accountId: string) {
  const row = await db.selectFrom('team_members').select(MEMBER_COLUMNS).where('team_id', '=', teamId).where('account_id', '=', accountId).executeTakeFirst()
  const card = row && (await accountCards(db, [accountId])).get(accountId)
  if (!row || !card) throw new AppError('not_found', { message: 'This person is not a member of the team.' })
  return { ...row, ...card }
}

function lastAdminError(): AppError {
  return new AppError('last_admin')
}

/**
 * Replaces a member's roles. Admins assign any role; a Billing member may only give or take
 * the Billing role (SPEC §7). The last Admin keeps the role: the demotion is one conditional
 * UPDATE that only matches while another Admin exists.
 */
export async function changeMemberRoles(ctx: AppContext, input: { account: Account; teamId: string; accountId: string; roles: TeamRole[]; meta: RequestMeta }): Promise<MemberView> {
  const roles = normalizeRoles(input.roles)
  if (roles.length === 0) throw new AppError('invalid_request', { message: 'A member holds at least one role.', fields: { roles: 'too_short' } })
  return inTransaction(ctx, async (trx) => {
    const { team, roles: actorRoles } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'assign_billing_role')
    const target = await memberRow(trx, team.id, input.accountId)
    const before = rolesOf(target)
    const changed = [...new Set([...before, ...roles])].filter((role) => before.includes(role) !== roles.includes(role))
    const view: MemberView = { accountId: target.id, username: target.username, displayName: target.display_name, roles, supportMember: isSupportOnly(roles), joinedAt: new Date(target.joined_at).toISOString(), avatarUrl: imagePath(target.avatar_image_id) }
    if (changed.length === 0) return view
    if (!allows(actorRoles, 'manage_members') && changed.some((role) => role !== 'billing')) {
      throw new AppError('team_permission_denied', { message: 'Only an Admin can assign roles other than Billing.', details: { action: 'manage_members' } })
    }

    const usageBefore = await currentSeatUsage(trx, team)
    const losesAdmin = before.includes('admin') && !roles.includes('admin')
    const result = await trx
      .updateTable('team_members')
      .set(roleColumns(roles))
      .where('team_id', '=', team.id)
      .where('account_id', '=', target.id)
      .$if(losesAdmin, (qb) => qb.where(({ exists, selectFrom }) => exists(
        selectFrom('team_members as other').select('other.account_id').where('other.team_id', '=', team.id).where('other.role_admin', '=', 1).where('other.account_id', '!=', target.id),
      )))
      .executeTakeFirst()
    if (Number(result.numUpdatedRows) === 0) throw lastAdminError()

    // A support member given a paid role takes a seat: refused when none is free.
    await requireSeatsForChange(trx, team, usageBefore, allows(actorRoles, 'change_seats'))
    const now = ctx.clock.now()
    await recordTeamActivity(trx, {
      teamId: team.id,
      actor: actorOf(input.account),
      type: 'member.roles_changed',
      meta: input.meta,
      at: now,
      details: { accountId: target.id, username: target.username, from: before, to: roles },
    })
    return view
  })
}

// ---------------------------------------------------------------- leaving and removal

/** Deletes a membership unless it is the last Admin's (one conditional DELETE). */
async function deleteMembership(trx: Queryable, teamId: string, accountId: string): Promise<boolean> {
  const result = await trx
    .deleteFrom('team_members')
    .where('team_id', '=', teamId)
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([
      eb('role_admin', '=', 0),
      eb.exists(eb.selectFrom('team_members as other').select('other.account_id').where('other.team_id', '=', teamId).where('other.role_admin', '=', 1).where('other.account_id', '!=', accountId)),
    ]))
    .executeTakeFirst()
  return Number(result.numDeletedRows) === 1
}

/**
 * Leaves the team. The last member leaving deletes it (SPEC §7), with its invitations and log;
 * otherwise the last Admin cannot leave.
 */
export async function leaveTeam(ctx: AppContext, input: { account: Account; teamId: string; meta: RequestMeta }, action: TeamAction = 'leave_team'): Promise<{ teamDeleted: boolean }> {
  return inTransaction(ctx, async (trx) => {
    const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, action)
    const now = ctx.clock.now()
    const { n } = await trx.selectFrom('team_members').select((eb) => eb.fn.countAll<number>().as('n')).where('team_id', '=', team.id).executeTakeFirstOrThrow()
    if (Number(n) === 1) {
      await trx.deleteFrom('teams').where('id', '=', team.id).execute()
      await recordAudit(trx, { accountId: input.account.id, type: 'team.left', meta: input.meta, at: now, details: { teamId: team.id, slug: team.slug, teamDeleted: true } })
      return { teamDeleted: true }
    }
    if (!(await deleteMembership(trx, team.id, input.account.id))) throw lastAdminError()
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'member.left', meta: input.meta, at: now, details: { accountId: input.account.id, username: input.account.username } })
    await recordAudit(trx, { accountId: input.account.id, type: 'team.left', meta: input.meta, at: now, details: { teamId: team.id, slug: team.slug } })
    return { teamDeleted: false }
  })
}

/** An Admin removes a member; their access ends with the commit. Removing oneself is leaving. */
export async function removeMember(ctx: AppContext, input: { account: Account; teamId: string; accountId: string; meta: RequestMeta }): Promise<{ teamDeleted: boolean }> {
  // Removing oneself is leaving, under the same rules, still as the Admin action of this route.
  if (input.accountId === input.account.id) return leaveTeam(ctx, input, 'manage_members')
  await inTransaction(ctx, async (trx) => {
    const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_members')
    const target = await memberRow(trx, team.id, input.accountId)
    if (!(await deleteMembership(trx, team.id, target.id))) throw lastAdminError()
    const now = ctx.clock.now()
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'member.removed', meta: input.meta, at: now, details: { accountId: target.id, username: target.username } })
    await recordAudit(trx, { accountId: target.id, type: 'team.removed', meta: input.meta, at: now, details: { teamId: team.id, slug: team.slug, by: input.account.id } })
    await ctx.mailer.enqueue(trx, { to: target.email, template: 'team_member_removed', locale: pickLocale(target.locale), vars: { username: target.username, teamName: team.name } })
  })
  return { teamDeleted: false }
}

// ---------------------------------------------------------------- account deletion

/** SPEC §6: an account in a team cannot be deleted; the error lists the teams to leave first. */
export async function requireNoTeamsBeforeDeletion(db: Queryable, accountId: string): Promise<void> {
  const teams = await db
    .selectFrom('team_members')
    .innerJoin('teams', 'teams.id', 'team_members.team_id')
    .select(['teams.slug', 'teams.name'])
    .where('team_members.account_id', '=', accountId)
    .orderBy('teams.name')
    .execute()
  if (teams.length === 0) return
  throw new AppError('team_membership_blocks_deletion', {
    message: `Leave every team before deleting your account: ${teams.map((t) => `${t.name} (${t.slug})`).join(', ')}.`,
    details: { teams },
  })
}

/** The team's id by its current slug (SSO's "Sign in with SSO" starts from a typed team URL). */
export async function teamIdBySlug(db: Queryable, slug: string): Promise<string | undefined> {
  return (await db.selectFrom('teams').select('id').where('slug', '=', slug).executeTakeFirst())?.id
}

/** Slugs and names of teams by id. */
export async function teamNames(db: Queryable, teamIds: readonly string[]): Promise<Map<string, { slug: string; name: string }>> {
  if (teamIds.length === 0) return new Map()
  const rows = await db.selectFrom('teams').select(['id', 'slug', 'name']).where('id', 'in', teamIds).execute()
  return new Map(rows.map((r) => [r.id, { slug: r.slug, name: r.name }]))
}
