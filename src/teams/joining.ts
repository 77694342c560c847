/** Who may join a team at all (SPEC §2, §7), checked when creating one and when accepting. */
import { Listeners, type AppContext } from '../context.ts'
import type { Queryable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import type { Account } from '../accounts/queries.ts'
import { MAX_TEAMS_PER_PERSON } from './limits.ts'
import { roleColumns, type TeamRole } from './roles.ts'

/** SPEC §2: unconfirmed accounts cannot create or join a team. */
export function requireConfirmedEmail(account: Pick<Account, 'email_confirmed_at'>): void {
  if (account.email_confirmed_at === null) {
    throw new AppError('email_not_confirmed', { message: 'Confirm your email address first: only accounts with a confirmed email can create or join a team.' })
  }
}

/** Inside the person's lock (`lockPerson`): refuses an eleventh team. */
export async function requireRoomForAnotherTeam(db: Queryable, accountId: string): Promise<void> {
  const { n } = await db.selectFrom('team_members').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow()
  if (Number(n) >= MAX_TEAMS_PER_PERSON) throw new AppError('team_limit_reached')
}

/**
 * Told, in the joining transaction, that someone became a member (by invitation, invite link,
 * join request or SSO), so rules the team sets for its members apply at once: the team's maximum
 * session length shortens the newcomer's live sessions (src/sso/policies.ts, wired in src/app.ts).
 */
export const memberJoined = new Listeners<[db: Queryable, joined: { teamId: string; accountId: string }]>()

/**
 * The one way a person becomes a member: the row, and the `memberJoined` listeners in the same
 * transaction, so no joining path can forget the rules a team sets for its members.
 */
export async function addMember(ctx: AppContext, trx: Queryable, input: { teamId: string; accountId: string; roles: readonly TeamRole[]; at: number }): Promise<void> {
  await trx.insertInto('team_members').values({ team_id: input.teamId, account_id: input.accountId, ...roleColumns(input.roles), joined_at: input.at }).execute()
  await memberJoined.notify(ctx, trx, { teamId: input.teamId, accountId: input.accountId })
}
