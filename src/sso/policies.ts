/**
 * A team's Enterprise sign-in controls and its JIT switch (SPEC §7 "Enterprise controls", §8,
 * issue 16). Until billing exists they are a team setting an Admin changes; billing will gate
 * them by a plan flag. Rules:
 *
 * - Password (and passkey) or Google sign-in can be turned off for members only while the team
 *   has an enabled SSO connection, and the switch only bites while it does: a team whose
 *   connections were all switched off or removed lets its members back in with what they have,
 *   instead of locking everyone out. Admins are exempt (break-glass): when the IdP is down or
 *   misconfigured, an Admin can still sign in with a password and fix it, as Okta's and WorkOS's
 *   owner escape hatches allow. An Admin's password sign-in is in the security log like any.
 * - "Require 2FA for password sign-in" applies to every member, Admins included (it locks no
 *   one out: a member without 2FA sets it up to finish signing in, src/signin/two-factor-setup.ts).
 * - The maximum session length caps every new session of a member at creation
 *   (sessions.setSessionLifetimeCap asks `maxSessionMsFor`), and shortens the live ones when the
 *   limit is set or lowered, or when someone joins the team, so the hot path reads no policy.
 * - Turning password or Google sign-in off ends the members' live sessions (not the Admins'):
 *   they were signed in with what is now refused, and would otherwise outlive the rule.
 * - Every change is in the team activity log and the changing Admin's audit log.
 */
