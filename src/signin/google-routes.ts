/**
 * Google sign-in over HTTP (./google.ts has the rules). `start` and `callback` are browser
 * navigations: they answer with redirects, and an error goes to the web app's Google page
 * (`/signin/google?error=<code>`) for a browser, as JSON for anything else. The sign-up and link
 * steps are JSON like every other sign-in.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { accountView } from '../accounts/accounts.ts'
import { setFirstPassword } from '../accounts/provider-accounts.ts'
import { Password, Username } from '../accounts/schemas.ts'
import type { Account } from '../accounts/queries.ts'
import type { AppContext } from '../context.ts'
import { AppError, isAppError } from '../errors.ts'
import { requestMeta } from '../http/request-meta.ts'
import { errors } from '../http/schemas.ts'
import { LOCALES } from '../mail/locales.ts'
import { RETURN_PATH_MAX_LENGTH } from '../return-path.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { requireRecentAuth } from '../sessions/recent-auth.ts'
import { sessionView } from '../sessions/routes.ts'
import type { Session } from '../sessions/sessions.ts'
import { addSessionToCookie, assertRoomForAccount } from './browser-accounts.ts'
import {
  completeGoogleLink, completeGoogleSignUp, finishGoogleSignIn, GOOGLE_CALLBACK_PATH, GOOGLE_FLOW_LIFETIME_MS, googleConfigured, linkedIdentitiesView,
  pendingGoogleView, startGoogleSignIn, unlinkGoogle,
} from './google.ts'
import type { SignInResult } from './password.ts'
import { deviceKey } from './routes.ts'
import { LinkedIdentities, PendingGoogle, SignedIn, SignInMethods, TwoFactorRequired } from './schemas.ts'

const COOKIE_PATH = '/api/v1/signin/google'
const FLOW_COOKIE = 'latchkey_google'
const PENDING_COOKIE = 'latchkey_google_pending'

export function googleRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)
  const secure = ctx.config.publicUrl.protocol === 'https:'

  // SameSite=Lax, not Strict: Google's redirect back is a cross-site top-level GET, which Lax lets the cookie ride.
  function setCookie(reply: FastifyReply, name: string, value: string) {
    reply.setCookie(name, value, { path: COOKIE_PATH, httpOnly: true, sameSite: 'lax', secure, maxAge: GOOGLE_FLOW_LIFETIME_MS / 1000 })
  }
  function clearCookie(reply: FastifyReply, name: string) {
    reply.clearCookie(name, { path: COOKIE_PATH, httpOnly: true, sameSite: 'lax', secure })
  }
  function assertConfigured() {
    if (!googleConfigured(ctx)) throw new AppError('google_not_configured')
  }
  /** A browser gets the web app's page for the error; a script gets the JSON error. */
  function failNavigation(request: FastifyRequest, reply: FastifyReply, err: unknown) {
    if (!isAppError(err) || !String(request.headers.accept ?? '').includes('text/html')) throw err
    if (err.status >= 500) request.log.warn({ err }, 'google sign-in failed')
    return reply.redirect(`/signin/google?error=${err.code}`, 303)
  }

  async function answer(request: FastifyRequest, reply: FastifyReply, result: SignInResult) {
    if (result.kind === 'two_factor') {
      return { twoFactorRequired: true as const, ticket: result.ticket, expiresAt: new Date(result.expiresAt).toISOString(), methods: result.methods }
    }
    await deliverCookie(request, reply, result)
    return { account: accountView(result.account), session: sessionView(result.session, result.session.id) }
  }
  async function deliverCookie(request: FastifyRequest, reply: FastifyReply, result: { token: string; session: Session; account: Account }) {
    await addSessionToCookie(ctx, request, reply, result.token, result.account.id, result.session.stay_signed_in === 1)
  }

  api.get('/api/v1/signin/methods', {
    schema: {
      tags: ['sessions'],
      summary: 'Sign-in methods this server offers',
      description: 'For the sign-in and sign-up pages: whether to show "Sign in with Google".',
      querystring: Type.Object({}, { additionalProperties: false }),
      response: { 200: SignInMethods, ...errors(400) },
    },
  }, async () => ({ google: googleConfigured(ctx) }))

  api.get('/api/v1/signin/google/start', {
    schema: {
      tags: ['sessions'],
      summary: 'Start signing in (or up) with Google',
      description:
        'A browser navigation: redirects to Google with PKCE (S256), state and nonce, kept in a sealed HttpOnly cookie for 10 minutes. ' +
        '`next`: a path on this site to return to (an app sign-in request `/app-signin/…` is one). Answers `google_not_configured` when Google sign-in is off.',
      querystring: Type.Object(
        {
          intent: Type.Optional(Type.Union([Type.Literal('signin'), Type.Literal('signup')])),
          next: Type.Optional(Type.String({ maxLength: RETURN_PATH_MAX_LENGTH })),
          staySignedIn: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
      response: { 302: Type.Null(), ...errors(400, 404, 409, 502) },
    },
  }, async (request, reply) => {
    try {
      assertConfigured()
      await assertRoomForAccount(ctx, request)
      const { url, flowCookie } = await startGoogleSignIn(ctx, { intent: request.query.intent ?? 'signin', next: request.query.next, staySignedIn: request.query.staySignedIn ?? false })
      setCookie(reply, FLOW_COOKIE, flowCookie)
      return reply.redirect(url, 302)
    } catch (err) {
      return failNavigation(request, reply, err)
    }
  })

  api.get(GOOGLE_CALLBACK_PATH, {
    schema: {
      tags: ['sessions'],
      summary: 'Google sends the browser back here',
      description:
        'Register `<PUBLIC_URL>/api/v1/signin/google/callback` (exactly, no query) at Google. Redirects to `next` signed in; to `/signin#ticket=…` when the account has two-factor authentication; ' +
        'or to `/signin/google` for the sign-up or link step (`GET /api/v1/signin/google/pending`).',
      querystring: Type.Object({}, { additionalProperties: true }),
      response: { 303: Type.Null(), ...errors(400, 403, 404, 409, 502) },
    },
  }, async (request, reply) => {
    try {
      assertConfigured()
      // The URL Google redirected to, on the registered origin: openid-client reads code, state
      // and iss from it and derives the token request's redirect_uri from it minus the query.
      const callbackUrl = new URL(request.url, ctx.config.publicUrl)
      const flowCookie = request.cookies[FLOW_COOKIE]
      clearCookie(reply, FLOW_COOKIE)
      const outcome = await finishGoogleSignIn(ctx, { callbackUrl, flowCookie, signIn: { meta: requestMeta(request), deviceKey: deviceKey(ctx, request, reply, { browser: true }), kind: 'web' } })
      if (outcome.kind === 'pending') {
        setCookie(reply, PENDING_COOKIE, outcome.pendingCookie)
        return reply.redirect('/signin/google', 303)
      }
      if (outcome.kind === 'two_factor') {
        const fragment = new URLSearchParams({ ticket: outcome.ticket, methods: outcome.methods.join(',') })
        const next = outcome.next ? `?next=${encodeURIComponent(outcome.next)}` : ''
        return reply.redirect(`/signin${next}#${fragment}`, 303)
      }
      await assertRoomForAccount(ctx, request)
      await deliverCookie(request, reply, outcome)
      return reply.redirect(outcome.next ?? '/settings/profile', 303)
    } catch (err) {
      return failNavigation(request, reply, err)
    }
  })

  api.get('/api/v1/signin/google/pending', {
    schema: {
      tags: ['sessions'],
      summary: 'The sign-up or link step after Google',
      description: 'What Google said (email, whether verified, name) and which step is next: `signup` (username and terms) or `link` (the existing account\'s password).',
      querystring: Type.Object({}, { additionalProperties: false }),
      response: { 200: PendingGoogle, ...errors(400, 404) },
    },
  }, async (request) => {
    assertConfigured()
    return pendingGoogleView(ctx, request.cookies[PENDING_COOKIE])
  })

  api.post('/api/v1/signin/google/signup', {
    schema: {
      tags: ['sessions'],
      summary: 'Finish signing up with Google',
      description: 'Username and terms; the email comes from Google (confirmed when Google verified it). The account has no password until one is set (`POST /api/v1/me/password/set`).',
      body: Type.Object(
        { username: Username, acceptTerms: Type.Boolean(), locale: Type.Optional(Type.Enum([...LOCALES])) },
        { additionalProperties: false },
      ),
      response: { 200: Type.Union([SignedIn, TwoFactorRequired]), ...errors(400, 404, 409, 429) },
    },
  }, async (request, reply) => {
    assertConfigured()
    await assertRoomForAccount(ctx, request)
    const result = await completeGoogleSignUp(ctx, request.cookies[PENDING_COOKIE], { ...request.body, locale: request.body.locale ?? request.headers['accept-language'] }, {
      meta: requestMeta(request),
      deviceKey: deviceKey(ctx, request, reply),
      kind: 'web',
    })
    clearCookie(reply, PENDING_COOKIE)
    return answer(request, reply, result)
  })

  api.post('/api/v1/signin/google/link', {
    schema: {
      tags: ['sessions'],
      summary: 'Link Google to an existing account with its password',
      description: 'Once per Google account: afterwards Google signs in to this account. Answers `{twoFactorRequired, ticket}` when the account has two-factor authentication.',
      body: Type.Object({ password: Password }, { additionalProperties: false }),
      response: { 200: Type.Union([SignedIn, TwoFactorRequired]), ...errors(400, 403, 404, 409, 429) },
    },
  }, async (request, reply) => {
    assertConfigured()
    await assertRoomForAccount(ctx, request)
    const result = await completeGoogleLink(ctx, request.cookies[PENDING_COOKIE], request.body, { meta: requestMeta(request), deviceKey: deviceKey(ctx, request, reply), kind: 'web' })
    clearCookie(reply, PENDING_COOKIE)
    return answer(request, reply, result)
  })

  api.get('/api/v1/me/identities', {
    schema: { tags: ['accounts'], summary: 'Linked sign-ins (Google)', response: { 200: LinkedIdentities, ...errors(401) } },
    preHandler: [signedIn],
  }, async (request) => linkedIdentitiesView(ctx, authOf(request).account))

  api.delete('/api/v1/me/identities/:id', {
    schema: {
      tags: ['accounts'],
      summary: 'Unlink a sign-in (Google)',
      description: 'Needs a recent sign-in. Refused with `last_signin_method` when it is the only way in: set a password or add a passkey first.',
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409) },
    },
    preHandler: [signedIn, requireRecentAuth(ctx)],
  }, async (request, reply) => {
    await unlinkGoogle(ctx, authOf(request), request.params.id, requestMeta(request))
    return reply.status(204).send(null)
  })

  api.post('/api/v1/me/password/set', {
    schema: {
      tags: ['accounts'],
      summary: 'Set a password (accounts made with Google)',
      description: 'For an account without a password (SPEC §6). Needs a recent sign-in (signing in with Google counts) instead of a current password. Other sessions are signed out. `password_already_set` for an account that has one.',
      body: Type.Object({ newPassword: Password }, { additionalProperties: false }),
      response: { 200: Type.Object({ status: Type.Literal('password_set'), otherSessionsRevoked: Type.Integer() }), ...errors(400, 401, 403, 409) },
    },
    preHandler: [signedIn, requireRecentAuth(ctx)],
  }, async (request) => ({ status: 'password_set' as const, ...(await setFirstPassword(ctx, authOf(request), request.body, requestMeta(request))) }))
}
