import { describe, expect, it } from 'vitest'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { expectErrorCode, signedUpUser, STRONG_PASSWORD, testApp } from '../../test/helpers/app.ts'
import type { SecurityLog } from './schemas.ts'
import type { SignedIn } from '../signin/schemas.ts'
import type { PasswordChanged } from '../accounts/schemas.ts'

describe.each(DIALECTS)('the personal security log on %s', (dialect) => {
  it('lists my security events newest first, with IP and device, and pages through them', async () => {
    const t = await testApp(dialect)
    const user = await signedUpUser(t)
    t.clock.advance(1000)
    await t.client({ ip: '203.0.113.77' }).post<SignedIn>('/api/v1/signin', { login: user.email, password: 'wrong password!' })
    t.clock.advance(1000)
    await user.client.post<PasswordChanged>('/api/v1/me/password', { currentPassword: STRONG_PASSWORD, newPassword: 'a brand new passphrase' })
    const first = await user.client.get<SecurityLog>('/api/v1/me/security-log?limit=2')
    expect(first.status).toBe(200)
    expect(first.body.events.map((e: { type: string }) => e.type)).toEqual(['account.password_changed', 'signin.failed'])
    expect(first.body.events[1]).toMatchObject({ ip: '203.0.113.77' })
    const rest = await user.client.get<SecurityLog>(`/api/v1/me/security-log?limit=50&cursor=${encodeURIComponent(first.body.nextCursor!)}`)
    const types = rest.body.events.map((e: { type: string }) => e.type)
    expect(types).toEqual(expect.arrayContaining(['signin.succeeded', 'account.email_confirmed', 'account.created']))
    expect(types).not.toContain('account.password_changed')
    expect(rest.body.nextCursor).toBeNull()
  })

  it("shows nobody else's events and needs a session", async () => {
    const t = await testApp(dialect)
    const alice = await signedUpUser(t)
    const bob = await signedUpUser(t)
    await t.client().post<SignedIn>('/api/v1/signin', { login: bob.email, password: 'wrong password!' })
    const mine = await alice.client.get<SecurityLog>('/api/v1/me/security-log')
    expect(mine.body.events.some((e: { type: string }) => e.type === 'signin.failed')).toBe(false)
    expect((await t.client().get<SecurityLog>('/api/v1/me/security-log')).status).toBe(401)
    expectErrorCode(await alice.client.get<SecurityLog>('/api/v1/me/security-log?cursor=nonsense'), 'invalid_request')
  })
})