import type { Transaction } from 'kysely'
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import type { Account } from '../accounts/queries.ts'
import { MINUTE_MS } from '../clock.ts'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import type { Database, Queryable, TeamSigninPoliciesTable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { capSessionLifetimes, revokeAllSessions } from '../sessions/sessions.ts'
import { lockTeamFor, memberIdsOf, membershipsOf } from '../teams/access.ts'
import { actorOf, recordTeamActivity } from '../teams/activity.ts'
import type { SigninPolicy, SigninPolicyChange } from './schemas.ts'

/** How someone signs in; `passkey` is Latchkey's own credential like the password, so it follows the password switch. */
export type SigninMethod = 'password' | 'passkey' | 'google'

type PolicyRow = TeamSigninPoliciesTable

const DEFAULTS: Omit<PolicyRow, 'team_id' | 'updated_at'> = {
  jit_enabled: 0,
  password_signin_disabled: 0,
  google_signin_disabled: 0,
  require_two_factor: 0,
  max_session_minutes: null,
  google_workspace_domain: null,
}

/** Whether the team has a connection members can sign in with (sso_connections belongs to this folder). */
export async function hasEnabledConnection(db: Queryable, teamId: string): Promise<boolean> {
  const row = await db.selectFrom('sso_connections').select('id').where('team_id', '=', teamId).where('enabled', '=', 1).limit(1).executeTakeFirst()
  return row !== undefined
}

async function policyRow(db: Queryable, teamId: string): Promise<PolicyRow | undefined> {
  return db.selectFrom('team_signin_policies').selectAll().where('team_id', '=', teamId).executeTakeFirst()
}

function view(row: PolicyRow | undefined, hasConnection: boolean): SigninPolicy {
  const r = row ?? { ...DEFAULTS, updated_at: null }
  return {
    jitEnabled: r.jit_enabled === 1,
    passwordSigninDisabled: r.password_signin_disabled === 1,
    googleSigninDisabled: r.google_signin_disabled === 1,
    requireTwoFactor: r.require_two_factor === 1,
    maxSessionMinutes: r.max_session_minutes,
    googleWorkspaceDomain: r.google_workspace_domain,
    hasEnabledConnection: hasConnection,
    updatedAt: r.updated_at === null ? null : new Date(Number(r.updated_at)).toISOString(),
  }
}

export async function getSigninPolicy(ctx: AppContext, teamId: string): Promise<SigninPolicy> {
  return view(await policyRow(ctx.db, teamId), await hasEnabledConnection(ctx.db, teamId))
}

/** JIT ("automatically add new users"), for the SAML/OIDC sign-in. */
export async function isJitEnabled(db: Queryable, teamId: string): Promise<boolean> {
  return (await policyRow(db, teamId))?.jit_enabled === 1
}

/** The Google Workspace domain (`hd`) a team restricts its members' Google sign-in to, if any. */
export async function googleWorkspaceDomainOf(db: Queryable, teamId: string): Promise<string | null> {
  return (await policyRow(db, teamId))?.google_workspace_domain ?? null
}

const COLUMNS = {
  jitEnabled: 'jit_enabled',
  passwordSigninDisabled: 'password_signin_disabled',
  googleSigninDisabled: 'google_signin_disabled',
  requireTwoFactor: 'require_two_factor',
  maxSessionMinutes: 'max_session_minutes',
  googleWorkspaceDomain: 'google_workspace_domain',
} as const satisfies Record<keyof SigninPolicyChange, keyof PolicyRow>

export async function updateSigninPolicy(
  ctx: AppContext,
  input: { account: Account; teamId: string; change: SigninPolicyChange; meta: RequestMeta },
): Promise<SigninPolicy> {
  return inTransaction(ctx, async (trx) => {
    // Locks the team and re-reads the caller's roles: a demoted Admin cannot slip a change in.
    await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_sso')
    const now = ctx.clock.now()
    const existing = await policyRow(trx, input.teamId)
    const before = existing ?? { ...DEFAULTS, team_id: input.teamId, updated_at: now }
    const after: PolicyRow = { ...before, updated_at: now }
    const changed: Record<string, { from: unknown; to: unknown }> = {}
    for (const [key, column] of Object.entries(COLUMNS) as [keyof SigninPolicyChange, keyof PolicyRow][]) {
      const value = input.change[key]
      if (value === undefined) continue
      const stored = typeof value === 'boolean' ? (value ? 1 : 0) : value
      if (before[column] === stored) continue
      ;(after as unknown as Record<string, unknown>)[column] = stored
      changed[key] = { from: typeof value === 'boolean' ? before[column] === 1 : before[column], to: value }
    }
    const connected = await hasEnabledConnection(trx, input.teamId)
    const turningOff = (changed.passwordSigninDisabled?.to === true) || (changed.googleSigninDisabled?.to === true)
    // Without a connection to sign in with, "members must use SSO" would lock every member out.
    if (turningOff && !connected) throw new AppError('sso_connection_required')
    if (Object.keys(changed).length === 0) return view(existing, connected)

    await upsertPolicy(trx, after)
    const lowered = 'maxSessionMinutes' in changed && after.max_session_minutes !== null &&
      (before.max_session_minutes === null || after.max_session_minutes < before.max_session_minutes)
    let sessionsShortened = 0
    if (lowered) {
      sessionsShortened = await capSessionLifetimes(ctx, trx, await memberIdsOf(trx, input.teamId), after.max_session_minutes! * MINUTE_MS)
    }
    // Sessions members signed in to with the method now off would outlive the rule (and could still
    // approve an app's sign-in, src/oauth/interactions.ts): they end, and members come back by SSO.
    let sessionsEnded = 0
    if (turningOff) {
      for (const accountId of await memberIdsOf(trx, input.teamId, { exceptAdmins: true })) sessionsEnded += await revokeAllSessions(ctx, trx, { accountId })
    }
    const details = { changes: changed, ...(lowered ? { sessionsShortened } : {}), ...(turningOff ? { sessionsEnded } : {}) }
    await recordTeamActivity(trx, { teamId: input.teamId, actor: actorOf(input.account), type: 'sso.signin_policy_changed', meta: input.meta, at: now, details })
    await recordAudit(trx, { accountId: input.account.id, type: 'team.signin_policy_changed', meta: input.meta, at: now, details: { teamId: input.teamId, ...details } })
    return view(after, connected)
  })
}

async function upsertPolicy(trx: Transaction<Database>, row: PolicyRow): Promise<void> {
  const { team_id: _teamId, ...values } = row
  await trx.insertInto('team_signin_policies').values(row).onConflict((oc) => oc.column('team_id').doUpdateSet(values)).execute()
}

/**
 * Refuses a sign-in method a team of the account turned off for its members (`team_requires_sso`,
 * SPEC §3). Call it only once the credential is proven: the answer names the teams, which a
 * stranger typing a login must not learn. Admins of the team are exempt (see the file comment),
 * and a team without an enabled connection enforces nothing.
 */
export async function assertSigninMethodAllowed(ctx: AppContext, accountId: string, method: SigninMethod): Promise<void> {
  const memberOf = (await membershipsOf(ctx.db, accountId)).filter((m) => !m.admin)
  if (!memberOf.length) return
  const column = method === 'google' ? 'google_signin_disabled' : 'password_signin_disabled'
  const refusing = await ctx.db
    .selectFrom('team_signin_policies')
    .select('team_id')
    .where('team_id', 'in', memberOf.map((m) => m.teamId))
    .where(column, '=', 1)
    .where((eb) => eb.exists(eb.selectFrom('sso_connections').select('sso_connections.id').whereRef('sso_connections.team_id', '=', 'team_signin_policies.team_id').where('sso_connections.enabled', '=', 1)))
    .execute()
  const ids = new Set(refusing.map((r) => r.team_id))
  const teams = memberOf.filter((m) => ids.has(m.teamId)).map((m) => ({ slug: m.slug, name: m.name }))
  if (teams.length) throw new AppError('team_requires_sso', { details: { method, teams } })
}

/**
 * The password path's two team rules from one read of the memberships and one of the policies
 * (sign-in is a hot path): throws team_requires_sso as assertSigninMethodAllowed does, else
 * returns the teams that require 2FA for password sign-in (Admins too).
 */
export async function passwordSigninRules(ctx: AppContext, accountId: string): Promise<{ requiringTwoFactor: { slug: string; name: string }[] }> {
  const memberOf = await membershipsOf(ctx.db, accountId)
  if (!memberOf.length) return { requiringTwoFactor: [] }
  const rows = await ctx.db
    .selectFrom('team_signin_policies')
    .select(['team_id', 'password_signin_disabled', 'require_two_factor'])
    .select((eb) => eb.exists(eb.selectFrom('sso_connections').select('sso_connections.id').whereRef('sso_connections.team_id', '=', 'team_signin_policies.team_id').where('sso_connections.enabled', '=', 1)).as('has_sso'))
    .where('team_id', 'in', memberOf.map((m) => m.teamId))
    .execute()
  const byTeam = new Map(rows.map((row) => [row.team_id, row]))
  const refusing = memberOf.filter((m) => !m.admin && byTeam.get(m.teamId)?.password_signin_disabled === 1 && Boolean(byTeam.get(m.teamId)?.has_sso))
  if (refusing.length) throw new AppError('team_requires_sso', { details: { method: 'password', teams: refusing.map((m) => ({ slug: m.slug, name: m.name })) } })
  return { requiringTwoFactor: memberOf.filter((m) => byTeam.get(m.teamId)?.require_two_factor === 1).map((m) => ({ slug: m.slug, name: m.name })) }
}

/** The shortest maximum session length over the account's teams, in ms, or null (sessions.setSessionLifetimeCap). */
export async function maxSessionMsFor(db: Queryable, accountId: string): Promise<number | null> {
  const memberOf = await membershipsOf(db, accountId)
  if (!memberOf.length) return null
  const row = await db
    .selectFrom('team_signin_policies')
    .select((eb) => eb.fn.min('max_session_minutes').as('minutes'))
    .where('team_id', 'in', memberOf.map((m) => m.teamId))
    .executeTakeFirst()
  const minutes = row?.minutes
  return minutes === null || minutes === undefined ? null : Number(minutes) * MINUTE_MS
}

/** Someone joined a team (teams' `memberJoined`): their live sessions obey its limit from now on. */
export async function applyPolicyToNewMember(ctx: AppContext, db: Queryable, joined: { teamId: string; accountId: string }): Promise<void> {
  const row = await policyRow(db, joined.teamId)
  if (row?.max_session_minutes == null) return
  await capSessionLifetimes(ctx, db, [joined.accountId], row.max_session_minutes * MINUTE_MS)
}
