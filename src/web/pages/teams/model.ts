/**
 * What the team pages know of the team API (src/teams/routes.ts): its shapes and limits
 * (src/teams/schemas.ts, src/teams/limits.ts), and the server's own permission map
 * (src/teams/permission-map.ts), used only to hide or disable what a person's roles do not
 * allow. The server decides; its refusals are still shown (see teamErrorMessage).
 */
import type { TFunction } from 'i18next'
import { ApiError } from '../../api.ts'

export { TEAM_ROLES, type TeamRole, type TeamAction } from '../../../teams/permission-map.ts'
import { allows, TEAM_PERMISSIONS, type TeamAction, type TeamRole } from '../../../teams/permission-map.ts'

export function can(roles: readonly TeamRole[] | undefined, action: TeamAction): boolean {
  return allows(roles ?? [], action)
}

/** The API's shapes, from the server's own schemas (no server code comes with them). */
export type { ActivityEvent, Invitation, Member, SeatUsage, TeamPage, TeamSummary } from '../../../teams/schemas.ts'
/** The limits and the slug rule the server checks, so hints here match its refusals. */
export { slugProblem, TEAM_NAME_MAX_LENGTH, type SlugProblem } from '../../../teams/limits.ts'
import type { SeatUsage } from '../../../teams/schemas.ts'
import { SLUG_MAX_LENGTH } from '../../../teams/limits.ts'

/** A slug suggested from a team name: lowercase ASCII words joined by hyphens. */
export function slugFromName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_MAX_LENGTH)
    .replace(/-+$/, '')
}

/** Addresses out of free text or a CSV file: anything that looks like an address, in order, once each. */
export function emailsIn(text: string): string[] {
  const found = text.match(/[^\s,;<>"'()]+@[^\s,;<>"'()]+\.[^\s,;<>"'()]+/g) ?? []
  const seen = new Set<string>()
  return found.filter((email) => {
    const key = email.toLowerCase()
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/**
 * The server's refusal in the page's language when the code is one the team pages know;
 * otherwise the server's own (English) message, so nothing is ever silently dropped.
 */
export function teamErrorMessage(t: TFunction, error: ApiError): string {
  const body = error.body as ApiError['body'] & { reason?: string; action?: string }
  if (error.code === 'invitation_invalid' && body.reason) {
    const key = `teams.errors.invitation_${body.reason}`
    const text = t(key)
    if (text !== key) return text
  }
  if (error.code === 'team_permission_denied' && typeof body.action === 'string' && body.action in TEAM_PERMISSIONS) {
    const roles: readonly TeamRole[] = TEAM_PERMISSIONS[body.action as TeamAction]
    return t('teams.errors.permissionRoles', { roles: roles.map((r) => t(`teams.roles.${r}`)).join(t('teams.orSeparator')) })
  }
  const { seats, requested } = body as { seats?: SeatUsage; requested?: number }
  const key = `teams.errors.${error.code}`
  const text = t(key, seats ? { bought: seats.bought, taken: seats.takenByMembers, held: seats.heldByInvitations, free: seats.available, requested: requested ?? 1 } : {})
  return text === key ? error.message : text
}

export function roleList(t: TFunction, roles: readonly TeamRole[]): string {
  return roles.map((r) => t(`teams.roles.${r}`)).join(t('teams.listSeparator'))
}
