/**
 * Team URL slugs (SPEC §7): 3–48 lowercase letters, digits and hyphens, unique, reserved words
 * refused. Not starting or ending with a hyphen (where the SPEC is silent: the same rule as
 * usernames, so URLs stay readable).
 */
import { AppError } from '../../errors.ts'

export const SLUG_PATTERN = '^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$'
const SLUG_RE = new RegExp(SLUG_PATTERN)
export const TEAM_NAME_MAX_LENGTH = 50

// Words that would collide with app routes (/teams/new, /teams/settings) or impersonate the service.
const RESERVED = new Set([
  'admin', 'administrator', 'api', 'app', 'auth', 'billing', 'create', 'dashboard', 'docs',
  'edit', 'help', 'invitations', 'invite', 'join', 'latchkey', 'login', 'logout', 'me', 'new',
  'oauth', 'oidc', 'official', 'operator', 'root', 'security', 'settings', 'signin', 'signout',
  'signup', 'sso', 'staff', 'status', 'support', 'system', 'team', 'teams', 'www',
])

export function checkSlug(slug: string, field = 'slug'): string {
  if (!SLUG_RE.test(slug)) {
    const reason = slug.length < 3 ? 'too_short' : slug.length > 48 ? 'too_long' : 'invalid_characters'
    throw new AppError('team_slug_invalid', { fields: { [field]: reason } })
  }
  if (RESERVED.has(slug)) throw new AppError('team_slug_invalid', { message: 'This team URL is reserved.', fields: { [field]: 'reserved' } })
  return slug
}

/** Trimmed; 1–50 characters after trimming (the route's schema refuses control characters). */
export function checkTeamName(name: string, field = 'name'): string {
  const trimmed = name.trim()
  if (!trimmed) throw new AppError('invalid_request', { message: 'The team needs a name.', fields: { [field]: 'required' } })
  if ([...trimmed].length > TEAM_NAME_MAX_LENGTH) throw new AppError('invalid_request', { message: 'A team name has at most 50 characters.', fields: { [field]: 'too_long' } })
  return trimmed
}
