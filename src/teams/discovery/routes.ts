/**
 * Routes for team discovery (SPEC §7): email domains and their DNS check, the discovery switch
 * and question, join requests (Admins), and the person's side (`/me/discoverable-teams`,
 * `/me/join-requests`). Registered after `teamRoutes`, whose `teamAccess` guard they share.
 */
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../../context.ts'
import { authOf, requireAuth } from '../../sessions/guard.ts'
import { requestMeta } from '../../http/request-meta.ts'
import { errors } from '../../http/schemas.ts'
import { teamAccess, teamAccessOf } from '../access.ts'
import { changeDiscovery, discoverySettings, listDiscoverableTeams } from './discovery.ts'
import { addDomain, listDomains, removeDomain, verifyDomain } from './domains.ts'
import {
  approveJoinRequest, denyJoinRequest, listJoinRequests, listMyJoinRequests, requestToJoin, withdrawJoinRequest,
} from './join-requests.ts'
import { DISCOVERY_QUESTION_MAX_LENGTH, DOMAIN_MAX_LENGTH, JOIN_ANSWER_MAX_LENGTH } from '../limits.ts'
import { Roles, SlugParams } from '../schemas.ts'
import {
  ApprovedMember, DiscoverableTeams, Discovery, Domain, DomainParams, DomainRemoval, DomainsPage, Id, JoinRequests, MyJoinRequest, MyJoinRequests, RequestParams, VerifyResult,
} from './schemas.ts'

