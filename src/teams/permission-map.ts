/**
 * Team roles and the one map of who may do what (SPEC §7). No imports: the server's guards
 * (src/teams/roles.ts re-exports this) and the web app's team pages (which only hide what a
 * person's roles do not allow) read the same map, so the two cannot drift apart.
 */
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
  // SPEC row "SSO/SCIM": connections, the Enterprise sign-in controls and IT set-up links.
  manage_sso: ['admin'],
} as const satisfies Record<string, readonly TeamRole[]>

export type TeamAction = keyof typeof TEAM_PERMISSIONS

export function allows(roles: readonly TeamRole[], action: TeamAction): boolean {
  const granted: readonly TeamRole[] = TEAM_PERMISSIONS[action] ?? []
  return roles.some((role) => granted.includes(role))
}
