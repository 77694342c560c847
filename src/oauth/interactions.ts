/**
 * The person's side of an app sign-in: Latchkey's page (/app-signin/:uid) reads the request,
 * then completes it as the signed-in account (with consent for third-party clients) or aborts
 * it. Rules (SPEC §3, §4):
 * - the request must be answered within 5 minutes of the app starting it (ctx.clock); after
 *   that it ends with `access_denied` and a description saying it expired;
 * - every completed sign-in of an app-session client (latchkey-cli) is a Latchkey session of
 *   kind 'api' named by `device_name` and tied to its own grant; a fourth ends the oldest;
 * - a new device gets the usual security notice.
 */
import type Provider from 'oidc-provider'
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import { issueToken } from '../accounts/tokens.ts'
import { MINUTE_MS } from '../clock.ts'
import type { AppContext } from '../context.ts'
import { inTransaction, link } from '../context.ts'
import { hashToken } from '../crypto.ts'
import { AppError } from '../errors.ts'
import { notifySecurity } from '../notifications/notifications.ts'
import { createSession, endSession } from '../sessions/sessions.ts'
import { rememberDevice } from '../signin/new-device.ts'
import { lockAccountRow, type Account } from '../accounts/queries.ts'
import { storedId } from './adapter.ts'
import { clientInfo, isAppSessionClient, SCOPES } from './clients.ts'

export const APP_SIGNIN_WINDOW_MS = 5 * MINUTE_MS
export const MAX_APP_SESSIONS = 3
export const EXPIRED_DESCRIPTION = 'This sign-in request expired. Go back to the app and start again.'
export const ABORTED_DESCRIPTION = 'The person chose not to sign in.'
const DEVICE_NAME_MAX = 100

type Interaction = InstanceType<Provider['Interaction']>

export interface InteractionView {
  uid: string
  status: 'pending' | 'expired'
  flow: 'code' | 'device'
  client: { id: string; name: string; firstParty: boolean }
  deviceName: string | null
  scopes: string[]
  consentRequired: boolean
  expiresAt: string
  /** Only when expired: where the browser goes to hand the app its error. */
  returnTo?: string
}

/** `device_name` as sent by the app: printable, trimmed, at most 100 characters. */
export function cleanDeviceName(value: unknown): string | null {
  if (typeof value !== 'string') return null
  // eslint-disable-next-line no-control-regex -- removing control characters is the point of this pattern
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, DEVICE_NAME_MAX)
  return clean || null
}

async function findPending(ctx: AppContext, provider: Provider, uid: string): Promise<{ interaction: Interaction; startedAt: number }> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(uid)) throw new AppError('oauth_request_invalid')
  const interaction = await provider.Interaction.find(uid)
  if (!interaction || interaction.result) throw new AppError('oauth_request_invalid')
  // The app started the request when oidc-provider stored it: the device code for the device
  // flow (the person may take a while to type the code), the interaction otherwise.
  const deviceCode = (interaction as unknown as { deviceCode?: string }).deviceCode
  const started = await ctx.db
    .selectFrom('oauth_models')
    .select('created_at')
    .where((eb) => (deviceCode ? eb.and([eb('model', '=', 'DeviceCode'), eb('id', '=', storedId(deviceCode))]) : eb.and([eb('model', '=', 'Interaction'), eb('id', '=', storedId(uid))])))
    .executeTakeFirst()
  if (!started) throw new AppError('oauth_request_invalid')
  return { interaction, startedAt: started.created_at }
}

function requestedScopes(interaction: Interaction): string[] {
  const asked = String(interaction.params.scope ?? '').split(' ').filter(Boolean)
  return SCOPES.filter((s) => asked.includes(s))
}

/**
 * Stores the outcome for oidc-provider to resume with, for what is left of the interaction's own
 * lifetime, as oidc-provider measures it (`remainingTTL`). That is on the system clock, not
 * ctx.clock, by oidc-provider's rule: it sets `exp` from its own `Date.now()` when it creates the
 * interaction and checks it the same way (no way to hand it another clock), so "seconds left"
 * must be measured on that clock. (The 5-minute window a person has to answer is ours, and is
 * on ctx.clock: see findPending's callers.)
 */
async function saveResult(interaction: Interaction, result: Record<string, unknown>): Promise<string> {
  interaction.result = result
  await interaction.save(Math.max(1, interaction.remainingTTL))
  return interaction.returnTo
}

