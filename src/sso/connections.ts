/**
 * A team's SAML connections (SPEC §8; owner of `sso_connections`). An Admin adds one from the
 * IdP's metadata (pasted XML or a metadata URL) or from its SSO URL, entity ID and one or two
 * certificates (two during a rollover). Latchkey shows its own side: SP entity ID, ACS URL and
 * SP metadata, all per connection, so two connections (or two teams) never share an audience.
 *
 * A new connection starts switched off, IdP-initiated sign-in off: the Admin tests it, then
 * switches it on. One IdP entity ID belongs to one team (the unique index; SAML Jackson's rule):
 * otherwise one team's IdP could vouch for people at another's.
 */
import type { Selectable } from 'kysely'
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import type { Account } from '../accounts/queries.ts'
import type { AppContext } from '../context.ts'
import { inTransaction, link } from '../context.ts'
import { newId } from '../crypto.ts'
import { isUniqueViolation } from '../db/errors.ts'
import type { Queryable, SsoConnectionsTable, SsoProtocol } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { lockTeamFor } from '../teams/access.ts'
import { actorOf, recordTeamActivity } from '../teams/activity.ts'
import { teamsWithVerifiedDomain } from '../teams/discovery/domains.ts'
import { teamIdBySlug, teamNames } from '../teams/teams.ts'
import { certificateSummary, checkSsoUrl, fetchMetadata, MAX_IDP_CERTIFICATES, normalizeCertificate, parseIdpMetadata, type IdpSettings } from './metadata.ts'

export type ConnectionRow = Selectable<SsoConnectionsTable>

export const CONNECTION_NAME_MAX_LENGTH = 100
export const ENTITY_ID_MAX_LENGTH = 1024

/** How the Admin describes the IdP: exactly one of the three. */
export interface IdpInput {
  metadataXml?: string
  metadataUrl?: string
  manual?: { entityId: string; ssoUrl: string; certificates: string[] }
}

export interface ConnectionView {
  id: string
  protocol: 'saml'
  name: string
  enabled: boolean
  idpInitiated: boolean
  idp: { entityId: string; ssoUrl: string; certificates: { pem: string; fingerprintSha256: string; subject: string; notAfter: string }[] }
  sp: { entityId: string; acsUrl: string; metadataUrl: string; startUrl: string }
  testedAt: string | null
  createdAt: string
  updatedAt: string
}

/** The SP's entity ID is its metadata URL (a common convention IdPs accept and can fetch). */
export function spEntityId(ctx: AppContext, connectionId: string): string {
  return link(ctx, `/sso/saml/${connectionId}/metadata`)
}

export function acsUrl(ctx: AppContext, connectionId: string): string {
  return link(ctx, `/sso/saml/${connectionId}/acs`)
}

export function startUrl(ctx: AppContext, connectionId: string): string {
  return link(ctx, `/sso/saml/${connectionId}/start`)
}

export function oidcStartUrl(ctx: AppContext, connectionId: string): string {
  return link(ctx, `/sso/oidc/${connectionId}/start`)
}

export function certificatesOf(row: Pick<ConnectionRow, 'idp_certificates'>): string[] {
  return row.idp_certificates ? (JSON.parse(row.idp_certificates) as string[]) : []
}

export function connectionView(ctx: AppContext, row: ConnectionRow): ConnectionView {
  return {
    id: row.id,
    protocol: 'saml',
    name: row.name,
    enabled: row.enabled === 1,
    idpInitiated: row.idp_initiated === 1,
    idp: {
      entityId: row.idp_entity_id ?? '',
      ssoUrl: row.idp_sso_url ?? '',
      certificates: certificatesOf(row).map((pem) => ({ pem, ...certificateSummary(pem) })),
    },
    sp: { entityId: spEntityId(ctx, row.id), acsUrl: acsUrl(ctx, row.id), metadataUrl: spEntityId(ctx, row.id), startUrl: startUrl(ctx, row.id) },
    testedAt: row.tested_at === null ? null : new Date(row.tested_at).toISOString(),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  }
}

