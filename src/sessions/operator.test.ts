/**
 * `latchkey sessions end`: the operator signs one account, or everyone, out everywhere from a
 * process of its own, and the running server refuses those sessions at once (its cache hears the
 * evictions) without keeping anyone from signing in again.
 */
import { describe, expect, it, vi } from 'vitest'
import { openContext } from '../app.ts'
import { OPERATOR } from '../audit/audit.ts'
import { findAccount } from '../accounts/accounts.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { signedUpUser, testApp, type TestApp } from '../../test/helpers/app.ts'
import { discover, signInApp } from '../../test/helpers/oauth.ts'
import { endEverySession, endSessionsOf } from './operator.ts'
import type { SignedIn } from '../signin/schemas.ts'
import type { AccountView } from '../accounts/schemas.ts'

async function status(t: TestApp, token: string): Promise<number> {
  return (await t.app.server.inject({ method: 'GET', url: '/api/v1/me', headers: { host: t.app.ctx.config.publicUrl.host, authorization: `Bearer ${token}` } })).statusCode
}

/** A person with a browser session, a token session and an app sign-in, each checked (and cached) once. */
async function signedInThreeWays(t: TestApp) {
  const user = await signedUpUser(t)
  const token = (await t.client({ origin: null }).post<SignedIn>('/api/v1/signin', { login: user.email, password: user.password, returnToken: true })).body.token as string
  const app = (await signInApp(t, await discover(t), user.client)).tokens.access_token
  for (const bearer of [token, app]) expect(await status(t, bearer)).toBe(200)
  expect((await user.client.get<AccountView>('/api/v1/me')).status).toBe(200)
  return { ...user, token, app }
}

/** What the CLI does: a context of its own on the same database, no HTTP server. */
async function asOperator<T>(t: TestApp, work: (ctx: Awaited<ReturnType<typeof openContext>>['ctx']) => Promise<T>): Promise<T> {
  const cli = await openContext(t.app.ctx.config, { clock: t.clock })
  try {
    return await work(cli.ctx)
  } finally {
    await cli.close()
  }
}

describe.each(DIALECTS)('the operator ending sessions on %s', (dialect) => {
  it('signs one account out everywhere, app sign-ins too, and leaves everyone else signed in', async () => {
    const t = await testApp(dialect)
    const ada = await signedInThreeWays(t)
    const bob = await signedInThreeWays(t)
    const result = await asOperator(t, async (ctx) => endSessionsOf(ctx, await findAccount(ctx.db, ada.username), OPERATOR))
    expect(result).toMatchObject({ account: { id: ada.accountId }, sessionsEnded: 3 })
    await vi.waitFor(async () => {
      expect(await status(t, ada.token)).toBe(401)
      expect(await status(t, ada.app)).toBe(401)
      expect((await ada.client.get<AccountView>('/api/v1/me')).status).toBe(401)
    }, { timeout: 5000, interval: 20 })
    for (const bearer of [bob.token, bob.app]) expect(await status(t, bearer)).toBe(200)
    // Not deactivated: the person signs in again.
    expect((await t.client().post<SignedIn>('/api/v1/signin', { login: ada.email, password: ada.password })).status).toBe(200)
    const log = await t.app.ctx.db.selectFrom('audit_events').select(['type', 'details']).where('account_id', '=', ada.accountId).where('type', '=', 'sessions.revoked_all').execute()
    expect(log.map((row) => JSON.parse(String(row.details)))).toEqual([{ sessionsRevoked: 3, byOperator: true }])
  })

  it('signs every account out everywhere with --all, and says how many', async () => {
    const t = await testApp(dialect)
    const people = [await signedInThreeWays(t), await signedInThreeWays(t)]
    const result = await asOperator(t, (ctx) => endEverySession(ctx, OPERATOR))
    expect(result).toEqual({ accounts: 2, sessionsEnded: 6 })
    await vi.waitFor(async () => {
      for (const person of people) {
        expect(await status(t, person.token)).toBe(401)
        expect(await status(t, person.app)).toBe(401)
      }
    }, { timeout: 5000, interval: 20 })
    expect((await t.client().post<SignedIn>('/api/v1/signin', { login: people[0].email, password: people[0].password })).status).toBe(200)
    expect(await asOperator(t, (ctx) => endEverySession(ctx, OPERATOR))).toEqual({ accounts: 1, sessionsEnded: 1 })
  })
})
