/**
 * Previous team URLs (SPEC §7 "team settings"). When an Admin changes a team's slug the old
 * one is kept for SLUG_REDIRECT_DAYS: members who follow an old link hear where the team went
 * (`team_moved`, never told to non-members), a public profile answers under it, and no other
 * team can take it meanwhile. A team keeps at most MAX_PREVIOUS_SLUGS of them.
 */
import type { Queryable } from '../../db/schema.ts'

export const SLUG_REDIRECT_DAYS = 90
export const MAX_PREVIOUS_SLUGS = 5
const WINDOW_MS = SLUG_REDIRECT_DAYS * 24 * 3600 * 1000

/** The team a slug names now, or named within the redirect window. */
export async function slugHolder(db: Queryable, slug: string, now: number): Promise<{ teamId: string; current: boolean } | undefined> {
  const team = await db.selectFrom('teams').select('id').where('slug', '=', slug).executeTakeFirst()
  if (team) return { teamId: team.id, current: true }
  const previous = await db.selectFrom('team_slug_history').select('team_id').where('slug', '=', slug).where('changed_at', '>', now - WINDOW_MS).executeTakeFirst()
  return previous ? { teamId: previous.team_id, current: false } : undefined
}

/** Where the team that used `slug` lives now, if `accountId` is one of its members. */
export async function movedTeamSlug(db: Queryable, slug: string, accountId: string, now: number): Promise<string | undefined> {
  const row = await db
    .selectFrom('team_slug_history')
    .innerJoin('teams', 'teams.id', 'team_slug_history.team_id')
    .innerJoin('team_members', (join) => join.onRef('team_members.team_id', '=', 'teams.id').on('team_members.account_id', '=', accountId))
    .select('teams.slug')
    .where('team_slug_history.slug', '=', slug)
    .where('team_slug_history.changed_at', '>', now - WINDOW_MS)
    .executeTakeFirst()
  return row?.slug
}

/** Records `oldSlug` as the team's previous URL, frees `newSlug` from the team's own history, keeps the newest few. */
export async function rememberPreviousSlug(db: Queryable, teamId: string, oldSlug: string, newSlug: string, now: number): Promise<void> {
  // Expired records, and the team's own record of the slug it returns to, give way.
  await db.deleteFrom('team_slug_history').where('slug', 'in', [oldSlug, newSlug]).where((eb) => eb.or([eb('team_id', '=', teamId), eb('changed_at', '<=', now - WINDOW_MS)])).execute()
  await db.insertInto('team_slug_history').values({ slug: oldSlug, team_id: teamId, changed_at: now }).execute()
  const kept = await db.selectFrom('team_slug_history').select('slug').where('team_id', '=', teamId).orderBy('changed_at', 'desc').orderBy('slug').execute()
  const dropped = kept.slice(MAX_PREVIOUS_SLUGS).map((r) => r.slug)
  if (dropped.length > 0) await db.deleteFrom('team_slug_history').where('team_id', '=', teamId).where('slug', 'in', dropped).execute()
}