/** Reads the IdP's settings from whichever form the Admin used; the URL is fetched here. */
export async function idpSettings(ctx: AppContext, input: IdpInput): Promise<IdpSettings> {
  const given = [input.metadataXml, input.metadataUrl, input.manual].filter((v) => v !== undefined).length
  if (given !== 1) throw new AppError('invalid_request', { message: 'Give exactly one of metadataXml, metadataUrl or manual (entityId, ssoUrl, certificates).', fields: { metadataXml: 'one_required' } })
  if (input.metadataXml !== undefined) return parseIdpMetadata(input.metadataXml)
  if (input.metadataUrl !== undefined) return parseIdpMetadata(await fetchMetadata(ctx, input.metadataUrl))
  const manual = input.manual!
  const entityId = manual.entityId.trim()
  if (!entityId || entityId.length > ENTITY_ID_MAX_LENGTH) throw new AppError('invalid_request', { message: 'Enter the IdP entity ID (its issuer).', fields: { entityId: 'required' } })
  if (manual.certificates.length < 1 || manual.certificates.length > MAX_IDP_CERTIFICATES) {
    throw new AppError('invalid_request', { message: 'Give one or two IdP certificates (two while the IdP rolls its key over).', fields: { certificates: 'count' } })
  }
  return { entityId, ssoUrl: checkSsoUrl(manual.ssoUrl.trim()), certificates: [...new Set(manual.certificates.map(normalizeCertificate))] }
}

function checkName(raw: string): string {
  const name = raw.trim()
  if (!name) throw new AppError('invalid_request', { message: 'Give the connection a name.', fields: { name: 'required' } })
  if ([...name].length > CONNECTION_NAME_MAX_LENGTH) throw new AppError('invalid_request', { message: `A connection name has at most ${CONNECTION_NAME_MAX_LENGTH} characters.`, fields: { name: 'too_long' } })
  return name
}

async function requireEntityIdFree(db: Queryable, entityId: string, exceptConnectionId: string | null): Promise<void> {
  let query = db.selectFrom('sso_connections').select('id').where('idp_entity_id', '=', entityId)
  if (exceptConnectionId) query = query.where('id', '!=', exceptConnectionId)
  if (await query.executeTakeFirst()) throw new AppError('sso_entity_id_taken', { fields: { entityId: 'taken' } })
}

export async function listConnections(ctx: AppContext, teamId: string): Promise<ConnectionView[]> {
  const rows = await ctx.db.selectFrom('sso_connections').selectAll().where('team_id', '=', teamId).where('protocol', '=', 'saml').orderBy('created_at').orderBy('id').execute()
  return rows.map((row) => connectionView(ctx, row))
}

/** One connection; `protocol` null: of either protocol (the shared finish step). */
export async function findConnection(db: Queryable, connectionId: string, protocol: SsoProtocol | null = 'saml'): Promise<ConnectionRow | undefined> {
  let query = db.selectFrom('sso_connections').selectAll().where('id', '=', connectionId)
  if (protocol) query = query.where('protocol', '=', protocol)
  return query.executeTakeFirst()
}

export async function getConnection(ctx: AppContext, teamId: string, connectionId: string): Promise<ConnectionRow> {
  const row = await findConnection(ctx.db, connectionId)
  if (!row || row.team_id !== teamId) throw new AppError('not_found', { message: 'This team has no such SSO connection.' })
  return row
}

export async function createConnection(ctx: AppContext, input: { account: Account; teamId: string; name: string; idp: IdpInput; meta: RequestMeta }): Promise<ConnectionView> {
  const name = checkName(input.name)
  // Fetched before the transaction: a slow metadata URL must not hold the team lock.
  const idp = await idpSettings(ctx, input.idp)
  try {
    return await inTransaction(ctx, async (trx) => {
      const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_sso')
      await requireEntityIdFree(trx, idp.entityId, null)
      const now = ctx.clock.now()
      const row: ConnectionRow = {
        id: newId(),
        team_id: team.id,
        protocol: 'saml',
        name,
        enabled: 0,
        idp_initiated: 0,
        idp_entity_id: idp.entityId,
        idp_sso_url: idp.ssoUrl,
        idp_certificates: JSON.stringify(idp.certificates),
        oidc_issuer: null,
        oidc_client_id: null,
        oidc_client_secret: null,
        tested_at: null,
        created_by: input.account.id,
        created_at: now,
        updated_at: now,
      }
      await trx.insertInto('sso_connections').values(row).execute()
      const details = { connectionId: row.id, protocol: 'saml', name, idpEntityId: idp.entityId, source: sourceOf(input.idp) }
      await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'sso.connection_created', meta: input.meta, at: now, details })
      return connectionView(ctx, row)
    })
  } catch (err) {
    // Two teams registering one IdP at the same moment: the unique index lets one win.
    if (isUniqueViolation(err)) throw new AppError('sso_entity_id_taken', { fields: { entityId: 'taken' } })
    throw err
  }
}

