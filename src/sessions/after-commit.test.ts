/**
 * Work that must follow a commit (ARCHITECTURE "Layout by capability"): registered on the
 * transaction with `afterCommit`, run by `inTransaction` once it has committed, never when it
 * rolls back. Revoking sessions registers the cache eviction there, so a revocation inside a
 * caller's transaction reaches the session cache only after its commit.
 */
import { describe, expect, it } from 'vitest'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { signedUpUser, testApp, type TestApp } from '../../test/helpers/app.ts'
import { afterCommit, inTransaction } from '../context.ts'
import { hashToken } from '../crypto.ts'
import { revokeAllSessions } from './sessions.ts'
import type { SignedIn } from '../signin/schemas.ts'
import type { AccountView } from '../accounts/schemas.ts'

/** A bearer session whose cached copy is in the session cache (one authenticated request fills it). */
async function cachedSession(t: TestApp) {
  const user = await signedUpUser(t)
  const signin = await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: user.password, returnToken: true })
  const token = signin.body.token as string
  const api = t.client({ origin: null })
  api.bearer = token
  expect((await api.get<AccountView>('/api/v1/me')).status).toBe(200)
  const tokenHash = hashToken(token)
  const isCached = () => t.app.ctx.sessionCache.get(tokenHash, t.clock.now()) !== undefined
  expect(isCached()).toBe(true)
  return { accountId: user.accountId, api, isCached }
}

describe.each(DIALECTS)('work after a commit on %s', (dialect) => {
  it('runs registered work once the transaction has committed, where other connections see its writes', async () => {
    const t = await testApp(dialect)
    const { ctx } = t.app
    let seenAfterCommit: unknown = 'not run'
    await inTransaction(ctx, async (trx) => {
      await trx.insertInto('server_secrets').values({ name: 'after_commit_probe', value: 'x', created_at: t.clock.now() }).execute()
      await afterCommit(trx, 'probe', async () => {
        // ctx.db, not trx: on PostgreSQL another pooled connection, which sees only committed rows.
        seenAfterCommit = (await ctx.db.selectFrom('server_secrets').select('value').where('name', '=', 'after_commit_probe').executeTakeFirst())?.value
      })
    })
    expect(seenAfterCommit).toBe('x')
  })

  it('never runs work registered in a transaction that rolls back', async () => {
    const t = await testApp(dialect)
    const ran: string[] = []
    const failing = inTransaction(t.app.ctx, async (trx) => {
      await afterCommit(trx, 'first', () => void ran.push('first'))
      await afterCommit(trx, 'second', () => void ran.push('second'))
      throw new Error('rolled back')
    })
    await expect(failing).rejects.toThrow('rolled back')
    expect(ran).toEqual([])
  })

  it('runs work with the same key once per transaction', async () => {
    const t = await testApp(dialect)
    const ran: string[] = []
    await inTransaction(t.app.ctx, async (trx) => {
      for (let i = 0; i < 3; i++) await afterCommit(trx, 'same', () => void ran.push('same'))
    })
    expect(ran).toEqual(['same'])
  })

  it('refuses to register on a transaction not opened with inTransaction', async () => {
    const t = await testApp(dialect)
    const registering = t.app.ctx.db.transaction().execute((trx) => afterCommit(trx, 'early', () => undefined))
    await expect(registering).rejects.toThrow(/inTransaction/)
  })

  it('evicts a revoked session from the cache only after the revoking transaction commits', async () => {
    const t = await testApp(dialect)
    const session = await cachedSession(t)
    let cachedBeforeCommit: boolean | undefined
    await inTransaction(t.app.ctx, async (trx) => {
      await revokeAllSessions(t.app.ctx, trx, { accountId: session.accountId })
      cachedBeforeCommit = session.isCached()
    })
    expect(cachedBeforeCommit).toBe(true)
    expect(session.isCached()).toBe(false)
    expect((await session.api.get<AccountView>('/api/v1/me')).status).toBe(401)
  })

  it('keeps the session, cached and working, when the revoking transaction rolls back', async () => {
    const t = await testApp(dialect)
    const session = await cachedSession(t)
    const failing = inTransaction(t.app.ctx, async (trx) => {
      await revokeAllSessions(t.app.ctx, trx, { accountId: session.accountId })
      throw new Error('rolled back')
    })
    await expect(failing).rejects.toThrow('rolled back')
    expect(session.isCached()).toBe(true)
    expect((await session.api.get<AccountView>('/api/v1/me')).status).toBe(200)
  })
})
