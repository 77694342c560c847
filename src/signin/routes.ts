/** The sign-in API: every way to turn credentials into a session, and the browser's several accounts. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import { Type } from 'typebox'
import { accountView } from '../accounts/accounts.ts'
import type { Account } from '../accounts/queries.ts'
import type { AppContext } from '../context.ts'
import { newToken } from '../crypto.ts'
import { AppError } from '../errors.ts'
import { requestMeta } from '../http/request-meta.ts'
import { errors } from '../http/schemas.ts'
import { authenticationOptions } from '../passkeys/passkeys.ts'
import { PasskeyAssertion, PasskeyOptions, WebAuthnResponse } from '../passkeys/schemas.ts'
import { cookieTokens, pruneSessionCookie } from '../sessions/cookie.ts'
import { authOf, requireAuth, usesBearer } from '../sessions/guard.ts'
import { sessionView } from '../sessions/routes.ts'
import type { Session } from '../sessions/sessions.ts'
import { addSessionToCookie, assertRoomForAccount, switchAccount } from './browser-accounts.ts'
import { disavowSignIn } from './new-device.ts'
import { signInWithPasskey } from './passkey.ts'
import { signIn } from './password.ts'
import { reauthenticate } from './reauthenticate.ts'
import { BrowserAccounts, Reauthenticated, SignedIn, SignedInWithNewTwoFactor, SignInDisavowed, TwoFactorRequired } from './schemas.ts'
import { beginTwoFactorSetupWithTicket, confirmTwoFactorSetupWithTicket } from './two-factor-setup.ts'
import { TwoFactorSetup } from '../two-factor/schemas.ts'
import { openTicketAccount, signInSecondFactor } from './second-factor.ts'

const DEVICE_COOKIE_MAX_AGE_SECONDS = 400 * 24 * 3600

function deviceCookieName(ctx: AppContext): string {
  return ctx.config.publicUrl.protocol === 'https:' ? '__Host-latchkey_device' : 'latchkey_device'
}

/**
 * What "the same device" means for new-device notices: a long-lived random cookie in a
 * browser; for apps and scripts (no cookie jar) the user agent and IP address.
 */
export function deviceKey(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): string {
  const existing = request.cookies[deviceCookieName(ctx)]
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return `cookie:${existing}`
  if (request.headers.origin) {
    const fresh = newToken()
    reply.setCookie(deviceCookieName(ctx), fresh, { path: '/', httpOnly: true, sameSite: 'lax', secure: ctx.config.publicUrl.protocol === 'https:', maxAge: DEVICE_COOKIE_MAX_AGE_SECONDS })
    return `cookie:${fresh}`
  }
  const meta = requestMeta(request)
  return `agent:${meta.userAgent}|${meta.ip}`
}

export function signInRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)

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
        'With two-factor authentication on, answers `{twoFactorRequired: true, ticket}` instead: finish with `POST /api/v1/signin/two-factor` within 5 minutes. ' +
        'A member of a team that turned password sign-in off gets 403 `team_requires_sso`; of a team that requires 2FA, without 2FA, 403 `team_requires_two_factor` with a `setupTicket` for `POST /api/v1/signin/two-factor-setup`.',
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
        200: Type.Union([SignedIn, TwoFactorRequired]),
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

  const SetupTicket = Type.String({ minLength: 1, maxLength: 128, description: 'The `setupTicket` of a `team_requires_two_factor` answer.' })

  api.post('/api/v1/signin/two-factor-setup', {
    schema: {
      tags: ['sessions'],
      summary: 'Set up two-factor authentication a team requires, to finish signing in',
      description: 'The authenticator key (secret, otpauth URI, QR code) for the account of a `team_requires_two_factor` answer; the same key again when asked again. Only on the device that typed the password, within 15 minutes.',
      body: Type.Object({ ticket: SetupTicket }, { additionalProperties: false }),
      response: { 200: TwoFactorSetup, ...errors(400, 409) },
    },
  }, async (request, reply) => beginTwoFactorSetupWithTicket(ctx, { ticket: request.body.ticket, deviceKey: deviceKey(ctx, request, reply) }))

  api.post('/api/v1/signin/two-factor-setup/confirm', {
    schema: {
      tags: ['sessions'],
      summary: 'Confirm the first code: two-factor authentication on, and signed in',
      description: 'Turns 2FA on (every earlier session of the account ends), returns the 10 recovery codes once, and signs in as `POST /api/v1/signin` would have.',
      body: Type.Object({ ticket: SetupTicket, code: Type.String({ maxLength: 16 }), returnToken: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      response: { 200: SignedInWithNewTwoFactor, ...errors(400, 409, 429) },
    },
  }, async (request, reply) => {
    const { ticket, code, returnToken = false } = request.body
    if (!returnToken) await assertRoomForAccount(ctx, request)
    const result = await confirmTwoFactorSetupWithTicket(ctx, { ticket, code, meta: requestMeta(request), deviceKey: deviceKey(ctx, request, reply), kind: returnToken ? 'api' : 'web' })
    return { ...(await deliver(request, reply, result, returnToken)), recoveryCodes: result.recoveryCodes }
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
    const accountId = await openTicketAccount(ctx, request.body.ticket)
    if (!accountId) throw new AppError('ticket_invalid', { fields: { ticket: 'invalid' } })
    return authenticationOptions(ctx, 'second_factor', accountId)
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
      response: { 200: SignInDisavowed, ...errors(400) },
    },
  }, async (request) => {
    await disavowSignIn(ctx, request.body.token, requestMeta(request))
    return { status: 'session_revoked' as const, passwordResetSent: true }
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
      response: { 200: Reauthenticated, ...errors(400, 401, 403, 429) },
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

  api.get('/api/v1/browser/accounts', {
    schema: {
      tags: ['sessions'],
      summary: 'Accounts signed in in this browser',
      description: 'Up to 5, the active one first. Works with the session cookie only; an empty list when none is signed in.',
      querystring: Type.Object({}, { additionalProperties: false }),
      response: { 200: BrowserAccounts, ...errors(400) },
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
