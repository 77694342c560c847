/**
 * Team SSO over OpenID Connect (SPEC §8): a team's OIDC connections (rows of `sso_connections`
 * with protocol 'oidc'). The sign-in itself is src/signin/sso-oidc.ts.
 *
 * Saving a connection fetches the issuer's discovery document through identityProviderFetch
 * (HTTPS only, SSO_CA_FILE trusted) and refuses what does not validate, so a typo is caught by
 * the Admin, not by the first member. The client secret is stored encrypted with the server's
 * secret box (as TOTP secrets are) and never returned: the API shows only that it is set. One
 * issuer belongs to one team (unique index), like a SAML IdP entity ID.
 *
 * Sign-in: start → the IdP (code flow, PKCE S256, state, nonce; the three ride in a sealed,
 * HttpOnly, SameSite=Lax cookie scoped to this connection's path, 10 minutes) → callback
 * (openid-client checks state, nonce, PKCE, issuer and signature) → the identity (issuer, sub)
 * goes through exactly the SAML rules (./signin.ts: verified domains, linked identity, password
 * once, JIT, join request) → the shared one-time handoff (./flow.ts) → finish.
 *
 * Email: only `email_verified === true` counts; an ID token without the claim is refused too
 * (`sso_email_unverified`). The team's verified-domain check applies on top, as for SAML: an
 * IdP administrator can give anyone any address, and a claim is only as good as the IdP.
 */
import type { Selectable } from 'kysely'
import { findAccountById } from '../accounts/queries.ts'
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import type { AppContext } from '../context.ts'
import { inTransaction, link } from '../context.ts'
import { decryptSecret, encryptSecret, newId } from '../crypto.ts'
import { isUniqueViolation } from '../db/errors.ts'
import type { Queryable, SsoConnectionsTable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { checkDiscovery, OidcFailure, type OidcClientSettings } from '../oidc-client.ts'
import { lockTeam } from '../teams/access.ts'
import { recordSetupActivity, type SetupActor } from './setup-links.ts'
import { dropConnectionRows } from './connections.ts'

type ConnectionRow = Selectable<SsoConnectionsTable>

const NAME_MAX_LENGTH = 100
const ISSUER_MAX_LENGTH = 1024

export interface OidcConnectionView {
  id: string
  protocol: 'oidc'
  name: string
  enabled: boolean
  issuer: string
  clientId: string
  clientSecret: 'set'
  redirectUri: string
  startUrl: string
  testedAt: string | null
  createdAt: string
  updatedAt: string
}

/** Give this to the IdP as the redirect (callback) URI: one per connection. */
export function oidcRedirectUri(ctx: AppContext, connectionId: string): string {
  return link(ctx, `/sso/oidc/${connectionId}/callback`)
}

export function oidcConnectionView(ctx: AppContext, row: ConnectionRow): OidcConnectionView {
  return {
    id: row.id,
    protocol: 'oidc',
    name: row.name,
    enabled: row.enabled === 1,
    issuer: row.oidc_issuer ?? '',
    clientId: row.oidc_client_id ?? '',
    clientSecret: 'set',
    redirectUri: oidcRedirectUri(ctx, row.id),
    startUrl: link(ctx, `/sso/oidc/${row.id}/start`),
    testedAt: row.tested_at === null ? null : new Date(row.tested_at).toISOString(),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  }
}

function checkName(raw: string): string {
  const name = raw.trim()
  if (!name) throw new AppError('invalid_request', { message: 'Give the connection a name.', fields: { name: 'required' } })
  if ([...name].length > NAME_MAX_LENGTH) throw new AppError('invalid_request', { message: `A connection name has at most ${NAME_MAX_LENGTH} characters.`, fields: { name: 'too_long' } })
  return name
}

/** An https URL without query or fragment; kept as typed (the discovery document must name exactly it). */
function checkIssuer(raw: string): string {
  const issuer = raw.trim()
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    throw new AppError('sso_oidc_issuer_invalid', { fields: { issuer: 'invalid' } })
  }
  if (url.protocol !== 'https:' || url.search || url.hash || url.username || url.password || issuer.length > ISSUER_MAX_LENGTH) throw new AppError('sso_oidc_issuer_invalid', { fields: { issuer: 'invalid' } })
  return issuer
}

