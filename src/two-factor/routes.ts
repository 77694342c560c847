import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { authOf, requireAuth, usesBearer } from '../sessions/guard.ts'
import { requestMeta } from '../http/request-meta.ts'
import { cookieTokens, pruneSessionCookie } from '../sessions/cookie.ts'
import { errors } from '../http/schemas.ts'
import { requireRecentAuth, requireRecentAuthOrPassword } from '../sessions/recent-auth.ts'
import { beginTwoFactorSetup, cancelTwoFactorSetup, confirmTwoFactorSetup, disableTwoFactor, pendingTwoFactorSetup, regenerateRecoveryCodes, twoFactorStatus } from './two-factor.ts'
import { PasswordBody, RecoveryCodes, TwoFactorEnabled, TwoFactorSetup, TwoFactorStatus } from './schemas.ts'

export function twoFactorRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const sensitive = [requireAuth(ctx), requireRecentAuth(ctx)]
  // The password in the body is itself the fresh proof: no second prompt when the window has passed.
  const withPassword = [requireAuth(ctx), requireRecentAuthOrPassword(ctx)]

  api.get('/api/v1/me/two-factor', {
    schema: {
      tags: ['two-factor'],
      summary: 'Two-factor status',
      description: '`setupPending`: a set-up was started and is neither confirmed nor cancelled; `GET /api/v1/me/two-factor/setup` shows its key again.',
      response: {
        200: TwoFactorStatus,
        ...errors(401),
      },
    },
    preHandler: [requireAuth(ctx)],
  }, async (request) => twoFactorStatus(ctx, authOf(request).account.id))

  api.post('/api/v1/me/two-factor', {
    schema: {
      tags: ['two-factor'],
      summary: 'Start turning on two-factor authentication',
      description: 'Returns the TOTP secret, its `otpauth://` URI and a QR code (PNG data URL). Nothing changes until `POST /api/v1/me/two-factor/confirm`. While a set-up is pending, the same key is returned again (cancel it with `DELETE /api/v1/me/two-factor/setup` for a new one). The password counts as confirming it is you.',
      body: PasswordBody,
      response: { 200: TwoFactorSetup, ...errors(400, 401, 403, 409, 429) },
    },
    preHandler: withPassword,
  }, async (request) => beginTwoFactorSetup(ctx, authOf(request), request.body))

  api.get('/api/v1/me/two-factor/setup', {
    schema: {
      tags: ['two-factor'],
      summary: 'The pending set-up\'s key again',
      description: 'For a page reloaded in the middle of a set-up: the same secret, URI and QR code as `POST /api/v1/me/two-factor` returned. `two_factor_setup_missing` when none is pending.',
      response: { 200: TwoFactorSetup, ...errors(401, 403, 409) },
    },
    preHandler: sensitive,
  }, async (request) => pendingTwoFactorSetup(ctx, authOf(request)))

  api.delete('/api/v1/me/two-factor/setup', {
    schema: { tags: ['two-factor'], summary: 'Cancel a pending set-up', description: 'Throws the unconfirmed key away. Two-factor authentication already on is not touched.', response: { 204: Type.Null(), ...errors(401) } },
    preHandler: [requireAuth(ctx)],
  }, async (request, reply) => {
    await cancelTwoFactorSetup(ctx, authOf(request).account.id)
    return reply.status(204).send(null)
  })

  api.post('/api/v1/me/two-factor/confirm', {
    schema: {
      tags: ['two-factor'],
      summary: 'Turn two-factor authentication on with a current code',
      description: 'Returns 10 single-use recovery codes (shown once). Every session and token issued before ends (SPEC: enabling revokes all sessions); the caller gets a fresh session at once: a new cookie, or the new token in the body for bearer clients. `otherSessionsRevoked` counts the other devices signed out.',
      body: Type.Object({ code: Type.String({ maxLength: 16 }) }, { additionalProperties: false }),
      response: { 200: TwoFactorEnabled, ...errors(400, 401, 403, 409) },
    },
    preHandler: sensitive,
  }, async (request, reply) => {
    const { recoveryCodes, otherSessionsRevoked, token } = await confirmTwoFactorSetup(ctx, authOf(request), request.body, requestMeta(request))
    const bearer = usesBearer(request)
    // Other accounts signed in in this browser keep their places; this account's token is swapped.
    if (!bearer) await pruneSessionCookie(ctx, request, reply, { from: cookieTokens(ctx, request)[0], to: token })
    return { recoveryCodes, otherSessionsRevoked, ...(bearer ? { token } : {}) }
  })

  api.delete('/api/v1/me/two-factor', {
    schema: { tags: ['two-factor'], summary: 'Turn two-factor authentication off', body: PasswordBody, response: { 204: Type.Null(), ...errors(400, 401, 403, 409, 429) } },
    preHandler: withPassword,
  }, async (request, reply) => {
    await disableTwoFactor(ctx, authOf(request), request.body, requestMeta(request))
    return reply.status(204).send(null)
  })

  api.post('/api/v1/me/two-factor/recovery-codes', {
    schema: {
      tags: ['two-factor'],
      summary: 'Replace the recovery codes',
      description: 'The old codes stop working at once.',
      body: PasswordBody,
      response: { 200: RecoveryCodes, ...errors(400, 401, 403, 409, 429) },
    },
    preHandler: withPassword,
  }, async (request) => ({ recoveryCodes: await regenerateRecoveryCodes(ctx, authOf(request), request.body, requestMeta(request)) }))
}
