/**
 * Team SSO over SAML (SPEC §8): the Admins' connection API, the SP metadata, and "Sign in with
 * SSO". The sign-in itself (start, ACS, finish, the Admin's test) is in src/signin/sso-routes.ts.
 */
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { AppError } from '../errors.ts'
import { requestMeta } from '../http/request-meta.ts'
import { errors } from '../http/schemas.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { teamAccess, teamAccessOf } from '../teams/access.ts'
import { SlugParams } from '../teams/schemas.ts'
import { connectionForSignIn, connectionView, createConnection, deleteConnection, getConnection, listConnections, ssoMethods, updateConnection } from './connections.ts'
import { spMetadataXml } from './saml.ts'
import { createOidcConnection, deleteOidcConnection, getOidcConnection, listOidcConnections, updateOidcConnection } from './oidc.ts'
import { ConnectionParams, CreateConnection, CreateOidcConnection, OidcConnection, PatchConnection, PatchOidcConnection, PublicConnectionParams, SamlConnection, SsoMethods } from './schemas.ts'
import { setupAccessOf, SSO_SETUP_SECURITY, ssoSetupAccess } from './setup-access.ts'

export async function ssoRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)
  const tags = ['sso']
  const manage = [signedIn, teamAccess(ctx, 'manage_sso')]

  api.get('/api/v1/teams/:slug/sso/saml', {
    schema: { tags, summary: "The team's SAML connections (Admin)", params: SlugParams, response: { 200: Type.Object({ connections: Type.Array(SamlConnection) }), ...errors(400, 401, 403, 404) } },
    preHandler: manage,
  }, async (request) => ({ connections: await listConnections(ctx, teamAccessOf(request).team.id) }))

  api.post('/api/v1/teams/:slug/sso/saml', {
    schema: {
      tags,
      summary: 'Add a SAML connection (Admin)',
      description: 'From the IdP metadata (`metadataXml`, or `metadataUrl`: https, public address, no redirect, 1 MB, 8 s) or `manual` (entity ID, SSO URL, 1–2 certificates). Starts switched off, IdP-initiated off. Refused: an entity ID another team uses (`sso_entity_id_taken`).',
      params: SlugParams,
      body: CreateConnection,
      response: { 201: SamlConnection, ...errors(400, 401, 403, 404, 409, 413) },
    },
    preHandler: manage,
  }, async (request, reply) => {
    const created = await createConnection(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, name: request.body.name, idp: request.body.idp, meta: requestMeta(request) })
    return reply.status(201).send(created)
  })

  api.get('/api/v1/teams/:slug/sso/saml/:connectionId', {
    schema: { tags, summary: 'One SAML connection (Admin)', params: ConnectionParams, response: { 200: SamlConnection, ...errors(400, 401, 403, 404) } },
    preHandler: manage,
  }, async (request) => connectionView(ctx, await getConnection(ctx, teamAccessOf(request).team.id, request.params.connectionId)))

  api.patch('/api/v1/teams/:slug/sso/saml/:connectionId', {
    schema: {
      tags,
      summary: 'Change, switch on or off a SAML connection (Admin)',
      description: '`enabled`: members sign in with it only when on. `idpInitiated`: accept unsolicited responses (after a confirmation click). `idp`: new IdP settings (e.g. a second certificate for a rollover).',
      params: ConnectionParams,
      body: PatchConnection,
      response: { 200: SamlConnection, ...errors(400, 401, 403, 404, 409, 413) },
    },
    preHandler: manage,
  }, async (request) => updateConnection(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, connectionId: request.params.connectionId, patch: request.body, meta: requestMeta(request) }))

  api.delete('/api/v1/teams/:slug/sso/saml/:connectionId', {
    schema: { tags, summary: 'Delete a SAML connection (Admin)', description: 'Identities linked through it are unlinked; accounts stay.', params: ConnectionParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404) } },
    preHandler: manage,
  }, async (request, reply) => {
    await deleteConnection(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, connectionId: request.params.connectionId, meta: requestMeta(request) })
    return reply.status(204).send(null)
  })

  // ------------------------------------------------------------ OIDC connections
  // An Admin of the team, or the holder of one of its IT set-up links (./setup-access.ts).
  const setup = [ssoSetupAccess(ctx)]

  api.get('/api/v1/teams/:slug/sso/oidc', {
    schema: { security: SSO_SETUP_SECURITY, tags, summary: "The team's OIDC connections (Admin or set-up link)", params: SlugParams, response: { 200: Type.Object({ connections: Type.Array(OidcConnection) }), ...errors(400, 401, 403, 404, 410) } },
    preHandler: setup,
  }, async (request) => ({ connections: await listOidcConnections(ctx, setupAccessOf(request).team.id) }))

  api.post('/api/v1/teams/:slug/sso/oidc', {
    schema: {
      security: SSO_SETUP_SECURITY,
      tags,
      summary: 'Add an OIDC connection (Admin or set-up link)',
      description: 'The issuer (https) must answer its discovery document naming exactly itself (`sso_oidc_discovery_failed` otherwise); an issuer another team uses is refused (`sso_oidc_issuer_taken`). The client secret is stored encrypted and never returned. Starts switched off. Give the IdP `redirectUri`.',
      params: SlugParams,
      body: CreateOidcConnection,
      response: { 201: OidcConnection, ...errors(400, 401, 403, 404, 409, 410) },
    },
    preHandler: setup,
  }, async (request, reply) => {
    const access = setupAccessOf(request)
    const created = await createOidcConnection(ctx, { by: access.by, teamId: access.team.id, connection: request.body, meta: requestMeta(request) })
    return reply.status(201).send(created)
  })

  api.get('/api/v1/teams/:slug/sso/oidc/:connectionId', {
    schema: { security: SSO_SETUP_SECURITY, tags, summary: 'One OIDC connection (Admin or set-up link)', params: ConnectionParams, response: { 200: OidcConnection, ...errors(400, 401, 403, 404, 410) } },
    preHandler: setup,
  }, async (request) => getOidcConnection(ctx, setupAccessOf(request).team.id, request.params.connectionId))

  api.patch('/api/v1/teams/:slug/sso/oidc/:connectionId', {
    schema: {
      security: SSO_SETUP_SECURITY,
      tags,
      summary: 'Change, switch on or off an OIDC connection (Admin or set-up link)',
      description: 'A new `issuer` is checked like at creation; a new `clientSecret` replaces the stored one.',
      params: ConnectionParams,
      body: PatchOidcConnection,
      response: { 200: OidcConnection, ...errors(400, 401, 403, 404, 409, 410) },
    },
    preHandler: setup,
  }, async (request) => {
    const access = setupAccessOf(request)
    return updateOidcConnection(ctx, { by: access.by, teamId: access.team.id, connectionId: request.params.connectionId, patch: request.body, meta: requestMeta(request) })
  })

  api.delete('/api/v1/teams/:slug/sso/oidc/:connectionId', {
    schema: { security: SSO_SETUP_SECURITY, tags, summary: 'Delete an OIDC connection (Admin or set-up link)', description: 'Identities linked through it are unlinked; accounts stay.', params: ConnectionParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 410) } },
    preHandler: setup,
  }, async (request, reply) => {
    const access = setupAccessOf(request)
    await deleteOidcConnection(ctx, { by: access.by, teamId: access.team.id, connectionId: request.params.connectionId, meta: requestMeta(request) })
    return reply.status(204).send(null)
  })

  api.get('/api/v1/sso/methods', {
    schema: {
      tags,
      summary: 'Sign in with SSO: the methods of a team',
      description: 'By team URL slug (`team`) or by an email address at a verified domain (`email`). Unknown teams, teams without an enabled connection and unknown domains all answer `{teams: []}`.',
      querystring: Type.Object({ team: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), email: Type.Optional(Type.String({ minLength: 3, maxLength: 254 })) }, { additionalProperties: false }),
      response: { 200: SsoMethods, ...errors(400, 429) },
    },
  }, async (request) => ssoMethods(ctx, request.query))

  api.get('/sso/saml/:connectionId/metadata', {
    // An XML document for the IdP, at the SP entity ID itself, not part of the JSON API: left out
    // of the OpenAPI document like the other /sso/saml/* browser routes (the README names it).
    schema: { hide: true, tags, summary: "This SP's SAML metadata for one connection (public)", params: PublicConnectionParams, produces: ['application/samlmetadata+xml'], response: { 200: Type.String(), ...errors(404) } },
  }, async (request, reply) => {
    const connection = await connectionForSignIn(ctx, request.params.connectionId, { allowDisabled: true }).catch(() => {
      throw new AppError('not_found', { message: 'No such SSO connection.' })
    })
    return reply.header('content-type', 'application/samlmetadata+xml; charset=utf-8').send(spMetadataXml(ctx, connection))
  })

}
