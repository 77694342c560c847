/**
 * In-app notices of team events for people who have an account, through the "team"
 * notification category (their preferences decide). The emails themselves are sent where
 * the event happens; these add the inbox entry.
 */
import type { AppContext } from '../context.ts'
import type { Queryable } from '../db/schema.ts'
import { notifyByCategory, type Recipient } from '../notifications/notify.ts'
import { accountCards, findConfirmedAccountByEmail, type Account } from '../accounts/queries.ts'
import { describeRoles, type TeamRole } from './roles.ts'

/** The Admins of a team as recipients, in a stable order. */
export async function teamAdmins(db: Queryable, teamId: string): Promise<Recipient[]> {
  const rows = await db.selectFrom('team_members').select('account_id').where('team_id', '=', teamId).where('role_admin', '=', 1).orderBy('account_id').execute()
  const cards = await accountCards(db, rows.map((row) => row.account_id))
  return rows.flatMap((row) => cards.get(row.account_id) ?? [])
}

/**
 * An invitee who already has an account, with this address confirmed, also sees the
 * invitation in their inbox. The link (and its token) stays in the email only.
 */
export async function noticeOfInvitation(
  ctx: AppContext,
  db: Queryable,
  input: { teamName: string; emailNormalized: string; roles: TeamRole[]; inviter: Pick<Account, 'username' | 'display_name'> },
): Promise<void> {
  const invitee = await findConfirmedAccountByEmail(db, input.emailNormalized)
  if (!invitee) return
  await notifyByCategory(ctx, db, [invitee], 'team', 'team_invitation_notice', (locale) => ({
    teamName: input.teamName,
    inviter: input.inviter.display_name || input.inviter.username,
    roles: describeRoles(input.roles, locale),
  }), { channels: ['inApp'] })
}