async function consentCovers(ctx: AppContext, accountId: string, clientId: string, scopes: string[]): Promise<boolean> {
  const row = await ctx.db.selectFrom('oauth_consents').select('scopes').where('account_id', '=', accountId).where('client_id', '=', clientId).executeTakeFirst()
  if (!row) return false
  const allowed = new Set(row.scopes.split(' '))
  return scopes.every((s) => allowed.has(s))
}

/** Ends an overdue request with the expired error; returns where the browser should go. */
async function expire(interaction: Interaction): Promise<string> {
  return saveResult(interaction, { error: 'access_denied', error_description: EXPIRED_DESCRIPTION })
}

export async function describeInteraction(ctx: AppContext, provider: Provider, uid: string, account: Account | null): Promise<InteractionView> {
  const { interaction, startedAt } = await findPending(ctx, provider, uid)
  const clientId = String(interaction.params.client_id)
  const client = await clientInfo(ctx, clientId)
  if (!client) throw new AppError('oauth_request_invalid')
  const scopes = requestedScopes(interaction)
  const expired = ctx.clock.now() >= startedAt + APP_SIGNIN_WINDOW_MS
  const view: InteractionView = {
    uid,
    status: expired ? 'expired' : 'pending',
    flow: (interaction as unknown as { deviceCode?: string }).deviceCode ? 'device' : 'code',
    client: { id: client.clientId, name: client.name, firstParty: client.firstParty },
    deviceName: cleanDeviceName(interaction.params.device_name),
    scopes,
    consentRequired: !client.firstParty && !(account && (await consentCovers(ctx, account.id, clientId, scopes))),
    expiresAt: new Date(startedAt + APP_SIGNIN_WINDOW_MS).toISOString(),
  }
  if (expired) view.returnTo = await expire(interaction)
  return view
}

export async function abortInteraction(ctx: AppContext, provider: Provider, uid: string): Promise<{ returnTo: string }> {
  const { interaction, startedAt } = await findPending(ctx, provider, uid)
  if (ctx.clock.now() >= startedAt + APP_SIGNIN_WINDOW_MS) return { returnTo: await expire(interaction) }
  return { returnTo: await saveResult(interaction, { error: 'access_denied', error_description: ABORTED_DESCRIPTION }) }
}

export interface SignedOutDevice {
  sessionId: string
  deviceName: string
  createdAt: string
}

export async function completeInteraction(
  ctx: AppContext,
  provider: Provider,
  input: { uid: string; account: Account; consent: boolean; meta: RequestMeta },
): Promise<{ returnTo: string; signedOut: SignedOutDevice[] }> {
  const { interaction, startedAt } = await findPending(ctx, provider, input.uid)
  if (ctx.clock.now() >= startedAt + APP_SIGNIN_WINDOW_MS) {
    throw new AppError('oauth_request_expired', { details: { returnTo: await expire(interaction) } })
  }
  const account = input.account
  if (account.status !== 'active') throw new AppError('account_deactivated')
  const clientId = String(interaction.params.client_id)
  const client = await clientInfo(ctx, clientId)
  if (!client) throw new AppError('oauth_request_invalid')
  const scopes = requestedScopes(interaction)
  if (!client.firstParty && !input.consent && !(await consentCovers(ctx, account.id, clientId, scopes))) {
    throw new AppError('oauth_consent_required', { fields: { consent: 'required' } })
  }

  // One grant per sign-in, with exactly the scopes asked for (all of them are ours to give).
  const grant = new provider.Grant({ accountId: account.id, clientId })
  if (scopes.length) grant.addOIDCScope(scopes.join(' '))
  const grantId = await grant.save()

  const deviceName = cleanDeviceName(interaction.params.device_name) ?? client.name
  const flow = (interaction as unknown as { deviceCode?: string }).deviceCode ? 'device' : 'code'
  const signedOut: SignedOutDevice[] = []
  if (isAppSessionClient(clientId)) {
    signedOut.push(...(await startAppSession(ctx, { account, clientId, clientName: client.name, grantId, deviceName, flow, meta: input.meta })))
  } else {
    const now = ctx.clock.now()
    await inTransaction(ctx, async (trx) => {
      const updated = await trx.updateTable('oauth_consents').set({ scopes: scopes.join(' '), last_used_at: now }).where('account_id', '=', account.id).where('client_id', '=', clientId).executeTakeFirst()
      if (Number(updated.numUpdatedRows) === 0) {
        await trx.insertInto('oauth_consents').values({ account_id: account.id, client_id: clientId, scopes: scopes.join(' '), granted_at: now, last_used_at: now }).execute()
      }
      await recordAudit(trx, { accountId: account.id, type: 'signin.succeeded', meta: input.meta, at: now, details: { method: 'oauth', clientId } })
    })
  }
  const returnTo = await saveResult(interaction, { login: { accountId: account.id, remember: false }, consent: { grantId } })
  return { returnTo, signedOut }
}

