/**
 * Team routes (SPEC §7). Every `/teams/{slug}` route runs the same pipeline: `signedIn`, then
 * `teamAccess(ctx, action)` with the action from TEAM_PERMISSIONS it performs. Handlers are thin:
 * they call a domain function with plain input.
 */
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { requestMeta } from '../http/request-meta.ts'
import { errors } from '../http/schemas.ts'
import { EMAIL_MAX_LENGTH } from '../accounts/limits.ts'
import { teamAccess, teamAccessOf } from './access.ts'
import { listTeamActivity } from './activity.ts'
import {
  acceptInvitation, approveSuggestion, cancelInvitation, declineSuggestion, inviteToTeam,
  listInvitations, resendInvitation,
} from './invitations/invitations.ts'
import { MAX_INVITATIONS_PER_REQUEST, MAX_SEATS } from './limits.ts'
import {
  ActivityPage, Invitation, InvitationParams, Invitations, JoinedTeam, LeaveResult, Member, MemberParams, Roles, SeatUsage, SlugParams, TeamList, TeamName, TeamPage, TeamRef, TeamSummary,
} from './schemas.ts'
import { changeMemberRoles, changeSeats, createTeam, leaveTeam, listMyTeams, removeMember, renameTeam, teamPage } from './teams.ts'

