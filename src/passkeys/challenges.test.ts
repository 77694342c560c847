/**
 * WebAuthn challenges are the nonce of every passkey ceremony: long, random, single use and
 * short-lived (ASVS 5.0 V6.7.2 asks for at least 64 bits, statistically unique).
 */
import { describe, expect, it } from 'vitest'
import { signedUpUser, testApp } from '../../test/helpers/app.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import type { PasskeyOptions } from './schemas.ts'

describe.each(DIALECTS)('passkey challenges on %s', (dialect) => {
  it('are at least 256 random bits, never repeated, and stored until used', async () => {
    const t = await testApp(dialect)
    const ada = await signedUpUser(t)
    const seen = new Set<string>()
    for (let i = 0; i < 10; i++) {
      const signin = await t.client().post<PasskeyOptions>('/api/v1/signin/passkey/options', {})
      expect(signin.status).toBe(200)
      const register = await ada.client.post<PasskeyOptions>('/api/v1/me/passkeys/options')
      expect(register.status).toBe(200)
      for (const challenge of [signin.body.options.challenge as string, register.body.options.challenge as string]) {
        expect(Buffer.from(challenge, 'base64url').length).toBeGreaterThanOrEqual(32)
        seen.add(challenge)
      }
    }
    expect(seen.size).toBe(20)
    const stored = await t.app.ctx.db.selectFrom('webauthn_challenges').select('challenge').execute()
    expect(new Set(stored.map((row) => row.challenge))).toEqual(seen)
  })
})
