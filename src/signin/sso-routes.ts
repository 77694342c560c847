/**
 * Signing in with a team's SAML connection (SPEC §8), in the browser: start, the ACS (the IdP's
 * form POST), finish (session), and the Admin's test sign-in; and with a team's OIDC connection
 * (start, callback, the shared finish, test). The ACS and the finish pages take
 * forms: a form parser is registered in this scope only, every other route still takes JSON.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { newToken } from '../crypto.ts'
import { AppError, isAppError } from '../errors.ts'
import { requestMeta } from '../http/request-meta.ts'
import { errors } from '../http/schemas.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { getConnection } from '../sso/connections.ts'
import { confirmPage, errorPage, langOf, passwordPage, testResultPage } from '../sso/pages.ts'
import { ConnectionParams, PublicConnectionParams, TestStarted } from '../sso/schemas.ts'
import { teamAccess, teamAccessOf } from '../teams/access.ts'
import { addSessionToCookie } from './browser-accounts.ts'
import { completeSignIn } from './complete.ts'
import { deviceKey } from './routes.ts'
import { recordSsoSignIn } from './sso-accounts.ts'
import { peekHandoff, receiveSamlResponse, startSamlSignIn, takeHandoff, type OpenHandoff } from './sso-flow.ts'
import { OIDC_FLOW_LIFETIME_MS, receiveOidcCallback, startOidcSignIn } from './sso-oidc.ts'
import { getOidcConnection } from '../sso/oidc.ts'
import { setupAccessOf, SSO_SETUP_SECURITY, ssoSetupAccess } from '../sso/setup-access.ts'

/** A SAMLResponse is base64 XML: a few KB usually, large with many attributes or certificates. */
const FORM_BODY_LIMIT = 512 * 1024
const FLOW_COOKIE_MAX_AGE_SECONDS = 15 * 60

