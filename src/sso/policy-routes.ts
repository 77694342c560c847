/**
 * The Enterprise sign-in controls of a team (SPEC §7, issue 16): read and change them, Admins
 * only, through the same pipeline as every team route (`signedIn`, then `teamAccess` with the
 * permission map's `manage_sso`).
 */
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AppContext } from '../context.ts'
import { requestMeta } from '../http/request-meta.ts'
import { errors } from '../http/schemas.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { teamAccess, teamAccessOf } from '../teams/access.ts'
import { SlugParams } from '../teams/schemas.ts'
import { getSigninPolicy, updateSigninPolicy } from './policies.ts'
import { SigninPolicy, SigninPolicyChange } from './schemas.ts'

export function signinPolicyRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)
  const tags = ['sso']

  api.get('/api/v1/teams/:slug/signin-policy', {
    schema: {
      tags,
      summary: 'The team\'s Enterprise sign-in controls and JIT switch (Admin)',
      params: SlugParams,
      response: { 200: SigninPolicy, ...errors(400, 401, 403, 404) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'manage_sso')],
  }, async (request) => getSigninPolicy(ctx, teamAccessOf(request).team.id))

  api.patch('/api/v1/teams/:slug/signin-policy', {
    schema: {
      tags,
      summary: 'Change the team\'s Enterprise sign-in controls (Admin)',
      description:
        'Any subset of the fields. Turning password or Google sign-in off needs an enabled SSO connection (409 `sso_connection_required`); Admins stay exempt (break-glass). ' +
        '`maxSessionMinutes` (15–129600, or null) caps members\' new sessions, and shortens their live ones when set or lowered. Every change is in the team activity log.',
      params: SlugParams,
      body: SigninPolicyChange,
      response: { 200: SigninPolicy, ...errors(400, 401, 403, 404, 409) },
    },
    preHandler: [signedIn, teamAccess(ctx, 'manage_sso')],
  }, async (request) => updateSigninPolicy(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, change: request.body, meta: requestMeta(request) }))
}