export function teamRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  app.decorateRequest('teamAccess', null)
  const signedIn = requireAuth(ctx)
  const tags = ['teams']

  api.post('/api/v1/teams', {
    schema: {
      tags,
      summary: 'Create a team',
      description: 'The creator becomes its Admin and Billing member. Needs a confirmed email; a person belongs to at most 10 teams. A new team has 1 seat (Free plan).',
      body: Type.Object({ name: TeamName, slug: Type.String({ minLength: 1, maxLength: 64, description: '3–48 lowercase letters, digits and hyphens' }) }, { additionalProperties: false }),
      response: { 201: TeamSummary, ...errors(400, 401, 403, 409) },
    },
    preHandler: [signedIn],
  }, async (request, reply) => {
    const team = await createTeam(ctx, { account: authOf(request).account, ...request.body, meta: requestMeta(request) })
    return reply.status(201).send(team)
  })

  api.get('/api/v1/teams', {
    schema: { tags, summary: 'My teams', response: { 200: TeamList, ...errors(401) } },
    preHandler: [signedIn],
  }, async (request) => ({ teams: await listMyTeams(ctx, authOf(request).account.id) }))

  api.get('/api/v1/teams/:slug', {
    schema: {
      tags,
      summary: 'The team page',
      description: 'Members with their roles, pending invitations and suggestions, seats used and available. Any member; others get 404.',
      params: SlugParams,
      response: { 200: TeamPage, ...errors(400, 401, 404) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'view_team')],
  }, async (request) => {
    const { team, roles } = teamAccessOf(request)
    return teamPage(ctx, { team, myRoles: roles })
  })

  api.patch('/api/v1/teams/:slug', {
    schema: {
      tags,
      summary: 'Rename the team (Admin)',
      params: SlugParams,
      body: Type.Object({ name: TeamName }, { additionalProperties: false }),
      response: { 200: TeamRef, ...errors(400, 401, 403, 404) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'change_settings')],
  }, async (request) => renameTeam(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, name: request.body.name, meta: requestMeta(request) }))

  api.put('/api/v1/teams/:slug/seats', {
    schema: {
      tags,
      summary: 'Set the number of paid seats (Admin or Billing)',
      description: 'SPEC §9 gives seats to Billing members; until billing exists an Admin may set them too. Cannot go below the seats members take (`seats_in_use`).',
      params: SlugParams,
      body: Type.Object({ seats: Type.Integer({ minimum: 1, maximum: MAX_SEATS }) }, { additionalProperties: false }),
      response: { 200: SeatUsage, ...errors(400, 401, 403, 404, 409) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'change_seats')],
  }, async (request) => changeSeats(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, seats: request.body.seats, meta: requestMeta(request) }))

  api.put('/api/v1/teams/:slug/members/:accountId/roles', {
    schema: {
      tags,
      summary: "Replace a member's roles (Admin; Billing may give or take only the Billing role)",
      description: 'The last Admin keeps the role (`last_admin`). A support member given a paid role needs a free seat.',
      params: MemberParams,
      body: Type.Object({ roles: Roles }, { additionalProperties: false }),
      response: { 200: Member, ...errors(400, 401, 403, 404, 409) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'assign_billing_role')],
  }, async (request) => changeMemberRoles(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, accountId: request.params.accountId, roles: request.body.roles, meta: requestMeta(request) }))

  api.delete('/api/v1/teams/:slug/members/:accountId', {
    schema: {
      tags,
      summary: 'Remove a member (Admin)',
      description: 'Their access to the team ends at once; their own work stays theirs. The last Admin cannot be removed.',
      params: MemberParams,
      response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'manage_members')],
  }, async (request, reply) => {
    await removeMember(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, accountId: request.params.accountId, meta: requestMeta(request) })
    return reply.status(204).send(null)
  })

  api.post('/api/v1/teams/:slug/leave', {
    schema: {
      tags,
      summary: 'Leave the team',
      description: 'The last Admin cannot leave while others remain (`last_admin`). The last member leaving deletes the team.',
      params: SlugParams,
      response: { 200: LeaveResult, ...errors(400, 401, 404, 409) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'leave_team')],
  }, async (request) => leaveTeam(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, meta: requestMeta(request) }))

  api.get('/api/v1/teams/:slug/invitations', {
    schema: { tags, summary: 'Pending invitations and suggestions', params: SlugParams, response: { 200: Invitations, ...errors(400, 401, 404) } },
    preHandler: [signedIn, teamAccess(ctx, 'view_team')],
  }, async (request) => listInvitations(ctx, teamAccessOf(request).team.id))

  api.post('/api/v1/teams/:slug/invitations', {
    schema: {
      tags,
      summary: 'Invite people by email',
      description: 'All or nothing. Admins invite with any roles. Developers and Community Managers invite Developers; their invitation with any other role becomes a suggestion for the Admins. Each pending invitation holds a seat (`no_seats_available`).',
      params: SlugParams,
      body: Type.Object(
        { emails: Type.Array(Type.String({ minLength: 1, maxLength: EMAIL_MAX_LENGTH }), { minItems: 1, maxItems: MAX_INVITATIONS_PER_REQUEST }), roles: Roles },
        { additionalProperties: false },
      ),
      response: { 201: Invitations, ...errors(400, 401, 403, 404, 409) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'invite_developers')],
  }, async (request, reply) => {
    const result = await inviteToTeam(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, ...request.body, meta: requestMeta(request) })
    return reply.status(201).send(result)
  })

  api.post('/api/v1/teams/:slug/invitations/:invitationId/resend', {
    schema: { tags, summary: 'Re-send an invitation (Admin)', description: 'A new link replaces the old one.', params: InvitationParams, response: { 200: Invitation, ...errors(400, 401, 403, 404) } },
    preHandler: [signedIn, teamAccess(ctx, 'manage_invitations')],
  }, async (request) => resendInvitation(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, invitationId: request.params.invitationId, meta: requestMeta(request) }))

  api.delete('/api/v1/teams/:slug/invitations/:invitationId', {
    schema: { tags, summary: 'Cancel an invitation or a suggestion (Admin)', params: InvitationParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404) } },
    preHandler: [signedIn, teamAccess(ctx, 'manage_invitations')],
  }, async (request, reply) => {
    await cancelInvitation(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, invitationId: request.params.invitationId, meta: requestMeta(request) })
    return reply.status(204).send(null)
  })

  api.post('/api/v1/teams/:slug/suggestions/:invitationId/approve', {
    schema: { tags, summary: 'Approve a suggested invitation (Admin)', description: 'The invitation is sent; it needs a free seat.', params: InvitationParams, response: { 200: Invitation, ...errors(400, 401, 403, 404, 409) } },
    preHandler: [signedIn, teamAccess(ctx, 'manage_invitations')],
  }, async (request) => approveSuggestion(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, invitationId: request.params.invitationId, meta: requestMeta(request) }))

  api.post('/api/v1/teams/:slug/suggestions/:invitationId/decline', {
    schema: { tags, summary: 'Decline a suggested invitation (Admin)', params: InvitationParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404) } },
    preHandler: [signedIn, teamAccess(ctx, 'manage_invitations')],
  }, async (request, reply) => {
    await declineSuggestion(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, invitationId: request.params.invitationId, meta: requestMeta(request) })
    return reply.status(204).send(null)
  })

  api.get('/api/v1/teams/:slug/activity', {
    schema: {
      tags,
      summary: 'The team activity log (Admin, Community Manager)',
      description: 'Joins, leaves, role changes, invitations and settings changes with actor, time and IP; newest first.',
      params: SlugParams,
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })), cursor: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }),
      response: { 200: ActivityPage, ...errors(400, 401, 403, 404) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'read_activity')],
  }, async (request) => listTeamActivity(ctx.db, { teamId: teamAccessOf(request).team.id, limit: request.query.limit ?? 50, cursor: request.query.cursor }))

  api.post('/api/v1/invitations/accept', {
    schema: {
      tags,
      summary: 'Accept a team invitation',
      description: 'With the token from the invitation email, signed in as the account whose confirmed email was invited.',
      body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
      response: { 200: JoinedTeam, ...errors(400, 401, 403, 404, 409) },
    },
    preHandler: [signedIn],
  }, async (request) => acceptInvitation(ctx, { account: authOf(request).account, token: request.body.token, meta: requestMeta(request) }))
}
