/**
 * Email invitations (SPEC §7): one or many addresses with chosen roles; single use, valid until
 * accepted or cancelled, re-sendable (a re-send replaces the link). Tokens are 256-bit and only
 * their SHA-256 hash is stored. Pending invitations hold seats. A Developer's (or Community
 * Manager's) invitation of any role but Developer becomes a suggestion an Admin approves.
 */
import type { Selectable } from 'kysely'
import { recordAudit, type RequestMeta } from '../../audit/audit.ts'
import { canonicalEmail, normalizeEmail } from '../../accounts/emails.ts'
import type { AppContext } from '../../context.ts'
import { inTransaction, link } from '../../context.ts'
import { hashToken, newId, newToken } from '../../crypto.ts'
import type { Database, Queryable, TeamInvitationsTable } from '../../db/schema.ts'
import type { Transaction } from 'kysely'
import { AppError } from '../../errors.ts'
import { pickLocale } from '../../mail/templates.ts'
import { lockPerson, lockTeam, lockTeamFor, type Team } from '../access.ts'
import { actorOf, recordTeamActivity } from '../activity.ts'
import { noticeOfInvitation, teamAdmins } from '../notices.ts'
import { notifyByCategory } from '../../notifications/notify.ts'
import { allows, describeRoles, isSupportOnly, normalizeRoles, roleColumns, rolesOf, type TeamRole } from '../roles.ts'
import { currentSeatUsage, noSeatsError, requireSeatsForChange } from '../seats.ts'
import { addMember, requireConfirmedEmail, requireRoomForAnotherTeam } from '../joining.ts'
import { accountCards, accountsByEmails, findAccountById, usernameOf, type Account, type AccountCard } from '../../accounts/queries.ts'
import { currentUsernames } from '../../accounts/usernames.ts'
import { imagePath } from '../../images/images.ts'

type InvitationRow = Selectable<TeamInvitationsTable>

export interface InvitationView {
  id: string
  email: string
  roles: TeamRole[]
  status: 'pending' | 'suggested'
  invitedBy: string | null
  createdAt: string
  sentAt: string | null
}

export function invitationView(row: InvitationRow, invitedByUsername: string | null): InvitationView {
  return {
    id: row.id,
    email: row.email,
    roles: rolesOf(row),
    status: row.status === 'suggested' ? 'suggested' : 'pending',
    invitedBy: invitedByUsername,
    createdAt: new Date(row.created_at).toISOString(),
    sentAt: row.sent_at === null ? null : new Date(row.sent_at).toISOString(),
  }
}

async function sendInvitationEmail(ctx: AppContext, trx: Queryable, team: Team, invitation: Pick<InvitationRow, 'id' | 'email' | 'locale'> & { roles: TeamRole[] }, inviter: Account): Promise<void> {
  const token = newToken()
  await trx.updateTable('team_invitations').set({ token_hash: hashToken(token), sent_at: ctx.clock.now() }).where('id', '=', invitation.id).execute()
  const locale = pickLocale(invitation.locale)
  await ctx.mailer.enqueue(trx, {
    to: invitation.email,
    template: 'team_invitation',
    locale,
    vars: { teamName: team.name, inviter: inviter.display_name || inviter.username, roles: describeRoles(invitation.roles, locale), link: link(ctx, '/invitations/accept', { token }) },
  })
  await noticeOfInvitation(ctx, trx, { teamName: team.name, emailNormalized: normalizeEmail(invitation.email), roles: invitation.roles, inviter })
}

export interface InvitationResult {
  invitations: InvitationView[]
  suggestions: InvitationView[]
}

/** One address to invite and its roles; `field` names it in field errors (`emails.3`, `csv.7`). */
export interface InvitationRequest {
  email: string
  roles: TeamRole[]
  field: string
}

/**
 * All or nothing: an address that is already a member or already invited, or too few seats,
 * refuses the whole request with a field error per address, so a retry is simple.
 */
export async function inviteToTeam(ctx: AppContext, input: { account: Account; teamId: string; emails: string[]; roles: TeamRole[]; meta: RequestMeta }): Promise<InvitationResult> {
  const roles = normalizeRoles(input.roles)
  if (roles.length === 0) throw new AppError('invalid_request', { message: 'Choose at least one role.', fields: { roles: 'too_short' } })
  return inviteMany(ctx, { account: input.account, teamId: input.teamId, meta: input.meta, invitations: input.emails.map((email, index) => ({ email, roles, field: `emails.${index}` })) })
}