function sourceOf(idp: IdpInput): 'metadata_xml' | 'metadata_url' | 'manual' {
  return idp.metadataXml !== undefined ? 'metadata_xml' : idp.metadataUrl !== undefined ? 'metadata_url' : 'manual'
}

export interface ConnectionPatch {
  name?: string
  enabled?: boolean
  idpInitiated?: boolean
  idp?: IdpInput
}

export async function updateConnection(ctx: AppContext, input: { account: Account; teamId: string; connectionId: string; patch: ConnectionPatch; meta: RequestMeta }): Promise<ConnectionView> {
  const { patch } = input
  const name = patch.name === undefined ? undefined : checkName(patch.name)
  const idp = patch.idp === undefined ? undefined : await idpSettings(ctx, patch.idp)
  try {
    return await inTransaction(ctx, async (trx) => {
      const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_sso')
      const row = await findConnection(trx, input.connectionId)
      if (!row || row.team_id !== team.id) throw new AppError('not_found', { message: 'This team has no such SSO connection.' })
      if (idp) await requireEntityIdFree(trx, idp.entityId, row.id)
      const now = ctx.clock.now()
      const changes: Partial<ConnectionRow> = {
        ...(name !== undefined ? { name } : {}),
        ...(patch.enabled !== undefined ? { enabled: patch.enabled ? 1 : 0 } : {}),
        ...(patch.idpInitiated !== undefined ? { idp_initiated: patch.idpInitiated ? 1 : 0 } : {}),
        ...(idp ? { idp_entity_id: idp.entityId, idp_sso_url: idp.ssoUrl, idp_certificates: JSON.stringify(idp.certificates) } : {}),
      }
      const updated = { ...row, ...changes, updated_at: now }
      await trx.updateTable('sso_connections').set({ ...changes, updated_at: now }).where('id', '=', row.id).execute()
      const details: Record<string, unknown> = { connectionId: row.id, name: updated.name }
      if (name !== undefined && name !== row.name) details.renamedFrom = row.name
      if (patch.enabled !== undefined && updated.enabled !== row.enabled) details.enabled = patch.enabled
      if (patch.idpInitiated !== undefined && updated.idp_initiated !== row.idp_initiated) details.idpInitiated = patch.idpInitiated
      if (idp) Object.assign(details, { idpEntityId: idp.entityId, idpChanged: true, source: sourceOf(patch.idp!) })
      await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'sso.connection_updated', meta: input.meta, at: now, details })
      await recordAudit(trx, { accountId: input.account.id, type: 'sso.connection_changed', meta: input.meta, at: now, details: { teamId: team.id, ...details } })
      return connectionView(ctx, updated)
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('sso_entity_id_taken', { fields: { entityId: 'taken' } })
    throw err
  }
}

/**
 * Removes a connection of either protocol with what it left behind: its pending requests,
 * hand-offs and used assertions have no foreign key (they are a cache), so they go explicitly.
 */
export async function dropConnectionRows(trx: Queryable, connectionId: string): Promise<void> {
  await trx.deleteFrom('sso_requests').where('connection_id', '=', connectionId).execute()
  await trx.deleteFrom('sso_used_assertions').where('connection_id', '=', connectionId).execute()
  await trx.deleteFrom('sso_connections').where('id', '=', connectionId).execute()
}

