/**
 * The CLI's and desktop app's OIDC access token also works as a bearer token on Latchkey's
 * own API (/api/v1/me, ...): it stands for its app session, which is a Latchkey session like
 * any other. Only for app-session clients (latchkey-cli): a third-party client's token never
 * reaches the account API.
 */
import { findAccountById } from '../accounts/queries.ts'
import type { AppContext } from '../context.ts'
import type { Authenticated } from '../sessions/sessions.ts'
import { storedId } from './adapter.ts'
import { isAppSessionClient } from './clients.ts'

export async function authenticateAppAccessToken(ctx: AppContext, token: string): Promise<Authenticated | null> {
  if (token.length < 32 || token.length > 128) return null
  const row = await ctx.db
    .selectFrom('oauth_models')
    .select(['grant_id', 'client_id', 'expires_at'])
    .where('model', '=', 'AccessToken')
    .where('id', '=', storedId(token))
    .executeTakeFirst()
  const now = ctx.clock.now()
  if (!row || !row.grant_id || !row.client_id || !isAppSessionClient(row.client_id)) return null
  if (row.expires_at !== null && row.expires_at <= now) return null
  const found = await ctx.db
    .selectFrom('oauth_app_sessions')
    .innerJoin('sessions', 'sessions.id', 'oauth_app_sessions.session_id')
    .selectAll('sessions')
    .where('oauth_app_sessions.grant_id', '=', row.grant_id)
    .executeTakeFirst()
  if (!found || found.expires_at <= now) return null
  const account = await findAccountById(ctx.db, found.account_id)
  if (!account || account.status !== 'active') return null
  return { session: found, account }
}
