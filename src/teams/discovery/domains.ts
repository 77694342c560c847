/**
 * Team email domains (SPEC §7, discovery): an Admin adds a domain, Latchkey shows a DNS TXT
 * record, and checks it on demand with a node:dns Resolver (the servers in DNS_SERVERS, else
 * the system's). A domain may be claimed by several teams while pending, but only one team
 * can verify it (a partial unique index). Public webmail domains are refused: anyone can have
 * an address there.
 *
 * Exact domains only: verifying example.com does not cover eng.example.com addresses.
 */
import { Resolver } from 'node:dns/promises'
import { domainToASCII } from 'node:url'
import type { RequestMeta } from '../../audit/audit.ts'
import type { AppContext } from '../../context.ts'
import { inTransaction } from '../../context.ts'
import { newId, newToken } from '../../crypto.ts'
import { isUniqueViolation } from '../../db/errors.ts'
import type { Queryable, TeamDomainsTable } from '../../db/schema.ts'
import type { Selectable } from 'kysely'
import { AppError } from '../../errors.ts'
import type { Account } from '../../accounts/queries.ts'
import { lockTeamFor } from '../access.ts'
import { actorOf, recordTeamActivity } from '../activity.ts'
import { DOMAIN_MAX_LENGTH, MAX_DOMAINS_PER_TEAM } from '../limits.ts'

export const TXT_RECORD_PREFIX = '_latchkey-challenge'
export const TXT_VALUE_PREFIX = 'latchkey-verification='

/**
 * Public email providers (and their regional twins) whose addresses anyone can get: a team
 * claiming one would be discoverable by strangers. Kept short and explicit; an operator who
 * needs more can send a change.
 */
export const PUBLIC_WEBMAIL_DOMAINS: ReadonlySet<string> = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'hotmail.fr', 'hotmail.de', 'live.com', 'live.cn', 'msn.com',
  'yahoo.com', 'yahoo.co.uk', 'yahoo.co.jp', 'yahoo.fr', 'yahoo.de', 'ymail.com', 'rocketmail.com', 'aol.com', 'icloud.com', 'me.com', 'mac.com',
  'proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me', 'tutanota.com', 'tuta.io', 'tutamail.com', 'fastmail.com', 'hey.com', 'zoho.com', 'zohomail.com',
  'gmx.com', 'gmx.de', 'gmx.net', 'web.de', 'mail.com', 'email.com', 'yandex.com', 'yandex.ru', 'mail.ru', 'inbox.ru', 'list.ru', 'bk.ru', 'rambler.ru',
  'qq.com', 'foxmail.com', '163.com', '126.com', 'yeah.net', 'sina.com', 'sina.cn', 'sohu.com', 'aliyun.com', '139.com', '189.cn', 'tom.com',
  'naver.com', 'daum.net', 'hanmail.net', 'rediffmail.com', 'libero.it', 'orange.fr', 'free.fr', 'laposte.net', 't-online.de', 'seznam.cz', 'wp.pl', 'o2.pl',
])

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/

function invalidDomain(reason: string): AppError {
  return new AppError('domain_invalid', { fields: { domain: reason } })
}

/** Lower-cased, IDNs to punycode, trailing dot dropped; refuses anything that is not a plain domain name. */
export function normalizeDomain(input: string): string {
  const trimmed = input.trim().replace(/\.$/, '')
  if (!trimmed || /[\s@/:?#[\]\\]/.test(trimmed)) throw invalidDomain('invalid')
  const ascii = domainToASCII(trimmed.toLowerCase())
  if (!ascii || ascii.length > DOMAIN_MAX_LENGTH) throw invalidDomain(ascii ? 'too_long' : 'invalid')
  const labels = ascii.split('.')
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label)) || !TLD.test(labels.at(-1)!)) throw invalidDomain('invalid')
  return ascii
}

export function requireClaimableDomain(domain: string): void {
  if (PUBLIC_WEBMAIL_DOMAINS.has(domain)) throw new AppError('domain_public_webmail', { fields: { domain: 'public_webmail' } })
}

/** The domain of a (normalized) email address. */
export function emailDomain(emailNormalized: string): string {
  return emailNormalized.slice(emailNormalized.lastIndexOf('@') + 1)
}

export type CheckOutcome = 'verified' | 'record_not_found' | 'wrong_value' | 'dns_error'

export interface DomainView {
  id: string
  domain: string
  status: 'pending' | 'verified'
  /** The DNS record to publish, as a DNS provider's form asks for it. */
  record: { type: 'TXT'; name: string; value: string }
  createdAt: string
  verifiedAt: string | null
  lastCheck: { at: string; outcome: CheckOutcome } | null
}

type DomainRow = Selectable<TeamDomainsTable>

