/**
 * IT set-up links (./setup-links.ts): Admins create, list and revoke them; the link holder opens
 * one (the token moves from the URL fragment into an API-scoped cookie) and reaches the team's
 * SSO set-up through `ssoSetupAccess` (./setup-access.ts).
 */
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { requestMeta } from '../http/request-meta.ts'
import { errors } from '../http/schemas.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { teamAccess, teamAccessOf } from '../teams/access.ts'
import { SlugParams } from '../teams/schemas.ts'
import { CreatedSetupLink, SetupLinkParams, SetupLinks, SetupSession } from './schemas.ts'
import { setupAccessOf, SSO_SETUP_SECURITY, ssoSetupAccess } from './setup-access.ts'
import { createSetupLink, listSetupLinks, openSetupLink, revokeSetupLink, SETUP_LINK_COOKIE } from './setup-links.ts'

export function setupLinkRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  app.decorateRequest('ssoSetup', null)
  const signedIn = requireAuth(ctx)
  const tags = ['sso']
  const secure = ctx.config.publicUrl.protocol === 'https:'

  api.post('/api/v1/teams/:slug/sso-setup-links', {
    schema: {
      tags,
      summary: 'Create a set-up link for the company\'s IT administrator (Admin)',
      description: 'Valid 7 days, for this team\'s SSO set-up only. `url` is shown once (only a hash is kept). At most 10 open links per team.',
      params: SlugParams,
      body: Type.Optional(Type.Object({}, { additionalProperties: false })),
      response: { 201: CreatedSetupLink, ...errors(400, 401, 403, 404) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'manage_sso')],
  }, async (request, reply) => {
    const created = await createSetupLink(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, meta: requestMeta(request) })
    return reply.status(201).send(created)
  })

  api.get('/api/v1/teams/:slug/sso-setup-links', {
    schema: { tags, summary: 'The team\'s set-up links, newest first (Admin)', params: SlugParams, response: { 200: SetupLinks, ...errors(400, 401, 403, 404) } },
    preHandler: [signedIn, teamAccess(ctx, 'manage_sso')],
  }, async (request) => ({ links: await listSetupLinks(ctx, teamAccessOf(request).team.id) }))

  api.delete('/api/v1/teams/:slug/sso-setup-links/:linkId', {
    schema: { tags, summary: 'Revoke a set-up link (Admin)', description: 'It stops working at once.', params: SetupLinkParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404) } },
    preHandler: [signedIn, teamAccess(ctx, 'manage_sso')],
  }, async (request, reply) => {
    await revokeSetupLink(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, linkId: request.params.linkId, meta: requestMeta(request) })
    return reply.status(204).send(null)
  })

  api.post('/api/v1/sso-setup/open', {
    schema: {
      tags,
      summary: 'Open a set-up link (the IT administrator\'s page)',
      description: 'Takes the token from the link\'s `#token=` fragment and answers with an HttpOnly cookie that opens this team\'s SSO set-up until the link expires. No account needed.',
      body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
      response: { 200: SetupSession, ...errors(400, 404, 410) },
    },
  }, async (request, reply) => {
    const opened = await openSetupLink(ctx, { token: request.body.token, meta: requestMeta(request) })
    // Strict: the cookie goes with no cross-site request at all; API-scoped: pages never see it.
    // Max-Age, not Expires: the lifetime left on the server's clock, whatever the browser's says.
    const maxAge = Math.max(1, Math.ceil((opened.expiresAt - ctx.clock.now()) / 1000))
    reply.setCookie(SETUP_LINK_COOKIE, request.body.token, { path: '/api/v1/', httpOnly: true, sameSite: 'strict', secure, maxAge })
    return { team: { slug: opened.slug, name: opened.name }, expiresAt: new Date(opened.expiresAt).toISOString(), via: 'setup_link' as const }
  })

  api.get('/api/v1/teams/:slug/sso-setup', {
    schema: {
      tags,
      summary: 'Who may set up this team\'s SSO here: an Admin, or a set-up link holder',
      description: 'The entry of the set-up pages; `via` says which. A link for another team is 404 `setup_link_invalid`; an expired or revoked one is 410.',
      params: SlugParams,
      response: { 200: SetupSession, ...errors(400, 401, 403, 404, 410) },
      security: SSO_SETUP_SECURITY,
    },
    preHandler: [ssoSetupAccess(ctx)],
  }, async (request) => {
    const { team, by } = setupAccessOf(request)
    const expiresAt = by.via === 'setup_link' ? new Date(by.expiresAt).toISOString() : null
    return { team: { slug: team.slug, name: team.name }, expiresAt, via: by.via }
  })
}
