import { describe, expect, it } from 'vitest'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { expectError, person, STRONG_PASSWORD, testApp, type TestApp, type TestClient } from '../../test/helpers/app.ts'
import type { AccountView, ConfirmationSent, UsernameAvailability } from '../accounts/schemas.ts'
import type { BrowserAccounts, SignedIn } from './schemas.ts'
import type { SessionsRevoked } from '../sessions/schemas.ts'

async function signUpAndIn(t: TestApp, browser: TestClient, stay = false) {
  const who = person('multi')
  await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })
  const res = await browser.post<SignedIn>('/api/v1/signin', { login: who.email, password: STRONG_PASSWORD, staySignedIn: stay })
  expect(res.status).toBe(200)
  return { ...who, accountId: res.body.account.id }
}

describe.each(DIALECTS)('several accounts in one browser on %s', (dialect) => {
  it('keeps each signed-in account in the one cookie, the newest active', async () => {
    const t = await testApp(dialect)
    const browser = t.client()
    const first = await signUpAndIn(t, browser)
    const second = await signUpAndIn(t, browser)
    expect(browser.cookie!.split('.')).toHaveLength(2)
    expect((await browser.get<AccountView>('/api/v1/me')).body.id).toBe(second.accountId)
    const list = await browser.get<BrowserAccounts>('/api/v1/browser/accounts')
    expect(list.body.accounts.map((a: { accountId: string; active: boolean }) => [a.accountId, a.active])).toEqual([[second.accountId, true], [first.accountId, false]])
  })

  it('switches the active account without signing anyone out', async () => {
    const t = await testApp(dialect)
    const browser = t.client()
    const first = await signUpAndIn(t, browser)
    await signUpAndIn(t, browser)
    const switched = await browser.post<AccountView>('/api/v1/browser/accounts/switch', { accountId: first.accountId })
    expect(switched.status).toBe(200)
    expect((await browser.get<AccountView>('/api/v1/me')).body.id).toBe(first.accountId)
    expect((await browser.get<BrowserAccounts>('/api/v1/browser/accounts')).body.accounts).toHaveLength(2)
  })

  it('cannot switch to an account that is not signed in here', async () => {
    const t = await testApp(dialect)
    const browser = t.client()
    await signUpAndIn(t, browser)
    const stranger = await signUpAndIn(t, t.client())
    const res = await browser.post<AccountView>('/api/v1/browser/accounts/switch', { accountId: stranger.accountId })
    expect(res.status).toBe(404)
  })

  it('signs out only the active account; the next one takes over', async () => {
    const t = await testApp(dialect)
    const browser = t.client()
    const first = await signUpAndIn(t, browser)
    await signUpAndIn(t, browser)
    expect((await browser.post('/api/v1/signout')).status).toBe(204)
    expect((await browser.get<AccountView>('/api/v1/me')).body.id).toBe(first.accountId)
    expect((await browser.get<BrowserAccounts>('/api/v1/browser/accounts')).body.accounts).toHaveLength(1)
  })

  it('signing in again as the same account replaces its old session instead of adding one', async () => {
    const t = await testApp(dialect)
    const browser = t.client()
    const first = await signUpAndIn(t, browser)
    await browser.post<SignedIn>('/api/v1/signin', { login: first.email, password: STRONG_PASSWORD })
    expect(browser.cookie!.split('.')).toHaveLength(1)
    const sessions = await t.app.ctx.db.selectFrom('sessions').select('id').where('account_id', '=', first.accountId).execute()
    expect(sessions).toHaveLength(1)
  })

  it('holds at most five accounts', async () => {
    const t = await testApp(dialect, { RATE_LIMIT_SIGNUP_PER_IP_PER_HOUR: '100' })
    const browser = t.client()
    for (let i = 0; i < 5; i++) await signUpAndIn(t, browser)
    const sixth = person('sixth')
    await t.client().post<ConfirmationSent>('/api/v1/signup', { ...sixth, acceptTerms: true })
    const res = await browser.post<SignedIn>('/api/v1/signin', { login: sixth.email, password: STRONG_PASSWORD })
    expectError(res, 409, 'too_many_accounts')
  })

  it('drops a revoked account from the cookie and keeps the others', async () => {
    const t = await testApp(dialect)
    const browser = t.client()
    const first = await signUpAndIn(t, browser)
    const second = await signUpAndIn(t, browser)
    const elsewhere = t.client()
    await elsewhere.post<SignedIn>('/api/v1/signin', { login: second.email, password: STRONG_PASSWORD })
    await elsewhere.delete<SessionsRevoked>('/api/v1/me/sessions?keepCurrent=true')
    const me = await browser.get<AccountView>('/api/v1/me')
    expect(me.status).toBe(401)
    expect((await browser.get<AccountView>('/api/v1/me')).body.id).toBe(first.accountId)
  })
})

describe.each(DIALECTS)('username availability on %s', (dialect) => {
  it('says whether a username is free, taken (with suggestions) or not allowed', async () => {
    const t = await testApp(dialect)
    const owner = await signUpAndIn(t, t.client())
    expect((await t.client().get<UsernameAvailability>('/api/v1/usernames/brand-new-name')).body).toEqual({ available: true, suggestions: [] })
    const taken = await t.client().get<UsernameAvailability>(`/api/v1/usernames/${owner.username.toUpperCase()}`)
    expect(taken.body).toMatchObject({ available: false, reason: 'taken' })
    expect(taken.body.suggestions.length).toBeGreaterThan(0)
    expect((await t.client().get<UsernameAvailability>('/api/v1/usernames/admin')).body).toMatchObject({ available: false, reason: 'reserved' })
    expect((await t.client().get<UsernameAvailability>('/api/v1/usernames/a_')).body).toMatchObject({ available: false, reason: 'too_short' })
  })
})
