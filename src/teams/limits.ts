/**
 * The team limits and rules both sides check: the server enforces them (the domain modules and
 * the route schemas read them from here), the web app's team pages read them to hint before a
 * request is sent. No imports, so the web app can take them without any server code; one copy,
 * so the two cannot drift apart (scripts/check-imports.ts keeps it import-free).
 */

/** Team URL slugs (SPEC §7): 3–48 lowercase letters, digits and hyphens, not at either end. */
export const SLUG_MIN_LENGTH = 3
export const SLUG_MAX_LENGTH = 48
export const SLUG_PATTERN = '^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$'
const SLUG_RE = new RegExp(SLUG_PATTERN)

// Words that would collide with app routes (/teams/new, /teams/settings) or impersonate the service.
const RESERVED_SLUGS: ReadonlySet<string> = new Set([
  'admin', 'administrator', 'api', 'app', 'auth', 'billing', 'create', 'dashboard', 'docs',
  'edit', 'help', 'invitations', 'invite', 'join', 'latchkey', 'login', 'logout', 'me', 'new',
  'oauth', 'oidc', 'official', 'operator', 'root', 'security', 'settings', 'signin', 'signout',
  'signup', 'sso', 'staff', 'status', 'support', 'system', 'team', 'teams', 'www',
])

/**
 * What is wrong with a slug, or null. `edge_hyphen` (a hyphen at either end) is the web app's
 * finer word for it; the API reports it as `invalid_characters` (src/teams/profile/slugs.ts).
 */
export type SlugProblem = 'too_short' | 'too_long' | 'invalid_characters' | 'edge_hyphen' | 'reserved'
export function slugProblem(slug: string): SlugProblem | null {
  if (slug.length < SLUG_MIN_LENGTH) return 'too_short'
  if (slug.length > SLUG_MAX_LENGTH) return 'too_long'
  if (!/^[a-z0-9-]+$/.test(slug)) return 'invalid_characters'
  if (!SLUG_RE.test(slug)) return 'edge_hyphen'
  if (RESERVED_SLUGS.has(slug)) return 'reserved'
  return null
}

/** A team name: 1–50 characters after trimming. */
export const TEAM_NAME_MAX_LENGTH = 50
/** The public profile's description (plain text) and website address. */
export const DESCRIPTION_MAX_LENGTH = 500
export const WEBSITE_MAX_LENGTH = 200
/** Seats a team may buy. */
export const MAX_SEATS = 10_000
/** SPEC §7: a person belongs to at most this many teams. */
export const MAX_TEAMS_PER_PERSON = 10
/** One request invites at most this many addresses (a CSV file can carry more). */
export const MAX_INVITATIONS_PER_REQUEST = 50
/** A CSV of invitations: rows after the header, and characters. */
export const CSV_MAX_ROWS = 500
export const CSV_MAX_LENGTH = 200_000
/** People who may join through one invite link. */
export const INVITE_LINK_MAX_USES = 30
/** Email domains one team may add, and the longest domain name (DNS's limit). */
export const MAX_DOMAINS_PER_TEAM = 20
export const DOMAIN_MAX_LENGTH = 253
/** The discovery question a team asks, and the answer to it in a request to join. */
export const DISCOVERY_QUESTION_MAX_LENGTH = 200
export const JOIN_ANSWER_MAX_LENGTH = 1000
