/**
 * JSON routes around the OAuth provider: the interaction API behind the /app-signin/:uid page
 * (browser routes: session cookie + Origin check, and the request-binding cookie set when the
 * app's request reached this browser), and the person's authorized apps.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { recordAudit } from '../audit/audit.ts'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { AppError } from '../errors.ts'
import { authOf, optionalAuth, requireAuth } from '../sessions/guard.ts'
import { requestMeta } from '../http/request-meta.ts'
import { errors } from '../http/schemas.ts'
import { revokeGrant } from './adapter.ts'
import { abortInteraction, completeInteraction, describeInteraction } from './interactions.ts'
import { INTERACTION_COOKIE, mountProvider, type OAuthService } from './provider.ts'
import { AuthorizedApps, InteractionAborted, InteractionDone, InteractionView } from './schemas.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The OAuth provider service (tests reload keys through it instead of waiting for the timer). */
    oauth: OAuthService
  }
}

const Uid = Type.Object({ uid: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) })

function assertBoundToBrowser(request: FastifyRequest, uid: string): void {
  // Only the browser the app sent here can answer: otherwise a link to someone else's
  // request could hand them your sign-in.
  if (request.cookies[INTERACTION_COOKIE] !== uid) throw new AppError('oauth_request_invalid')
}

export async function oauthRoutes(app: FastifyInstance, ctx: AppContext): Promise<OAuthService> {
  const service = await mountProvider(app, ctx)
  app.decorate('oauth', service)
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)
  app.addSchema(InteractionView)

  api.get('/api/v1/oauth/interactions/:uid', {
    schema: {
      tags: ['oauth'],
      summary: 'An app sign-in request waiting for the person',
      description: 'What the /app-signin page shows: the app, the device name it sent, the scopes, and whether consent is needed. Works only in the browser the app sent there.',
      params: Uid,
      response: { 200: Type.Ref('OAuthInteraction'), ...errors(400, 404) },
    },
    preHandler: [optionalAuth(ctx)],
  }, async (request) => {
    assertBoundToBrowser(request, request.params.uid)
    const account = request.auth?.account ?? null
    const view = await describeInteraction(ctx, await service.provider(), request.params.uid, account)
    return { ...view, account: account ? { id: account.id, username: account.username, displayName: account.display_name, email: account.email } : null }
  })

  api.post('/api/v1/oauth/interactions/:uid/complete', {
    schema: {
      tags: ['oauth'],
      summary: 'Sign the app in as the active account',
      description:
        'Creates the grant (and, for the CLI and desktop app, an app session named by `device_name`; a fourth app session ends the oldest, listed in `signedOut`). ' +
        'Third-party apps need `consent: true` unless the scopes were allowed before. Send the browser to `returnTo` next.',
      params: Uid,
      body: Type.Object({ consent: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      response: { 200: InteractionDone, ...errors(400, 401, 403, 404, 410) },
    },
    preHandler: [signedIn],
  }, async (request) => {
    assertBoundToBrowser(request, request.params.uid)
    const { account } = authOf(request)
    return completeInteraction(ctx, await service.provider(), { uid: request.params.uid, account, consent: request.body.consent === true, meta: requestMeta(request) })
  })

  api.post('/api/v1/oauth/interactions/:uid/abort', {
    schema: {
      tags: ['oauth'],
      summary: '"Skip and go back to the app"',
      description: 'Ends the request; the app receives `error=access_denied`. Send the browser to `returnTo` next.',
      params: Uid,
      body: Type.Optional(Type.Object({}, { additionalProperties: false })),
      response: { 200: InteractionAborted, ...errors(400, 404) },
    },
  }, async (request) => {
    assertBoundToBrowser(request, request.params.uid)
    return abortInteraction(ctx, await service.provider(), request.params.uid)
  })

  api.get('/api/v1/me/authorized-apps', {
    schema: {
      tags: ['oauth'],
      summary: 'Third-party apps you allowed to use your account',
      response: { 200: AuthorizedApps, ...errors(401) },
    },
    preHandler: [signedIn],
  }, async (request) => {
    const { account } = authOf(request)
    const rows = await ctx.db
      .selectFrom('oauth_consents')
      .innerJoin('oauth_clients', 'oauth_clients.client_id', 'oauth_consents.client_id')
      .select(['oauth_consents.client_id', 'oauth_clients.name', 'oauth_consents.scopes', 'oauth_consents.granted_at', 'oauth_consents.last_used_at'])
      .where('oauth_consents.account_id', '=', account.id)
      .orderBy('oauth_consents.granted_at', 'desc')
      .execute()
    return {
      apps: rows.map((r) => ({ clientId: r.client_id, name: r.name, scopes: r.scopes.split(' ').filter(Boolean), grantedAt: new Date(r.granted_at).toISOString(), lastUsedAt: new Date(r.last_used_at).toISOString() })),
    }
  })

  api.delete('/api/v1/me/authorized-apps/:clientId', {
    schema: {
      tags: ['oauth'],
      summary: 'Revoke an app',
      description: 'Withdraws consent and revokes every grant, access token and refresh token the app holds for your account, at once.',
      params: Type.Object({ clientId: Type.String({ minLength: 1, maxLength: 100 }) }),
      response: { 204: Type.Null(), ...errors(400, 401, 404) },
    },
    preHandler: [signedIn],
  }, async (request, reply) => {
    const { account } = authOf(request)
    const clientId = request.params.clientId
    const revoked = await inTransaction(ctx, async (trx) => {
      const deleted = await trx.deleteFrom('oauth_consents').where('account_id', '=', account.id).where('client_id', '=', clientId).executeTakeFirst()
      if (Number(deleted.numDeletedRows) !== 1) return false
      const grants = await trx.selectFrom('oauth_models').select('grant_id').where('model', '=', 'Grant').where('account_id', '=', account.id).where('client_id', '=', clientId).execute()
      for (const grant of grants) if (grant.grant_id) await revokeGrant(trx, grant.grant_id)
      await trx.deleteFrom('oauth_models').where('account_id', '=', account.id).where('client_id', '=', clientId).execute()
      await recordAudit(trx, { accountId: account.id, type: 'oauth.app_revoked', meta: requestMeta(request), at: ctx.clock.now(), details: { clientId } })
      return true
    })
    if (!revoked) throw new AppError('not_found', { message: 'This app is not authorized for your account.' })
    return reply.status(204).send(null)
  })

  return service
}
