import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { requestMeta } from '../http/request-meta.ts'
import { errors } from '../http/schemas.ts'
import { requestRecovery, resetPassword } from './recovery.ts'

export function recoveryRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()

  api.get('/api/v1/captcha', {
    schema: {
      tags: ['recovery'],
      summary: 'A proof-of-work captcha challenge (ALTCHA v2)',
      description: 'Solve it with the ALTCHA widget or `altcha-lib`, then send the base64 payload as `captcha`.',
      querystring: Type.Object({}, { additionalProperties: false }),
      response: { ...errors(400), 200: Type.Object({ parameters: Type.Record(Type.String(), Type.Unknown()), signature: Type.Optional(Type.String()) }, { additionalProperties: true }) },
    },
  }, async (_request, reply) => {
    reply.header('Cache-Control', 'no-store')
    return (await ctx.captcha.challenge()) as unknown as { parameters: Record<string, unknown>; signature?: string }
  })

  api.post('/api/v1/recovery', {
    schema: {
      tags: ['recovery'],
      summary: 'Trouble signing in: email the username and a password reset link',
      description: 'Always answers 202 after a solved captcha, whether or not an account has this email.',
      body: Type.Object(
        { email: Type.String({ minLength: 1, maxLength: 254 }), captcha: Type.String({ minLength: 1, maxLength: 8192 }) },
        { additionalProperties: false },
      ),
      response: { 202: Type.Object({ status: Type.Literal('email_sent_if_account_exists') }), ...errors(400, 429) },
    },
  }, async (request, reply) => {
    await requestRecovery(ctx, { ...request.body, meta: requestMeta(request) })
    return reply.status(202).send({ status: 'email_sent_if_account_exists' as const })
  })

  api.post('/api/v1/password/reset', {
    schema: {
      tags: ['recovery'],
      summary: 'Set a new password with the emailed reset token',
      description: 'Single use, valid 1 hour. Ends every session; does not sign in.',
      body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 128 }), password: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ status: Type.Literal('password_reset') }), ...errors(400) },
    },
  }, async (request) => {
    await resetPassword(ctx, { ...request.body, meta: requestMeta(request) })
    return { status: 'password_reset' as const }
  })
}
