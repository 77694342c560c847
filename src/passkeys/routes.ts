import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { RegistrationResponseJSON } from '@simplewebauthn/server'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { requestMeta } from '../http/request-meta.ts'
import { errors } from '../http/schemas.ts'
import { requireRecentAuth } from '../sessions/recent-auth.ts'
import { PASSKEY_NAME_MAX_LENGTH } from './limits.ts'
import { PasskeyList, PasskeyOptions, PasskeyView, WebAuthnResponse } from './schemas.ts'
import { listPasskeys, registerPasskey, registrationOptions, removePasskey, renamePasskey } from './passkeys.ts'

const Name = Type.String({ minLength: 1, maxLength: PASSKEY_NAME_MAX_LENGTH })
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })

export function passkeyRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)
  const sensitive = [signedIn, requireRecentAuth(ctx)]
  app.addSchema(PasskeyView)

  api.get('/api/v1/me/passkeys', {
    schema: { tags: ['passkeys'], summary: 'Passkeys of this account', response: { 200: PasskeyList, ...errors(401) } },
    preHandler: [signedIn],
  }, async (request) => ({ passkeys: await listPasskeys(ctx, authOf(request).account.id) }))

  api.post('/api/v1/me/passkeys/options', {
    schema: { tags: ['passkeys'], summary: 'Start adding a passkey', description: 'Pass `options` to `navigator.credentials.create()`.', response: { 200: PasskeyOptions, ...errors(401, 403) } },
    preHandler: sensitive,
  }, async (request) => registrationOptions(ctx, authOf(request)))

  api.post('/api/v1/me/passkeys', {
    schema: {
      tags: ['passkeys'],
      summary: 'Finish adding a passkey',
      body: Type.Object({ challengeId: Type.String({ maxLength: 64 }), name: Type.Optional(Name), response: WebAuthnResponse }, { additionalProperties: false }),
      response: { 201: Type.Ref('Passkey'), ...errors(400, 401, 403) },
    },
    preHandler: sensitive,
  }, async (request, reply) => {
    const { challengeId, name, response } = request.body
    const passkey = await registerPasskey(ctx, authOf(request), { challengeId, name, response: response as unknown as RegistrationResponseJSON }, requestMeta(request))
    return reply.status(201).send(passkey)
  })

  api.patch('/api/v1/me/passkeys/:id', {
    schema: { tags: ['passkeys'], summary: 'Rename a passkey', params: IdParams, body: Type.Object({ name: Name }, { additionalProperties: false }), response: { 200: Type.Ref('Passkey'), ...errors(400, 401, 403, 404) } },
    preHandler: sensitive,
  }, async (request) => renamePasskey(ctx, authOf(request).account.id, request.params.id, request.body.name, requestMeta(request)))

  api.delete('/api/v1/me/passkeys/:id', {
    schema: { tags: ['passkeys'], summary: 'Remove a passkey', params: IdParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404) } },
    preHandler: sensitive,
  }, async (request, reply) => {
    await removePasskey(ctx, authOf(request).account.id, request.params.id, requestMeta(request))
    return reply.status(204).send(null)
  })
}
