/**
 * Routes for invite links and CSV invitations (SPEC §7), beside teams/routes.ts and under the
 * same pipeline: `signedIn`, then `teamAccess(ctx, action)` for `/teams/{slug}` routes.
 */
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../../context.ts'
import { authOf, optionalAuth, requireAuth } from '../../sessions/guard.ts'
import { requestMeta } from '../../http/request-meta.ts'
import { errors } from '../../http/schemas.ts'
import { teamAccess, teamAccessOf } from '../access.ts'
import { inviteFromCsv } from './csv-invitations.ts'
import { acceptInvitationById, invitationsFor } from './invitations.ts'
import { createInviteLink, joinWithInviteLink, listInviteLinks, previewInviteLink, revokeInviteLink } from './invite-links.ts'
import { CSV_MAX_LENGTH, CSV_MAX_ROWS, INVITE_LINK_MAX_USES } from '../limits.ts'
import { Invitations, JoinedTeam, Roles, SlugParams } from '../schemas.ts'
import { InvitationIdParams, InviteLink, InviteLinkPreview, InviteLinks, LinkParams, MyInvitations, NewInviteLink, TokenParams } from './schemas.ts'

export function inviteLinkRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)
  const tags = ['teams']

  api.get('/api/v1/teams/:slug/invite-links', {
    schema: {
      tags,
      summary: 'Invite links of the team (Admin, Developer, Community Manager)',
      description: 'Newest first (the last 100), with creator, creation, expiry, uses and state. Tokens are never shown again.',
      params: SlugParams,
      response: { 200: InviteLinks, ...errors(400, 401, 403, 404) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'invite_developers')],
  }, async (request) => listInviteLinks(ctx, teamAccessOf(request).team.id))

  api.post('/api/v1/teams/:slug/invite-links', {
    schema: {
      tags,
      summary: 'Create an invite link',
      description: `Valid for 7 days and at most ${INVITE_LINK_MAX_USES} joins. Admins choose any roles; Developers and Community Managers create Developer links only (\`team_permission_denied\` otherwise). Links hold no seats: each join needs a free one, and \`noFreeSeat\` warns when none is.`,
      params: SlugParams,
      body: Type.Object({ roles: Roles }, { additionalProperties: false }),
      response: { 201: NewInviteLink, ...errors(400, 401, 403, 404) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'invite_developers')],
  }, async (request, reply) => {
    const link = await createInviteLink(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, roles: request.body.roles, meta: requestMeta(request) })
    return reply.status(201).send(link)
  })

  api.delete('/api/v1/teams/:slug/invite-links/:linkId', {
    schema: {
      tags,
      summary: 'Revoke an invite link (Admin, or the member who created it)',
      description: 'The link stops working at once; people who joined stay. Revoking again answers the same.',
      params: LinkParams,
      response: { 200: InviteLink, ...errors(400, 401, 403, 404) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'invite_developers')],
  }, async (request) => revokeInviteLink(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, linkId: request.params.linkId, meta: requestMeta(request) }))

  api.get('/api/v1/invite-links/:token', {
    schema: {
      tags,
      summary: 'Open an invite link',
      description: 'For the join page, signed in or not (the 256-bit token is the permission to see the team it joins, as the emailed invitation\'s is): the team, the roles and, signed in, whether the caller is already a member. A link that cannot be used answers `invite_link_invalid` with `reason`: `unknown`, `expired`, `revoked` or `used_up` (a known link adds `teamName`).',
      params: TokenParams,
      response: { 200: InviteLinkPreview, ...errors(400) },
    },
    preHandler: [optionalAuth(ctx)],
  }, async (request) => previewInviteLink(ctx, { account: request.auth?.account ?? null, token: request.params.token }))

  api.post('/api/v1/invite-links/:token/join', {
    schema: {
      tags,
      summary: 'Join a team with an invite link',
      description: 'Needs a confirmed email, room for another team (10 at most) and, unless the roles are only Admin/Billing within the 2 free support members, a free seat (`no_seats_available`). Errors: `invite_link_invalid` (with `reason`), `already_team_member`, `team_limit_reached`, `email_not_confirmed`.',
      params: TokenParams,
      body: Type.Optional(Type.Object({}, { additionalProperties: false })),
      response: { 200: JoinedTeam, ...errors(400, 401, 403, 409) },
    },
    preHandler: [signedIn],
  }, async (request) => joinWithInviteLink(ctx, { account: authOf(request).account, token: request.params.token, meta: requestMeta(request) }))

  api.get('/api/v1/me/invitations', {
    schema: {
      tags,
      summary: 'Invitations waiting for me',
      description: "Pending email invitations to the signed-in person's confirmed address (newest first), for teams they are not in: the team, who invited and the roles. Empty until the address is confirmed (anyone can type an address). Never the token: accept with `POST /me/invitations/{invitationId}/accept`.",
      response: { 200: MyInvitations, ...errors(401) },
    },
    preHandler: [signedIn],
  }, async (request) => ({ invitations: await invitationsFor(ctx.db, authOf(request).account) }))

  api.post('/api/v1/me/invitations/:invitationId/accept', {
    schema: {
      tags,
      summary: 'Accept an invitation waiting for me',
      description: 'As `POST /invitations/accept`, without the emailed link: the confirmed address is the proof. Errors: `invitation_invalid` (with `reason`; also for an invitation to someone else), `email_not_confirmed`, `already_team_member`, `team_limit_reached`, `no_seats_available`.',
      params: InvitationIdParams,
      body: Type.Optional(Type.Object({}, { additionalProperties: false })),
      response: { 200: JoinedTeam, ...errors(400, 401, 403, 409) },
    },
    preHandler: [signedIn],
  }, async (request) => acceptInvitationById(ctx, { account: authOf(request).account, invitationId: request.params.invitationId, meta: requestMeta(request) }))

  api.post('/api/v1/teams/:slug/invitations/csv', {
    schema: {
      tags,
      summary: 'Invite people from a CSV file',
      description: `The file's text in \`csv\`: \`email[,roles]\` per line (\`;\`- or tab-separated files too, decided by the first line), with or without an \`email,roles\` header; roles separated by \`;\` or \`|\`; an empty roles cell takes \`defaultRoles\`. At most ${CSV_MAX_ROWS} rows. All or nothing: any bad row answers \`csv_invalid\` with \`rows\` (line, column, code, message) and \`fields\` keyed \`csv.<line>\`, and nothing is sent. Then as \`POST /invitations\`: seats for the whole batch, Developers' other roles become suggestions, \`already_team_member\`/\`already_invited\` name \`csv.<line>\`.`,
      params: SlugParams,
      body: Type.Object({ csv: Type.String({ minLength: 1, maxLength: CSV_MAX_LENGTH }), defaultRoles: Type.Optional(Roles) }, { additionalProperties: false }),
      response: { 201: Invitations, ...errors(400, 401, 403, 404, 409, 413, 429) },
    },
    bodyLimit: 512 * 1024,
    preHandler: [signedIn, teamAccess(ctx, 'invite_developers')],
  }, async (request, reply) => {
    const result = await inviteFromCsv(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, csv: request.body.csv, defaultRoles: request.body.defaultRoles, meta: requestMeta(request) })
    return reply.status(201).send(result)
  })
}
