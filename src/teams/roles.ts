/**
 * Team roles and the one map of who may do what (SPEC §7). Every team route names an action
 * from TEAM_PERMISSIONS in its guard; an action missing here cannot be granted (deny by default).
 */
import type { TeamRoleColumns } from '../db/schema.ts'
import type { Locale } from '../mail/templates.ts'

export { TEAM_ROLES, TEAM_PERMISSIONS, allows, type TeamRole, type TeamAction } from './permission-map.ts'
import { TEAM_PERMISSIONS, TEAM_ROLES, type TeamAction, type TeamRole } from './permission-map.ts'

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
