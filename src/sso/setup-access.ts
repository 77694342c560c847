/**
 * The one guard of a team's SSO (and later SCIM) set-up routes (`/teams/{slug}/sso…`): it lets in
 * an Admin of the team (session, as `teamAccess(ctx, 'manage_sso')` would) or the holder of a live
 * set-up link of that same team (./setup-links.ts), and nobody else:
 * - a link for another team, or an unknown one: 404 `setup_link_invalid`, whatever the slug, so
 *   a link cannot probe which teams exist;
 * - an expired or revoked link: 410 with its own code, so the holder knows to ask for a new one;
 * - a member who is not an Admin: 403 `team_permission_denied`; a signed-in non-member: 404;
 *   nobody: 401.
 * A link opens nothing but the routes that list this guard: every other team route runs
 * `teamAccess`, which wants a session, so a link holder reads no members and no other team data.
 * Handlers read `setupAccessOf(request)` and record what they do with `recordSetupActivity`.
 */
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { AppContext } from '../context.ts'
import { AppError } from '../errors.ts'
import { optionalAuth } from '../sessions/guard.ts'
import { findTeam, memberRoles, teamNotFound, type Team } from '../teams/access.ts'
import { allows, deniedMessage } from '../teams/roles.ts'
import { resolveSetupLink, SETUP_LINK_COOKIE, SETUP_LINK_HEADER, type SetupActor } from './setup-links.ts'

export interface SetupAccess {
  team: Team
  by: SetupActor
}

declare module 'fastify' {
  interface FastifyRequest {
    ssoSetup: SetupAccess | null
  }
}

/** The link token the request carries: the header (scripts) or the cookie set by opening the link. */
export function setupLinkToken(request: FastifyRequest): string | undefined {
  const header = request.headers[SETUP_LINK_HEADER]
  if (typeof header === 'string' && header) return header
  return request.cookies[SETUP_LINK_COOKIE] || undefined
}

/** What routes behind `ssoSetupAccess` say in OpenAPI: a session, or a set-up link of that team. */
export const SSO_SETUP_SECURITY: Record<string, string[]>[] = [{ sessionCookie: [] }, { bearer: [] }, { ssoSetupLink: [] }]

/** preHandler for `/teams/{slug}/…` SSO set-up routes (see above). */
export function ssoSetupAccess(ctx: AppContext): preHandlerAsyncHookHandler {
  const session = optionalAuth(ctx)
  return async function ssoSetupAccessCheck(request, reply) {
    await session.call(this, request, reply)
    const { slug } = request.params as { slug: string }
    const team = await findTeam(ctx.db, { slug })
    const account = request.auth?.account
    const roles = team && account ? await memberRoles(ctx.db, team.id, account.id) : null
    if (team && account && roles && allows(roles, 'manage_sso')) {
      request.ssoSetup = { team, by: { via: 'admin', account } }
      return
    }
    const token = setupLinkToken(request)
    if (token) {
      const link = await resolveSetupLink(ctx, token)
      if (!team || link.teamId !== team.id) throw new AppError('setup_link_invalid')
      request.ssoSetup = { team, by: { via: 'setup_link', linkId: link.linkId, expiresAt: link.expiresAt } }
      return
    }
    if (roles) throw new AppError('team_permission_denied', { message: deniedMessage('manage_sso'), details: { action: 'manage_sso' } })
    if (account) throw teamNotFound()
    throw new AppError('unauthenticated')
  }
}

/** For handlers behind `ssoSetupAccess`. */
export function setupAccessOf(request: FastifyRequest): SetupAccess {
  if (!request.ssoSetup) throw new AppError('unauthenticated')
  return request.ssoSetup
}
