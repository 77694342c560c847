/**
 * A team's URL and public profile (SPEC §7): Admins change the slug ("team settings"); Admins
 * and Community Managers edit the public profile (description, website, public on/off). Also
 * the read-only helpers around them: slug availability while typing, the public profile at
 * /t/<slug>, and the preview of an emailed invitation for the person holding its token.
 */
import type { RequestMeta } from '../../audit/audit.ts'
import type { AppContext } from '../../context.ts'
import { inTransaction } from '../../context.ts'
import { hashToken } from '../../crypto.ts'
import { isUniqueViolation } from '../../db/errors.ts'
import type { Queryable } from '../../db/schema.ts'
import { AppError } from '../../errors.ts'
import { imagePath } from '../../images/images.ts'
import { normalizeEmail } from '../../accounts/emails.ts'
import { accountCards, type Account } from '../../accounts/queries.ts'
import { lockTeamFor, type Team } from '../access.ts'
import { actorOf, recordTeamActivity } from '../activity.ts'
import { invitationInvalid, inviterShownToInvitee } from '../invitations/invitations.ts'
import { rolesOf, type TeamRole } from '../roles.ts'
import { rememberPreviousSlug, slugHolder } from './slug-history.ts'
import { checkSlug } from './slugs.ts'
import { DESCRIPTION_MAX_LENGTH, WEBSITE_MAX_LENGTH } from '../limits.ts'


// ---------------------------------------------------------------- slugs

export interface SlugAvailability {
  available: boolean
  reason?: 'taken' | 'reserved' | 'invalid'
  /** Why it is invalid: too_short, too_long, invalid_characters. */
  detail?: string
  suggestions: string[]
}

function slugTaken(): AppError {
  return new AppError('team_slug_taken', { fields: { slug: 'taken' } })
}

/** Free slugs close to a taken one: `<slug>-2`, `-3`, `-team`, `-hq` (cut to fit 48). */
async function suggestSlugs(db: Queryable, slug: string, now: number): Promise<string[]> {
  const suggestions: string[] = []
  for (const suffix of ['2', '3', 'team', 'hq', '4', 'app']) {
    const candidate = `${slug.slice(0, 47 - suffix.length).replace(/-+$/, '')}-${suffix}`
    try {
      checkSlug(candidate)
    } catch {
      continue
    }
    if (!(await slugHolder(db, candidate, now))) suggestions.push(candidate)
    if (suggestions.length === 3) break
  }
  return suggestions
}

/**
 * For the create form and the settings field. Team URLs are not secret (they are in every link
 * to the team), but the check is rate limited per account so it cannot list them in bulk.
 */
export async function slugAvailability(ctx: AppContext, input: { slug: string; accountId: string }): Promise<SlugAvailability> {
  await ctx.limits.consume('team_slug_checks_account', input.accountId)
  try {
    checkSlug(input.slug)
  } catch (err) {
    const reason = (err as AppError).fields?.slug
    return reason === 'reserved' ? { available: false, reason: 'reserved', suggestions: [] } : { available: false, reason: 'invalid', detail: reason, suggestions: [] }
  }
  const now = ctx.clock.now()
  if (!(await slugHolder(ctx.db, input.slug, now))) return { available: true, suggestions: [] }
  return { available: false, reason: 'taken', suggestions: await suggestSlugs(ctx.db, input.slug, now) }
}

/** Admins change the URL; the old one is remembered (see slug-history.ts). */
export async function changeTeamSlug(ctx: AppContext, input: { account: Account; teamId: string; slug: string; meta: RequestMeta }): Promise<{ slug: string; name: string; previousSlug: string | null }> {
  const slug = checkSlug(input.slug)
  try {
    return await inTransaction(ctx, async (trx) => {
      const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'change_settings')
      if (team.slug === slug) return { slug, name: team.name, previousSlug: null }
      const now = ctx.clock.now()
      const holder = await slugHolder(trx, slug, now)
      if (holder && holder.teamId !== team.id) throw slugTaken()
      await rememberPreviousSlug(trx, team.id, team.slug, slug, now)
      await trx.updateTable('teams').set({ slug, updated_at: now }).where('id', '=', team.id).execute()
      await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'team.slug_changed', meta: input.meta, at: now, details: { from: team.slug, to: slug } })
      return { slug, name: team.name, previousSlug: team.slug }
    })
  } catch (err) {
    // Two changes (or a creation) racing for one slug: the loser hears what a later one would.
    if (isUniqueViolation(err)) throw slugTaken()
    throw err
  }
}

// ---------------------------------------------------------------- public profile

export interface TeamProfile {
  description: string
  website: string | null
  public: boolean
}

export function profileOf(team: Pick<Team, 'description' | 'website' | 'profile_public'>): TeamProfile {
  return { description: team.description, website: team.website, public: team.profile_public === 1 }
}

/** Plain text: line breaks kept (CRLF → LF), other control characters refused, at most 500 characters. */
export function checkDescription(text: string): string {
  const value = text.replace(/\r\n?/g, '\n').trim()
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point of this pattern
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(value)) throw new AppError('invalid_request', { message: 'The description cannot contain control characters.', fields: { description: 'invalid_characters' } })
  if ([...value].length > DESCRIPTION_MAX_LENGTH) throw new AppError('invalid_request', { message: `A description has at most ${DESCRIPTION_MAX_LENGTH} characters.`, fields: { description: 'too_long' } })
  return value
}

