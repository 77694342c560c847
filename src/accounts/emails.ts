import { domainToASCII } from 'node:url'
import { AppError } from '../errors.ts'
import { EMAIL_MAX_LENGTH } from './limits.ts'

// Deliberately permissive local part (RFC 5321 allows much); the confirmation link is the real check.
const EMAIL_RE = /^[^\s@<>()[\]\\,;:"]{1,64}@([^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]{2,})$/u

/** The address as stored and shown: trimmed, domain lowercased and IDNA-encoded. */
export function canonicalEmail(input: string, field = 'email'): string {
  const trimmed = input.trim()
  const match = EMAIL_RE.exec(trimmed)
  const domain = match ? domainToASCII(match[1].toLowerCase()) : ''
  if (!match || !domain || trimmed.length > EMAIL_MAX_LENGTH) {
    throw new AppError('email_invalid', { fields: { [field]: 'invalid' } })
  }
  const local = trimmed.slice(0, trimmed.lastIndexOf('@'))
  return `${local}@${domain}`
}

/** The uniqueness key: SPEC §2 makes email case-insensitive unique. */
export function normalizeEmail(canonical: string): string {
  return canonical.toLowerCase()
}