export function teamDiscoveryRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)
  const tags = ['teams']

  api.get('/api/v1/teams/:slug/domains', {
    schema: {
      tags,
      summary: "The team's email domains and discovery settings (Admin)",
      params: SlugParams,
      response: { 200: DomainsPage, ...errors(400, 401, 403, 404) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'manage_domains')],
  }, async (request) => {
    const { team } = teamAccessOf(request)
    const [domains, discovery] = await Promise.all([listDomains(ctx.db, team.id), discoverySettings(ctx.db, team.id)])
    return { domains, discovery }
  })

  api.post('/api/v1/teams/:slug/domains', {
    schema: {
      tags,
      summary: 'Add an email domain (Admin)',
      description: 'Answers with the TXT record to publish; then call `verify`. Refused: public email providers (`domain_public_webmail`), a domain another team has verified (`domain_taken`), more than 20 domains.',
      params: SlugParams,
      body: Type.Object({ domain: Type.String({ minLength: 1, maxLength: DOMAIN_MAX_LENGTH + 1, description: 'e.g. example.com or bücher.example' }) }, { additionalProperties: false }),
      response: { 201: Domain, ...errors(400, 401, 403, 404, 409) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'manage_domains')],
  }, async (request, reply) => {
    const domain = await addDomain(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, domain: request.body.domain, meta: requestMeta(request) })
    return reply.status(201).send(domain)
  })

  api.post('/api/v1/teams/:slug/domains/:domainId/verify', {
    schema: {
      tags,
      summary: "Check the domain's TXT record now (Admin)",
      description: 'Looks the record up in DNS and answers with the outcome (200 whatever it is). A verified domain stays verified when a later check fails. Rate limited per team.',
      params: DomainParams,
      response: { 200: VerifyResult, ...errors(400, 401, 403, 404, 409, 429) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'manage_domains')],
  }, async (request) => verifyDomain(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, domainId: request.params.domainId, meta: requestMeta(request) }))

  api.delete('/api/v1/teams/:slug/domains/:domainId', {
    schema: {
      tags,
      summary: 'Remove an email domain (Admin)',
      description: 'With no verified domain left, discovery turns off. Pending join requests stay for the Admins to answer.',
      params: DomainParams,
      response: { 200: DomainRemoval, ...errors(400, 401, 403, 404) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'manage_domains')],
  }, async (request) => removeDomain(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, domainId: request.params.domainId, meta: requestMeta(request) }))

  api.put('/api/v1/teams/:slug/discovery', {
    schema: {
      tags,
      summary: 'Turn discovery on or off, and set the question (Admin)',
      description: 'On needs a verified domain (`domain_not_verified`). `question`: up to 200 characters; null or "" removes it; omitted keeps it.',
      params: SlugParams,
      body: Type.Object(
        { enabled: Type.Boolean(), question: Type.Optional(Type.Union([Type.String({ maxLength: DISCOVERY_QUESTION_MAX_LENGTH * 2 }), Type.Null()])) },
        { additionalProperties: false },
      ),
      response: { 200: Discovery, ...errors(400, 401, 403, 404, 409) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'manage_domains')],
  }, async (request) => changeDiscovery(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, enabled: request.body.enabled, question: request.body.question, meta: requestMeta(request) }))

  api.get('/api/v1/teams/:slug/join-requests', {
    schema: { tags, summary: 'Pending requests to join (Admin)', description: 'Oldest first.', params: SlugParams, response: { 200: JoinRequests, ...errors(400, 401, 403, 404) } },
    preHandler: [signedIn, teamAccess(ctx, 'manage_join_requests')],
  }, async (request) => ({ requests: await listJoinRequests(ctx.db, teamAccessOf(request).team.id) }))

  api.post('/api/v1/teams/:slug/join-requests/:requestId/approve', {
    schema: {
      tags,
      summary: 'Approve a request to join (Admin)',
      description: 'The person joins with `roles` (default Developer; the body may be left out) and is notified. Their 10-team limit (`team_limit_reached`) and the seats (`no_seats_available`) apply.',
      params: RequestParams,
      body: Type.Object({ roles: Type.Optional(Roles) }, { additionalProperties: false }),
      response: { 200: ApprovedMember, ...errors(400, 401, 403, 404, 409) },
    },
    // No body at all means the default roles.
    preValidation: async (request) => {
      if (request.body === undefined || request.body === null) request.body = {}
    },
    preHandler: [signedIn, teamAccess(ctx, 'manage_join_requests')],
  }, async (request) => approveJoinRequest(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, requestId: request.params.requestId, roles: request.body?.roles, meta: requestMeta(request) }))

  api.post('/api/v1/teams/:slug/join-requests/:requestId/deny', {
    schema: { tags, summary: 'Deny a request to join (Admin)', description: 'The person is told, in neutral words.', params: RequestParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404) } },
    preHandler: [signedIn, teamAccess(ctx, 'manage_join_requests')],
  }, async (request, reply) => {
    await denyJoinRequest(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, requestId: request.params.requestId, meta: requestMeta(request) })
    return reply.status(204).send(null)
  })

  api.get('/api/v1/me/discoverable-teams', {
    schema: {
      tags,
      summary: 'Teams I can ask to join',
      description: 'Teams with discovery on at a verified domain of my confirmed email, that I am not in. Empty until the email is confirmed.',
      response: { 200: DiscoverableTeams, ...errors(401) },
    },
    preHandler: [signedIn],
  }, async (request) => ({ teams: await listDiscoverableTeams(ctx, authOf(request).account) }))

  api.get('/api/v1/me/join-requests', {
    schema: { tags, summary: 'My pending requests to join teams', response: { 200: MyJoinRequests, ...errors(401) } },
    preHandler: [signedIn],
  }, async (request) => ({ requests: await listMyJoinRequests(ctx, authOf(request).account.id) }))

  api.post('/api/v1/me/join-requests', {
    schema: {
      tags,
      summary: 'Ask to join a discoverable team',
      description: "`answer` is required when the team asks a question. A team that is not discoverable to me answers 404, like an unknown one. One pending request per team (`join_request_pending`); rate limited per account. Every Admin is notified.",
      body: Type.Object(
        { team: Type.String({ minLength: 1, maxLength: 64, description: "The team's slug" }), answer: Type.Optional(Type.Union([Type.String({ maxLength: JOIN_ANSWER_MAX_LENGTH * 2 }), Type.Null()])) },
        { additionalProperties: false },
      ),
      response: { 201: MyJoinRequest, ...errors(400, 401, 403, 404, 409, 429) },
    },
    preHandler: [signedIn],
  }, async (request, reply) => {
    const created = await requestToJoin(ctx, { account: authOf(request).account, slug: request.body.team, answer: request.body.answer, meta: requestMeta(request) })
    return reply.status(201).send(created)
  })

  api.delete('/api/v1/me/join-requests/:requestId', {
    schema: { tags, summary: 'Withdraw my pending request to join', params: Type.Object({ requestId: Id }), response: { 204: Type.Null(), ...errors(400, 401, 404) } },
    preHandler: [signedIn],
  }, async (request, reply) => {
    await withdrawJoinRequest(ctx, { account: authOf(request).account, requestId: request.params.requestId, meta: requestMeta(request) })
    return reply.status(204).send(null)
  })
}
