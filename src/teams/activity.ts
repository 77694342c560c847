/**
 * The team activity log (SPEC §7): joins, leaves, role changes, invitations and settings
 * changes, with actor, time and IP. Written in the transaction of the change it records;
 * read by Admins and Community Managers, newest first.
 */
import type { RequestMeta } from '../audit/audit.ts'
import { randomBytes } from 'node:crypto'
import type { Queryable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { currentUsernames } from '../accounts/usernames.ts'

export type TeamActivityType =
  | 'team.created'
  | 'team.renamed'
  | 'team.seats_changed'
  | 'member.joined'
  | 'member.left'
  | 'member.removed'
  | 'member.roles_changed'
  | 'invitation.sent'
  | 'invitation.resent'
  | 'invitation.cancelled'
  | 'invitation.suggested'
  | 'suggestion.approved'
  | 'suggestion.declined'
  | 'domain.added'
  | 'domain.verified'
  | 'domain.removed'
  | 'discovery.changed'
  | 'join_request.created'
  | 'join_request.approved'
  | 'join_request.denied'
  | 'join_request.withdrawn'
  | 'invite_link.created'
  | 'invite_link.revoked'
  | 'team.logo_changed'
  | 'team.logo_removed'
  | 'team.slug_changed'
  | 'team.profile_changed'
  | 'sso.connection_created'
  | 'sso.connection_updated'
  | 'sso.connection_deleted'
  | 'sso.connection_tested'
  | 'sso.signin'
  | 'sso.member_provisioned'
  | 'sso.signin_policy_changed'
  | 'sso.setup_link_created'
  | 'sso.setup_link_revoked'
  | 'sso.setup_link_opened'
  | 'sso.setup_link_action'

export interface Actor {
  id: string
  username: string
}

export function actorOf(account: { id: string; username: string }): Actor {
  return { id: account.id, username: account.username }
}

let sequence = 0
/**
 * Ids sort like the events happened: the event's time, then a per-process sequence (events
 * written in one transaction share a time), then randomness for uniqueness across processes.
 */
function eventId(atMs: number): string {
  sequence = (sequence + 1) % 0x1_0000_0000
  return `${atMs.toString(16).padStart(12, '0')}-${sequence.toString(16).padStart(8, '0')}-${randomBytes(8).toString('hex')}`
}

export async function recordTeamActivity(
  db: Queryable,
  event: { teamId: string; actor: Actor | null; type: TeamActivityType; meta: RequestMeta; at: number; details?: Record<string, unknown> },
): Promise<void> {
  await db
    .insertInto('team_activity')
    .values({
      id: eventId(event.at),
      team_id: event.teamId,
      actor_id: event.actor?.id ?? null,
      actor_username: event.actor?.username ?? null,
      type: event.type,
      details: JSON.stringify(event.details ?? {}),
      ip: event.meta.ip,
      at: event.at,
    })
    .execute()
}

/** `formerUsername`: the name at the time of the event, when the account has been renamed since. */
export interface TeamActivityPage {
  events: { id: string; type: string; actor: { accountId: string; username: string; formerUsername?: string } | null; ip: string | null; at: string; details: Record<string, unknown> }[]
  nextCursor: string | null
}

/** Newest first; the cursor is the last event's `at|id`, stable while new events arrive. */
export async function listTeamActivity(db: Queryable, input: { teamId: string; limit: number; cursor?: string }): Promise<TeamActivityPage> {
  let query = db.selectFrom('team_activity').selectAll().where('team_id', '=', input.teamId)
  if (input.cursor) {
    const [at, id] = input.cursor.split('|')
    const atMs = Number(at)
    if (!at || !Number.isSafeInteger(atMs) || !id) throw new AppError('invalid_request', { message: 'The cursor is not valid.', fields: { cursor: 'invalid' } })
    query = query.where((eb) => eb.or([eb('at', '<', atMs), eb.and([eb('at', '=', atMs), eb('id', '<', id)])]))
  }
  const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(input.limit + 1).execute()
  const page = rows.slice(0, input.limit)
  const last = page.at(-1)
  const events = page.map((e) => ({ row: e, details: JSON.parse(e.details) as Record<string, unknown> }))
  // Names are written as they were; a person renamed since is shown by their current name, with
  // the old one beside it (the actor, and the member an event is about: `details.accountId`).
  const current = await currentUsernames(db, events.flatMap(({ row, details }) => [row.actor_id, details.accountId].filter((id): id is string => typeof id === 'string')))
  const renamed = (accountId: string, then: string) => {
    const now = current.get(accountId)
    return now && now !== then ? { username: now, formerUsername: then } : { username: then }
  }
  return {
    events: events.map(({ row: e, details }) => ({
      id: e.id,
      type: e.type,
      actor: e.actor_id && e.actor_username ? { accountId: e.actor_id, ...renamed(e.actor_id, e.actor_username) } : null,
      ip: e.ip,
      at: new Date(e.at).toISOString(),
      details: typeof details.accountId === 'string' && typeof details.username === 'string' ? { ...details, ...renamed(details.accountId, details.username) } : details,
    })),
    nextCursor: rows.length > input.limit && last ? `${last.at}|${last.id}` : null,
  }
}