/**
 * Spends `count` from the inviter's and the team's hourly invitation budgets (SPEC: invitations
 * email people who never asked for it, so they are rate limited). All or nothing: a refused
 * batch, or work that fails after, gives the points back through the returned `refund`.
 */
export async function spendInvitationBudget(ctx: AppContext, inviterId: string, teamId: string, count: number): Promise<() => Promise<void>> {
  const spent: ['invitations_inviter' | 'invitations_team', string][] = []
  const refund = async () => {
    for (const [name, key] of spent) await ctx.limits.refund(name, key, count)
  }
  for (const [name, key] of [['invitations_inviter', inviterId], ['invitations_team', teamId]] as const) {
    spent.push([name, key])
    try {
      await ctx.limits.consume(name, key, count)
    } catch (err) {
      await refund()
      if (err instanceof AppError && err.code === 'too_many_requests') {
        const who = name === 'invitations_inviter' ? 'you have' : 'this team has'
        const limit = name === 'invitations_inviter' ? ctx.config.rateLimits.invitationsPerInviterPerHour : ctx.config.rateLimits.invitationsPerTeamPerHour
        throw new AppError('too_many_requests', {
          message: `Too many invitations: ${who} a limit of ${limit} per hour${count > 1 ? ` and this request has ${count}` : ''}. Try again after ${String(err.details?.retryAt)}.`,
          details: { ...err.details, limit: name },
        })
      }
      throw err
    }
  }
  return refund
}

/** Several addresses, each with its own roles (a CSV upload), in one all-or-nothing transaction. */
export async function inviteMany(ctx: AppContext, input: { account: Account; teamId: string; invitations: InvitationRequest[]; meta: RequestMeta }): Promise<InvitationResult> {
  const emails = new Map<string, { email: string; roles: TeamRole[]; field: string }>()
  for (const invitation of input.invitations) {
    const email = canonicalEmail(invitation.email, invitation.field)
    const roles = normalizeRoles(invitation.roles)
    if (roles.length === 0) throw new AppError('invalid_request', { message: 'Choose at least one role.', fields: { [invitation.field]: 'no_roles' } })
    if (!emails.has(normalizeEmail(email))) emails.set(normalizeEmail(email), { email, roles, field: invitation.field })
  }
  const refund = await spendInvitationBudget(ctx, input.account.id, input.teamId, emails.size)
  let result: InvitationView[]
  try {
    result = await inTransaction(ctx, async (trx) => {
      const { team, roles: actorRoles } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'invite_developers')
      const isDirect = (roles: TeamRole[]) => allows(actorRoles, 'invite_any_role') || (roles.length === 1 && roles[0] === 'developer')
      const normalized = [...emails.keys()]

      // The addresses that already have an account: members among them are refused, the others
      // are written to in their language.
      const holders = await accountsByEmails(trx, normalized)
      const memberIds = new Set(holders.length
        ? (await trx.selectFrom('team_members').select('account_id').where('team_id', '=', team.id).where('account_id', 'in', holders.map((a) => a.id)).execute()).map((m) => m.account_id)
        : [])
      const members = holders.filter((a) => memberIds.has(a.id))
      if (members.length) {
        throw new AppError('already_team_member', { fields: Object.fromEntries(members.map((m) => [emails.get(m.email_normalized)!.field, 'already_member'])) })
      }
      const open = await trx
        .selectFrom('team_invitations')
        .select('email_normalized')
        .where('team_id', '=', team.id)
        .where('status', 'in', ['pending', 'suggested'])
        .where('email_normalized', 'in', normalized)
        .execute()
      if (open.length) {
        throw new AppError('already_invited', { fields: Object.fromEntries(open.map((o) => [emails.get(o.email_normalized)!.field, 'already_invited'])) })
      }
      // Each invitation is written in the invitee's language when they have an account.
      const locales = new Map(holders.map((a) => [a.email_normalized, a.locale]))

      const now = ctx.clock.now()
      const rows: (InvitationRow & { roles: TeamRole[] })[] = [...emails].map(([key, { email, roles }]) => ({
        id: newId(),
        team_id: team.id,
        email,
        email_normalized: key,
        ...roleColumns(roles),
        status: isDirect(roles) ? 'pending' : 'suggested',
        token_hash: null,
        invited_by: input.account.id,
        locale: locales.get(key) ?? input.account.locale,
        created_at: now,
        sent_at: null,
        closed_at: null,
        roles,
      }))
      // Read before the new invitations exist, so a refusal counts them as requested, not held.
      const seatsBefore = await currentSeatUsage(trx, team)
      await trx.insertInto('team_invitations').values(rows.map(({ roles: _roles, ...row }) => row)).execute()
      const direct = rows.filter((row) => row.status === 'pending')
      const suggested = rows.filter((row) => row.status === 'suggested')
      if (direct.length) {
        await requireSeatsForChange(trx, team, seatsBefore, allows(actorRoles, 'change_seats'))
        for (const row of direct) await sendInvitationEmail(ctx, trx, team, row, input.account)
      }
      // One notice per suggested address, grouped by role set for the email's wording.
      const byRoles = new Map<string, typeof suggested>()
      for (const row of suggested) byRoles.set(row.roles.join(','), [...(byRoles.get(row.roles.join(',')) ?? []), row])
      for (const group of byRoles.values()) await notifyAdminsOfSuggestions(ctx, trx, team, input.account, group.map((r) => r.email), group[0].roles)
      for (const row of rows) {
        await recordTeamActivity(trx, {
          teamId: team.id,
          actor: actorOf(input.account),
          type: row.status === 'pending' ? 'invitation.sent' : 'invitation.suggested',
          meta: input.meta,
          at: now,
          details: { invitationId: row.id, email: row.email, roles: row.roles },
        })
      }
      const sent = await trx.selectFrom('team_invitations').selectAll().where('id', 'in', rows.map((r) => r.id)).orderBy('email_normalized').execute()
      return sent.map((row) => invitationView(row, input.account.username))
    })
  } catch (err) {
    await refund()
    throw err
  }
  return { invitations: result.filter((i) => i.status === 'pending'), suggestions: result.filter((i) => i.status === 'suggested') }
}

