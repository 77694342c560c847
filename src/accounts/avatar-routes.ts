/** Avatar upload and removal (SPEC §6); the image itself is served by src/images/routes.ts. */
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { describeBytes } from '../errors.ts'
import { errors } from '../http/schemas.ts'
import { AVATAR_MAX_BYTES } from '../images/images.ts'
import { decodeBase64Upload } from '../images/process.ts'
import { Upload, UPLOAD_BODY_LIMIT } from '../images/schemas.ts'
import { AvatarSet } from './schemas.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { removeAvatar, setAvatar } from './avatar.ts'

export function avatarRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)

  api.put('/api/v1/me/avatar', {
    schema: {
      tags: ['accounts'],
      summary: 'Upload an avatar',
      description: 'PNG or JPEG, at most 500 KB and 4096×4096; stored re-encoded as a 256×256 PNG (turned upright by its EXIF orientation, metadata removed). Errors: `image_invalid`, `image_type_unsupported`, `image_too_large`; 30 uploads per hour (`too_many_requests`).',
      body: Upload,
      response: { 200: AvatarSet, ...errors(400, 401, 413, 415, 429) },
    },
    bodyLimit: UPLOAD_BODY_LIMIT,
    config: { tooLargeMessage: `The upload is over the request limit of ${describeBytes(UPLOAD_BODY_LIMIT)}; an avatar may be at most ${describeBytes(AVATAR_MAX_BYTES)}.` },
    preHandler: [signedIn],
  }, async (request) => setAvatar(ctx, { account: authOf(request).account, bytes: decodeBase64Upload(request.body.image) }))

  api.delete('/api/v1/me/avatar', {
    schema: { tags: ['accounts'], summary: 'Remove the avatar', response: { 204: Type.Null(), ...errors(401) } },
    preHandler: [signedIn],
  }, async (request, reply) => {
    await removeAvatar(ctx, { account: authOf(request).account })
    return reply.status(204).send(null)
  })
}
