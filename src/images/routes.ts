/**
 * Avatar and team logo uploads, and the images they become.
 *
 * Uploads are JSON (`{"image": "<base64 or data URL>"}`) rather than a raw image body: the
 * server keeps one request content type (application/json: the CSRF and parsing rules stay
 * the ones every other route has), a browser's FileReader gives a data URL as is, and the
 * route's own body limit (2 MB, against the global 64 KiB) bounds the upload before the
 * decoded size is checked (`image_too_large`: avatars 500 KB per SPEC §6, logos 1 MB).
 *
 * Served images are the re-encoded PNGs only, with a CSP that allows nothing (an image
 * opened as a page can run nothing), `nosniff`, and immutable caching (a new upload is a
 * new URL).
 */
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { AppError, describeBytes } from '../errors.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { requestMeta } from '../http/request-meta.ts'
import { errors } from '../http/schemas.ts'
import { teamAccess, teamAccessOf } from '../teams/access.ts'
import { AVATAR_MAX_BYTES, LOGO_MAX_BYTES, readImage, removeAvatar, removeTeamLogo, setAvatar, setTeamLogo } from './images.ts'
import { decodeBase64Upload } from './process.ts'

const UPLOAD_BODY_LIMIT = 2 * 1024 * 1024
const Upload = Type.Object(
  { image: Type.String({ minLength: 1, maxLength: UPLOAD_BODY_LIMIT, description: 'The PNG or JPEG file, base64-encoded, or as a `data:image/...;base64,` URL.' }) },
  { additionalProperties: false },
)
const SlugParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }) })

export const IMAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'none'; script-src 'none'; sandbox"

export function imageRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)

  api.get('/images/:file', {
    schema: {
      // Like the web app's pages, outside the API document (whose paths are all /api/).
      hide: true,
      tags: ['images'],
      summary: 'An avatar or team logo',
      description: 'The 256×256 PNG an upload was re-encoded to. URLs come from `avatarUrl` and `logoUrl`; a new upload gets a new URL, so responses are cached for a year.',
      params: Type.Object({ file: Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_-]{22}\\.png$' }) }),
      security: [],
      response: { 200: Type.Unknown({ description: 'image/png' }), ...errors(400, 404) },
    },
  }, async (request, reply) => {
    const image = await readImage(ctx.db, request.params.file.slice(0, -'.png'.length))
    if (!image) throw new AppError('not_found', { message: 'No such image.' })
    return reply
      .header('Content-Type', image.contentType)
      .header('Content-Length', image.bytes.length)
      .header('Cache-Control', 'public, max-age=31536000, immutable')
      .header('Content-Security-Policy', IMAGE_CSP)
      .header('Cross-Origin-Resource-Policy', 'same-site')
      .header('Content-Disposition', 'inline; filename="image.png"')
      .send(image.bytes)
  })

  api.put('/api/v1/me/avatar', {
    schema: {
      tags: ['accounts'],
      summary: 'Upload an avatar',
      description: 'PNG or JPEG, at most 500 KB and 4096×4096; stored re-encoded as a 256×256 PNG (turned upright by its EXIF orientation, metadata removed). Errors: `image_invalid`, `image_type_unsupported`, `image_too_large`; 30 uploads per hour (`too_many_requests`).',
      body: Upload,
      response: { 200: Type.Object({ avatarUrl: Type.String() }), ...errors(400, 401, 413, 415, 429) },
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

  api.put('/api/v1/teams/:slug/logo', {
    schema: {
      tags: ['teams'],
      summary: "Upload the team's logo (Admin)",
      description: 'PNG or JPEG, at most 1 MB and 4096×4096; stored re-encoded as a 256×256 PNG. Recorded in the activity log.',
      params: SlugParams,
      body: Upload,
      response: { 200: Type.Object({ logoUrl: Type.String() }), ...errors(400, 401, 403, 404, 413, 415, 429) },
    },
    bodyLimit: UPLOAD_BODY_LIMIT,
    config: { tooLargeMessage: `The upload is over the request limit of ${describeBytes(UPLOAD_BODY_LIMIT)}; a team logo may be at most ${describeBytes(LOGO_MAX_BYTES)}.` },
    preHandler: [signedIn, teamAccess(ctx, 'change_settings')],
  }, async (request) => setTeamLogo(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, bytes: decodeBase64Upload(request.body.image), meta: requestMeta(request) }))

  api.delete('/api/v1/teams/:slug/logo', {
    schema: { tags: ['teams'], summary: "Remove the team's logo (Admin)", params: SlugParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404) } },
    preHandler: [signedIn, teamAccess(ctx, 'change_settings')],
  }, async (request, reply) => {
    await removeTeamLogo(ctx, { account: authOf(request).account, teamId: teamAccessOf(request).team.id, meta: requestMeta(request) })
    return reply.status(204).send(null)
  })
}
