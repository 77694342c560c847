/**
 * Passkeys (WebAuthn) with @simplewebauthn/server: registered in settings, used to sign in
 * without a password (discoverable credentials, user verification required), as a second
 * factor, and to re-authenticate. Challenges live in the database, single use, 5 minutes.
 */
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server'
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import { MINUTE_MS } from '../clock.ts'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { newId } from '../crypto.ts'
import type { WebauthnChallengesTable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { isUniqueViolation } from '../db/errors.ts'
import { notifySecurity } from '../notifications/notifications.ts'
import type { Authenticated } from '../sessions/sessions.ts'

const CHALLENGE_LIFETIME_MS = 5 * MINUTE_MS

// Loaded at the first ceremony: a server whose people never use passkeys should not carry
// the WebAuthn library (about 10 MiB resident) from start-up.
let webauthn: Promise<typeof import('@simplewebauthn/server')> | undefined
function simpleWebAuthn(): Promise<typeof import('@simplewebauthn/server')> {
  return (webauthn ??= import('@simplewebauthn/server'))
}
type Purpose = WebauthnChallengesTable['purpose']

function relyingParty(ctx: AppContext) {
  return { rpID: ctx.config.publicUrl.hostname, origin: ctx.config.publicUrl.origin }
}

async function storeChallenge(ctx: AppContext, purpose: Purpose, challenge: string, accountId: string | null): Promise<string> {
  const id = newId()
  const now = ctx.clock.now()
  await ctx.db.deleteFrom('webauthn_challenges').where('expires_at', '<', now).execute()
  await ctx.db.insertInto('webauthn_challenges').values({ id, account_id: accountId, purpose, challenge, expires_at: now + CHALLENGE_LIFETIME_MS }).execute()
  return id
}

/** Spends the challenge: a second use of the same one finds nothing. */
async function takeChallenge(ctx: AppContext, id: string, purpose: Purpose, accountId: string | null): Promise<string> {
  const row = await ctx.db
    .deleteFrom('webauthn_challenges')
    .where('id', '=', id)
    .where('purpose', '=', purpose)
    .where('expires_at', '>', ctx.clock.now())
    .returning(['challenge', 'account_id'])
    .executeTakeFirst()
  if (!row || (accountId !== null && row.account_id !== accountId)) throw new AppError('challenge_invalid', { fields: { challengeId: 'invalid' } })
  return row.challenge
}

export function passkeyView(p: { id: string; name: string; created_at: number; last_used_at: number | null; device_type: string; backed_up: number }) {
  return {
    id: p.id,
    name: p.name,
    createdAt: new Date(p.created_at).toISOString(),
    lastUsedAt: p.last_used_at === null ? null : new Date(p.last_used_at).toISOString(),
    synced: p.backed_up === 1,
    deviceType: p.device_type,
  }
}

/** Whether the account has a passkey (then it is offered as a second factor). */
export async function hasPasskey(ctx: AppContext, accountId: string): Promise<boolean> {
  return (await ctx.db.selectFrom('passkeys').select('id').where('account_id', '=', accountId).executeTakeFirst()) !== undefined
}

export async function listPasskeys(ctx: AppContext, accountId: string) {
  const rows = await ctx.db.selectFrom('passkeys').selectAll().where('account_id', '=', accountId).orderBy('created_at').execute()
  return rows.map(passkeyView)
}

export async function registrationOptions(ctx: AppContext, auth: Authenticated) {
  const { account } = auth
  // A passkey on an unconfirmed account could outlive the real owner's password reset.
  if (account.email_confirmed_at === null) throw new AppError('email_not_confirmed', { message: 'Confirm your email address before adding a passkey.' })
  const existing = await ctx.db.selectFrom('passkeys').select(['credential_id', 'transports']).where('account_id', '=', account.id).execute()
  const options = await (await simpleWebAuthn()).generateRegistrationOptions({
    rpName: 'Latchkey',
    rpID: relyingParty(ctx).rpID,
    userName: account.username,
    userDisplayName: account.display_name || account.username,
    userID: new TextEncoder().encode(account.id),
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: JSON.parse(p.transports) })),
    // Discoverable, so the passkey alone can sign in (no username typed first).
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
  })
  const challengeId = await storeChallenge(ctx, 'register', options.challenge, account.id)
  return { challengeId, options: options as unknown as Record<string, unknown> }
}

