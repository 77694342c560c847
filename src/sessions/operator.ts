/**
 * The operator ends sessions without deactivating anyone (ASVS 5.0 V7.4.5): every session of one
 * account, or of every account (a leaked database backup, a compromised proxy). App sign-ins end
 * with them (their OAuth grants go too). `latchkey sessions end` runs this in a process of its
 * own; each account's eviction, published after its commit, reaches the running servers.
 */
import { findAccount } from '../accounts/accounts.ts'
import { recordAudit, type RequestMeta } from '../audit/audit.ts'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import type { Account } from '../accounts/queries.ts'
import { evictCachedSessions, revokeAllSessions } from './sessions.ts'

/** Accounts whose sessions are ended per round when ending everyone's. */
const ACCOUNTS_PER_ROUND = 500

async function endAccountSessions(ctx: AppContext, accountId: string, meta: RequestMeta): Promise<number> {
  const ended = await inTransaction(ctx, async (trx) => {
    const count = await revokeAllSessions(trx, { accountId })
    if (count > 0) await recordAudit(trx, { accountId, type: 'sessions.revoked_all', meta, at: ctx.clock.now(), details: { sessionsRevoked: count, byOperator: true } })
    return count
  })
  await evictCachedSessions(ctx, accountId)
  return ended
}

export async function endSessionsOf(ctx: AppContext, login: string, meta: RequestMeta): Promise<{ account: Account; sessionsEnded: number }> {
  const account = await findAccount(ctx.db, login)
  return { account, sessionsEnded: await endAccountSessions(ctx, account.id, meta) }
}

/** Every session that existed when it started; people may sign in again meanwhile and stay in. */
export async function endEverySession(ctx: AppContext, meta: RequestMeta): Promise<{ accounts: number; sessionsEnded: number }> {
  const startedAt = ctx.clock.now()
  let accounts = 0
  let sessionsEnded = 0
  for (;;) {
    const batch = await ctx.db.selectFrom('sessions').select('account_id').distinct().where('created_at', '<=', startedAt).limit(ACCOUNTS_PER_ROUND).execute()
    if (batch.length === 0) return { accounts, sessionsEnded }
    for (const { account_id: accountId } of batch) {
      sessionsEnded += await endAccountSessions(ctx, accountId, meta)
      accounts += 1
    }
  }
}
