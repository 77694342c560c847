/**
 * Password rules from NIST 800-63B-4 §3.1.1.2 and OWASP ASVS 5.0 V6.2: length 8–128 after
 * Unicode NFC normalisation, no composition rules, refused when common or breached or when
 * little is left of it besides words of its context.
 */
import { AppError } from '../errors.ts'
import { bundledCommonPasswords } from './common-passwords.ts'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './limits.ts'

export function normalizePassword(password: string): string {
  return password.normalize('NFC')
}

/** Counts code points, not UTF-16 units, so "🔑" is one character as a person sees it. */
function length(password: string): number {
  return [...password].length
}

/**
 * ASVS 5.0 V6.1.2 and V6.2.11: the words anyone would try first against an account here — the
 * product's name, the service's host name (`accounts.example.com` gives "accounts" and
 * "example"), the account's username and the local part of its email address. A password must
 * keep PASSWORD_MIN_LENGTH characters once they are taken out: "latchkey2026" and "Ada_Lovelace!"
 * (for ada_lovelace) are refused, "latchkey is my favourite app" is not.
 */
export const PRODUCT_WORDS = ['latchkey']

export function passwordContextWords(publicUrl: URL, account?: { username: string; email: string }): string[] {
  const host = publicUrl.hostname
  // An IP address names nothing; the last label of a name is its top-level domain.
  const labels = /^[\d.]+$|^\[/.test(host) ? [] : host.split('.').slice(0, host.includes('.') ? -1 : undefined)
  return [...PRODUCT_WORDS, ...labels, ...(account ? [account.username, account.email.split('@')[0]] : [])]
}

/** The password as it will be hashed (NFC), or a field error saying why it may not be used. */
export function checkNewPassword(password: string, field = 'password', contextWords: string[] = []): string {
  const normalized = normalizePassword(password)
  const size = length(normalized)
  if (size < PASSWORD_MIN_LENGTH) throw new AppError('password_too_short', { fields: { [field]: 'too_short' } })
  if (size > PASSWORD_MAX_LENGTH) throw new AppError('password_too_long', { fields: { [field]: 'too_long' } })
  // Words shorter than 3 characters would take too much out of ordinary passwords.
  const rest = contextWords.filter((word) => word.length >= 3).reduce((left, word) => left.replaceAll(word.normalize('NFC').toLowerCase(), ''), normalized.toLowerCase())
  if (bundledCommonPasswords().has(normalized) || length(rest) < PASSWORD_MIN_LENGTH) {
    throw new AppError('password_common', { fields: { [field]: 'common' } })
  }
  return normalized
}