export async function registerPasskey(ctx: AppContext, auth: Authenticated, input: { challengeId: string; name?: string; response: RegistrationResponseJSON }, meta: RequestMeta) {
  const { account } = auth
  const expectedChallenge = await takeChallenge(ctx, input.challengeId, 'register', account.id)
  const rp = relyingParty(ctx)
  let verification
  try {
    verification = await (await simpleWebAuthn()).verifyRegistrationResponse({ response: input.response, expectedChallenge, expectedOrigin: rp.origin, expectedRPID: rp.rpID, requireUserVerification: false })
  } catch (err) {
    throw new AppError('passkey_invalid', { fields: { response: 'invalid' }, cause: err })
  }
  if (!verification.verified) throw new AppError('passkey_invalid', { fields: { response: 'invalid' } })
  const { credential, credentialDeviceType, credentialBackedUp } = verification.registrationInfo
  const name = input.name?.trim() || `Passkey ${new Date(ctx.clock.now()).toISOString().slice(0, 10)}`
  return inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now()
    const row = {
      id: newId(),
      account_id: account.id,
      credential_id: credential.id,
      public_key: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: JSON.stringify(credential.transports ?? []),
      device_type: credentialDeviceType,
      backed_up: credentialBackedUp ? 1 : 0,
      name,
      created_at: now,
      last_used_at: null,
    }
    try {
      await trx.insertInto('passkeys').values(row).execute()
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('passkey_invalid', { message: 'This passkey is already registered.', fields: { response: 'already_registered' } })
      throw err
    }
    await recordAudit(trx, { accountId: account.id, type: 'passkey.added', meta, at: now, details: { passkeyId: row.id, name } })
    await notifySecurity(ctx, trx, account, 'passkey_added', { username: account.username, name })
    return passkeyView(row)
  })
}

export async function renamePasskey(ctx: AppContext, accountId: string, passkeyId: string, name: string, meta: RequestMeta) {
  const row = await inTransaction(ctx, async (trx) => {
    const updated = await trx.updateTable('passkeys').set({ name: name.trim() }).where('id', '=', passkeyId).where('account_id', '=', accountId).returningAll().executeTakeFirst()
    if (updated) await recordAudit(trx, { accountId, type: 'passkey.renamed', meta, at: ctx.clock.now(), details: { passkeyId, name } })
    return updated
  })
  if (!row) throw new AppError('not_found', { message: 'No such passkey.' })
  return passkeyView(row)
}

export async function removePasskey(ctx: AppContext, accountId: string, passkeyId: string, meta: RequestMeta): Promise<void> {
  const removed = await inTransaction(ctx, async (trx) => {
    const result = await trx.deleteFrom('passkeys').where('id', '=', passkeyId).where('account_id', '=', accountId).executeTakeFirst()
    const ok = Number(result.numDeletedRows) === 1
    if (ok) await recordAudit(trx, { accountId, type: 'passkey.removed', meta, at: ctx.clock.now(), details: { passkeyId } })
    return ok
  })
  if (!removed) throw new AppError('not_found', { message: 'No such passkey.' })
}

/**
 * Options for an assertion. For passwordless sign-in no account is known yet, so the
 * authenticator offers its discoverable credentials; otherwise only the account's passkeys.
 */
export async function authenticationOptions(ctx: AppContext, purpose: Exclude<Purpose, 'register'>, accountId: string | null) {
  const allow = accountId
    ? await ctx.db.selectFrom('passkeys').select(['credential_id', 'transports']).where('account_id', '=', accountId).execute()
    : []
  if (accountId && allow.length === 0) throw new AppError('passkey_invalid', { message: 'This account has no passkey.' })
  const options = await (await simpleWebAuthn()).generateAuthenticationOptions({
    rpID: relyingParty(ctx).rpID,
    userVerification: purpose === 'signin' ? 'required' : 'preferred',
    allowCredentials: allow.map((p) => ({ id: p.credential_id, transports: JSON.parse(p.transports) })),
  })
  const challengeId = await storeChallenge(ctx, purpose, options.challenge, accountId)
  return { challengeId, options: options as unknown as Record<string, unknown> }
}

/** Verifies an assertion and returns the account it proves; the signature counter moves forward. */
export async function verifyPasskeyAssertion(
  ctx: AppContext,
  input: { challengeId: string; response: AuthenticationResponseJSON; purpose: Exclude<Purpose, 'register'>; accountId: string | null },
): Promise<{ accountId: string; passkeyId: string }> {
  const expectedChallenge = await takeChallenge(ctx, input.challengeId, input.purpose, input.accountId)
  const passkey = await ctx.db.selectFrom('passkeys').selectAll().where('credential_id', '=', String(input.response?.id ?? '')).executeTakeFirst()
  if (!passkey || (input.accountId !== null && passkey.account_id !== input.accountId)) throw new AppError('passkey_invalid', { fields: { response: 'unknown_credential' } })
  const rp = relyingParty(ctx)
  let verification
  try {
    verification = await (await simpleWebAuthn()).verifyAuthenticationResponse({
      response: input.response,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      credential: { id: passkey.credential_id, publicKey: Buffer.from(passkey.public_key, 'base64url'), counter: passkey.counter, transports: JSON.parse(passkey.transports) },
      // Alone, a passkey must prove two factors (possession + PIN/biometric).
      requireUserVerification: input.purpose === 'signin',
    })
  } catch (err) {
    throw new AppError('passkey_invalid', { fields: { response: 'invalid' }, cause: err })
  }
  if (!verification.verified) throw new AppError('passkey_invalid', { fields: { response: 'invalid' } })
  await ctx.db
    .updateTable('passkeys')
    .set({ counter: verification.authenticationInfo.newCounter, last_used_at: ctx.clock.now() })
    .where('id', '=', passkey.id)
    .execute()
  return { accountId: passkey.account_id, passkeyId: passkey.id }
}
