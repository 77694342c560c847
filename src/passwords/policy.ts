/**
 * Password rules from NIST 800-63B-4 §3.1.1.2 and OWASP ASVS 5.0 V6.2: length 8–128 after
 * Unicode NFC normalisation, no composition rules, refused when common or breached.
 */
import { AppError } from '../errors.ts'
import { bundledCommonPasswords } from './common-passwords.ts'

export const PASSWORD_MIN_LENGTH = 8
export const PASSWORD_MAX_LENGTH = 128

export function normalizePassword(password: string): string {
  return password.normalize('NFC')
}

/** Counts code points, not UTF-16 units, so "🔑" is one character as a person sees it. */
function length(password: string): number {
  return [...password].length
}

export function checkNewPassword(password: string, field = 'password', context: string[] = []): string {
  const normalized = normalizePassword(password)
  const size = length(normalized)
  if (size < PASSWORD_MIN_LENGTH) throw new AppError('password_too_short', { fields: { [field]: 'too_short' } })
  if (size > PASSWORD_MAX_LENGTH) throw new AppError('password_too_long', { fields: { [field]: 'too_long' } })
  const lowered = normalized.toLowerCase()
  if (bundledCommonPasswords().has(normalized) || context.some((word) => word.length >= 3 && lowered === word.toLowerCase())) {
    throw new AppError('password_common', { fields: { [field]: 'common' } })
  }
  return normalized
}