/** Admins hear of a suggestion by email and in-app, as their "team" notification preferences allow. */
async function notifyAdminsOfSuggestions(ctx: AppContext, trx: Transaction<Database>, team: Team, by: Account, emails: string[], roles: TeamRole[]): Promise<void> {
  const admins = await teamAdmins(trx, team.id)
  for (const email of emails) {
    await notifyByCategory(ctx, trx, admins, 'team', 'team_invitation_suggested', (locale) => ({
      teamName: team.name, suggestedBy: by.username, email, roles: describeRoles(roles, locale), link: link(ctx, `/teams/${team.slug}`),
    }))
  }
}

async function openInvitation(trx: Queryable, teamId: string, invitationId: string, status: 'pending' | 'suggested' | 'open'): Promise<InvitationRow> {
  const row = await trx
    .selectFrom('team_invitations')
    .selectAll()
    .where('id', '=', invitationId)
    .where('team_id', '=', teamId)
    .where('status', 'in', status === 'open' ? ['pending', 'suggested'] : [status])
    .executeTakeFirst()
  if (!row) throw new AppError('not_found', { message: status === 'suggested' ? 'No such suggestion waits in this team.' : 'No such open invitation in this team.' })
  return row
}

/** A new link replaces the old one, which stops working. */
export async function resendInvitation(ctx: AppContext, input: { account: Account; teamId: string; invitationId: string; meta: RequestMeta }): Promise<InvitationView> {
  const refund = await spendInvitationBudget(ctx, input.account.id, input.teamId, 1)
  return inTransaction(ctx, async (trx) => {
    const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_invitations')
    const row = await openInvitation(trx, team.id, input.invitationId, 'pending')
    await sendInvitationEmail(ctx, trx, team, { ...row, roles: rolesOf(row) }, input.account)
    const now = ctx.clock.now()
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'invitation.resent', meta: input.meta, at: now, details: { invitationId: row.id, email: row.email } })
    return invitationView({ ...row, sent_at: now }, await inviterName(trx, row.invited_by))
  }).catch(async (err: unknown) => {
    await refund()
    throw err
  })
}

/** Cancels a pending invitation (its seat is freed) or withdraws a suggestion. The link then says "cancelled". */
export async function cancelInvitation(ctx: AppContext, input: { account: Account; teamId: string; invitationId: string; meta: RequestMeta }): Promise<void> {
  await closeInvitation(ctx, input, { expect: 'open', status: 'cancelled', activity: 'invitation.cancelled' })
}

