/**
 * Builds the Fastify app from a ready AppContext. No side effects on import; the caller
 * decides whether to listen (the CLI) or inject (tests).
 */
import cookie from '@fastify/cookie'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { cachedSerializerFactory, cachedValidatorCompiler } from './http/compiled-schemas.ts'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { accountRoutes } from './accounts/routes.ts'
import { AccountView } from './accounts/schemas.ts'
import type { AppContext } from './context.ts'
import { AppError } from './errors.ts'
import { originCheck } from './http/origin-check.ts'
import { clientErrorHandler, hostHeaderRequired } from './http/client-errors.ts'
import { registerErrorHandling } from './http/errors.ts'
import { parseJsonBody } from './http/json-body.ts'
import { DebugRequestLog, lazyChildLogger } from './http/request-log.ts'
import { opsRoutes } from './http/ops.ts'
import { publicHostCheck } from './http/public-host.ts'
import { documentRouteSecurity } from './http/openapi-security.ts'
import { isPageRequest, registerWebApp } from './http/web-app.ts'
import { ErrorResponse } from './http/schemas.ts'
import { recoveryRoutes } from './recovery/routes.ts'
import { acceptBearerTokens, carriesSessionCookie } from './sessions/guard.ts'
import { sessionRoutes } from './sessions/routes.ts'
import { signInRoutes } from './signin/routes.ts'
import { googleRoutes } from './signin/google-routes.ts'
import { twoFactorRoutes } from './two-factor/routes.ts'
import { passkeyRoutes } from './passkeys/routes.ts'
import { notificationRoutes } from './notifications/routes.ts'
import { notificationPreferenceRoutes } from './accounts/notification-preferences-routes.ts'
import { teamRoutes } from './teams/routes.ts'
import { inviteLinkRoutes } from './teams/invitations/routes.ts'
import { teamProfileRoutes } from './teams/profile/routes.ts'
import { imageRoutes } from './images/routes.ts'
import { avatarRoutes } from './accounts/avatar-routes.ts'
import { teamLogoRoutes } from './teams/logo-routes.ts'
import { teamDiscoveryRoutes } from './teams/discovery/routes.ts'
import { auditRoutes } from './audit/routes.ts'
import { oauthRoutes } from './oauth/routes.ts'
import { ssoRoutes } from './sso/routes.ts'
import { isSamlAcs, ssoSignInRoutes } from './signin/sso-routes.ts'
import { authenticateAppAccessToken } from './oauth/bearer.ts'
import { signinPolicyRoutes } from './sso/policy-routes.ts'
import { setupLinkRoutes } from './sso/setup-link-routes.ts'
import { SETUP_LINK_COOKIE } from './sso/setup-links.ts'

const VERSION = '0.1.0'

function securityHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id)
  reply.header('Referrer-Policy', 'no-referrer')
  reply.header('X-Content-Type-Options', 'nosniff')
  reply.header('X-Frame-Options', 'DENY')
  if (request.url.startsWith('/api/')) reply.header('Cache-Control', 'no-store')
}

