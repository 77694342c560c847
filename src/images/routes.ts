/**
 * Serving the images avatars and team logos become. Their uploads are routes of their owners
 * (src/accounts/avatar-routes.ts, src/teams/logo-routes.ts) with the shape in ./schemas.ts.
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
import { AppError } from '../errors.ts'
import { errors } from '../http/schemas.ts'
import { readImage } from './images.ts'


export const IMAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'none'; script-src 'none'; sandbox"

export function imageRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()

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
}
