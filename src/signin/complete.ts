/**
 * The end of every sign-in method: the session is created, the sign-in recorded, and a device
 * not seen before is remembered and warned about (src/signin/new-device.ts).
 */
import { sql } from 'kysely'
import { auditRow, recordAudit } from '../audit/audit.ts'
import type { Account } from '../accounts/queries.ts'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { hashToken } from '../crypto.ts'
import { createSession, newSession, sessionLifetimeCapMs } from '../sessions/sessions.ts'
import { rememberDevice, warnOfNewDevice } from './new-device.ts'
import type { SignInContext } from './password.ts'

/** Creates the session, records the sign-in and warns about a device not seen before. */
export async function completeSignIn(ctx: AppContext, account: Account, input: SignInContext & { method: string }) {
  const deviceHash = hashToken(input.deviceKey)
  if (ctx.dialect === 'postgres') {
    const done = await signInOnKnownDevice(ctx, account, input, deviceHash, await sessionLifetimeCapMs(ctx, ctx.db, account.id))
    if (done) return done
  }
  return inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now()
    const created = await createSession(ctx, trx, { accountId: account.id, staySignedIn: input.staySignedIn, kind: input.kind, meta: input.meta })
    await recordAudit(trx, { accountId: account.id, type: 'signin.succeeded', meta: input.meta, at: now, details: { sessionId: created.session.id, method: input.method } })
    // The very first device is the one that signed up: nothing to warn about.
    if ((await rememberDevice(trx, account.id, deviceHash, now)) === 'new') await warnOfNewDevice(ctx, trx, account, created.session, now)
    return { ...created, account }
  })
}

/**
 * The common sign-in, from a device the account has used before, as one PostgreSQL statement
 * instead of a five-statement transaction: data-modifying CTEs commit together, and the two
 * inserts read from the device update, so on a device not seen before nothing is written and
 * the caller takes the full path (new-device record and warning).
 */
async function signInOnKnownDevice(ctx: AppContext, account: Account, input: SignInContext & { method: string }, deviceHash: string, maxLifetimeMs: number | null) {
  const now = ctx.clock.now()
  const created = newSession(ctx, { accountId: account.id, staySignedIn: input.staySignedIn, kind: input.kind, meta: input.meta, maxLifetimeMs })
  const audit = auditRow({ accountId: account.id, type: 'signin.succeeded', meta: input.meta, at: now, details: { sessionId: created.session.id, method: input.method } })
  const { rows } = await sql<{ known: number }>`
    with device as (
      update known_devices set last_seen_at = ${now}
      where account_id = ${account.id} and device_hash = ${deviceHash}
      returning account_id
    ),
    new_session as (${insertFrom('sessions', created.session)}),
    new_audit as (${insertFrom('audit_events', audit)})
    select count(*)::int as known from device`.execute(ctx.db)
  return rows[0]?.known ? { ...created, account } : undefined
}

/** `insert into <table> (...) select ... from device`, each value cast to its column's kind. */
function insertFrom(table: string, row: Record<string, unknown>) {
  // Parameters in a select list have no type of their own; absent (null) columns keep their default.
  const entries = Object.entries(row).filter(([, value]) => value != null)
  const columns = sql.join(entries.map(([column]) => sql.ref(column)))
  const values = sql.join(entries.map(([, value]) => (typeof value === 'number' ? sql`${value}::bigint` : sql`${value}::text`)))
  return sql`insert into ${sql.table(table)} (${columns}) select ${values} from device`
}