/** An https URL with a host name (no credentials); empty means none. */
export function checkWebsite(text: string | null): string | null {
  const value = (text ?? '').trim()
  if (!value) return null
  const refuse = (reason: string, message: string) => new AppError('invalid_request', { message, fields: { website: reason } })
  if (value.length > WEBSITE_MAX_LENGTH) throw refuse('too_long', `A website address has at most ${WEBSITE_MAX_LENGTH} characters.`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw refuse('invalid', 'The website is not a valid address. Write it in full, like https://example.com.')
  }
  if (url.protocol !== 'https:') throw refuse('not_https', 'The website must start with https://.')
  if (url.username || url.password) throw refuse('invalid', 'The website address cannot contain a user name or password.')
  const host = url.hostname
  if (!host.includes('.') || host.startsWith('[') || /^[\d.]+$/.test(host) || host.endsWith('.')) throw refuse('invalid', 'The website needs a domain name, like https://example.com.')
  return url.href
}

export async function updateTeamProfile(
  ctx: AppContext,
  input: { account: Account; teamId: string; description?: string; website?: string | null; public?: boolean; meta: RequestMeta },
): Promise<TeamProfile> {
  const description = input.description === undefined ? undefined : checkDescription(input.description)
  const website = input.website === undefined ? undefined : checkWebsite(input.website)
  return inTransaction(ctx, async (trx) => {
    const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'edit_public_profile')
    const before = profileOf(team)
    const after: TeamProfile = { description: description ?? before.description, website: website === undefined ? before.website : website, public: input.public ?? before.public }
    const changed = (['description', 'website', 'public'] as const).filter((key) => before[key] !== after[key])
    if (changed.length === 0) return before
    const now = ctx.clock.now()
    await trx.updateTable('teams').set({ description: after.description, website: after.website, profile_public: after.public ? 1 : 0, updated_at: now }).where('id', '=', team.id).execute()
    const details: Record<string, unknown> = { changed }
    if (changed.includes('website')) details.website = { from: before.website, to: after.website }
    if (changed.includes('public')) details.public = after.public
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'team.profile_changed', meta: input.meta, at: now, details })
    return after
  })
}

export interface PublicTeam {
  slug: string
  name: string
  logoUrl: string | null
  description: string
  website: string | null
  memberCount: number
}

/**
 * The public page's data: only teams that turned their profile on; any other slug, private or
 * unknown, is the same 404. A recent previous slug answers with the current one (the team is
 * public, so its new URL is too). No member list.
 */
export async function publicTeamProfile(ctx: AppContext, slug: string): Promise<PublicTeam> {
  const notFound = () => new AppError('not_found', { message: 'No public team at this address.' })
  const holder = await slugHolder(ctx.db, slug, ctx.clock.now())
  if (!holder) throw notFound()
  const team = await ctx.db.selectFrom('teams').selectAll().where('id', '=', holder.teamId).executeTakeFirst()
  if (!team || team.profile_public !== 1) throw notFound()
  const { n } = await ctx.db.selectFrom('team_members').select((eb) => eb.fn.countAll<number>().as('n')).where('team_id', '=', team.id).executeTakeFirstOrThrow()
  return { slug: team.slug, name: team.name, logoUrl: imagePath(team.logo_image_id), description: team.description, website: team.website, memberCount: Number(n) }
}

// ---------------------------------------------------------------- invitation preview

export interface InvitationPreview {
  team: { name: string; logoUrl: string | null }
  inviter: string | null
  roles: TeamRole[]
  /** Null when signed out; otherwise whether the signed-in account's confirmed email was invited. */
  emailMatches: boolean | null
  alreadyMember: boolean | null
  /** Signed out only: the invited address, to fill in the sign-up form. */
  invitedEmail: string | null
}

/**
 * What the holder of an emailed invitation's token may see before accepting: the team's name
 * and logo, who invited them, and the roles. Signed out, also the invited address, so that
 * "Create an account" starts with it filled in (the token was sent to that address: its holder
 * read that mailbox). Signed in, never the address (the page may be open in someone else's
 * session); never the slug. Reading does not consume the token; a closed
 * invitation answers as accepting would (`invitation_invalid` with `reason`).
 */
export async function previewInvitation(ctx: AppContext, input: { token: string; account: Account | null }): Promise<InvitationPreview> {
  const tokenHash = /^[A-Za-z0-9_-]{43}$/.test(input.token) ? hashToken(input.token) : null
  const row = tokenHash
    ? await ctx.db
      .selectFrom('team_invitations')
      .innerJoin('teams', 'teams.id', 'team_invitations.team_id')
      .selectAll('team_invitations')
      .select(['teams.name as team_name', 'teams.logo_image_id'])
      .where('team_invitations.token_hash', '=', tokenHash)
      .executeTakeFirst()
    : undefined
  if (!row) throw invitationInvalid('unknown')
  if (row.status === 'cancelled' || row.status === 'declined') throw invitationInvalid(row.status)
  if (row.status === 'accepted') throw invitationInvalid('used')
  const { account } = input
  let alreadyMember: boolean | null = null
  if (account) {
    alreadyMember = !!(await ctx.db.selectFrom('team_members').select('account_id').where('team_id', '=', row.team_id).where('account_id', '=', account.id).executeTakeFirst())
  }
  return {
    team: { name: row.team_name, logoUrl: imagePath(row.logo_image_id) },
    inviter: inviterShownToInvitee(row.invited_by === null ? new Map() : await accountCards(ctx.db, [row.invited_by]), row.invited_by),
    roles: rolesOf(row),
    emailMatches: account ? normalizeEmail(account.email) === row.email_normalized : null,
    alreadyMember,
    invitedEmail: account ? null : row.email,
  }
}