export async function deleteConnection(ctx: AppContext, input: { account: Account; teamId: string; connectionId: string; meta: RequestMeta }): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    const { team } = await lockTeamFor(ctx, trx, input.teamId, input.account.id, 'manage_sso')
    const row = await findConnection(trx, input.connectionId)
    if (!row || row.team_id !== team.id) throw new AppError('not_found', { message: 'This team has no such SSO connection.' })
    await dropConnectionRows(trx, row.id)
    const now = ctx.clock.now()
    await recordTeamActivity(trx, { teamId: team.id, actor: actorOf(input.account), type: 'sso.connection_deleted', meta: input.meta, at: now, details: { connectionId: row.id, name: row.name, idpEntityId: row.idp_entity_id } })
    await recordAudit(trx, { accountId: input.account.id, type: 'sso.connection_changed', meta: input.meta, at: now, details: { teamId: team.id, connectionId: row.id, deleted: true } })
  })
}

/** The connection a sign-in uses: unknown and switched-off ones get their own error pages. */
export async function connectionForSignIn(ctx: AppContext, connectionId: string, options: { allowDisabled?: boolean; protocol?: SsoProtocol | null } = {}): Promise<ConnectionRow> {
  // The protocol's own routes name theirs (a SAML ACS never reads an OIDC connection); the
  // shared finish step takes either (null).
  const connection = await findConnection(ctx.db, connectionId, options.protocol === undefined ? 'saml' : options.protocol)
  if (!connection) throw new AppError('sso_connection_unknown')
  if (connection.enabled !== 1 && !options.allowDisabled) throw new AppError('sso_connection_disabled')
  return connection
}

/** The time of the Admin's last successful test sign-in. */
export async function markTested(ctx: AppContext, input: { connection: ConnectionRow; account: Account; meta: RequestMeta; attributes: Record<string, unknown> }): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now()
    await trx.updateTable('sso_connections').set({ tested_at: now }).where('id', '=', input.connection.id).execute()
    await recordTeamActivity(trx, { teamId: input.connection.team_id, actor: actorOf(input.account), type: 'sso.connection_tested', meta: input.meta, at: now, details: { connectionId: input.connection.id, name: input.connection.name } })
  })
}

export interface SsoMethodsAnswer {
  teams: { slug: string; name: string; methods: { protocol: SsoProtocol; connectionId: string; name: string; startUrl: string }[] }[]
}

/**
 * "Sign in with SSO": the enabled methods of the team named by its slug, or of the teams that
 * verified the email's domain. Teams without an enabled connection, unknown slugs and unknown
 * domains all answer the same empty list, so this tells no more than the sign-in itself must:
 * that this team (or this domain's team) signs in with SSO. Discovery shows as much already.
 */
export async function ssoMethods(ctx: AppContext, input: { team?: string; email?: string }): Promise<SsoMethodsAnswer> {
  let teamIds: string[]
  if (input.team !== undefined) {
    const id = await teamIdBySlug(ctx.db, input.team.trim().toLowerCase())
    teamIds = id ? [id] : []
  } else if (input.email !== undefined) {
    const email = input.email.trim().toLowerCase()
    const at = email.lastIndexOf('@')
    teamIds = at > 0 && at < email.length - 1 ? await teamsWithVerifiedDomain(ctx.db, email.slice(at + 1)) : []
  } else {
    throw new AppError('invalid_request', { message: 'Give a team URL (team) or an email address (email).', fields: { team: 'required' } })
  }
  if (teamIds.length === 0) return { teams: [] }
  const rows = await ctx.db
    .selectFrom('sso_connections')
    .select(['id', 'team_id', 'name', 'protocol'])
    .where('team_id', 'in', teamIds)
    .where('enabled', '=', 1)
    .orderBy('created_at')
    .orderBy('id')
    .execute()
  const names = await teamNames(ctx.db, [...new Set(rows.map((r) => r.team_id))])
  const teams = new Map<string, SsoMethodsAnswer['teams'][number]>()
  for (const row of rows) {
    const team = names.get(row.team_id)
    if (!team) continue
    const entry = teams.get(row.team_id) ?? { slug: team.slug, name: team.name, methods: [] }
    entry.methods.push({ protocol: row.protocol, connectionId: row.id, name: row.name, startUrl: row.protocol === 'oidc' ? oidcStartUrl(ctx, row.id) : startUrl(ctx, row.id) })
    teams.set(row.team_id, entry)
  }
  return { teams: [...teams.values()] }
}