export function recordFor(domain: string, token: string): DomainView['record'] {
  return { type: 'TXT', name: `${TXT_RECORD_PREFIX}.${domain}`, value: `${TXT_VALUE_PREFIX}${token}` }
}

export function domainView(row: DomainRow): DomainView {
  return {
    id: row.id,
    domain: row.domain,
    status: row.status,
    record: recordFor(row.domain, row.verification_token),
    createdAt: new Date(row.created_at).toISOString(),
    verifiedAt: row.verified_at === null ? null : new Date(row.verified_at).toISOString(),
    lastCheck: row.last_checked_at === null || row.last_check_outcome === null ? null : { at: new Date(row.last_checked_at).toISOString(), outcome: row.last_check_outcome as CheckOutcome },
  }
}

export async function listDomains(db: Queryable, teamId: string): Promise<DomainView[]> {
  const rows = await db.selectFrom('team_domains').selectAll().where('team_id', '=', teamId).orderBy('created_at').orderBy('domain').execute()
  return rows.map(domainView)
}

export async function hasVerifiedDomain(db: Queryable, teamId: string): Promise<boolean> {
  return !!(await db.selectFrom('team_domains').select('id').where('team_id', '=', teamId).where('status', '=', 'verified').executeTakeFirst())
}

async function verifiedElsewhere(db: Queryable, teamId: string, domain: string): Promise<boolean> {
  return !!(await db.selectFrom('team_domains').select('id').where('domain', '=', domain).where('status', '=', 'verified').where('team_id', '!=', teamId).executeTakeFirst())
}

export async function addDomain(ctx: AppContext, input: { account: Account; teamId: string; domain: string; meta: RequestMeta }): Promise<DomainView> {
  const domain = normalizeDomain(input.domain)
  requireClaimableDomain(domain)
  try {
    return await inTransaction(ctx, async (trx) => {
      const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_domains')
      const mine = await trx.selectFrom('team_domains').select(['domain']).where('team_id', '=', team.id).execute()
      if (mine.some((row) => row.domain === domain)) throw new AppError('domain_already_added', { fields: { domain: 'already_added' } })
      if (mine.length >= MAX_DOMAINS_PER_TEAM) throw new AppError('domain_limit_reached')
      if (await verifiedElsewhere(trx, team.id, domain)) throw new AppError('domain_taken', { fields: { domain: 'taken' } })
      const now = ctx.clock.now()
      const row: DomainRow = {
        id: newId(),
        team_id: team.id,
        domain,
        // 256 bits, base64url: only letters, digits, "-" and "_", safe in any TXT editor.
        verification_token: newToken(),
        status: 'pending',
        added_by: input.account.id,
        created_at: now,
        verified_at: null,
        last_checked_at: null,
        last_check_outcome: null,
      }
      await trx.insertInto('team_domains').values(row).execute()
      await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'domain.added', meta: input.meta, at: now, details: { domainId: row.id, domain } })
      return domainView(row)
    })
  } catch (err) {
    // The same domain added twice at once: the second hears what a later request would.
    if (isUniqueViolation(err)) throw new AppError('domain_already_added', { fields: { domain: 'already_added' } })
    throw err
  }
}

/** What one DNS lookup found: the outcome, and the values seen at the record's name (for the message). */
export interface TxtCheck {
  outcome: Exclude<CheckOutcome, 'verified'> | 'verified'
  found: string[]
  error?: string
}

/** Looks the TXT record up through the configured resolver; never throws. */
export async function checkTxtRecord(ctx: AppContext, record: { name: string; value: string }): Promise<TxtCheck> {
  const resolver = new Resolver({ timeout: ctx.config.dns.timeoutMs, tries: 2 })
  if (ctx.config.dns.servers.length > 0) resolver.setServers(ctx.config.dns.servers)
  try {
    // A TXT record may come in several strings of up to 255 bytes: they join into one value.
    const values = (await resolver.resolveTxt(record.name)).map((chunks) => chunks.join(''))
    if (values.some((value) => value.trim() === record.value)) return { outcome: 'verified', found: values }
    return { outcome: values.length ? 'wrong_value' : 'record_not_found', found: values.slice(0, 10).map((v) => v.slice(0, 300)) }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN'
    // NXDOMAIN and "no TXT record here" are answers, not failures.
    if (code === 'ENOTFOUND' || code === 'ENODATA') return { outcome: 'record_not_found', found: [] }
    return { outcome: 'dns_error', found: [], error: code }
  }
}

export interface VerifyResult {
  outcome: CheckOutcome
  message: string
  /** TXT values found at the record's name when they did not match (at most 10). */
  found: string[]
  domain: DomainView
}

