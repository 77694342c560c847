/**
 * Routes for a team's URL and public profile, slug availability, the public team page's data
 * and the invitation preview (SPEC §7), beside teams/routes.ts and under the same pipeline.
 */
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../../context.ts'
import { authOf, optionalAuth, requireAuth } from '../../sessions/guard.ts'
import { requestMeta } from '../../http/request-meta.ts'
import { errors } from '../../http/schemas.ts'
import { teamAccess, teamAccessOf } from '../access.ts'
import { changeTeamSlug, previewInvitation, profileOf, publicTeamProfile, slugAvailability, updateTeamProfile } from './profile.ts'
import { DESCRIPTION_MAX_LENGTH, WEBSITE_MAX_LENGTH } from '../limits.ts'
import { SlugParams } from '../schemas.ts'
import { InvitationPreview, Profile, PublicTeam, SlugAvailability, SlugChange } from './schemas.ts'
import { SLUG_REDIRECT_DAYS } from './slug-history.ts'

export function teamProfileRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)
  const tags = ['teams']

  api.get('/api/v1/team-slugs/:slug', {
    schema: {
      tags,
      summary: 'Is this team URL available?',
      description: `For the create form and the settings field while typing. \`reason\`: \`invalid\` (with \`detail\`: too_short, too_long, invalid_characters), \`reserved\` or \`taken\` (with up to 3 free \`suggestions\`). A team's previous URL stays taken for ${SLUG_REDIRECT_DAYS} days. Rate limited per account.`,
      params: SlugParams,
      response: {
        200: SlugAvailability,
        ...errors(400, 401, 429),
      },
    },
    preHandler: [signedIn],
  }, async (request) => slugAvailability(ctx, { slug: request.params.slug, accountId: authOf(request).account.id }))

  api.put('/api/v1/teams/:slug/slug', {
    schema: {
      tags,
      summary: "Change the team's URL (Admin)",
      description: `Same rules as at creation (\`team_slug_invalid\`, \`team_slug_taken\`). For ${SLUG_REDIRECT_DAYS} days the old URL answers members with \`team_moved\` (404, \`slug\` the new one) and non-members with \`not_found\`; no other team can take it meanwhile. The team keeps its 5 latest previous URLs.`,
      params: SlugParams,
      body: Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
      response: { 200: SlugChange, ...errors(400, 401, 403, 404, 409) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'change_settings')],
  }, async (request) => changeTeamSlug(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, slug: request.body.slug, meta: requestMeta(request) }))

  api.get('/api/v1/teams/:slug/profile', {
    schema: { tags, summary: "The team's public profile settings (any member)", params: SlugParams, response: { 200: Profile, ...errors(400, 401, 404) } },
    preHandler: [signedIn, teamAccess(ctx, 'view_team')],
  }, async (request) => profileOf(teamAccessOf(request).team))

  api.put('/api/v1/teams/:slug/profile', {
    schema: {
      tags,
      summary: "Edit the team's public profile (Admin, Community Manager)",
      description: 'Fields left out stay as they are; an empty `website` (or null) removes it. Logged in the activity log.',
      params: SlugParams,
      body: Type.Object({
        description: Type.Optional(Type.String({ maxLength: DESCRIPTION_MAX_LENGTH * 4 })),
        website: Type.Optional(Type.Union([Type.String({ maxLength: WEBSITE_MAX_LENGTH * 2 }), Type.Null()])),
        public: Type.Optional(Type.Boolean()),
      }, { additionalProperties: false }),
      response: { 200: Profile, ...errors(400, 401, 403, 404) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'edit_public_profile')],
  }, async (request) => updateTeamProfile(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, ...request.body, meta: requestMeta(request) }))

  api.get('/api/v1/public/teams/:slug', {
    schema: {
      tags,
      summary: "A team's public profile",
      description: 'No sign-in needed. Only teams whose profile is public; every other address is the same `not_found`. Name, logo, description, website and member count; never the members.',
      params: SlugParams,
      response: {
        200: PublicTeam,
        ...errors(400, 404),
      },
    },
  }, async (request) => publicTeamProfile(ctx, request.params.slug))

  api.post('/api/v1/invitations/preview', {
    schema: {
      tags,
      summary: 'Preview an emailed invitation',
      description: 'For the accept page, signed in or not: with the token from the email, the team name and logo, the inviter and the roles; signed out, also the invited address (for the sign-up form), never when signed in. Does not use up the invitation. A closed one answers `invitation_invalid` with `reason`, as accepting would.',
      body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
      response: {
        200: InvitationPreview,
        ...errors(400),
      },
    },
    preHandler: [optionalAuth(ctx)],
  }, async (request) => previewInvitation(ctx, { token: request.body.token, account: request.auth?.account ?? null }))
}
