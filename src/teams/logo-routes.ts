/** Team logo upload and removal (SPEC §7, Admins); the image itself is served by src/images/routes.ts. */
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { requestMeta } from '../http/request-meta.ts'
import { describeBytes } from '../errors.ts'
import { errors } from '../http/schemas.ts'
import { LOGO_MAX_BYTES } from '../images/images.ts'
import { decodeBase64Upload } from '../images/process.ts'
import { Upload, UPLOAD_BODY_LIMIT } from '../images/schemas.ts'
import { LogoSet } from './schemas.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { teamAccess, teamAccessOf } from './access.ts'
import { removeTeamLogo, setTeamLogo } from './logo.ts'

const SlugParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }) })

export function teamLogoRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)

  api.put('/api/v1/teams/:slug/logo', {
    schema: {
      tags: ['teams'],
      summary: "Upload the team's logo (Admin)",
      description: 'PNG or JPEG, at most 1 MB and 4096×4096; stored re-encoded as a 256×256 PNG. Recorded in the activity log.',
      params: SlugParams,
      body: Upload,
      response: { 200: LogoSet, ...errors(400, 401, 403, 404, 413, 415, 429) },
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
