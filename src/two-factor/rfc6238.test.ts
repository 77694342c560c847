/** RFC 6238 Appendix B test vectors (SHA-1), and an independent TOTP to cross-check otpauth. */
import { Secret, TOTP } from 'otpauth'
import { describe, expect, it } from 'vitest'
import { codeAt, matchingStep, newTotpSecret } from './totp.ts'
import { independentTotp } from '../../test/helpers/totp.ts'

const RFC_SECRET = Secret.fromLatin1('12345678901234567890')
const VECTORS: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
]

describe('RFC 6238 test vectors (SHA-1, 8 digits)', () => {
  it.each(VECTORS)('otpauth gives the published code at T=%i', (seconds, code) => {
    const totp = new TOTP({ algorithm: 'SHA1', digits: 8, period: 30, secret: RFC_SECRET })
    expect(totp.generate({ timestamp: seconds * 1000 })).toBe(code)
  })

  it.each(VECTORS)('the independent implementation gives the published code at T=%i', (seconds, code) => {
    expect(independentTotp(RFC_SECRET.base32, seconds * 1000, 8)).toBe(code)
  })
})

describe("Latchkey's TOTP", () => {
  it('agrees with the independent implementation on fresh secrets', () => {
    for (let i = 0; i < 20; i++) {
      const secret = newTotpSecret()
      const now = Date.UTC(2026, 0, 1) + i * 7919_000
      expect(codeAt(secret, now)).toBe(independentTotp(secret, now))
    }
  })

  it('makes 160-bit secrets', () => {
    expect(newTotpSecret()).toMatch(/^[A-Z2-7]{32}$/)
  })

  it('accepts one step of clock skew either way, and no more', () => {
    const secret = newTotpSecret()
    const now = Date.UTC(2026, 5, 1, 12, 0, 15)
    const step = Math.floor(now / 30_000)
    expect(matchingStep(secret, independentTotp(secret, now), now)).toBe(step)
    expect(matchingStep(secret, independentTotp(secret, now - 30_000), now)).toBe(step - 1)
    expect(matchingStep(secret, independentTotp(secret, now + 30_000), now)).toBe(step + 1)
    expect(matchingStep(secret, independentTotp(secret, now - 60_000), now)).toBeNull()
    expect(matchingStep(secret, independentTotp(secret, now + 60_000), now)).toBeNull()
  })

  it('refuses codes that are not six digits', () => {
    const secret = newTotpSecret()
    expect(matchingStep(secret, '12345', Date.now())).toBeNull()
    expect(matchingStep(secret, 'abcdef', Date.now())).toBeNull()
  })
})
