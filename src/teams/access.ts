/**
 * Who may touch a team, checked twice:
 * 1. `teamAccess(ctx, action)`, a preHandler on every `/teams/{slug}` route: a non-member (or
 *    an unknown slug) gets 404, alike, so team URLs cannot be probed; a member whose roles do
 *    not allow the action gets 403 `team_permission_denied`.
 * 2. `lockTeamFor(...)`, first thing in every transaction that changes a team: it locks the
 *    team row (PostgreSQL `SELECT ... FOR UPDATE`; SQLite runs one write transaction at a time)
 *    and re-reads the caller's roles, so a member removed or demoted a moment ago cannot act,
 *    and every rule that counts (last Admin, seats) sees the counts no one else is changing.
 */
import type { preHandlerAsyncHookHandler } from 'fastify'
import type { Selectable, Transaction } from 'kysely'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { isUniqueViolation } from '../db/errors.ts'
import type { Database, Queryable, TeamsTable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { allows, deniedMessage, rolesOf, type TeamAction, type TeamRole } from './roles.ts'
import { movedTeamSlug } from './profile/slug-history.ts'
import { lockAccountRow } from '../accounts/queries.ts'

export type Team = Selectable<TeamsTable>

export interface TeamAccess {
  team: Team
  roles: TeamRole[]
}

declare module 'fastify' {
  interface FastifyRequest {
    teamAccess: TeamAccess | null
  }
}

export function teamNotFound(): AppError {
  return new AppError('not_found', { message: 'No team at this address, or you are not a member of it.' })
}

async function membership(db: Queryable, where: { slug: string } | { teamId: string }, accountId: string, forUpdate: boolean): Promise<TeamAccess | undefined> {
  let teamQuery = db.selectFrom('teams').selectAll()
  teamQuery = 'slug' in where ? teamQuery.where('slug', '=', where.slug) : teamQuery.where('id', '=', where.teamId)
  if (forUpdate) teamQuery = teamQuery.forUpdate()
  const team = await teamQuery.executeTakeFirst()
  if (!team) return undefined
  const roles = await memberRoles(db, team.id, accountId)
  return roles ? { team, roles } : undefined
}

/** The roles `accountId` holds in the team, or null when they are not a member. */
export async function memberRoles(db: Queryable, teamId: string, accountId: string): Promise<TeamRole[] | null> {
  const member = await db
    .selectFrom('team_members')
    .select(['role_admin', 'role_billing', 'role_developer', 'role_community_manager'])
    .where('team_id', '=', teamId)
    .where('account_id', '=', accountId)
    .executeTakeFirst()
  return member ? rolesOf(member) : null
}

export async function isTeamMember(db: Queryable, teamId: string, accountId: string): Promise<boolean> {
  return (await memberRoles(db, teamId, accountId)) !== null
}

/** A team by its current slug or id (no membership check: callers check access themselves). */
export async function findTeam(db: Queryable, where: { slug: string } | { teamId: string }): Promise<Team | undefined> {
  const query = db.selectFrom('teams').selectAll()
  return ('slug' in where ? query.where('slug', '=', where.slug) : query.where('id', '=', where.teamId)).executeTakeFirst()
}

/** Every team the account belongs to, and whether it is an Admin there (sign-in rules read them: src/sso/policies.ts). */
export async function membershipsOf(db: Queryable, accountId: string): Promise<{ teamId: string; slug: string; name: string; admin: boolean }[]> {
  const rows = await db
    .selectFrom('team_members')
    .innerJoin('teams', 'teams.id', 'team_members.team_id')
    .select(['teams.id', 'teams.slug', 'teams.name', 'team_members.role_admin'])
    .where('team_members.account_id', '=', accountId)
    .orderBy('teams.slug')
    .execute()
  return rows.map((r) => ({ teamId: r.id, slug: r.slug, name: r.name, admin: r.role_admin === 1 }))
}

/** The account ids of a team's members; `exceptAdmins`: only those who hold no Admin role. */
export async function memberIdsOf(db: Queryable, teamId: string, options: { exceptAdmins?: boolean } = {}): Promise<string[]> {
  let query = db.selectFrom('team_members').select('account_id').where('team_id', '=', teamId)
  if (options.exceptAdmins) query = query.where('role_admin', '=', 0)
  return (await query.execute()).map((r) => r.account_id)
}

/**
 * A transaction that first takes `accountId`'s person lock (see lockPerson) — the start of every
 * change that adds someone to a team. A unique-index violation inside (two requests racing) becomes
 * `onConflict()`: the loser hears what a later request would.
 */
export async function inPersonTransaction<T>(ctx: AppContext, accountId: string, onConflict: () => AppError, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  try {
    return await inTransaction(ctx, async (trx) => {
      await lockPerson(ctx, trx, accountId)
      return work(trx)
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw onConflict()
    throw err
  }
}

function check(access: TeamAccess | undefined, action: TeamAction): TeamAccess {
  if (!access) throw teamNotFound()
  if (!allows(access.roles, action)) throw new AppError('team_permission_denied', { message: deniedMessage(action), details: { action } })
  return access
}

/** preHandler, after requireAuth: the team from the `slug` parameter, if the caller may do `action`. */
export function teamAccess(ctx: AppContext, action: TeamAction): preHandlerAsyncHookHandler {
  return async function teamRole(request) {
    if (!request.auth) throw new AppError('unauthenticated')
    const { slug } = request.params as { slug: string }
    const access = await membership(ctx.db, { slug }, request.auth.account.id, false)
    if (!access) {
      // An old URL of a team the caller belongs to: say where it went (never to non-members).
      const moved = await movedTeamSlug(ctx.db, slug, request.auth.account.id, ctx.clock.now())
      if (moved) throw new AppError('team_moved', { message: `This team's URL is now /teams/${moved}.`, details: { slug: moved } })
    }
    request.teamAccess = check(access, action)
  }
}

/** In a transaction: locks the team and re-checks the caller's right to `action` (see above). */
export async function lockTeamFor(ctx: AppContext, trx: Transaction<Database>, teamId: string, accountId: string, action: TeamAction): Promise<TeamAccess> {
  return check(await membership(trx, { teamId }, accountId, ctx.dialect === 'postgres'), action)
}

/** In a transaction, for an action on oneself (accepting): locks the team without a membership check. */
export async function lockTeam(ctx: AppContext, trx: Transaction<Database>, teamId: string): Promise<Team> {
  let query = trx.selectFrom('teams').selectAll().where('id', '=', teamId)
  if (ctx.dialect === 'postgres') query = query.forUpdate()
  const team = await query.executeTakeFirst()
  if (!team) throw teamNotFound()
  return team
}

/**
 * Serialises one person's joins (create, accept) so the 10-team limit holds under concurrency:
 * PostgreSQL locks their account row; SQLite runs one write transaction at a time. Always
 * taken before a team lock, never after, so the two cannot deadlock.
 */
export async function lockPerson(ctx: AppContext, trx: Transaction<Database>, accountId: string): Promise<void> {
  if (ctx.dialect !== 'postgres') return
  await lockAccountRow(trx, accountId)
}

/** For handlers behind `teamAccess`. */
export function teamAccessOf(request: { teamAccess: TeamAccess | null }): TeamAccess {
  if (!request.teamAccess) throw teamNotFound()
  return request.teamAccess
}