/** The ACS is the one unsafe route another site's page posts to (see server.ts's Origin check). */
export function isSamlAcs(request: FastifyRequest): boolean {
  return request.method === 'POST' && /^\/sso\/saml\/[^/?#]+\/acs(?:\?|$)/.test(request.url)
}

function flowCookieName(ctx: AppContext): string {
  return ctx.config.publicUrl.protocol === 'https:' ? '__Host-latchkey_sso' : 'latchkey_sso'
}

/** The browser's secret for SSO flows it starts (login CSRF binding); made once, reused. */
function browserSecret(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): string {
  const existing = request.cookies[flowCookieName(ctx)]
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing
  const fresh = newToken()
  // Lax: sent on the top-level GET that ends the flow after the IdP's cross-site POST.
  reply.setCookie(flowCookieName(ctx), fresh, { path: '/', httpOnly: true, sameSite: 'lax', secure: ctx.config.publicUrl.protocol === 'https:', maxAge: FLOW_COOKIE_MAX_AGE_SECONDS })
  return fresh
}

function sendPage(reply: FastifyReply, status: number, html: string) {
  return reply.status(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send(html)
}

const OIDC_FLOW_COOKIE = 'latchkey_sso_oidc'

/** The OIDC flow cookie lives under its connection's path: another connection's callback never sees it. */
function oidcPath(connectionId: string): string {
  return `/sso/oidc/${encodeURIComponent(connectionId)}`
}

/** Every failure of the browser flow is a page of its own, never a bare 500. */
function failurePage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, err: unknown) {
  const lang = langOf(request.headers['accept-language'])
  if (isAppError(err)) return sendPage(reply, err.status >= 500 ? 400 : err.status, errorPage(lang, err.code))
  ctx.log.error({ err }, 'SAML flow failed')
  return sendPage(reply, 400, errorPage(lang, 'saml_response_invalid'))
}

export async function ssoSignInRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['sso']
  const manage = [requireAuth(ctx), teamAccess(ctx, 'manage_sso')]

  api.post('/api/v1/teams/:slug/sso/saml/:connectionId/test', {
    schema: {
      tags,
      summary: 'Start a test sign-in (Admin)',
      description: 'Answers the IdP URL to open in this browser. The IdP comes back to a page showing the attributes it sent; no session is made and no membership changes. Works while the connection is off.',
      params: ConnectionParams,
      response: { 200: TestStarted, ...errors(400, 401, 403, 404) },
    },
    preHandler: manage,
  }, async (request, reply) => {
    await getConnection(ctx, teamAccessOf(request).team.id, request.params.connectionId)
    const url = await startSamlSignIn(ctx, { connectionId: request.params.connectionId, test: { account: authOf(request).account }, browserSecret: browserSecret(ctx, request, reply) })
    return { url }
  })

  api.get('/sso/saml/:connectionId/start', {
    schema: {
      tags,
      // Browser pages, not API (they answer HTML, like /oauth/*): out of the OpenAPI document; the README describes them.
      hide: true,
      summary: 'Start an SP-initiated SAML sign-in (browser)',
      description: 'Redirects to the IdP. `return_to`: a path on this site to land on afterwards.',
      params: PublicConnectionParams,
      querystring: Type.Object({ return_to: Type.Optional(Type.String({ maxLength: 600 })) }),
    },
  }, async (request, reply) => {
    try {
      const url = await startSamlSignIn(ctx, { connectionId: request.params.connectionId, returnTo: request.query.return_to, browserSecret: browserSecret(ctx, request, reply) })
      return reply.header('cache-control', 'no-store').redirect(url, 302)
    } catch (err) {
      return failurePage(ctx, request, reply, err)
    }
  })

  // ------------------------------------------------------------ OIDC sign-in (./sso-oidc.ts)
  api.post('/api/v1/teams/:slug/sso/oidc/:connectionId/test', {
    schema: {
      security: SSO_SETUP_SECURITY,
      tags,
      summary: 'Start an OIDC test sign-in (Admin or set-up link)',
      description: 'Answers the IdP URL to open in this browser. The IdP comes back to a page showing the claims it sent; no session is made and no membership changes. Works while the connection is off.',
      params: ConnectionParams,
      response: { 200: TestStarted, ...errors(400, 401, 403, 404, 410, 502) },
    },
    preHandler: [ssoSetupAccess(ctx)],
  }, async (request, reply) => {
    const access = setupAccessOf(request)
    await getOidcConnection(ctx, access.team.id, request.params.connectionId)
    const started = await startOidcSignIn(ctx, { connectionId: request.params.connectionId, browserSecret: browserSecret(ctx, request, reply), test: access.by })
    setOidcFlowCookie(reply, request.params.connectionId, started.flowCookie)
    return { url: started.url }
  })

  function setOidcFlowCookie(reply: FastifyReply, connectionId: string, value: string) {
    // Lax: sent on the IdP's top-level redirect back to the callback.
    reply.setCookie(OIDC_FLOW_COOKIE, value, { path: oidcPath(connectionId), httpOnly: true, sameSite: 'lax', secure: ctx.config.publicUrl.protocol === 'https:', maxAge: OIDC_FLOW_LIFETIME_MS / 1000 })
  }

  api.get('/sso/oidc/:connectionId/start', {
    schema: {
      tags,
      hide: true,
      summary: 'Start an OIDC sign-in (browser)',
      description: 'Redirects to the IdP. `return_to`: a path on this site to land on afterwards (e.g. /app-signin/…).',
      params: PublicConnectionParams,
      querystring: Type.Object({ return_to: Type.Optional(Type.String({ maxLength: 600 })) }),
    },
  }, async (request, reply) => {
    try {
      const started = await startOidcSignIn(ctx, { connectionId: request.params.connectionId, returnTo: request.query.return_to, browserSecret: browserSecret(ctx, request, reply) })
      setOidcFlowCookie(reply, request.params.connectionId, started.flowCookie)
      return reply.header('cache-control', 'no-store').redirect(started.url, 302)
    } catch (err) {
      return failurePage(ctx, request, reply, err)
    }
  })

  api.get('/sso/oidc/:connectionId/callback', {
    schema: { tags, hide: true, summary: 'OIDC redirect URI (the IdP sends the browser here)', params: PublicConnectionParams },
  }, async (request, reply) => {
    try {
      const connectionId = request.params.connectionId
      const callbackUrl = new URL(request.url, ctx.config.publicUrl)
      const result = await receiveOidcCallback(ctx, { connectionId, callbackUrl, flowCookie: request.cookies[OIDC_FLOW_COOKIE], meta: requestMeta(request) })
      // One round trip per cookie: a second visit of this URL finds none.
      reply.clearCookie(OIDC_FLOW_COOKIE, { path: oidcPath(connectionId) })
      if (result.kind === 'tested') return sendPage(reply, 200, testResultPage(langOf(request.headers['accept-language']), result))
      return reply.header('cache-control', 'no-store').redirect(`${oidcPath(connectionId)}/finish?handoff=${result.handoff}`, 303)
    } catch (err) {
      return failurePage(ctx, request, reply, err)
    }
  })

  await app.register(async (scope) => {
    // Forms only here: the IdP's auto-post (ACS) and this flow's own pages.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)))
    })
    const forms = scope.withTypeProvider<TypeBoxTypeProvider>()

    forms.post('/sso/saml/:connectionId/acs', {
      schema: {
        tags,
        hide: true,
        summary: 'SAML assertion consumer service (the IdP posts here)',
        description: 'HTTP-POST binding. Answers a redirect to finish the sign-in, or a page: the test result, or the error (wrong signature, wrong ACS/audience/destination, expired, replayed, stale RelayState, unknown or disabled connection, JIT refused).',
        params: PublicConnectionParams,
        consumes: ['application/x-www-form-urlencoded'],
        body: Type.Object({ SAMLResponse: Type.Optional(Type.String({ maxLength: FORM_BODY_LIMIT })), RelayState: Type.Optional(Type.String({ maxLength: 1024 })) }),
      },
      // A schema failure is a page too (the person came from the IdP, not from a script).
      attachValidation: true,
    }, async (request, reply) => {
      try {
        if (request.validationError) throw new AppError('saml_response_invalid')
        const result = await receiveSamlResponse(ctx, { connectionId: request.params.connectionId, samlResponse: request.body.SAMLResponse ?? '', relayState: request.body.RelayState, meta: requestMeta(request) })
        if (result.kind === 'tested') return sendPage(reply, 200, testResultPage(langOf(request.headers['accept-language']), result))
        // 303: the browser follows with a GET, on which its SameSite=Lax cookies are sent.
        return reply.header('cache-control', 'no-store').redirect(`/sso/saml/${encodeURIComponent(request.params.connectionId)}/finish?handoff=${result.handoff}`, 303)
      } catch (err) {
        return failurePage(ctx, request, reply, err)
      }
    })

    async function signInWith(request: FastifyRequest, reply: FastifyReply, open: OpenHandoff) {
      const meta = requestMeta(request)
      const result = await completeSignIn(ctx, open.account, { staySignedIn: false, meta, deviceKey: deviceKey(ctx, request, reply), kind: 'web', method: open.connection.protocol })
      await recordSsoSignIn(ctx, { connection: open.connection, account: open.account, meta, idpInitiated: open.bindHash === null })
      await addSessionToCookie(ctx, request, reply, result.token, result.account.id, false)
      return reply.header('cache-control', 'no-store').redirect(open.returnTo, 303)
    }

    // The finish step is shared: the handoff is the same whichever protocol vouched.
    for (const protocol of ['saml', 'oidc'] as const) {
      forms.get(`/sso/${protocol}/:connectionId/finish`, {
        schema: { hide: true, tags, summary: `Finish a ${protocol.toUpperCase()} sign-in (browser)`, params: PublicConnectionParams, querystring: Type.Object({ handoff: Type.String({ minLength: 1, maxLength: 128 }) }) },
        attachValidation: true,
      }, async (request, reply) => {
        try {
          if (request.validationError) throw new AppError('saml_relay_state_invalid')
          const lang = langOf(request.headers['accept-language'])
          const secret = request.cookies[flowCookieName(ctx)]
          const open = await peekHandoff(ctx, request.params.connectionId, request.query.handoff, secret)
          const action = `/sso/${protocol}/${encodeURIComponent(request.params.connectionId)}/finish`
          if (open.kind === 'password') return sendPage(reply, 200, passwordPage(lang, { action, handoff: request.query.handoff, email: open.email }))
          // IdP-initiated: nothing ties this browser to the sign-in; the person confirms it first.
          if (open.bindHash === null) return sendPage(reply, 200, confirmPage(lang, { action, handoff: request.query.handoff, email: open.email, connectionName: open.connection.name }))
          return await signInWith(request, reply, await takeHandoff(ctx, request.params.connectionId, request.query.handoff, secret, { meta: requestMeta(request) }))
        } catch (err) {
          return failurePage(ctx, request, reply, err)
        }
      })

      forms.post(`/sso/${protocol}/:connectionId/finish`, {
        schema: {
          tags,
          hide: true,
          summary: `Confirm a ${protocol.toUpperCase()} sign-in (the confirmation or password page posts here)`,
          params: PublicConnectionParams,
          consumes: ['application/x-www-form-urlencoded'],
          body: Type.Object({ handoff: Type.String({ minLength: 1, maxLength: 128 }), password: Type.Optional(Type.String({ maxLength: 512 })) }),
        },
        attachValidation: true,
      }, async (request, reply) => {
        try {
          if (request.validationError) throw new AppError('saml_relay_state_invalid')
          const open = await takeHandoff(ctx, request.params.connectionId, request.body.handoff, request.cookies[flowCookieName(ctx)], { password: request.body.password, meta: requestMeta(request) })
          return await signInWith(request, reply, open)
        } catch (err) {
          return failurePage(ctx, request, reply, err)
        }
      })
    }
  })
}
