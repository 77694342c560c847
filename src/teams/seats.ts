/**
 * Seats (SPEC §7, §9): every member takes a paid seat except support members (only Admin
 * and/or Billing roles), of whom FREE_SUPPORT_MEMBERS are free. Pending invitations hold the
 * seat their person will take. Counted in SQL inside the transaction that holds the team lock.
 */
import { sql } from 'kysely'
import type { Queryable } from '../db/schema.ts'
import { AppError } from '../errors.ts'

export const FREE_SUPPORT_MEMBERS = 2
/** The Free plan's one member (SPEC §9) until billing sets seats. */
export const FREE_PLAN_SEATS = 1
export const MAX_SEATS = 10_000

export interface SeatUsage {
  bought: number
  /** Paid seats taken by members. */
  takenByMembers: number
  /** Paid seats held by pending invitations. */
  heldByInvitations: number
  available: number
  supportMembers: number
  freeSupportMembers: number
}

interface Counts {
  members: { support: number; paid: number }
  invitations: { support: number; paid: number }
}

/** Members are counted first, so they get the free support places before invitations do. */
export function seatUsage(bought: number, counts: Counts): SeatUsage {
  const takenByMembers = counts.members.paid + Math.max(0, counts.members.support - FREE_SUPPORT_MEMBERS)
  const freeLeft = Math.max(0, FREE_SUPPORT_MEMBERS - counts.members.support)
  const heldByInvitations = counts.invitations.paid + Math.max(0, counts.invitations.support - freeLeft)
  return {
    bought,
    takenByMembers,
    heldByInvitations,
    available: Math.max(0, bought - takenByMembers - heldByInvitations),
    supportMembers: counts.members.support,
    freeSupportMembers: FREE_SUPPORT_MEMBERS,
  }
}

export async function countSeats(db: Queryable, teamId: string): Promise<Counts> {
  // Developer or Community Manager: the roles that make a member a paid one.
  const paid = sql<number | null>`sum(case when role_developer = 1 or role_community_manager = 1 then 1 else 0 end)`
  const [members, invitations] = await Promise.all([
    db
      .selectFrom('team_members')
      .select((eb) => [eb.fn.countAll<number>().as('total'), paid.as('paid')])
      .where('team_id', '=', teamId)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('team_invitations')
      .select((eb) => [eb.fn.countAll<number>().as('total'), paid.as('paid')])
      .where('team_id', '=', teamId)
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow(),
  ])
  const split = (row: { total: number; paid: number | null }) => ({ paid: Number(row.paid ?? 0), support: Number(row.total) - Number(row.paid ?? 0) })
  return { members: split(members), invitations: split(invitations) }
}

export async function currentSeatUsage(db: Queryable, team: { id: string; seats: number }): Promise<SeatUsage> {
  return seatUsage(team.seats, await countSeats(db, team.id))
}

/** The error names who can add seats, and tells an inviter who can add them to do so. */
export function noSeatsError(usage: SeatUsage, actorCanAddSeats: boolean): AppError {
  const who = actorCanAddSeats
    ? 'Add seats to the team first (PUT /api/v1/teams/{slug}/seats), or free one.'
    : 'Ask an Admin or a Billing member of the team to add seats.'
  return new AppError('no_seats_available', {
    message: `No seat is free in this team: ${usage.bought} bought, ${usage.takenByMembers} taken by members, ${usage.heldByInvitations} held by pending invitations. ${who}`,
    details: { seats: usage },
  })
}
