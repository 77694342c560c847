/**
 * What the team pages know of the team API (src/teams/routes.ts): its shapes, and the server's
 * own permission map (src/teams/permission-map.ts), used only to hide or disable what a
 * person's roles do not allow. The server decides; its refusals are still shown (see teamErrorMessage).
 */
import type { TFunction } from 'i18next'
import { ApiError } from '../../api.ts'

export { TEAM_ROLES, type TeamRole, type TeamAction } from '../../../teams/permission-map.ts'
import { allows, TEAM_PERMISSIONS, type TeamAction, type TeamRole } from '../../../teams/permission-map.ts'

export function can(roles: readonly TeamRole[] | undefined, action: TeamAction): boolean {
  return allows(roles ?? [], action)
}

export interface TeamSummary { slug: string; name: string; roles: TeamRole[]; memberCount: number; joinedAt: string; logoUrl?: string | null }
export interface SeatUsage { bought: number; takenByMembers: number; heldByInvitations: number; available: number; supportMembers: number; freeSupportMembers: number }
export interface Member { accountId: string; username: string; displayName: string; roles: TeamRole[]; supportMember: boolean; joinedAt: string; avatarUrl?: string | null }
export interface Invitation { id: string; email: string; roles: TeamRole[]; status: 'pending' | 'suggested'; invitedBy: string | null; createdAt: string; sentAt: string | null }
export interface TeamPageData {
  slug: string
  name: string
  createdAt: string
  myRoles: TeamRole[]
  seats: SeatUsage
  members: Member[]
  invitations: Invitation[]
  suggestions: Invitation[]
  logoUrl?: string | null
}
export interface ActivityEvent { id: string; type: string; actor: { accountId: string; username: string; formerUsername?: string } | null; ip: string | null; at: string; details: Record<string, unknown> }

/** Same rule as src/teams/slugs.ts: 3–48 lowercase letters, digits, hyphens; not at either end; not reserved. */
export const SLUG_RE = /^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$/
const RESERVED = new Set([
  'admin', 'administrator', 'api', 'app', 'auth', 'billing', 'create', 'dashboard', 'docs',
  'edit', 'help', 'invitations', 'invite', 'join', 'latchkey', 'login', 'logout', 'me', 'new',
  'oauth', 'oidc', 'official', 'operator', 'root', 'security', 'settings', 'signin', 'signout',
  'signup', 'sso', 'staff', 'status', 'support', 'system', 'team', 'teams', 'www',
])
export const TEAM_NAME_MAX = 50

export type SlugProblem = 'too_short' | 'too_long' | 'invalid_characters' | 'edge_hyphen' | 'reserved'
export function slugProblem(slug: string): SlugProblem | null {
  if (slug.length < 3) return 'too_short'
  if (slug.length > 48) return 'too_long'
  if (!/^[a-z0-9-]+$/.test(slug)) return 'invalid_characters'
  if (!SLUG_RE.test(slug)) return 'edge_hyphen'
  if (RESERVED.has(slug)) return 'reserved'
  return null
}

/** A slug suggested from a team name: lowercase ASCII words joined by hyphens. */
export function slugFromName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
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
