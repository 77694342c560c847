/**
 * Who a validated SAML assertion signs in (SPEC §8). Only addresses at one of the team's
 * verified domains are accepted (WorkOS's rule: an IdP administrator can give anyone any
 * address). Then:
 * 1. an identity linked before (issuer + NameID) → its account;
 * 2. an account with that address → linked at once when its email is confirmed; otherwise its
 *    password is asked once (an unconfirmed sign-up must not capture the real owner's SSO);
 * 3. no account → JIT when the team allows it and a seat is free (seats are never added):
 *    a confirmed account, without a password, joins as Developer.
 * A person who is not a member joins by JIT, or (JIT off) the Admins get a join request.
 */
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import { createAccountForIdentity } from '../accounts/accounts.ts'
import { canonicalEmail, normalizeEmail } from '../accounts/emails.ts'
import { findAccountByEmail, findAccountById, type Account } from '../accounts/queries.ts'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import type { Queryable } from '../db/schema.ts'
import { isJitEnabled } from '../sso/policies.ts'
import { isUniqueViolation } from '../db/errors.ts'
import { AppError } from '../errors.ts'
import { findLinkedIdentity, linkIdentity, touchLinkedIdentity } from './linked-identities.ts'
import { isTeamMember, lockPerson, lockTeam } from '../teams/access.ts'
import { actorOf, recordTeamActivity } from '../teams/activity.ts'
import { emailDomain, isVerifiedDomainOf } from '../teams/discovery/domains.ts'
import { requestToJoinForSso } from '../teams/discovery/join-requests.ts'
import { addMember, requireRoomForAnotherTeam } from '../teams/joining.ts'
import { countSeats, noSeatForOneMore } from '../teams/seats.ts'
import type { ConnectionRow } from '../sso/connections.ts'
import type { ValidatedAssertion } from '../sso/saml.ts'

export type SsoOutcome =
  | { kind: 'account'; account: Account; provisioned: boolean; linked: boolean }
  | { kind: 'password_required'; accountId: string; email: string }

/** The address the assertion vouches for, refused unless at a verified domain of the team. */
export async function vouchedEmail(ctx: AppContext, connection: ConnectionRow, assertion: Pick<SsoIdentity, 'email'>): Promise<string> {
  if (!assertion.email) throw new AppError('sso_email_missing')
  let email: string
  try {
    email = canonicalEmail(assertion.email)
  } catch {
    throw new AppError('sso_email_missing', { message: 'The identity provider sent an email address that is not valid.' })
  }
  if (!(await isVerifiedDomainOf(ctx.db, connection.team_id, emailDomain(normalizeEmail(email))))) throw new AppError('sso_domain_not_verified')
  return email
}

/** What any SSO protocol vouches for: a SAML assertion, or an OIDC ID token's claims (./oidc.ts). */
export type SsoIdentity = Pick<ValidatedAssertion, 'nameId' | 'email' | 'attributes'>

/** The issuer identities of this connection are keyed by: the SAML IdP entity ID or the OIDC issuer. */
export function issuerOf(connection: ConnectionRow): string {
  return (connection.protocol === 'oidc' ? connection.oidc_issuer : connection.idp_entity_id)!
}

/** The same rules for every protocol: a validated SAML assertion and a validated OIDC ID token go through here. */
export async function resolveSsoAccount(ctx: AppContext, input: { connection: ConnectionRow; assertion: SsoIdentity; meta: RequestMeta }): Promise<SsoOutcome> {
  const { connection, assertion } = input
  const email = await vouchedEmail(ctx, connection, assertion)
  const issuer = issuerOf(connection)
  const linked = await findLinkedIdentity(ctx.db, issuer, assertion.nameId)
  if (linked) {
    const account = await findAccountById(ctx.db, linked.account_id)
    if (!account) throw new AppError(connection.protocol === 'oidc' ? 'sso_oidc_signin_failed' : 'saml_response_invalid')
    requireActive(account)
    await touchLinkedIdentity(ctx.db, linked.id, { email, at: ctx.clock.now() })
    return { kind: 'account', account, linked: false, ...(await ensureMember(ctx, connection, account, input.meta)) }
  }
  const existing = await findAccountByEmail(ctx.db, normalizeEmail(email))
  if (existing) {
    requireActive(existing)
    if (existing.email_confirmed_at === null) return { kind: 'password_required', accountId: existing.id, email }
    await linkSsoIdentity(ctx, { connection, account: existing, subject: assertion.nameId, email, meta: input.meta })
    return { kind: 'account', account: existing, linked: true, ...(await ensureMember(ctx, connection, existing, input.meta)) }
  }
  if (!(await isJitEnabled(ctx.db, connection.team_id))) throw new AppError('sso_jit_not_allowed', { message: 'You have no account here yet, and this team does not add new members automatically. Ask the team\'s Admin for an invitation.' })
  const account = await provision(ctx, { connection, email, subject: assertion.nameId, displayName: displayNameOf(assertion.attributes), meta: input.meta })
  return { kind: 'account', account, provisioned: true, linked: true }
}

function requireActive(account: Account): void {
  if (account.status !== 'active') throw new AppError('account_deactivated')
}

