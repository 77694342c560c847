/**
 * Requests to join a discoverable team (SPEC §7). A person whose confirmed email is at a
 * verified domain of a team with discovery on asks to join (answering the team's question if
 * it has one); every Admin hears of it (email and in-app, as their "team" preferences allow)
 * and approves (the person joins, Developer by default; seats and the 10-team limit apply)
 * or denies (the person is told, neutrally). One pending request per person and team.
 *
 * To anyone the team is not discoverable to, it does not exist: the same 404 as an unknown
 * slug. Changing one's email away from the domain cancels pending requests (not memberships).
 */
import type { Selectable } from 'kysely'
import { recordAudit, type RequestMeta } from '../../audit/audit.ts'
import type { AppContext } from '../../context.ts'
import { inTransaction, link } from '../../context.ts'
import { newId } from '../../crypto.ts'
import type { Queryable, TeamJoinRequestsTable } from '../../db/schema.ts'
import { AppError } from '../../errors.ts'
import { notifyByCategory } from '../../notifications/notify.ts'
import { teamAdmins } from '../notices.ts'
import { inPersonTransaction, isTeamMember, lockPerson, lockTeamFor } from '../access.ts'
import { actorOf, recordTeamActivity } from '../activity.ts'
import { discoverableTeamsQuery } from './discovery.ts'
import { emailDomain } from './domains.ts'
import { addMember, requireConfirmedEmail, requireRoomForAnotherTeam } from '../joining.ts'
import { allows, describeRoles, isSupportOnly, normalizeRoles, type TeamRole } from '../roles.ts'
import { currentSeatUsage, requireSeatsForChange } from '../seats.ts'
import type { MemberView } from '../teams.ts'
import { accountCards, findAccountById, type Account } from '../../accounts/queries.ts'
import { JOIN_ANSWER_MAX_LENGTH, MAX_TEAMS_PER_PERSON } from '../limits.ts'


type JoinRequestRow = Selectable<TeamJoinRequestsTable>

function notDiscoverable(): AppError {
  return new AppError('not_found', { message: 'No team at this address takes requests from your email domain.' })
}

function checkAnswer(raw: string | null | undefined, question: string | null): string | null {
  const answer = (raw ?? '').trim()
  if (!question) return null
  if (!answer) throw new AppError('invalid_request', { message: 'The team asks a question: answer it to send the request.', fields: { answer: 'required' } })
  if ([...answer].length > JOIN_ANSWER_MAX_LENGTH) throw new AppError('invalid_request', { message: `The answer can have at most ${JOIN_ANSWER_MAX_LENGTH} characters.`, fields: { answer: 'too_long' } })
  return answer
}

export interface MyJoinRequest {
  id: string
  team: { slug: string; name: string }
  status: 'pending'
  createdAt: string
}

