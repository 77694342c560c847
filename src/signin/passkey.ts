/** Passwordless sign-in with a discoverable passkey (SPEC §3). */
import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import { findAccountById, type Account } from '../accounts/queries.ts'
import type { AppContext } from '../context.ts'
import { AppError } from '../errors.ts'
import { verifyPasskeyAssertion } from '../passkeys/passkeys.ts'
import type { Session } from '../sessions/sessions.ts'
import { completeSignIn } from './complete.ts'
import { assertSigninMethodAllowed } from '../sso/policies.ts'
import type { SignInContext } from './password.ts'

/** Passwordless: a discoverable passkey with user verification is both factors at once. */
export async function signInWithPasskey(
  ctx: AppContext,
  input: SignInContext & { challengeId: string; response: AuthenticationResponseJSON },
): Promise<{ token: string; session: Session; account: Account }> {
  await ctx.limits.consume('signin_ip', input.meta.ip)
  const { accountId } = await verifyPasskeyAssertion(ctx, { challengeId: input.challengeId, response: input.response, purpose: 'signin', accountId: null })
  const account = await findAccountById(ctx.db, accountId)
  if (!account) throw new AppError('invalid_credentials')
  if (account.status !== 'active') throw new AppError('account_deactivated')
  // A passkey is Latchkey's own credential, like the password: a team that wants SSO refuses both.
  await assertSigninMethodAllowed(ctx, account.id, 'passkey')
  return completeSignIn(ctx, account, { ...input, method: 'passkey' })
}

