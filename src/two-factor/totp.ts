/**
 * RFC 6238 TOTP as SPEC §5 fixes it: 30-second steps, 6 digits, SHA-1 (what every
 * authenticator app supports), ±1 step of clock skew. Time comes from the injected clock.
 */
import { Secret, TOTP } from 'otpauth'

export const TOTP_PERIOD_SECONDS = 30
export const TOTP_DIGITS = 6
export const TOTP_SKEW_STEPS = 1

export function newTotpSecret(): string {
  // 160 bits, the HMAC-SHA1 block-friendly size RFC 4226 recommends.
  return new Secret({ size: 20 }).base32
}

function totp(secretBase32: string, label = '', issuer = ''): TOTP {
  return new TOTP({ issuer, label, algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, secret: Secret.fromBase32(secretBase32) })
}

export function otpauthUri(secretBase32: string, account: string, issuer: string): string {
  return totp(secretBase32, account, issuer).toString()
}

/**
 * The time step the code belongs to, or null. Callers must still refuse a step at or before
 * the last one used, so a code works once.
 */
export function matchingStep(secretBase32: string, code: string, nowMs: number): number | null {
  if (!/^\d{6}$/.test(code)) return null
  const delta = totp(secretBase32).validate({ token: code, timestamp: nowMs, window: TOTP_SKEW_STEPS })
  if (delta === null) return null
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS) + delta
}

export function codeAt(secretBase32: string, nowMs: number): string {
  return totp(secretBase32).generate({ timestamp: nowMs })
}