export async function requestToJoin(ctx: AppContext, input: { account: Account; slug: string; answer?: string | null; meta: RequestMeta }): Promise<MyJoinRequest> {
  const { account } = input
  requireConfirmedEmail(account)
  // Spent before anything is looked up: also slows a walk through team slugs.
  await ctx.limits.consume('join_request_account', account.id)
  // Serialised with approvals of this person (their account row first, as everywhere); two
  // requests at once: the unique index keeps one.
  return inPersonTransaction(ctx, account.id, () => new AppError('join_request_pending'), async (trx) => {
    const team = await trx.selectFrom('teams').select(['id', 'slug', 'name']).where('slug', '=', input.slug).executeTakeFirst()
    if (team && (await isTeamMember(trx, team.id, account.id))) {
      throw new AppError('already_team_member', { message: 'You are already a member of this team.' })
    }
    const found = await (await discoverableTeamsQuery(trx, account, input.slug)).executeTakeFirst()
    if (!team || !found) throw notDiscoverable()
    if (found.request_id) throw new AppError('join_request_pending', { details: { requestId: found.request_id } })
    const answer = checkAnswer(input.answer, found.question)
    await requireRoomForAnotherTeam(trx, account.id)

    const now = ctx.clock.now()
    const id = newId()
    await trx.insertInto('team_join_requests').values({
      id,
      team_id: team.id,
      account_id: account.id,
      domain: emailDomain(account.email_normalized),
      question: found.question,
      answer,
      status: 'pending',
      created_at: now,
      decided_at: null,
      decided_by: null,
    }).execute()
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(account), type: 'join_request.created', meta: input.meta, at: now, details: { requestId: id, accountId: account.id, username: account.username } })
    await notifyByCategory(ctx, trx, await teamAdmins(trx, team.id), 'team', 'team_join_requested', {
      teamName: team.name,
      requester: account.display_name ? `${account.display_name} (@${account.username})` : account.username,
      email: account.email,
      question: found.question ?? '',
      answer: answer ?? '',
      link: link(ctx, `/teams/${team.slug}`),
    })
    return { id, team: { slug: team.slug, name: team.name }, status: 'pending' as const, createdAt: new Date(now).toISOString() }
  })
}

export async function listMyJoinRequests(ctx: AppContext, accountId: string): Promise<MyJoinRequest[]> {
  const rows = await ctx.db
    .selectFrom('team_join_requests as r')
    .innerJoin('teams', 'teams.id', 'r.team_id')
    .select(['r.id', 'r.created_at', 'teams.slug', 'teams.name'])
    .where('r.account_id', '=', accountId)
    .where('r.status', '=', 'pending')
    .orderBy('r.created_at')
    .orderBy('r.id')
    .execute()
  return rows.map((r) => ({ id: r.id, team: { slug: r.slug, name: r.name }, status: 'pending', createdAt: new Date(r.created_at).toISOString() }))
}

/** The requester withdraws their own pending request; the team's log says so. */
export async function withdrawJoinRequest(ctx: AppContext, input: { account: Account; requestId: string; meta: RequestMeta }): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    const row = await trx.selectFrom('team_join_requests').select(['id', 'team_id']).where('id', '=', input.requestId).where('account_id', '=', input.account.id).where('status', '=', 'pending').executeTakeFirst()
    if (!row) throw new AppError('not_found', { message: 'You have no such pending request.' })
    const now = ctx.clock.now()
    await decide(trx, row, 'cancelled', input.account.id, now)
    await recordTeamActivity(trx, { teamId: row.team_id, actor: actorOf(input.account), type: 'join_request.withdrawn', meta: input.meta, at: now, details: { requestId: row.id, accountId: input.account.id, username: input.account.username } })
  })
}

export interface JoinRequestView {
  id: string
  accountId: string
  username: string
  displayName: string
  email: string
  question: string | null
  answer: string | null
  createdAt: string
}

/** Pending requests, oldest first; requests of people who have joined since are left out. */
export async function listJoinRequests(db: Queryable, teamId: string): Promise<JoinRequestView[]> {
  const rows = await db
    .selectFrom('team_join_requests as r')
    .select(['r.id', 'r.account_id', 'r.question', 'r.answer', 'r.created_at'])
    .where('r.team_id', '=', teamId)
    .where('r.status', '=', 'pending')
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('team_members as m').select('m.account_id').where('m.team_id', '=', teamId).whereRef('m.account_id', '=', 'r.account_id'))))
    .orderBy('r.created_at')
    .orderBy('r.id')
    .execute()
  const people = await accountCards(db, rows.map((r) => r.account_id))
  return rows.flatMap((r) => {
    const person = people.get(r.account_id)
    return person ? [{ id: r.id, accountId: r.account_id, username: person.username, displayName: person.display_name, email: person.email, question: r.question, answer: r.answer, createdAt: new Date(r.created_at).toISOString() }] : []
  })
}

