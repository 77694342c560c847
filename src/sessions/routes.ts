import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import { Type } from 'typebox'
import { accountView } from '../accounts/accounts.ts'
import type { AppContext } from '../context.ts'
import { authOf, cookieTokens, deviceKey, requestMeta, requireAuth, usesBearer } from '../http/auth.ts'
import { addSessionToCookie, assertRoomForAccount, pruneSessionCookie, switchAccount } from './browser-accounts.ts'
import { errors } from '../http/schemas.ts'
import { recordAudit } from '../audit/audit.ts'
import { authenticationOptions } from '../passkeys/passkeys.ts'
import { hashToken } from '../crypto.ts'
import { evictCachedSessions, listSessions, revokeAllSessions, revokeSession, type Account, type Session } from './sessions.ts'
import { disavowSignIn, signIn, signInSecondFactor, signInWithPasskey } from './signin.ts'
import { reauthenticate } from './reauth.ts'
import { AppError } from '../errors.ts'
import { appSessionNames } from '../oauth/interactions.ts'

const SessionView = Type.Object(
  {
    id: Type.String(),
    current: Type.Boolean(),
    kind: Type.String({ description: '`web` for browsers, `api` for apps and scripts.' }),
    deviceName: Type.Optional(Type.String({ description: 'For an app signed in through OAuth: the name it gave (`device_name`).' })),
    browser: Type.String(),
    os: Type.String(),
    ip: Type.String(),
    staySignedIn: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
    lastActiveAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Session' },
)

/** What a browser's `PublicKeyCredential.toJSON()` sends. */
export const WebAuthnResponse = Type.Object(
  {
    id: Type.String({ maxLength: 1024 }),
    rawId: Type.String({ maxLength: 1024 }),
    type: Type.Literal('public-key'),
    response: Type.Record(Type.String(), Type.Unknown()),
    authenticatorAttachment: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    clientExtensionResults: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
)

const PasskeyAssertion = Type.Object({ challengeId: Type.String({ maxLength: 64 }), response: WebAuthnResponse }, { additionalProperties: false })

export const PasskeyOptions = Type.Object({
  challengeId: Type.String(),
  options: Type.Record(Type.String(), Type.Unknown(), { description: 'Pass to `navigator.credentials.get()` (PublicKeyCredentialRequestOptionsJSON).' }),
})

const SignedIn = Type.Object({ account: Type.Ref('Account'), session: Type.Ref('Session'), token: Type.Optional(Type.String()) })

function sessionView(session: Session, currentId: string) {
  return {
    id: session.id,
    current: session.id === currentId,
    kind: session.kind,
    browser: session.browser,
    os: session.os,
    ip: session.ip,
    staySignedIn: session.stay_signed_in === 1,
    createdAt: new Date(session.created_at).toISOString(),
    lastActiveAt: new Date(session.last_active_at).toISOString(),
    expiresAt: new Date(session.expires_at).toISOString(),
  }
}

export function sessionRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)
  app.addSchema(SessionView)

  async function deliver(request: FastifyRequest, reply: FastifyReply, result: { token: string; session: Session; account: Account }, returnToken: boolean) {
    if (!returnToken) await addSessionToCookie(ctx, request, reply, result.token, result.account.id, result.session.stay_signed_in === 1)
    return { account: accountView(result.account), session: sessionView(result.session, result.session.id), ...(returnToken ? { token: result.token } : {}) }
  }

  api.post('/api/v1/signin', {
    schema: {
      tags: ['sessions'],
      summary: 'Sign in with a password',
      description:
        'With email or username and password. Sets the HttpOnly session cookie, or with `returnToken: true` returns the token for `Authorization: Bearer` instead. ' +
        '`staySignedIn`: 30 days; otherwise the session ends after 30 minutes without activity. ' +
        'With two-factor authentication on, answers `{twoFactorRequired: true, ticket}` instead: finish with `POST /api/v1/signin/two-factor` within 5 minutes.',
      body: Type.Object(
        {
          login: Type.String({ minLength: 1, maxLength: 254, description: 'Email or username.' }),
          password: Type.String({ minLength: 1, maxLength: 512 }),
          staySignedIn: Type.Optional(Type.Boolean({ default: false })),
          returnToken: Type.Optional(Type.Boolean({ description: 'Return the session token in the body instead of a cookie (apps and scripts).' })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Union([
          SignedIn,
          Type.Object({
            twoFactorRequired: Type.Literal(true),
            ticket: Type.String(),
            expiresAt: Type.String({ format: 'date-time' }),
            methods: Type.Array(Type.String(), { description: '`totp`, `recovery_code`, and `passkey` when the account has one.' }),
          }),
        ]),
        ...errors(400, 401, 403, 423, 429),
      },
    },
  }, async (request, reply) => {
    const { login, password, staySignedIn = false, returnToken = false } = request.body
    if (!returnToken) await assertRoomForAccount(ctx, request)
    const result = await signIn(ctx, { login, password, staySignedIn, meta: requestMeta(request), deviceKey: deviceKey(ctx, request, reply), kind: returnToken ? 'api' : 'web' })
    if (result.kind === 'two_factor') {
      return { twoFactorRequired: true as const, ticket: result.ticket, expiresAt: new Date(result.expiresAt).toISOString(), methods: result.methods }
    }
    return deliver(request, reply, result, returnToken)
  })

  api.post('/api/v1/signin/two-factor', {
    schema: {
      tags: ['sessions'],
      summary: 'Finish signing in with a second factor',
      description: 'Exactly one of `code` (6 digits from the authenticator app), `recoveryCode`, or `passkey` (an assertion for a challenge from `POST /api/v1/signin/passkey/options` with the ticket).',
      body: Type.Object(
        {
          ticket: Type.String({ minLength: 1, maxLength: 128 }),
          code: Type.Optional(Type.String({ maxLength: 16 })),
          recoveryCode: Type.Optional(Type.String({ maxLength: 64 })),
          passkey: Type.Optional(PasskeyAssertion),
          returnToken: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
      response: { 200: SignedIn, ...errors(400, 401, 429) },
    },
  }, async (request, reply) => {
    const { ticket, code, recoveryCode, passkey, returnToken = false } = request.body
    const given = [code, recoveryCode, passkey].filter((v) => v !== undefined).length
    if (given !== 1) throw new AppError('invalid_request', { message: 'Send exactly one of code, recoveryCode or passkey.', fields: { code: 'one_required' } })
    const factor = code !== undefined ? { code } : recoveryCode !== undefined ? { recoveryCode } : { passkey: { challengeId: passkey!.challengeId, response: passkey!.response as unknown as AuthenticationResponseJSON } }
    const result = await signInSecondFactor(ctx, { ticket, factor, meta: requestMeta(request), deviceKey: deviceKey(ctx, request, reply), kind: returnToken ? 'api' : 'web' })
    return deliver(request, reply, result, returnToken)
  })

  api.post('/api/v1/signin/passkey/options', {
    schema: {
      tags: ['sessions'],
      summary: 'Start a passkey sign-in',
      description: 'Without a ticket: passwordless sign-in with a discoverable passkey. With the ticket from `POST /api/v1/signin`: the passkey as second factor.',
      body: Type.Object({ ticket: Type.Optional(Type.String({ maxLength: 128 })) }, { additionalProperties: false }),
      response: { 200: PasskeyOptions, ...errors(400, 429) },
    },
  }, async (request) => {
    if (!request.body.ticket) return authenticationOptions(ctx, 'signin', null)
    const ticket = await ctx.db
      .selectFrom('signin_tickets')
      .select('account_id')
      .where('token_hash', '=', hashToken(request.body.ticket))
      .where('used_at', 'is', null)
      .where('expires_at', '>', ctx.clock.now())
      .executeTakeFirst()
    if (!ticket) throw new AppError('ticket_invalid', { fields: { ticket: 'invalid' } })
    return authenticationOptions(ctx, 'second_factor', ticket.account_id)
  })

  api.post('/api/v1/signin/passkey', {
    schema: {
      tags: ['sessions'],
      summary: 'Sign in with a passkey alone',
      body: Type.Object(
        { challengeId: Type.String({ maxLength: 64 }), response: WebAuthnResponse, staySignedIn: Type.Optional(Type.Boolean()), returnToken: Type.Optional(Type.Boolean()) },
        { additionalProperties: false },
      ),
      response: { 200: SignedIn, ...errors(400, 403, 429) },
    },
  }, async (request, reply) => {
    const { challengeId, response, staySignedIn = false, returnToken = false } = request.body
    if (!returnToken) await assertRoomForAccount(ctx, request)
    const result = await signInWithPasskey(ctx, { challengeId, response: response as unknown as AuthenticationResponseJSON, staySignedIn, meta: requestMeta(request), deviceKey: deviceKey(ctx, request, reply), kind: returnToken ? 'api' : 'web' })
    return deliver(request, reply, result, returnToken)
  })

  api.post('/api/v1/signin/disavow', {
    schema: {
      tags: ['sessions'],
      summary: '"This wasn\'t me": end the session a new-device email was about',
      description: 'Takes the token from the new-device email link; ends that session and emails a password reset link.',
      body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ status: Type.Literal('session_revoked'), passwordResetSent: Type.Boolean() }), ...errors(400) },
    },
  }, async (request) => {
    await disavowSignIn(ctx, request.body.token, requestMeta(request))
    return { status: 'session_revoked' as const, passwordResetSent: true }
  })

  api.post('/api/v1/signout', {
    schema: { tags: ['sessions'], summary: 'Sign out this session', response: { 204: Type.Null(), ...errors(401) } },
    preHandler: [signedIn],
  }, async (request, reply) => {
    const { session, account } = authOf(request)
    await revokeSession(ctx, { accountId: account.id, sessionId: session.id, meta: requestMeta(request), type: 'session.signed_out' })
    // Other accounts signed in in this browser stay; the next one becomes active.
    await pruneSessionCookie(ctx, request, reply)
    return reply.status(204).send(null)
  })

  api.post('/api/v1/me/reauthenticate/options', {
    schema: { tags: ['sessions'], summary: 'Start re-authenticating with a passkey', response: { 200: PasskeyOptions, ...errors(400, 401) } },
    preHandler: [signedIn],
  }, async (request) => authenticationOptions(ctx, 'reauthenticate', authOf(request).account.id))

  api.post('/api/v1/me/reauthenticate', {
    schema: {
      tags: ['sessions'],
      summary: 'Confirm it is you ("sudo mode") for 5 minutes',
      description: 'Exactly one of `password`, `code` (authenticator) or `passkey`. Rotates the session token: a new cookie, or the new token in the body for bearer clients.',
      body: Type.Object(
        { password: Type.Optional(Type.String({ maxLength: 512 })), code: Type.Optional(Type.String({ maxLength: 16 })), passkey: Type.Optional(PasskeyAssertion) },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ reauthenticatedUntil: Type.String({ format: 'date-time' }), token: Type.Optional(Type.String()) }), ...errors(400, 401, 403, 429) },
    },
    preHandler: [signedIn],
  }, async (request, reply) => {
    const { password, code, passkey } = request.body
    const given = [password, code, passkey].filter((v) => v !== undefined).length
    if (given !== 1) throw new AppError('invalid_request', { message: 'Send exactly one of password, code or passkey.', fields: { password: 'one_required' } })
    const proof = password !== undefined ? { password } : code !== undefined ? { code } : { passkey: { challengeId: passkey!.challengeId, response: passkey!.response as unknown as AuthenticationResponseJSON } }
    const auth = authOf(request)
    const { token, until } = await reauthenticate(ctx, auth, proof, requestMeta(request))
    const bearer = usesBearer(request)
    if (!bearer) await pruneSessionCookie(ctx, request, reply, { from: cookieTokens(ctx, request)[0], to: token })
    return { reauthenticatedUntil: new Date(until).toISOString(), ...(bearer ? { token } : {}) }
  })

  api.get('/api/v1/me/sessions', {
    schema: { tags: ['sessions'], summary: 'Active sessions', response: { 200: Type.Object({ sessions: Type.Array(Type.Ref('Session')) }), ...errors(401) } },
    preHandler: [signedIn],
  }, async (request) => {
    const { session, account } = authOf(request)
    const names = await appSessionNames(ctx, account.id)
    return { sessions: (await listSessions(ctx, account.id)).map((s) => ({ ...sessionView(s, session.id), ...(names.has(s.id) ? { deviceName: names.get(s.id) } : {}) })) }
  })

  api.delete('/api/v1/me/sessions/:id', {
    schema: {
      tags: ['sessions'],
      summary: 'Revoke one session',
      description: 'The revoked session fails on its very next request.',
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      response: { 204: Type.Null(), ...errors(400, 401, 404) },
    },
    preHandler: [signedIn],
  }, async (request, reply) => {
    const { session, account } = authOf(request)
    const revoked = await revokeSession(ctx, { accountId: account.id, sessionId: request.params.id, meta: requestMeta(request) })
    if (!revoked) throw new AppError('not_found', { message: 'No such session.' })
    if (request.params.id === session.id) await pruneSessionCookie(ctx, request, reply)
    return reply.status(204).send(null)
  })

  api.delete('/api/v1/me/sessions', {
    schema: {
      tags: ['sessions'],
      summary: 'Revoke all sessions',
      description: 'Signs out everywhere, this session included; with `?keepCurrent=true` every session but this one.',
      querystring: Type.Object({ keepCurrent: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      response: { 200: Type.Object({ revoked: Type.Integer() }), ...errors(400, 401) },
    },
    preHandler: [signedIn],
  }, async (request, reply) => {
    const { session, account } = authOf(request)
    const keepCurrent = request.query.keepCurrent === true
    const revoked = await ctx.db.transaction().execute(async (trx) => {
      const count = await revokeAllSessions(trx, { accountId: account.id, exceptSessionId: keepCurrent ? session.id : undefined })
      await recordAudit(trx, { accountId: account.id, type: 'sessions.revoked_all', meta: requestMeta(request), at: ctx.clock.now(), details: { count, keepCurrent } })
      return count
    })
    await evictCachedSessions(ctx, account.id)
    if (!keepCurrent) await pruneSessionCookie(ctx, request, reply)
    return { revoked }
  })

  const BrowserAccount = Type.Object({ accountId: Type.String(), username: Type.String(), displayName: Type.String(), email: Type.String(), active: Type.Boolean() })

  api.get('/api/v1/browser/accounts', {
    schema: {
      tags: ['sessions'],
      summary: 'Accounts signed in in this browser',
      description: 'Up to 5, the active one first. Works with the session cookie only; an empty list when none is signed in.',
      querystring: Type.Object({}, { additionalProperties: false }),
      response: { 200: Type.Object({ accounts: Type.Array(BrowserAccount) }), ...errors(400) },
    },
  }, async (request, reply) => {
    const live = await pruneSessionCookie(ctx, request, reply)
    return {
      accounts: live.map((l, i) => ({ accountId: l.auth.account.id, username: l.auth.account.username, displayName: l.auth.account.display_name, email: l.auth.account.email, active: i === 0 })),
    }
  })

  api.post('/api/v1/browser/accounts/switch', {
    schema: {
      tags: ['sessions'],
      summary: 'Make another signed-in account the active one',
      body: Type.Object({ accountId: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
      response: { 200: Type.Ref('Account'), ...errors(400, 404) },
    },
  }, async (request, reply) => accountView((await switchAccount(ctx, request, reply, request.body.accountId)).account))
}