/**
 * Records the app sign-in as a Latchkey session (kind 'api') tied to the grant, ending the
 * oldest app sessions beyond the third, and warns about a device not seen before.
 */
async function startAppSession(
  ctx: AppContext,
  input: { account: Account; clientId: string; clientName: string; grantId: string; deviceName: string; flow: 'code' | 'device'; meta: RequestMeta },
): Promise<SignedOutDevice[]> {
  const { account } = input
  const result = await inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now()
    // Serialises app sign-ins of one account, so two at once cannot both see room for a third.
    if (ctx.dialect === 'postgres') await lockAccountRow(trx, account.id)
    const live = await trx
      .selectFrom('oauth_app_sessions')
      .innerJoin('sessions', 'sessions.id', 'oauth_app_sessions.session_id')
      .select(['oauth_app_sessions.session_id', 'oauth_app_sessions.grant_id', 'oauth_app_sessions.device_name', 'sessions.created_at'])
      .where('oauth_app_sessions.account_id', '=', account.id)
      .where('sessions.expires_at', '>', now)
      .orderBy('sessions.created_at', 'asc')
      .execute()
    const signedOut: SignedOutDevice[] = []
    while (live.length >= MAX_APP_SESSIONS) {
      const oldest = live.shift()!
      // Its grant and app-session link end with it (revokeAppSessionGrants listens).
      await endSession(ctx, trx, { accountId: account.id, sessionId: oldest.session_id })
      await recordAudit(trx, { accountId: account.id, type: 'oauth.app_session_ended', meta: input.meta, at: now, details: { sessionId: oldest.session_id, deviceName: oldest.device_name, reason: 'app_session_limit' } })
      signedOut.push({ sessionId: oldest.session_id, deviceName: oldest.device_name, createdAt: new Date(oldest.created_at).toISOString() })
    }

    // The sessions list names the app. The browser that approved a device-flow sign-in is not
    // the device: its OS says nothing.
    const device = input.flow === 'device' ? { browser: input.clientName, os: 'Unknown' } : { browser: input.clientName }
    const { session } = await createSession(ctx, trx, { accountId: account.id, staySignedIn: true, kind: 'api', meta: input.meta, device })
    await trx.insertInto('oauth_app_sessions').values({ session_id: session.id, account_id: account.id, grant_id: input.grantId, client_id: input.clientId, device_name: input.deviceName, created_at: now }).execute()
    await recordAudit(trx, { accountId: account.id, type: 'signin.succeeded', meta: input.meta, at: now, details: { sessionId: session.id, method: `oauth_${input.flow}`, clientId: input.clientId, deviceName: input.deviceName } })

    // "New device" for an app is a device name this account has not signed in from before.
    const deviceHash = hashToken(`app:${input.clientId}:${input.deviceName}`)
    if ((await rememberDevice(trx, account.id, deviceHash, now)) !== 'known') {
      const token = await issueToken(trx, ctx.clock, { accountId: account.id, purpose: 'signin_disavow', sessionId: session.id })
      await notifySecurity(ctx, trx, account, 'signin_new_device', {
        username: account.username,
        browser: `${input.clientName} (${input.deviceName})`,
        os: session.os,
        ip: session.ip,
        at: new Date(now).toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
        disavowLink: link(ctx, '/signin/disavow', { token }),
      })
    }
    return signedOut
  })
  return result
}

/** Device names for the active sessions list: session id → device name. */
export async function appSessionNames(ctx: AppContext, accountId: string): Promise<Map<string, string>> {
  const rows = await ctx.db.selectFrom('oauth_app_sessions').select(['session_id', 'device_name']).where('account_id', '=', accountId).execute()
  return new Map(rows.map((r) => [r.session_id, r.device_name]))
}
