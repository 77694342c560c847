/**
 * Single-use emailed tokens: confirmation (24 h), email change (24 h), password reset (1 h).
 * Only the SHA-256 hash is stored. Consuming is one conditional UPDATE, so two clicks racing
 * on the same link cannot both succeed.
 */
import type { Clock } from '../clock.ts'
import { DAY_MS, HOUR_MS } from '../clock.ts'
import { hashToken, newId, newToken } from '../crypto.ts'
import type { AppContext } from '../context.ts'
import type { Queryable, TokenPurpose } from '../db/schema.ts'
import { credentialsChanged } from './lifecycle.ts'

export const TOKEN_LIFETIME_MS: Record<TokenPurpose, number> = {
  email_confirm: 24 * HOUR_MS,
  email_change: 24 * HOUR_MS,
  password_reset: HOUR_MS,
  // "This wasn't me" in a new-device email: useful for as long as someone might read it late.
  signin_disavow: 7 * DAY_MS,
}

/** Issues a new token and retires any unused one of the same purpose: only the newest link works. */
export async function issueToken(
  db: Queryable,
  clock: Clock,
  input: { accountId: string; purpose: TokenPurpose; email?: string; sessionId?: string; newAccount?: boolean },
): Promise<string> {
  const now = clock.now()
  // Each new-device email keeps its own link; for every other purpose only the newest works.
  // An account created in this transaction has no earlier link to retire.
  if (input.purpose !== 'signin_disavow' && !input.newAccount) {
    await db
      .deleteFrom('account_tokens')
      .where('account_id', '=', input.accountId)
      .where('purpose', '=', input.purpose)
      .where('used_at', 'is', null)
      .execute()
  }
  const token = newToken()
  await db
    .insertInto('account_tokens')
    .values({
      id: newId(),
      account_id: input.accountId,
      purpose: input.purpose,
      token_hash: hashToken(token),
      email: input.email ?? null,
      session_id: input.sessionId ?? null,
      created_at: now,
      expires_at: now + TOKEN_LIFETIME_MS[input.purpose],
      used_at: null,
    })
    .execute()
  return token
}

/**
 * Who an emailed link belongs to, without spending it (null when it is unknown): lets a page
 * check a new password against the account's own words before the link is used up.
 */
export async function peekTokenAccount(db: Queryable, token: string): Promise<{ username: string; email: string } | null> {
  if (token.length !== 43) return null
  const row = await db
    .selectFrom('account_tokens')
    .innerJoin('accounts', 'accounts.id', 'account_tokens.account_id')
    .select(['accounts.username', 'accounts.email'])
    .where('account_tokens.token_hash', '=', hashToken(token))
    .executeTakeFirst()
  return row ?? null
}

export async function consumeToken(db: Queryable, clock: Clock, token: string, purposes: TokenPurpose[]) {
  if (token.length !== 43) return undefined
  const now = clock.now()
  return db
    .updateTable('account_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', hashToken(token))
    .where('purpose', 'in', purposes)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['account_id', 'purpose', 'email', 'session_id'])
    .executeTakeFirst()
}

// Used tokens are kept for a day so a second click can say "already used" in the audit trail,
// then removed with the expired ones.
export async function pruneTokens(db: Queryable, clock: Clock): Promise<void> {
  await db.deleteFrom('account_tokens').where('expires_at', '<', clock.now() - DAY_MS).execute()
}

/** The newest unused, unexpired token of `purpose`, if any (the pending email change, for one). */
export async function openToken(db: Queryable, clock: Clock, accountId: string, purpose: TokenPurpose) {
  return db
    .selectFrom('account_tokens')
    .select(['email', 'created_at', 'expires_at'])
    .where('account_id', '=', accountId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', clock.now())
    .orderBy('created_at', 'desc')
    .executeTakeFirst()
}

/**
 * After a credential change (password changed or reset, 2FA turned on, a sign-in disavowed),
 * links and sign-in tickets issued before it must stop working: a pending email change or an
 * open 2FA ticket would otherwise let whoever started it finish the takeover.
 * Returns the address of the email change this cancelled, if one was waiting, so the person
 * can be told (its link would otherwise just say "invalid or expired").
 */
export async function retireOutstandingLinks(ctx: AppContext, db: Queryable, accountId: string): Promise<{ cancelledEmailChange: string | null }> {
  const pending = await openToken(db, ctx.clock, accountId, 'email_change')
  await db
    .deleteFrom('account_tokens')
    .where('account_id', '=', accountId)
    .where('purpose', 'in', ['email_change', 'password_reset', 'signin_disavow'])
    .where('used_at', 'is', null)
    .execute()
  await credentialsChanged.notify(ctx, db, accountId)
  return { cancelledEmailChange: pending?.email ?? null }
}
