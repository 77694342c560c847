/**
 * Team roles and the one map of who may do what (SPEC §7). Every team route names an action
 * from TEAM_PERMISSIONS in its guard; an action missing here cannot be granted (deny by default).
 */
import type { TeamRoleColumns } from '../db/schema.ts'
import type { Locale } from '../mail/templates.ts'

export const TEAM_ROLES = ['admin', 'billing', 'developer', 'community_manager'] as const
export type TeamRole = (typeof TEAM_ROLES)[number]

const EVERY_ROLE: readonly TeamRole[] = TEAM_ROLES

/**
 * SPEC §7's permission table, one action per thing a route does. Where the table is silent:
 * - `view_team`: the table gives "see members" to Developers and Community Managers; Admins
 *   manage members and Billing members buy seats for them, so every member sees the team page.
 * - `change_seats`: the table gives seats to Billing; until billing exists an Admin may set
 *   them too (the Free plan's team has no one else to do it).
 * - `invite_developers`: Developers and Community Managers; their invitation of any other
 *   role becomes a suggestion that an Admin approves.
 */
export const TEAM_PERMISSIONS = {
  view_team: EVERY_ROLE,
  leave_team: EVERY_ROLE,
  change_settings: ['admin'],
  manage_members: ['admin'],
  manage_invitations: ['admin'],
  invite_any_role: ['admin'],
  invite_developers: ['admin', 'developer', 'community_manager'],
  assign_billing_role: ['admin', 'billing'],
  change_seats: ['admin', 'billing'],
  read_activity: ['admin', 'community_manager'],
  // SPEC row "team settings, domains": email domains, discovery and join requests.
  manage_domains: ['admin'],
  manage_join_requests: ['admin'],
  // SPEC row "edit the team's public profile": description, website, public on/off.
  edit_public_profile: ['admin', 'community_manager'],
} as const satisfies Record<string, readonly TeamRole[]>

export type TeamAction = keyof typeof TEAM_PERMISSIONS

export function allows(roles: readonly TeamRole[], action: TeamAction): boolean {
  const granted: readonly TeamRole[] = TEAM_PERMISSIONS[action] ?? []
  return roles.some((role) => granted.includes(role))
}

const LABELS: Record<Locale, Record<TeamRole, string>> = {
  en: { admin: 'Admin', billing: 'Billing', developer: 'Developer', community_manager: 'Community Manager' },
  'zh-CN': { admin: '管理员', billing: '账单管理员', developer: '开发者', community_manager: '社区经理' },
}

export function describeRoles(roles: readonly TeamRole[], locale: Locale): string {
  return roles.map((role) => LABELS[locale][role]).join(locale === 'zh-CN' ? '、' : ', ')
}

/** "Only a member with the Admin or Billing role can do this." */
export function deniedMessage(action: TeamAction): string {
  const names = TEAM_PERMISSIONS[action].map((role) => LABELS.en[role])
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names[0]
  return `Only a member with the ${list} role can do this.`
}

/** A member whose only roles are Admin and/or Billing takes no paid seat (up to FREE_SUPPORT_MEMBERS). */
export function isSupportOnly(roles: readonly TeamRole[]): boolean {
  return roles.every((role) => role === 'admin' || role === 'billing')
}

export function rolesOf(row: TeamRoleColumns): TeamRole[] {
  return TEAM_ROLES.filter((role) => row[`role_${role}`] === 1)
}

export function roleColumns(roles: readonly TeamRole[]): TeamRoleColumns {
  return {
    role_admin: roles.includes('admin') ? 1 : 0,
    role_billing: roles.includes('billing') ? 1 : 0,
    role_developer: roles.includes('developer') ? 1 : 0,
    role_community_manager: roles.includes('community_manager') ? 1 : 0,
  }
}

/** Deduplicated, in the catalog's order, so two spellings of one set compare equal. */
export function normalizeRoles(roles: readonly TeamRole[]): TeamRole[] {
  return TEAM_ROLES.filter((role) => roles.includes(role))
}
