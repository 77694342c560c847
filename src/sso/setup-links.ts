/**
 * IT set-up links (issue 16; WorkOS's and Jackson's admin portals): an Admin hands the company's
 * IdP administrator, who is not a member, a link that opens only that team's SSO (later SCIM)
 * set-up, for 7 days or until revoked.
 *
 * - The token is 256-bit random; only its SHA-256 is stored (like session and invite tokens), so
 *   the list never shows a link again: it is shown once, on creation.
 * - The URL carries the token in the fragment (`/sso-setup#token=…`): browsers send a fragment
 *   neither to servers (so it is in no access log) nor in Referer. The page posts it once to
 *   `POST /api/v1/sso-setup/open`, which answers with an HttpOnly, SameSite=Strict cookie scoped
 *   to the API, and the page drops the fragment. Scripts may send the `x-latchkey-setup-link`
 *   header instead (redacted from logs like the cookie).
 * - Whatever is done through a link is in the team activity log with the link's id
 *   (`recordSetupActivity`), since there is no account to name.
 */
import type { Selectable } from 'kysely'
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import { accountCards, type Account } from '../accounts/queries.ts'
import { DAY_MS } from '../clock.ts'
import type { AppContext } from '../context.ts'
import { inTransaction, link } from '../context.ts'
import { hashToken, newId, newToken } from '../crypto.ts'
import type { Queryable, SsoSetupLinksTable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { findTeam, lockTeamFor } from '../teams/access.ts'
import { actorOf, recordTeamActivity, type TeamActivityType } from '../teams/activity.ts'
import { SETUP_LINK_TTL_DAYS, SETUP_LINKS_OPEN_MAX } from './limits.ts'
import type { CreatedSetupLink, SetupLink } from './schemas.ts'

export const SETUP_LINK_TTL_MS = SETUP_LINK_TTL_DAYS * DAY_MS
/** The cookie the link holder's browser carries after opening a link (see the file comment). */
export const SETUP_LINK_COOKIE = 'latchkey_sso_setup'
export const SETUP_LINK_HEADER = 'x-latchkey-setup-link'
/** The list shows this many links, newest first (rows are kept for the log). */
const LISTED = 50

type LinkRow = Selectable<SsoSetupLinksTable>

function state(row: LinkRow, now: number): SetupLink['state'] {
  if (row.revoked_at !== null) return 'revoked'
  if (now >= Number(row.expires_at)) return 'expired'
  return 'active'
}

function view(row: LinkRow & { created_by_username?: string | null }, now: number): SetupLink {
  return {
    id: row.id,
    state: state(row, now),
    createdBy: row.created_by_username ?? null,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    expiresAt: new Date(Number(row.expires_at)).toISOString(),
    revokedAt: row.revoked_at === null ? null : new Date(Number(row.revoked_at)).toISOString(),
  }
}

export async function createSetupLink(ctx: AppContext, input: { account: Account; teamId: string; meta: RequestMeta }): Promise<CreatedSetupLink> {
  return inTransaction(ctx, async (trx) => {
    await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_sso')
    const now = ctx.clock.now()
    const open = await trx
      .selectFrom('sso_setup_links')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('team_id', '=', input.teamId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirstOrThrow()
    if (Number(open.n) >= SETUP_LINKS_OPEN_MAX) {
      throw new AppError('invalid_request', { message: `A team has at most ${SETUP_LINKS_OPEN_MAX} open set-up links. Revoke one first.`, fields: { links: 'too_many' } })
    }
    const token = newToken()
    const row: LinkRow = { id: newId(), team_id: input.teamId, token_hash: hashToken(token), created_by: input.account.id, created_at: now, expires_at: now + SETUP_LINK_TTL_MS, revoked_at: null }
    await trx.insertInto('sso_setup_links').values(row).execute()
    await recordTeamActivity(trx, { teamId: input.teamId, actor: actorOf(input.account), type: 'sso.setup_link_created', meta: input.meta, at: now, details: { linkId: row.id, expiresAt: new Date(row.expires_at).toISOString() } })
    await recordAudit(trx, { accountId: input.account.id, type: 'team.sso_setup_link_created', meta: input.meta, at: now, details: { teamId: input.teamId, linkId: row.id } })
    return { ...view({ ...row, created_by_username: input.account.username }, now), url: link(ctx, '/sso-setup', { token }) }
  })
}

export async function listSetupLinks(ctx: AppContext, teamId: string): Promise<SetupLink[]> {
  const rows = await ctx.db.selectFrom('sso_setup_links').selectAll().where('team_id', '=', teamId).orderBy('created_at', 'desc').limit(LISTED).execute()
  // Names through accounts' own reader (one owner per table); a deleted creator shows as null.
  const cards = await accountCards(ctx.db, rows.flatMap((r) => (r.created_by ? [r.created_by] : [])))
  const now = ctx.clock.now()
  return rows.map((row) => view({ ...row, created_by_username: row.created_by ? cards.get(row.created_by)?.username ?? null : null }, now))
}

export async function revokeSetupLink(ctx: AppContext, input: { account: Account; teamId: string; linkId: string; meta: RequestMeta }): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_sso')
    const now = ctx.clock.now()
    // Scoped to the team: an id from another team is "not found", not revoked.
    const revoked = await trx.updateTable('sso_setup_links').set({ revoked_at: now }).where('id', '=', input.linkId).where('team_id', '=', input.teamId).where('revoked_at', 'is', null).executeTakeFirst()
    if (Number(revoked.numUpdatedRows) !== 1) throw new AppError('not_found', { message: 'No open set-up link with this id in the team.' })
    await recordTeamActivity(trx, { teamId: input.teamId, actor: actorOf(input.account), type: 'sso.setup_link_revoked', meta: input.meta, at: now, details: { linkId: input.linkId } })
    await recordAudit(trx, { accountId: input.account.id, type: 'team.sso_setup_link_revoked', meta: input.meta, at: now, details: { teamId: input.teamId, linkId: input.linkId } })
  })
}