export async function approveSuggestion(ctx: AppContext, input: { account: Account; teamId: string; invitationId: string; meta: RequestMeta }): Promise<InvitationView> {
  return inTransaction(ctx, async (trx) => {
    const { team, roles: actorRoles } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_invitations')
    const row = await openInvitation(trx, team.id, input.invitationId, 'suggested')
    const seatsBefore = await currentSeatUsage(trx, team)
    await trx.updateTable('team_invitations').set({ status: 'pending' }).where('id', '=', row.id).execute()
    await requireSeatsForChange(trx, team, seatsBefore, allows(actorRoles, 'change_seats'))
    // Sent in the suggesting member's name: they asked for it.
    const suggester = row.invited_by ? await findAccountById(trx, row.invited_by) : undefined
    await sendInvitationEmail(ctx, trx, team, { ...row, roles: rolesOf(row) }, suggester ?? input.account)
    const now = ctx.clock.now()
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'suggestion.approved', meta: input.meta, at: now, details: { invitationId: row.id, email: row.email, roles: rolesOf(row) } })
    return invitationView({ ...row, status: 'pending', sent_at: now }, suggester?.username ?? null)
  })
}

export async function declineSuggestion(ctx: AppContext, input: { account: Account; teamId: string; invitationId: string; meta: RequestMeta }): Promise<void> {
  await closeInvitation(ctx, input, { expect: 'suggested', status: 'declined', activity: 'suggestion.declined' })
}

/** Closes an invitation or suggestion for good, under the team lock, and records who did it. */
async function closeInvitation(
  ctx: AppContext,
  input: { account: Account; teamId: string; invitationId: string; meta: RequestMeta },
  how: { expect: Parameters<typeof openInvitation>[3]; status: 'cancelled' | 'declined'; activity: 'invitation.cancelled' | 'suggestion.declined' },
): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_invitations')
    const row = await openInvitation(trx, team.id, input.invitationId, how.expect)
    const now = ctx.clock.now()
    await trx.updateTable('team_invitations').set({ status: how.status, closed_at: now }).where('id', '=', row.id).execute()
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: how.activity, meta: input.meta, at: now, details: { invitationId: row.id, email: row.email } })
  })
}

async function inviterName(db: Queryable, accountId: string | null): Promise<string | null> {
  if (!accountId) return null
  return usernameOf(db, accountId)
}

export async function openInvitations(db: Queryable, teamId: string): Promise<InvitationView[]> {
  const rows = await db
    .selectFrom('team_invitations')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('status', 'in', ['pending', 'suggested'])
    .orderBy('created_at')
    .orderBy('email_normalized')
    .execute()
  const inviters = await currentUsernames(db, rows.flatMap((r) => (r.invited_by ? [r.invited_by] : [])))
  return rows.map((r) => invitationView(r, r.invited_by ? inviters.get(r.invited_by) ?? null : null))
}

export async function listInvitations(ctx: AppContext, teamId: string): Promise<InvitationResult> {
  const open = await openInvitations(ctx.db, teamId)
  return { invitations: open.filter((i) => i.status === 'pending'), suggestions: open.filter((i) => i.status === 'suggested') }
}

export function invitationInvalid(reason: 'unknown' | 'cancelled' | 'declined' | 'used'): AppError {
  const message = {
    unknown: 'This invitation link is not valid: it may have been replaced by a newer one. Ask the team for a new invitation.',
    cancelled: 'This invitation was cancelled by the team. Ask the team for a new invitation.',
    declined: 'This invitation was declined by the team\'s Admins.',
    used: 'This invitation was already accepted.',
  }[reason]
  return new AppError('invitation_invalid', { message, fields: { token: reason }, details: { reason } })
}

