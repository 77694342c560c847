/**
 * Re-authentication ("sudo mode"): confirming with a password, authenticator code or passkey
 * opens the 5-minute window that src/sessions/recent-auth.ts checks, and rotates the session
 * token (no fixation across privilege changes).
 */
import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import { verifyPasswordOf } from '../accounts/reauth-password.ts'
import type { AppContext } from '../context.ts'
import { hashToken, newToken } from '../crypto.ts'
import { verifyPasskeyAssertion } from '../passkeys/passkeys.ts'
import { verifySecondFactor } from '../two-factor/two-factor.ts'
import { REAUTH_WINDOW_MS } from '../sessions/recent-auth.ts'
import { evictCachedSessions, type Authenticated } from '../sessions/sessions.ts'

export type ReauthProof =
  | { password: string }
  | { code: string }
  | { passkey: { challengeId: string; response: AuthenticationResponseJSON } }

export async function reauthenticate(ctx: AppContext, auth: Authenticated, proof: ReauthProof, meta: RequestMeta): Promise<{ token: string; until: number }> {
  const { account, session } = auth
  let method: string
  if ('password' in proof) {
    await verifyPasswordOf(ctx, account, proof.password)
    method = 'password'
  } else if ('code' in proof) {
    // Six digits are guessable without a limit; same budget as the sign-in second step.
    const limitKey = `2fa:${account.id}`
    // Spent before the check so parallel guesses cannot all slip under the limit.
    await ctx.limits.consume('two_factor_account', limitKey)
    await verifySecondFactor(ctx, account, { code: proof.code })
    await ctx.limits.reset('two_factor_account', limitKey)
    method = 'totp'
  } else {
    await verifyPasskeyAssertion(ctx, { ...proof.passkey, purpose: 'reauthenticate', accountId: account.id })
    method = 'passkey'
  }
  const token = newToken()
  const now = ctx.clock.now()
  await ctx.db.transaction().execute(async (trx) => {
    await trx.updateTable('sessions').set({ token_hash: hashToken(token), reauthenticated_at: now }).where('id', '=', session.id).execute()
    await recordAudit(trx, { accountId: account.id, type: 'session.reauthenticated', meta, at: now, details: { sessionId: session.id, method } })
  })
  // The old token must fail at once, and the cached reauthenticated_at is stale.
  await evictCachedSessions(ctx, account.id)
  return { token, until: now + REAUTH_WINDOW_MS }
}