async function pendingRequest(db: Queryable, teamId: string, requestId: string): Promise<JoinRequestRow> {
  const row = await db.selectFrom('team_join_requests').selectAll().where('id', '=', requestId).where('team_id', '=', teamId).where('status', '=', 'pending').executeTakeFirst()
  if (!row) throw new AppError('not_found', { message: 'No such pending request in this team.' })
  return row
}

/** Pending → `status`, only if still pending: two Admins deciding at once cannot both win. */
async function decide(trx: Queryable, row: Pick<JoinRequestRow, 'id'>, status: 'approved' | 'denied' | 'cancelled', by: string, now: number): Promise<void> {
  const result = await trx
    .updateTable('team_join_requests')
    .set({ status, decided_at: now, decided_by: by })
    .where('id', '=', row.id)
    .where('status', '=', 'pending')
    .executeTakeFirst()
  if (Number(result.numUpdatedRows) !== 1) throw new AppError('not_found', { message: 'No such pending request in this team.' })
}

/** The new member as the team page lists members (without the avatar). */
export type ApprovedMember = Omit<MemberView, 'avatarUrl'>

/**
 * Adds the requester with `roles` (Developer unless chosen). Their 10-team limit and the
 * team's seats are checked under the person's and the team's locks (person first, as
 * everywhere). A requester who joined another way meanwhile gets their request closed.
 */
export async function approveJoinRequest(ctx: AppContext, input: { account: Account; teamId: string; requestId: string; roles?: TeamRole[]; meta: RequestMeta }): Promise<ApprovedMember> {
  const roles = normalizeRoles(input.roles ?? ['developer'])
  if (roles.length === 0) throw new AppError('invalid_request', { message: 'Choose at least one role.', fields: { roles: 'too_short' } })
  const first = await pendingRequest(ctx.db, input.teamId, input.requestId)
  const outcome = await inTransaction(ctx, async (trx) => {
    await lockPerson(ctx, trx, first.account_id)
    const { team, roles: actorRoles } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_join_requests')
    const row = await pendingRequest(trx, team.id, input.requestId)
    const now = ctx.clock.now()
    const requester = await accountOf(trx, row.account_id)
    if (await isTeamMember(trx, team.id, requester.id)) {
      await decide(trx, row, 'cancelled', input.account.id, now)
      return { alreadyMember: true as const }
    }
    try {
      await requireRoomForAnotherTeam(trx, requester.id)
    } catch (err) {
      if (err instanceof AppError && err.code === 'team_limit_reached') {
        throw new AppError('team_limit_reached', { message: `${requester.username} already belongs to ${MAX_TEAMS_PER_PERSON} teams, the most a person can. They must leave one before joining.` })
      }
      throw err
    }
    await decide(trx, row, 'approved', input.account.id, now)

    const usageBefore = await currentSeatUsage(trx, team)
    await addMember(ctx, trx, { teamId: team.id, accountId: requester.id, roles, at: now })
    await requireSeatsForChange(trx, team, usageBefore, allows(actorRoles, 'change_seats'))
    const supportMember = isSupportOnly(roles)
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'join_request.approved', meta: input.meta, at: now, details: { requestId: row.id, accountId: requester.id, username: requester.username, roles } })
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(requester), type: 'member.joined', meta: input.meta, at: now, details: { accountId: requester.id, username: requester.username, roles, joinRequestId: row.id, approvedBy: input.account.username, supportMember } })
    await recordAudit(trx, { accountId: requester.id, type: 'team.joined', meta: input.meta, at: now, details: { teamId: team.id, slug: team.slug, joinRequestId: row.id } })
    await notifyByCategory(ctx, trx, [requester], 'team', 'team_join_approved', (locale) => ({ teamName: team.name, roles: describeRoles(roles, locale), link: link(ctx, `/teams/${team.slug}`) }))
    return {
      alreadyMember: false as const,
      member: { accountId: requester.id, username: requester.username, displayName: requester.display_name, roles, supportMember, joinedAt: new Date(now).toISOString() },
    }
  })
  if (outcome.alreadyMember) throw new AppError('already_team_member', { message: 'This person has joined the team meanwhile; their request is closed.' })
  return outcome.member
}

