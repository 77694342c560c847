/**
 * OAuth clients. `latchkey-cli` is built in: the desktop app and the CLI, a public native
 * client (RFC 8252) that may only use the authorization code flow with PKCE S256 or the
 * device authorization grant, with a loopback redirect on any port and path. Operators
 * register confidential clients (`latchkey clients add`); their secret is shown once and kept
 * only as a SHA-256 hash (it is 256 random bits, so a fast hash is enough), which
 * `compareClientSecret` checks in place of oidc-provider's plain comparison.
 */
import type { Selectable } from 'kysely'
import type { ClientMetadata } from 'oidc-provider'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { hashToken, newToken } from '../crypto.ts'
import type { OauthClientsTable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { revokeGrant } from './adapter.ts'

export const CLI_CLIENT_ID = 'latchkey-cli'
export const CLI_CLIENT_NAME = 'Latchkey CLI'
export const SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const

/** Clients whose every sign-in is an app session (SPEC §4: at most 3 per account). */
export function isAppSessionClient(clientId: string): boolean {
  return clientId === CLI_CLIENT_ID
}

/** RFC 8252 §7.3: http on a loopback IP literal, any port, any path; never "localhost". */
export const LOOPBACK_REDIRECT = /^http:\/\/(127\.0\.0\.1|\[::1\])(:\d{1,5})?(\/[^#?\s]*)?(\?[^#\s]*)?$/

export function isLoopbackRedirect(uri: string): boolean {
  if (!LOOPBACK_REDIRECT.test(uri)) return false
  try {
    const url = new URL(uri)
    return url.username === '' && url.password === '' && (url.hostname === '127.0.0.1' || url.hostname === '[::1]')
  } catch {
    return false
  }
}

export function cliClientMetadata(): ClientMetadata {
  return {
    client_id: CLI_CLIENT_ID,
    client_name: CLI_CLIENT_NAME,
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
    // Registered for the record; any loopback port and path is accepted (see provider.ts).
    redirect_uris: ['http://127.0.0.1/callback', 'http://[::1]/callback'],
    scope: SCOPES.join(' '),
  }
}

export function clientMetadataFromRow(row: Selectable<OauthClientsTable>): ClientMetadata {
  return {
    client_id: row.client_id,
    client_name: row.name,
    // The hash, not the secret: compareClientSecret hashes what the client sends.
    client_secret: row.secret_hash,
    application_type: 'web',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: JSON.parse(row.redirect_uris) as string[],
    scope: SCOPES.join(' '),
  }
}

export function validRedirectUri(uri: string): boolean {
  try {
    const url = new URL(uri)
    if (url.hash) return false
    if (url.protocol === 'https:') return true
    // Plain http only on loopback (a developer's machine).
    return url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost')
  } catch {
    return false
  }
}

export interface RegisteredClient {
  clientId: string
  name: string
  redirectUris: string[]
  firstParty: boolean
  createdAt: number
}

function view(row: Selectable<OauthClientsTable>): RegisteredClient {
  return { clientId: row.client_id, name: row.name, redirectUris: JSON.parse(row.redirect_uris), firstParty: row.first_party === 1, createdAt: row.created_at }
}

/** Registers a confidential client; the secret is returned here once and never again. */
export async function addClient(ctx: AppContext, input: { name: string; redirectUris: string[]; firstParty: boolean }): Promise<RegisteredClient & { clientSecret: string }> {
  const name = input.name.trim()
  if (!name || name.length > 100) throw new AppError('invalid_request', { message: 'Give the client a name of 1 to 100 characters.', fields: { name: 'invalid' } })
  if (input.redirectUris.length === 0) throw new AppError('invalid_request', { message: 'Give at least one --redirect-uri.', fields: { redirectUris: 'required' } })
  for (const uri of input.redirectUris) {
    if (!validRedirectUri(uri)) throw new AppError('invalid_request', { message: `Not a valid redirect URI: ${uri} (https, or http on localhost; no fragment).`, fields: { redirectUris: 'invalid' } })
  }
  const clientId = `lk_${newToken().slice(0, 22)}`
  const clientSecret = newToken()
  const row = {
    client_id: clientId,
    name,
    secret_hash: hashToken(clientSecret),
    redirect_uris: JSON.stringify([...new Set(input.redirectUris)]),
    first_party: input.firstParty ? 1 : 0,
    created_at: ctx.clock.now(),
  }
  await ctx.db.insertInto('oauth_clients').values(row).execute()
  return { ...view(row), clientSecret }
}

export async function listClients(ctx: AppContext): Promise<RegisteredClient[]> {
  return (await ctx.db.selectFrom('oauth_clients').selectAll().orderBy('created_at').execute()).map(view)
}

/** Removes a client and revokes every grant and token it holds. */
export async function removeClient(ctx: AppContext, clientId: string): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    const deleted = await trx.deleteFrom('oauth_clients').where('client_id', '=', clientId).executeTakeFirst()
    if (Number(deleted.numDeletedRows) !== 1) throw new AppError('not_found', { message: `No client ${clientId}.` })
    const grants = await trx.selectFrom('oauth_models').select('grant_id').where('model', '=', 'Grant').where('client_id', '=', clientId).execute()
    for (const grant of grants) if (grant.grant_id) await revokeGrant(trx, grant.grant_id)
    await trx.deleteFrom('oauth_models').where('client_id', '=', clientId).execute()
    await trx.deleteFrom('oauth_consents').where('client_id', '=', clientId).execute()
  })
}

/** Name and whether consent is skipped, for any client id (built in or registered). */
export async function clientInfo(ctx: AppContext, clientId: string): Promise<{ clientId: string; name: string; firstParty: boolean } | undefined> {
  if (clientId === CLI_CLIENT_ID) return { clientId, name: CLI_CLIENT_NAME, firstParty: true }
  const row = await ctx.db.selectFrom('oauth_clients').select(['client_id', 'name', 'first_party']).where('client_id', '=', clientId).executeTakeFirst()
  return row ? { clientId: row.client_id, name: row.name, firstParty: row.first_party === 1 } : undefined
}
