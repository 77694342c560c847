/**
 * Shapes of the sign-in routes (./routes.ts): what a sign-in answers, and the browser's accounts.
 * Imports only typebox and other schema modules, so src/web takes the `Static<>` types without
 * pulling in server code (scripts/check-imports.ts checks that).
 */
import { Type, type Static } from 'typebox'
import type { AccountView } from '../accounts/schemas.ts'
import type { SessionView } from '../sessions/schemas.ts'

/** Signed in: the account, the new session, and its token when asked for one (`returnToken`). */
export const SignedIn = Type.Object({ account: Type.Ref('Account'), session: Type.Ref('Session'), token: Type.Optional(Type.String()) })
/** The password was right and the account has a second factor: finish with the ticket. */
export const TwoFactorRequired = Type.Object({
  twoFactorRequired: Type.Literal(true),
  ticket: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  methods: Type.Array(Type.String(), { description: '`totp`, `recovery_code`, and `passkey` when the account has one.' }),
})
/** The end of a sign-in a team's "require 2FA" held back (src/signin/two-factor-setup.ts): signed in, with the new recovery codes. */
export const SignedInWithNewTwoFactor = Type.Object({ account: Type.Ref('Account'), session: Type.Ref('Session'), token: Type.Optional(Type.String()), recoveryCodes: Type.Array(Type.String()) })
export const SignInDisavowed = Type.Object({ status: Type.Literal('session_revoked'), passwordResetSent: Type.Boolean() })
export const Reauthenticated = Type.Object({ reauthenticatedUntil: Type.String({ format: 'date-time' }), token: Type.Optional(Type.String()) })
export const BrowserAccount = Type.Object({ accountId: Type.String(), username: Type.String(), displayName: Type.String(), email: Type.String(), active: Type.Boolean() })
export const BrowserAccounts = Type.Object({ accounts: Type.Array(BrowserAccount) })

// A `Type.Ref` has no static type of its own: the registered schemas it names give it one.
export type SignedIn = Omit<Static<typeof SignedIn>, 'account' | 'session'> & { account: AccountView; session: SessionView }
export type TwoFactorRequired = Static<typeof TwoFactorRequired>
export type Reauthenticated = Static<typeof Reauthenticated>
export type BrowserAccount = Static<typeof BrowserAccount>
export type BrowserAccounts = Static<typeof BrowserAccounts>
export type SignInDisavowed = Static<typeof SignInDisavowed>

export type SignedInWithNewTwoFactor = Omit<Static<typeof SignedInWithNewTwoFactor>, 'account' | 'session'> & { account: AccountView; session: SessionView }