async function requireDiscovery(ctx: AppContext, issuer: string): Promise<void> {
  try {
    await checkDiscovery(ctx, issuer)
  } catch (err) {
    ctx.log.info({ err: { message: err instanceof OidcFailure ? String((err.cause as Error)?.message ?? err.cause) : String(err) }, issuer }, 'OIDC discovery refused')
    throw new AppError('sso_oidc_discovery_failed', { fields: { issuer: 'discovery_failed' } })
  }
}

async function requireIssuerFree(db: Queryable, issuer: string, exceptConnectionId: string | null): Promise<void> {
  let query = db.selectFrom('sso_connections').select('id').where('oidc_issuer', '=', issuer)
  if (exceptConnectionId) query = query.where('id', '!=', exceptConnectionId)
  if (await query.executeTakeFirst()) throw new AppError('sso_oidc_issuer_taken', { fields: { issuer: 'taken' } })
}

async function findOidcConnection(db: Queryable, teamId: string, connectionId: string): Promise<ConnectionRow> {
  const row = await db.selectFrom('sso_connections').selectAll().where('id', '=', connectionId).where('protocol', '=', 'oidc').executeTakeFirst()
  if (!row || row.team_id !== teamId) throw new AppError('not_found', { message: 'This team has no such SSO connection.' })
  return row
}

async function auditChange(trx: Queryable, by: SetupActor, meta: RequestMeta, at: number, details: Record<string, unknown>): Promise<void> {
  // A link holder has no account (no security log of their own): the team activity has it.
  if (by.via === 'admin') await recordAudit(trx, { accountId: by.account.id, type: 'sso.connection_changed', meta, at, details })
}

export async function listOidcConnections(ctx: AppContext, teamId: string): Promise<OidcConnectionView[]> {
  const rows = await ctx.db.selectFrom('sso_connections').selectAll().where('team_id', '=', teamId).where('protocol', '=', 'oidc').orderBy('created_at').orderBy('id').execute()
  return rows.map((row) => oidcConnectionView(ctx, row))
}

export async function getOidcConnection(ctx: AppContext, teamId: string, connectionId: string): Promise<OidcConnectionView> {
  return oidcConnectionView(ctx, await findOidcConnection(ctx.db, teamId, connectionId))
}

export interface OidcConnectionInput {
  name: string
  issuer: string
  clientId: string
  clientSecret: string
}

export async function createOidcConnection(ctx: AppContext, input: { by: SetupActor; teamId: string; connection: OidcConnectionInput; meta: RequestMeta }): Promise<OidcConnectionView> {
  const name = checkName(input.connection.name)
  const issuer = checkIssuer(input.connection.issuer)
  // Fetched before the transaction: a slow IdP must not hold the team lock.
  await requireDiscovery(ctx, issuer)
  try {
    return await inTransaction(ctx, async (trx) => {
      const team = await lockTeam(ctx, trx, input.teamId)
      await requireIssuerFree(trx, issuer, null)
      const now = ctx.clock.now()
      const row: ConnectionRow = {
        id: newId(),
        team_id: team.id,
        protocol: 'oidc',
        name,
        enabled: 0,
        idp_initiated: 0,
        idp_entity_id: null,
        idp_sso_url: null,
        idp_certificates: null,
        oidc_issuer: issuer,
        oidc_client_id: input.connection.clientId.trim(),
        oidc_client_secret: encryptSecret(ctx.secretsKey, input.connection.clientSecret),
        tested_at: null,
        created_by: input.by.via === 'admin' ? input.by.account.id : null,
        created_at: now,
        updated_at: now,
      }
      await trx.insertInto('sso_connections').values(row).execute()
      const details = { connectionId: row.id, protocol: 'oidc', name, issuer }
      await recordSetupActivity(trx, { teamId: team.id, by: input.by, type: 'sso.connection_created', meta: input.meta, at: now, details })
      await auditChange(trx, input.by, input.meta, now, { teamId: team.id, ...details, created: true })
      return oidcConnectionView(ctx, row)
    })
  } catch (err) {
    // Two teams saving one issuer at the same moment: the unique index lets one win.
    if (isUniqueViolation(err)) throw new AppError('sso_oidc_issuer_taken', { fields: { issuer: 'taken' } })
    throw err
  }
}

export interface OidcConnectionPatch {
  name?: string
  enabled?: boolean
  issuer?: string
  clientId?: string
  clientSecret?: string
}

