/**
 * Seats (SPEC §7, §9): every member takes a paid seat except support members (only Admin
 * and/or Billing roles), of whom FREE_SUPPORT_MEMBERS are free. Pending invitations hold the
 * seat their person will take. Counted in SQL inside the transaction that holds the team lock.
 */
import { sql } from 'kysely'
import type { Queryable } from '../db/schema.ts'
import { AppError } from '../errors.ts'

export const FREE_SUPPORT_MEMBERS = 2

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

/**
 * Whether one more person with `supportOnly` roles would need a paid seat that is not there:
 * a non-support member always takes one; a support member only once the free support places
 * are taken by members and pending invitations (the order seatUsage counts them in).
 */
export function noSeatForOneMore(counts: Counts, bought: number, supportOnly: boolean): boolean {
  const usage = seatUsage(bought, counts)
  const freeSupportLeft = FREE_SUPPORT_MEMBERS - counts.members.support - counts.invitations.support
  const needsPaidSeat = !supportOnly || freeSupportLeft <= 0
  return needsPaidSeat && usage.available === 0
}

/**
 * The seat rule for a change already written in the transaction (invitations added, a member
 * added or given a paid role): refused when it takes paid seats beyond those bought. A change
 * that takes no more paid seats than before (a support member within the free places, an
 * invitation's held seat passing to its member) passes even in a team over its seats.
 * `before` is the usage read before the change, so the error counts only what existed and
 * names the change's own need apart (`requested`), never as "held by pending invitations".
 */
export async function requireSeatsForChange(db: Queryable, team: { id: string; seats: number }, before: SeatUsage, actorCanAddSeats: boolean): Promise<void> {
  const after = await currentSeatUsage(db, team)
  const takenBefore = before.takenByMembers + before.heldByInvitations
  const takenAfter = after.takenByMembers + after.heldByInvitations
  if (takenAfter > team.seats && takenAfter > takenBefore) throw noSeatsError(before, takenAfter - takenBefore, actorCanAddSeats)
}

/**
 * Names every number the person needs to decide (bought, in use, held, free, and what this
 * request needs) and who can add seats; an inviter who can add them is told to.
 */
export function noSeatsError(before: SeatUsage, requested: number, actorCanAddSeats: boolean): AppError {
  const who = actorCanAddSeats
    ? 'Add seats to the team first (PUT /api/v1/teams/{slug}/seats), or free one.'
    : 'Ask an Admin or a Billing member of the team to add seats.'
  const seats = (n: number) => `${n} paid seat${n === 1 ? '' : 's'}`
  return new AppError('no_seats_available', {
    message: `Not enough free seats in this team: this needs ${seats(requested)} and ${before.available} ${before.available === 1 ? 'is' : 'are'} free (${before.bought} bought, ${before.takenByMembers} in use by members, ${before.heldByInvitations} held by pending invitations). ${who}`,
    details: { seats: before, requested },
  })
}
