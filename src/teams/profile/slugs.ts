/**
 * Team URL slugs (SPEC §7): 3–48 lowercase letters, digits and hyphens, unique, reserved words
 * refused. Not starting or ending with a hyphen (where the SPEC is silent: the same rule as
 * usernames, so URLs stay readable). The rule itself is in ../limits.ts, which the web app shares.
 */
import { AppError } from '../../errors.ts'
import { slugProblem, TEAM_NAME_MAX_LENGTH } from '../limits.ts'

export function checkSlug(slug: string, field = 'slug'): string {
  const problem = slugProblem(slug)
  if (problem === 'reserved') throw new AppError('team_slug_invalid', { message: 'This team URL is reserved.', fields: { [field]: 'reserved' } })
  // The API's reasons stay too_short, too_long and invalid_characters (a hyphen at an end is one).
  if (problem) throw new AppError('team_slug_invalid', { fields: { [field]: problem === 'edge_hyphen' ? 'invalid_characters' : problem } })
  return slug
}

/** Trimmed; 1–50 characters after trimming (the route's schema refuses control characters). */
export function checkTeamName(name: string, field = 'name'): string {
  const trimmed = name.trim()
  if (!trimmed) throw new AppError('invalid_request', { message: 'The team needs a name.', fields: { [field]: 'required' } })
  if ([...trimmed].length > TEAM_NAME_MAX_LENGTH) throw new AppError('invalid_request', { message: 'A team name has at most 50 characters.', fields: { [field]: 'too_long' } })
  return trimmed
}