export async function updateOidcConnection(ctx: AppContext, input: { by: SetupActor; teamId: string; connectionId: string; patch: OidcConnectionPatch; meta: RequestMeta }): Promise<OidcConnectionView> {
  const { patch } = input
  const name = patch.name === undefined ? undefined : checkName(patch.name)
  const issuer = patch.issuer === undefined ? undefined : checkIssuer(patch.issuer)
  if (issuer !== undefined) await requireDiscovery(ctx, issuer)
  try {
    return await inTransaction(ctx, async (trx) => {
      const team = await lockTeam(ctx, trx, input.teamId)
      const row = await findOidcConnection(trx, team.id, input.connectionId)
      if (issuer !== undefined) await requireIssuerFree(trx, issuer, row.id)
      const now = ctx.clock.now()
      const changes: Partial<ConnectionRow> = {
        ...(name !== undefined ? { name } : {}),
        ...(patch.enabled !== undefined ? { enabled: patch.enabled ? 1 : 0 } : {}),
        ...(issuer !== undefined ? { oidc_issuer: issuer } : {}),
        ...(patch.clientId !== undefined ? { oidc_client_id: patch.clientId.trim() } : {}),
        ...(patch.clientSecret !== undefined ? { oidc_client_secret: encryptSecret(ctx.secretsKey, patch.clientSecret) } : {}),
      }
      const updated = { ...row, ...changes, updated_at: now }
      await trx.updateTable('sso_connections').set({ ...changes, updated_at: now }).where('id', '=', row.id).execute()
      const details: Record<string, unknown> = { connectionId: row.id, protocol: 'oidc', name: updated.name }
      if (name !== undefined && name !== row.name) details.renamedFrom = row.name
      if (patch.enabled !== undefined && updated.enabled !== row.enabled) details.enabled = patch.enabled
      if (issuer !== undefined && issuer !== row.oidc_issuer) details.issuer = issuer
      if (patch.clientId !== undefined && updated.oidc_client_id !== row.oidc_client_id) details.clientIdChanged = true
      // Never the secret itself, not even a hash: only that it was replaced.
      if (patch.clientSecret !== undefined) details.clientSecretChanged = true
      await recordSetupActivity(trx, { teamId: team.id, by: input.by, type: 'sso.connection_updated', meta: input.meta, at: now, details })
      await auditChange(trx, input.by, input.meta, now, { teamId: team.id, ...details })
      return oidcConnectionView(ctx, updated)
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('sso_oidc_issuer_taken', { fields: { issuer: 'taken' } })
    throw err
  }
}

export async function deleteOidcConnection(ctx: AppContext, input: { by: SetupActor; teamId: string; connectionId: string; meta: RequestMeta }): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    const team = await lockTeam(ctx, trx, input.teamId)
    const row = await findOidcConnection(trx, team.id, input.connectionId)
    await dropConnectionRows(trx, row.id)
    const now = ctx.clock.now()
    const details = { connectionId: row.id, protocol: 'oidc', name: row.name, issuer: row.oidc_issuer }
    await recordSetupActivity(trx, { teamId: team.id, by: input.by, type: 'sso.connection_deleted', meta: input.meta, at: now, details })
    await auditChange(trx, input.by, input.meta, now, { teamId: team.id, ...details, deleted: true })
  })
}

// ---------------------------------------------------------------- for the sign-in (src/signin/sso-oidc.ts)

/** The client settings of a connection, its secret decrypted. */
export function oidcClientSettings(ctx: AppContext, connection: ConnectionRow): OidcClientSettings {
  return {
    issuer: connection.oidc_issuer!,
    clientId: connection.oidc_client_id!,
    clientSecret: decryptSecret(ctx.secretsKey, connection.oidc_client_secret!),
    redirectUri: oidcRedirectUri(ctx, connection.id),
  }
}

/** Who started a test sign-in, as kept in the flow cookie. */
export type OidcTester = { via: 'admin'; accountId: string } | { via: 'setup_link'; linkId: string; expiresAt: number }

/** The time of the last successful test sign-in, in the team activity. */
export async function markOidcTested(ctx: AppContext, connection: ConnectionRow, tester: OidcTester, meta: RequestMeta): Promise<void> {
  const account = tester.via === 'admin' ? await findAccountById(ctx.db, tester.accountId) : undefined
  const by: SetupActor | null = tester.via === 'setup_link' ? tester : account ? { via: 'admin', account } : null
  await inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now()
    await trx.updateTable('sso_connections').set({ tested_at: now }).where('id', '=', connection.id).execute()
    if (by) await recordSetupActivity(trx, { teamId: connection.team_id, by, type: 'sso.connection_tested', meta, at: now, details: { connectionId: connection.id, protocol: 'oidc', name: connection.name } })
  })
}
