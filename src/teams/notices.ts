/**
 * In-app notices of team events for people who have an account, through the "team"
 * notification category (their preferences decide). The emails themselves are sent where
 * the event happens; these add the inbox entry.
 */
import type { AppContext } from '../context.ts'
import type { Queryable } from '../db/schema.ts'
import { notifyByCategory } from '../notifications/notify.ts'
import { findConfirmedAccountByEmail, type Account } from '../accounts/queries.ts'
import { describeRoles, type TeamRole } from './roles.ts'

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