function displayNameOf(attributes: Record<string, unknown>): string | undefined {
  const pick = (key: string) => {
    const value = attributes[key]
    const text = Array.isArray(value) ? value[0] : value
    return typeof text === 'string' ? text.trim() : ''
  }
  const full = pick('displayName') || [pick('givenName') || pick('firstName'), pick('sn') || pick('lastName')].filter(Boolean).join(' ')
  return full || undefined
}

export async function linkSsoIdentity(ctx: AppContext, input: { connection: ConnectionRow; account: Account; subject: string; email: string; meta: RequestMeta }): Promise<void> {
  try {
    await inTransaction(ctx, async (trx) => {
      const now = ctx.clock.now()
      await linkIdentity(trx, { accountId: input.account.id, method: input.connection.protocol, connectionId: input.connection.id, issuer: issuerOf(input.connection), subject: input.subject, email: input.email, at: now })
      await recordAudit(trx, { accountId: input.account.id, type: 'sso.identity_linked', meta: input.meta, at: now, details: { connectionId: input.connection.id, teamId: input.connection.team_id, method: input.connection.protocol } })
    })
  } catch (err) {
    // The same first sign-in twice at once: the first link stands.
    if (!isUniqueViolation(err)) throw err
  }
}

/** A member already, or joins by JIT; otherwise the Admins are asked and the person told. */
async function ensureMember(ctx: AppContext, connection: ConnectionRow, account: Account, meta: RequestMeta): Promise<{ provisioned: boolean }> {
  if (await isTeamMember(ctx.db, connection.team_id, account.id)) return { provisioned: false }
  if (!(await isJitEnabled(ctx.db, connection.team_id))) {
    await requestToJoinForSso(ctx, { account, teamId: connection.team_id, meta })
    throw new AppError('sso_jit_not_allowed')
  }
  await joinAsDeveloper(ctx, connection, account, meta)
  return { provisioned: true }
}

async function joinAsDeveloper(ctx: AppContext, connection: ConnectionRow, account: Account, meta: RequestMeta): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    await lockPerson(ctx, trx, account.id)
    const team = await lockTeam(ctx, trx, connection.team_id)
    if (await isTeamMember(trx, team.id, account.id)) return
    await addDeveloper(ctx, trx, { team, account, connection, meta })
  })
}

async function addDeveloper(ctx: AppContext, trx: Queryable, input: { team: { id: string; slug: string; seats: number }; account: Account; connection: ConnectionRow; meta: RequestMeta }): Promise<void> {
  const { team, account } = input
  try {
    await requireRoomForAnotherTeam(trx, account.id)
  } catch (err) {
    if (err instanceof AppError && err.code === 'team_limit_reached') throw new AppError('sso_jit_not_allowed', { message: 'You already belong to 10 teams, the most a person can. Leave one before joining this team.' })
    throw err
  }
  // Seats are never added by themselves (SPEC §8).
  if (noSeatForOneMore(await countSeats(trx, team.id), team.seats, false)) throw new AppError('sso_jit_no_seat')
  const now = ctx.clock.now()
  await addMember(ctx, trx, { teamId: team.id, accountId: account.id, roles: ['developer'], at: now })
  const details = { accountId: account.id, username: account.username, roles: ['developer'], supportMember: false, via: 'sso', connectionId: input.connection.id }
  await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(account), type: 'member.joined', meta: input.meta, at: now, details })
  await recordTeamActivity(trx, { teamId: team.id, actor: null, type: 'sso.member_provisioned', meta: input.meta, at: now, details })
  await recordAudit(trx, { accountId: account.id, type: 'team.joined', meta: input.meta, at: now, details: { teamId: team.id, slug: team.slug, via: 'sso' } })
}

/** JIT for a new address: the account, its link and its membership commit together or not at all. */
async function provision(ctx: AppContext, input: { connection: ConnectionRow; email: string; subject: string; displayName?: string; meta: RequestMeta }): Promise<Account> {
  try {
    return await inTransaction(ctx, async (trx) => {
      const team = await lockTeam(ctx, trx, input.connection.team_id)
      const account = await createAccountForIdentity(ctx, trx, { email: input.email, displayName: input.displayName, meta: input.meta })
      const now = ctx.clock.now()
      await linkIdentity(trx, { accountId: account.id, method: input.connection.protocol, connectionId: input.connection.id, issuer: issuerOf(input.connection), subject: input.subject, email: input.email, at: now })
      await addDeveloper(ctx, trx, { team, account, connection: input.connection, meta: input.meta })
      return account
    })
  } catch (err) {
    // The same first sign-in twice at once: the other request made the account.
    if (isUniqueViolation(err)) throw new AppError('saml_replayed')
    throw err
  }
}

/** The SSO sign-in in the team's activity log (the security log gets it from completeSignIn). */
export async function recordSsoSignIn(ctx: AppContext, input: { connection: ConnectionRow; account: Account; meta: RequestMeta; idpInitiated: boolean }): Promise<void> {
  await recordTeamActivity(ctx.db, {
    teamId: input.connection.team_id,
    actor: actorOf(input.account),
    type: 'sso.signin',
    meta: input.meta,
    at: ctx.clock.now(),
    details: { accountId: input.account.id, username: input.account.username, connectionId: input.connection.id, protocol: input.connection.protocol, idpInitiated: input.idpInitiated },
  })
}