function outcomeMessage(check: TxtCheck, record: DomainView['record'], alreadyVerified: boolean): string {
  switch (check.outcome) {
    case 'verified':
      return alreadyVerified ? `The TXT record is in place; ${record.name.slice(TXT_RECORD_PREFIX.length + 1)} stays verified.` : `Verified: the TXT record at ${record.name} has the expected value.`
    case 'record_not_found':
      return `No TXT record was found at ${record.name}. Add it at your DNS provider; a new record can take a while to be visible.`
    case 'wrong_value':
      return `A TXT record exists at ${record.name}, but none has the value ${record.value}. Check for typos or extra quotes.`
    case 'dns_error':
      return `The DNS lookup failed (${check.error ?? 'no answer'}). Nothing changed; try again in a few minutes.`
  }
}

/**
 * Checks the record now. The lookup runs outside any transaction (it may take seconds); the
 * result is then written under the team lock. A verified domain stays verified when a later
 * check fails (the record may be rotated or the resolver down); the last check is shown.
 */
export async function verifyDomain(ctx: AppContext, input: { account: Account; teamId: string; domainId: string; meta: RequestMeta }): Promise<VerifyResult> {
  const row = await ctx.db.selectFrom('team_domains').selectAll().where('id', '=', input.domainId).where('team_id', '=', input.teamId).executeTakeFirst()
  if (!row) throw new AppError('not_found', { message: 'This team has no such domain.' })
  await ctx.limits.consume('domain_check_team', input.teamId)
  const record = recordFor(row.domain, row.verification_token)
  const check = await checkTxtRecord(ctx, record)
  try {
    return await inTransaction(ctx, async (trx) => {
      const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_domains')
      const current = await trx.selectFrom('team_domains').selectAll().where('id', '=', row.id).where('team_id', '=', team.id).executeTakeFirst()
      if (!current) throw new AppError('not_found', { message: 'This team has no such domain.' })
      const now = ctx.clock.now()
      const becomesVerified = check.outcome === 'verified' && current.status !== 'verified'
      if (becomesVerified && (await verifiedElsewhere(trx, team.id, current.domain))) throw new AppError('domain_taken')
      const changes = {
        last_checked_at: now,
        last_check_outcome: check.outcome,
        ...(becomesVerified ? { status: 'verified' as const, verified_at: now } : {}),
      }
      await trx.updateTable('team_domains').set(changes).where('id', '=', current.id).execute()
      if (becomesVerified) {
        await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'domain.verified', meta: input.meta, at: now, details: { domainId: current.id, domain: current.domain } })
      }
      return { outcome: check.outcome, message: outcomeMessage(check, record, current.status === 'verified'), found: check.outcome === 'verified' ? [] : check.found, domain: domainView({ ...current, ...changes }) }
    })
  } catch (err) {
    // Two teams verifying one domain at the same moment: the index lets one win.
    if (isUniqueViolation(err)) throw new AppError('domain_taken')
    throw err
  }
}

/**
 * Removes a domain. Without a verified domain left, discovery turns off (and the log says so);
 * requests already made stay for the Admins to answer.
 */
export async function removeDomain(ctx: AppContext, input: { account: Account; teamId: string; domainId: string; meta: RequestMeta }): Promise<{ discoveryTurnedOff: boolean }> {
  return inTransaction(ctx, async (trx) => {
    const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_domains')
    const row = await trx.selectFrom('team_domains').selectAll().where('id', '=', input.domainId).where('team_id', '=', team.id).executeTakeFirst()
    if (!row) throw new AppError('not_found', { message: 'This team has no such domain.' })
    await trx.deleteFrom('team_domains').where('id', '=', row.id).execute()
    const now = ctx.clock.now()
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'domain.removed', meta: input.meta, at: now, details: { domainId: row.id, domain: row.domain, wasVerified: row.status === 'verified' } })
    if (await hasVerifiedDomain(trx, team.id)) return { discoveryTurnedOff: false }
    const turnedOff = await trx.updateTable('team_discovery').set({ enabled: 0, updated_at: now }).where('team_id', '=', team.id).where('enabled', '=', 1).executeTakeFirst()
    if (Number(turnedOff.numUpdatedRows) === 0) return { discoveryTurnedOff: false }
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'discovery.changed', meta: input.meta, at: now, details: { enabled: false, reason: 'no_verified_domain' } })
    return { discoveryTurnedOff: true }
  })
}

/** Whether `domain` (normalized) is one of the team's verified domains (SSO accepts only those, SPEC §8). */
export async function isVerifiedDomainOf(db: Queryable, teamId: string, domain: string): Promise<boolean> {
  return !!(await db.selectFrom('team_domains').select('id').where('team_id', '=', teamId).where('domain', '=', domain).where('status', '=', 'verified').executeTakeFirst())
}

/** The team that verified `domain` (normalized), if any: one team at most verifies a domain. */
export async function teamsWithVerifiedDomain(db: Queryable, domain: string): Promise<string[]> {
  return (await db.selectFrom('team_domains').select('team_id').where('domain', '=', domain).where('status', '=', 'verified').execute()).map((r) => r.team_id)
}