/** A live link and its team, or the error that tells the holder what to do (ask for a new one). */
export async function resolveSetupLink(ctx: AppContext, token: string): Promise<{ linkId: string; teamId: string; slug: string; name: string; expiresAt: number }> {
  // Tokens are 43 base64url characters; anything else is unknown without a query.
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw new AppError('setup_link_invalid')
  const row = await ctx.db.selectFrom('sso_setup_links').select(['id', 'team_id', 'expires_at', 'revoked_at']).where('token_hash', '=', hashToken(token)).executeTakeFirst()
  if (!row) throw new AppError('setup_link_invalid')
  if (row.revoked_at !== null) throw new AppError('setup_link_revoked')
  if (ctx.clock.now() >= Number(row.expires_at)) throw new AppError('setup_link_expired')
  const team = await findTeam(ctx.db, { teamId: row.team_id })
  if (!team) throw new AppError('setup_link_invalid')
  return { linkId: row.id, teamId: row.team_id, slug: team.slug, name: team.name, expiresAt: Number(row.expires_at) }
}

/** Opening a link: logged once per browser, so the Admins see when their IT administrator came in. */
export async function openSetupLink(ctx: AppContext, input: { token: string; meta: RequestMeta }) {
  const resolved = await resolveSetupLink(ctx, input.token)
  await recordTeamActivity(ctx.db, { teamId: resolved.teamId, actor: null, type: 'sso.setup_link_opened', meta: input.meta, at: ctx.clock.now(), details: { linkId: resolved.linkId } })
  return resolved
}

/** Who is setting up a team's SSO: one of its Admins, or the holder of one of its set-up links. */
export type SetupActor = { via: 'admin'; account: Account } | { via: 'setup_link'; linkId: string; expiresAt: number }

/**
 * The team activity entry for something done on the set-up pages: an Admin is named as usual;
 * a link holder has no account, so the entry carries the link's id (`via: 'setup_link'`).
 */
export async function recordSetupActivity(
  db: Queryable,
  event: { teamId: string; by: SetupActor; type: TeamActivityType; meta: RequestMeta; at: number; details?: Record<string, unknown> },
): Promise<void> {
  const details = event.by.via === 'setup_link' ? { ...event.details, via: 'setup_link', linkId: event.by.linkId } : event.details
  await recordTeamActivity(db, { teamId: event.teamId, actor: event.by.via === 'admin' ? actorOf(event.by.account) : null, type: event.type, meta: event.meta, at: event.at, details })
}
