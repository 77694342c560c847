/**
 * Team discovery (SPEC §7): with a verified domain, Admins turn discovery on, optionally with
 * a question for requesters. A signed-in person whose confirmed email is at a verified domain
 * of a team with discovery on sees that team (unless they are in it) and may ask to join.
 */
import type { RequestMeta } from '../../audit/audit.ts'
import type { AppContext } from '../../context.ts'
import { inTransaction } from '../../context.ts'
import type { Queryable } from '../../db/schema.ts'
import { AppError } from '../../errors.ts'
import type { Account } from '../../accounts/queries.ts'
import { lockTeamFor } from '../access.ts'
import { actorOf, recordTeamActivity } from '../activity.ts'
import { emailDomain, hasVerifiedDomain } from './domains.ts'
import { imagePath } from '../../images/images.ts'
import { DISCOVERY_QUESTION_MAX_LENGTH } from '../limits.ts'


export interface DiscoverySettings {
  enabled: boolean
  question: string | null
}

export async function discoverySettings(db: Queryable, teamId: string): Promise<DiscoverySettings> {
  const row = await db.selectFrom('team_discovery').select(['enabled', 'question']).where('team_id', '=', teamId).executeTakeFirst()
  return { enabled: row?.enabled === 1, question: row?.question ?? null }
}

/** Trimmed; empty means no question. At most 200 characters, no control characters. */
export function checkQuestion(raw: string | null | undefined): string | null {
  const question = (raw ?? '').trim()
  if (!question) return null
  if ([...question].length > DISCOVERY_QUESTION_MAX_LENGTH) {
    throw new AppError('invalid_request', { message: `The question can have at most ${DISCOVERY_QUESTION_MAX_LENGTH} characters.`, fields: { question: 'too_long' } })
  }
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point of this pattern
  if (/[\u0000-\u001f\u007f]/.test(question)) throw new AppError('invalid_request', { message: 'The question cannot contain control characters or line breaks.', fields: { question: 'invalid' } })
  return question
}

/**
 * Turns discovery on or off and sets the question (`question` omitted: kept as it is). On
 * needs a verified domain (`domain_not_verified`).
 */
export async function changeDiscovery(
  ctx: AppContext,
  input: { account: Account; teamId: string; enabled: boolean; question?: string | null; meta: RequestMeta },
): Promise<DiscoverySettings> {
  const newQuestion = input.question === undefined ? undefined : checkQuestion(input.question)
  return inTransaction(ctx, async (trx) => {
    const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_domains')
    const before = await discoverySettings(trx, team.id)
    const after: DiscoverySettings = { enabled: input.enabled, question: newQuestion === undefined ? before.question : newQuestion }
    if (after.enabled && !(await hasVerifiedDomain(trx, team.id))) throw new AppError('domain_not_verified')
    if (after.enabled === before.enabled && after.question === before.question) return after
    const now = ctx.clock.now()
    const values = { enabled: after.enabled ? 1 : 0, question: after.question, updated_at: now }
    await trx.insertInto('team_discovery').values({ team_id: team.id, ...values }).onConflict((oc) => oc.column('team_id').doUpdateSet(values)).execute()
    await recordTeamActivity(trx, {
      teamId: team.id,
      actor: actorOf(input.account),
      type: 'discovery.changed',
      meta: input.meta,
      at: now,
      details: { enabled: after.enabled, question: after.question, ...(before.enabled !== after.enabled ? { wasEnabled: before.enabled } : {}) },
    })
    return after
  })
}

export interface DiscoverableTeam {
  slug: string
  name: string
  logoUrl: string | null
  memberCount: number
  /** The Admins' question for requesters, if any: answering it is then required. */
  question: string | null
  /** The person's own pending request, if they made one. */
  requestPending: boolean
  requestId: string | null
}

/** Teams with discovery on at a verified domain of `emailNormalized`, excluding one's own teams. */
export async function discoverableTeamsQuery(db: Queryable, account: Pick<Account, 'id' | 'email_normalized'>, slug?: string) {
  let query = db
    .selectFrom('team_domains as d')
    .innerJoin('teams', 'teams.id', 'd.team_id')
    .innerJoin('team_discovery as disc', 'disc.team_id', 'teams.id')
    .select(['teams.id', 'teams.slug', 'teams.name', 'teams.logo_image_id', 'disc.question'])
    .select((eb) => eb.selectFrom('team_members as m').select((inner) => inner.fn.countAll<number>().as('n')).whereRef('m.team_id', '=', 'teams.id').as('member_count'))
    .select((eb) =>
      eb.selectFrom('team_join_requests as r').select('r.id').whereRef('r.team_id', '=', 'teams.id').where('r.account_id', '=', account.id).where('r.status', '=', 'pending').limit(1).as('request_id'),
    )
    .where('d.domain', '=', emailDomain(account.email_normalized))
    .where('d.status', '=', 'verified')
    .where('disc.enabled', '=', 1)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('team_members as me').select('me.account_id').whereRef('me.team_id', '=', 'teams.id').where('me.account_id', '=', account.id))))
  if (slug !== undefined) query = query.where('teams.slug', '=', slug)
  return query.orderBy('teams.name').orderBy('teams.slug')
}

/** GET /me/discoverable-teams: nothing until the person's email is confirmed. */
export async function listDiscoverableTeams(ctx: AppContext, account: Account): Promise<DiscoverableTeam[]> {
  if (account.email_confirmed_at === null) return []
  const rows = await (await discoverableTeamsQuery(ctx.db, account)).execute()
  return rows.map((row) => ({
    slug: row.slug,
    name: row.name,
    logoUrl: imagePath(row.logo_image_id),
    memberCount: Number(row.member_count),
    question: row.question,
    requestPending: row.request_id !== null,
    requestId: row.request_id ?? null,
  }))
}