export async function buildServer(ctx: AppContext): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    logController: new DebugRequestLog(ctx.log as FastifyBaseLogger),
    childLoggerFactory: (logger, bindings, options) => lazyChildLogger(logger, bindings, options),
    schemaController: { compilersFactory: { buildSerializer: cachedSerializerFactory } },
    trustProxy: ctx.config.trustProxy,
    bodyLimit: 64 * 1024,
    // A request id the client also sees (x-request-id), so a 500 can be found in the logs.
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Malformed HTTP is answered in the API's error shape (http/client-errors.ts), a missing
    // Host header included, which Node would otherwise answer with an empty 400 itself.
    http: { requireHostHeader: false },
    clientErrorHandler: clientErrorHandler(ctx.log as FastifyBaseLogger),
    // Errors raised before routing (a malformed or over-long URL) get the same JSON shape.
    frameworkErrors: (error, request, reply) => {
      const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400
      const message = status === 414 ? 'The URL is too long.' : 'The URL is not valid.'
      const body = new AppError(status === 414 ? 'uri_too_long' : 'invalid_request', { message }).toJSON()
      // These replies skip the onSend hooks, so they get the same headers here.
      securityHeaders(request as unknown as FastifyRequest, reply as unknown as FastifyReply)
      void (reply as unknown as FastifyReply).status(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body))
    },
  })
  app.setValidatorCompiler(cachedValidatorCompiler)
  registerErrorHandling(app)
  app.decorateRequest('auth', null)
  app.addSchema(ErrorResponse)
  app.addSchema(AccountView)
  // Before any route (and before @fastify/swagger reads them): public routes say `security: []`.
  app.addHook('onRoute', documentRouteSecurity)

  await app.register(cookie)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Latchkey API',
        version: VERSION,
        description: 'Accounts, sessions and recovery for API tools. Errors are `{"error": {"code", "message", "fields"?}}`.',
      },
      servers: [{ url: ctx.config.publicUrl.origin }],
      components: {
        securitySchemes: {
          sessionCookie: { type: 'apiKey', in: 'cookie', name: ctx.config.publicUrl.protocol === 'https:' ? '__Host-latchkey_session' : 'latchkey_session' },
          bearer: { type: 'http', scheme: 'bearer', description: 'A session token from `POST /api/v1/signin` with `returnToken: true`.' },
          ssoSetupLink: { type: 'apiKey', in: 'header', name: 'x-latchkey-setup-link', description: 'An IT administrator\'s SSO set-up link token (or the cookie `POST /api/v1/sso-setup/open` sets): opens one team\'s SSO set-up routes only.' },
        },
      },
      security: [{ sessionCookie: [] }, { bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true, validatorUrl: null },
    staticCSP: true,
    // Only this server: no validator badge, no remote fonts or styles; no forced https on http deployments.
    // Swagger UI's bundle sets inline styles as it renders (refused, with a console error, under
    // `style-src 'self'`); inline scripts stay refused, so 'unsafe-inline' for styles only, as
    // the web app's own policy allows for its captcha widget.
    transformStaticCSP: (header) => {
      const local = header.replace(' validator.swagger.io', '').replace(/ https:/g, '').replace(/style-src [^;]*;/, "style-src 'self' 'unsafe-inline';")
      return ctx.config.publicUrl.protocol === 'http:' ? local.replace(' upgrade-insecure-requests;', '') : local
    },
  })

  // JSON only: a text/plain body must not reach a handler (it is also a CSRF-friendly type).
  app.removeContentTypeParser('text/plain')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    let parsed: unknown
    try {
      parsed = parseJsonBody(body as string)
    } catch (err) {
      return done(err as AppError)
    }
    done(null, parsed)
  })
  // The hooks every request runs are callback-style, not async: no promise and no microtask
  // turn per hook on the session check.
  app.addHook('onRequest', hostHeaderRequired)
  app.addHook('onRequest', (request, _reply, done) => {
    done(request.url.includes('%00') ? new AppError('invalid_request', { message: 'The URL may not contain NUL characters.' }) : undefined)
  })
  app.addHook('onRequest', publicHostCheck(ctx.config.publicUrl))
  // One exemption: the SAML ACS takes a form POST from the IdP's page (another origin, by
  // design of the HTTP-POST binding). Its proof is the IdP's XML signature, checked against
  // the connection's certificate, not the Origin; it creates no session itself (the session is
  // made on a GET back on this site, bound to the browser that started, or confirmed there).
  app.addHook('onRequest', originCheck(ctx.config.publicUrl.origin, (request) => carriesSessionCookie(ctx, request) || request.cookies[SETUP_LINK_COOKIE] !== undefined, isSamlAcs))
  app.addHook('onSend', (request, reply, payload, done) => {
    securityHeaders(request, reply)
    done(null, payload)
  })

  // The CLI's OAuth access token also works on the account API (src/oauth/bearer.ts).
  acceptBearerTokens(ctx, authenticateAppAccessToken)
  accountRoutes(app, ctx)
  sessionRoutes(app, ctx)
  signInRoutes(app, ctx)
  googleRoutes(app, ctx)
  recoveryRoutes(app, ctx)
  twoFactorRoutes(app, ctx)
  passkeyRoutes(app, ctx)
  notificationPreferenceRoutes(app, ctx)
  notificationRoutes(app, ctx)
  teamRoutes(app, ctx)
  inviteLinkRoutes(app, ctx)
  teamProfileRoutes(app, ctx)
  imageRoutes(app, ctx)
  avatarRoutes(app, ctx)
  teamLogoRoutes(app, ctx)
  teamDiscoveryRoutes(app, ctx)
  auditRoutes(app, ctx)
  signinPolicyRoutes(app, ctx)
  setupLinkRoutes(app, ctx)
  await oauthRoutes(app, ctx)
  await ssoRoutes(app, ctx)
  await ssoSignInRoutes(app, ctx)
  opsRoutes(app, ctx)
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  const servePage = await registerWebApp(app)
  app.setNotFoundHandler((request, reply) => {
    if (isPageRequest(request)) return servePage(request, reply)
    return reply.status(404).send(new AppError('not_found', { message: `No route for ${request.method} ${request.url.split('?')[0]}.` }).toJSON())
  })
  return app
}
