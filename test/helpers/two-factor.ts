import { expect } from 'vitest'
import { signedUpUser, STRONG_PASSWORD, type TestApp } from './app.ts'
import { independentTotp } from './totp.ts'
import type { TwoFactorEnabled, TwoFactorSetup } from '../../src/two-factor/schemas.ts'

/** Signs a person up and turns 2FA on; returns the secret and the recovery codes. */
export async function userWithTwoFactor(t: TestApp) {
  const user = await signedUpUser(t)
  const setup = await user.client.post<TwoFactorSetup>('/api/v1/me/two-factor', { password: STRONG_PASSWORD })
  expect(setup.status).toBe(200)
  const secret: string = setup.body.secret
  const confirm = await user.client.post<TwoFactorEnabled>('/api/v1/me/two-factor/confirm', { code: independentTotp(secret, t.clock.now()) })
  expect(confirm.status).toBe(200)
  // Codes are single use per 30-second step: move on so the next sign-in has a fresh one.
  t.clock.advance(30_000)
  return { ...user, secret, recoveryCodes: confirm.body.recoveryCodes }
}