export async function denyJoinRequest(ctx: AppContext, input: { account: Account; teamId: string; requestId: string; meta: RequestMeta }): Promise<void> {
  const first = await pendingRequest(ctx.db, input.teamId, input.requestId)
  await inTransaction(ctx, async (trx) => {
    // Person before team, as in approval: the notice below writes a row that references the
    // requester's account, which an approval running at the same time holds.
    await lockPerson(ctx, trx, first.account_id)
    const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_join_requests')
    const row = await pendingRequest(trx, team.id, input.requestId)
    const now = ctx.clock.now()
    await decide(trx, row, 'denied', input.account.id, now)
    const requester = await accountOf(trx, row.account_id)
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'join_request.denied', meta: input.meta, at: now, details: { requestId: row.id, accountId: requester.id, username: requester.username } })
    await notifyByCategory(ctx, trx, [requester], 'team', 'team_join_denied', { teamName: team.name })
  })
}

/**
 * Called in the transaction that changes a person's email: their pending requests made from
 * another domain are cancelled (memberships stay). Returns how many.
 */
export async function cancelJoinRequestsForEmailChange(db: Queryable, input: { accountId: string; newEmailNormalized: string; at: number }): Promise<number> {
  const result = await db
    .updateTable('team_join_requests')
    .set({ status: 'cancelled', decided_at: input.at, decided_by: null })
    .where('account_id', '=', input.accountId)
    .where('status', '=', 'pending')
    .where('domain', '!=', emailDomain(input.newEmailNormalized))
    .executeTakeFirst()
  return Number(result.numUpdatedRows)
}

/** The requester's account; it cannot be gone while its request is pending (deleting cancels requests). */
async function accountOf(db: Queryable, accountId: string): Promise<Account> {
  const account = await findAccountById(db, accountId)
  if (!account) throw new Error(`join request of a missing account ${accountId}`)
  return account
}

/**
 * A request to join made for someone single sign-on vouched for (SPEC §8: JIT off and no
 * invitation): their address is at a verified domain of the team, whether or not discovery is
 * on. One pending request per person and team: an existing one is kept (Admins are not asked
 * again). Answers whether a new request was made.
 */
export async function requestToJoinForSso(ctx: AppContext, input: { account: Account; teamId: string; meta: RequestMeta }): Promise<boolean> {
  const { account } = input
  return inTransaction(ctx, async (trx) => {
    const team = await trx.selectFrom('teams').select(['id', 'slug', 'name']).where('id', '=', input.teamId).executeTakeFirst()
    if (!team || (await isTeamMember(trx, team.id, account.id))) return false
    const pending = await trx.selectFrom('team_join_requests').select('id').where('team_id', '=', team.id).where('account_id', '=', account.id).where('status', '=', 'pending').executeTakeFirst()
    if (pending) return false
    const now = ctx.clock.now()
    const id = newId()
    await trx.insertInto('team_join_requests').values({
      id, team_id: team.id, account_id: account.id, domain: emailDomain(account.email_normalized), question: null, answer: null, status: 'pending', created_at: now, decided_at: null, decided_by: null,
    }).execute()
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(account), type: 'join_request.created', meta: input.meta, at: now, details: { requestId: id, accountId: account.id, username: account.username, via: 'sso' } })
    await notifyByCategory(ctx, trx, await teamAdmins(trx, team.id), 'team', 'team_join_requested', {
      teamName: team.name,
      requester: account.display_name ? `${account.display_name} (@${account.username})` : account.username,
      email: account.email,
      question: '',
      answer: '',
      link: link(ctx, `/teams/${team.slug}`),
    })
    return true
  })
}
