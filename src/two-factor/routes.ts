import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { requestMeta } from '../http/request-meta.ts'
import { pruneSessionCookie } from '../sessions/cookie.ts'
import { errors } from '../http/schemas.ts'
import { requireRecentAuth } from '../sessions/recent-auth.ts'
import { PasswordBody, RecoveryCodes, TwoFactorEnabled, TwoFactorSetup, TwoFactorStatus } from './schemas.ts'
import { beginTwoFactorSetup, confirmTwoFactorSetup, disableTwoFactor, regenerateRecoveryCodes, twoFactorStatus } from './two-factor.ts'

export function twoFactorRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const sensitive = [requireAuth(ctx), requireRecentAuth(ctx)]

  api.get('/api/v1/me/two-factor', {
    schema: {
      tags: ['two-factor'],
      summary: 'Two-factor status',
      response: { 200: TwoFactorStatus, ...errors(401) },
    },
    preHandler: [requireAuth(ctx)],
  }, async (request) => twoFactorStatus(ctx, authOf(request).account.id))

  api.post('/api/v1/me/two-factor', {
    schema: {
      tags: ['two-factor'],
      summary: 'Start turning on two-factor authentication',
      description: 'Returns the TOTP secret, its `otpauth://` URI and a QR code (PNG data URL). Nothing changes until `POST /api/v1/me/two-factor/confirm`.',
      body: PasswordBody,
      response: { 200: TwoFactorSetup, ...errors(400, 401, 403, 409, 429) },
    },
    preHandler: sensitive,
  }, async (request) => beginTwoFactorSetup(ctx, authOf(request), request.body))

  api.post('/api/v1/me/two-factor/confirm', {
    schema: {
      tags: ['two-factor'],
      summary: 'Turn two-factor authentication on with a current code',
      description: 'Returns 10 single-use recovery codes (shown once) and revokes every session, this one included: sign in again.',
      body: Type.Object({ code: Type.String({ minLength: 1, maxLength: 16 }) }, { additionalProperties: false }),
      response: { 200: TwoFactorEnabled, ...errors(400, 401, 403, 409) },
    },
    preHandler: sensitive,
  }, async (request, reply) => {
    const result = await confirmTwoFactorSetup(ctx, authOf(request), request.body, requestMeta(request))
    await pruneSessionCookie(ctx, request, reply)
    return { ...result, signInAgain: true as const }
  })

  api.delete('/api/v1/me/two-factor', {
    schema: { tags: ['two-factor'], summary: 'Turn two-factor authentication off', body: PasswordBody, response: { 204: Type.Null(), ...errors(400, 401, 403, 409, 429) } },
    preHandler: sensitive,
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
    preHandler: sensitive,
  }, async (request) => ({ recoveryCodes: await regenerateRecoveryCodes(ctx, authOf(request), request.body, requestMeta(request)) }))
}