/** The signed-in person accepts with the token from their email (see joinByInvitation for the rules). */
export async function acceptInvitation(ctx: AppContext, input: { account: Account; token: string; meta: RequestMeta }): Promise<Joined> {
  const tokenHash = /^[A-Za-z0-9_-]{43}$/.test(input.token) ? hashToken(input.token) : null
  return inTransaction(ctx, async (trx) => {
    const row = tokenHash ? await trx.selectFrom('team_invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst() : undefined
    return joinByInvitation(ctx, trx, input.account, row, input.meta)
  })
}

/**
 * The invitee accepts an invitation listed in the app (`GET /me/invitations`), without the
 * emailed link: their confirmed address is the proof the link would have given. Anyone else's
 * invitation id answers as an unknown one.
 */
export async function acceptInvitationById(ctx: AppContext, input: { account: Account; invitationId: string; meta: RequestMeta }): Promise<Joined> {
  const { account } = input
  return inTransaction(ctx, async (trx) => {
    const row = await trx.selectFrom('team_invitations').selectAll().where('id', '=', input.invitationId).executeTakeFirst()
    // Only the invited address learns that this invitation exists at all.
    const mine = row && account.email_confirmed_at !== null && row.email_normalized === normalizeEmail(account.email) ? row : undefined
    if (row && !mine) requireConfirmedEmail(account)
    return joinByInvitation(ctx, trx, account, mine, input.meta)
  })
}

type Joined = { slug: string; name: string; roles: TeamRole[] }

/**
 * Their confirmed email must be the invited one. Consuming is a conditional UPDATE (pending →
 * accepted) in the transaction that adds the member, under the team lock, after the seat
 * check: two acceptances racing for the last seat cannot both get it.
 */
async function joinByInvitation(ctx: AppContext, trx: Transaction<Database>, account: Account, row: InvitationRow | undefined, meta: RequestMeta): Promise<Joined> {
  if (!row) throw invitationInvalid('unknown')
  if (row.status === 'cancelled' || row.status === 'declined') throw invitationInvalid(row.status)
  if (row.status === 'accepted') throw invitationInvalid('used')
  requireConfirmedEmail(account)
  if (normalizeEmail(account.email) !== row.email_normalized) throw new AppError('invitation_email_mismatch')

  await lockPerson(ctx, trx, account.id)
  const team = await lockTeam(ctx, trx, row.team_id)
  const already = await trx.selectFrom('team_members').select('account_id').where('team_id', '=', team.id).where('account_id', '=', account.id).executeTakeFirst()
  if (already) throw new AppError('already_team_member')
  await requireRoomForAnotherTeam(trx, account.id)

  const now = ctx.clock.now()
  const usageBefore = await currentSeatUsage(trx, team)
  const consumed = await trx
    .updateTable('team_invitations')
    .set({ status: 'accepted', closed_at: now })
    .where('id', '=', row.id)
    .where('status', '=', 'pending')
    .executeTakeFirst()
  if (Number(consumed.numUpdatedRows) !== 1) throw invitationInvalid('used')
  const roles = rolesOf(row)
  await addMember(ctx, trx, { teamId: team.id, accountId: account.id, roles, at: now })
  // The invitation's held seat becomes the member's; if seats were lowered since, only
  // members must fit, and the first acceptances take what is left.
  const usage = await currentSeatUsage(trx, team)
  if (usage.takenByMembers > team.seats) throw noSeatsError(usageBefore, usage.takenByMembers - usageBefore.takenByMembers, false)
  await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(account), type: 'member.joined', meta, at: now, details: { accountId: account.id, username: account.username, roles, invitationId: row.id, supportMember: isSupportOnly(roles) } })
  await recordAudit(trx, { accountId: account.id, type: 'team.joined', meta, at: now, details: { teamId: team.id, slug: team.slug } })
  return { slug: team.slug, name: team.name, roles }
}

export interface MyInvitation {
  id: string
  team: { name: string; logoUrl: string | null }
  inviter: string | null
  roles: TeamRole[]
  sentAt: string | null
}

/** Who sent an invitation, as its invitee sees it: their name now, or nothing when the account is gone. */
export function inviterShownToInvitee(cards: ReadonlyMap<string, AccountCard>, invitedBy: string | null): string | null {
  const card = invitedBy === null ? undefined : cards.get(invitedBy)
  return card ? card.display_name || card.username : null
}

/**
 * The invitations waiting for the signed-in person, so one whose email got lost (or who signed
 * up after being invited) still finds them. Only for a confirmed address: until then, anyone
 * could have typed it, and the list would show them teams that invited someone else.
 * Suggestions are not invitations yet (an Admin has not approved them) and are not listed.
 */
export async function invitationsFor(db: Queryable, account: Account): Promise<MyInvitation[]> {
  if (account.email_confirmed_at === null) return []
  const rows = await db
    .selectFrom('team_invitations')
    .innerJoin('teams', 'teams.id', 'team_invitations.team_id')
    .selectAll('team_invitations')
    .select(['teams.name as team_name', 'teams.logo_image_id'])
    .where('team_invitations.email_normalized', '=', normalizeEmail(account.email))
    .where('team_invitations.status', '=', 'pending')
    // Teams the person is already in (joined another way) have nothing left to accept.
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('team_members').select('team_members.account_id').whereRef('team_members.team_id', '=', 'team_invitations.team_id').where('team_members.account_id', '=', account.id))))
    .orderBy('team_invitations.created_at', 'desc')
    .orderBy('team_invitations.id')
    .execute()
  const inviters = await accountCards(db, rows.flatMap((row) => (row.invited_by === null ? [] : [row.invited_by])))
  return rows.map((row) => ({
    id: row.id,
    team: { name: row.team_name, logoUrl: imagePath(row.logo_image_id) },
    inviter: inviterShownToInvitee(inviters, row.invited_by),
    roles: rolesOf(row),
    sentAt: row.sent_at === null ? null : new Date(row.sent_at).toISOString(),
  }))
}
