import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../context.ts'
import { authOf, requireAuth } from '../sessions/guard.ts'
import { requestMeta } from '../http/request-meta.ts'
import { pruneSessionCookie } from '../sessions/cookie.ts'
import { errors } from '../http/schemas.ts'
import { LOCALES } from '../mail/locales.ts'
import { requireRecentAuthOrPassword } from '../sessions/recent-auth.ts'
import {
  accountView, cancelEmailChange, changePassword, confirmEmail, deleteAccount, deletionBlocker, pendingEmailChange, publicProfile,
  requestEmailChange, resendConfirmation, resendEmailChange, signUp, updateProfile,
} from './accounts.ts'
import { ConfirmationSent, DeletionCheck, Email, EmailConfirmed, EmailChangeResent, EmailChangeSent, Password, PasswordChanged, PendingEmailChangeAnswer, ProfilePatch, PublicProfile, ReturnPath, Terms, Username, UsernameAvailability } from './schemas.ts'
import { usernameAvailability } from './usernames.ts'

export function accountRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const signedIn = requireAuth(ctx)
  // Sudo mode: a sign-in or re-authentication within the last 5 minutes.
  // Each sensitive route here carries the password in its body, checked before anything else:
  // that entry is the fresh proof, so the person is never asked for it twice.
  const withPassword = [signedIn, requireRecentAuthOrPassword(ctx)]
  const withCurrentPassword = [signedIn, requireRecentAuthOrPassword(ctx, 'currentPassword')]

  api.post('/api/v1/signup', {
    schema: {
      tags: ['accounts'],
      summary: 'Sign up',
      description: 'Creates an account and emails a confirmation link (24 h). Answers the same when the email already has an account; its owner is emailed instead.',
      body: Type.Object(
        {
          email: Email,
          username: Username,
          password: Password,
          acceptTerms: Type.Boolean({ description: 'Must be true: the person accepts the current terms of use.' }),
          locale: Type.Optional(Type.Enum([...LOCALES])),
          next: Type.Optional(ReturnPath),
        },
        { additionalProperties: false },
      ),
      response: { 202: ConfirmationSent, ...errors(400, 409, 429) },
    },
  }, async (request, reply) => {
    const { email } = await signUp(ctx, { ...request.body, locale: request.body.locale ?? request.headers['accept-language'], meta: requestMeta(request) })
    return reply.status(202).send({ status: 'confirmation_sent' as const, email })
  })

  api.get('/api/v1/terms', {
    schema: {
      tags: ['accounts'],
      summary: 'The terms a sign-up accepts',
      description: 'The version recorded with each sign-up (`TERMS_VERSION`) and where the operator publishes the terms of use and the privacy policy (`TERMS_URL`, `PRIVACY_URL`; `null` when not set).',
      querystring: Type.Object({}, { additionalProperties: false }),
      response: { 200: Terms, ...errors(400) },
    },
  }, async () => ({ version: ctx.config.termsVersion, termsUrl: ctx.config.termsUrl ?? null, privacyUrl: ctx.config.privacyUrl ?? null }))

  api.post('/api/v1/email/confirm', {
    schema: {
      tags: ['accounts'],
      summary: 'Confirm an email address',
      description: 'Consumes the single-use token from a sign-up or email-change link.',
      body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
      response: { 200: EmailConfirmed, ...errors(400, 409) },
    },
  }, async (request) => {
    const { email } = await confirmEmail(ctx, request.body.token, requestMeta(request))
    return { status: 'confirmed' as const, email }
  })

  api.post('/api/v1/email/resend', {
    schema: {
      tags: ['accounts'],
      summary: 'Re-send the confirmation email',
      body: Type.Optional(Type.Object({ next: Type.Optional(ReturnPath) }, { additionalProperties: false })),
      response: { 202: Type.Object({ status: Type.Literal('confirmation_sent') }), ...errors(400, 401, 409, 429) },
    },
    preHandler: [signedIn],
  }, async (request, reply) => {
    await resendConfirmation(ctx, authOf(request).account, request.body?.next)
    return reply.status(202).send({ status: 'confirmation_sent' as const })
  })

  api.get('/api/v1/me', {
    schema: { tags: ['accounts'], summary: 'Who am I', response: { 200: Type.Ref('Account'), ...errors(401) } },
    preHandler: [signedIn],
  }, async (request) => accountView(authOf(request).account))

  api.patch('/api/v1/me', {
    schema: { tags: ['accounts'], summary: 'Change profile, username, public flag or language', body: ProfilePatch, response: { 200: Type.Ref('Account'), ...errors(400, 401, 409) } },
    preHandler: [signedIn],
  }, async (request) => accountView(await updateProfile(ctx, authOf(request), request.body, requestMeta(request))))

  api.post('/api/v1/me/email', {
    schema: {
      tags: ['accounts'],
      summary: 'Change email address',
      description: 'Sends a confirmation link to the new address and a notice to the old one; the old address stays in force until the link is used.',
      body: Type.Object({ email: Email, password: Password }, { additionalProperties: false }),
      response: { 202: EmailChangeSent, ...errors(400, 401, 403, 429) },
    },
    preHandler: withPassword,
  }, async (request, reply) => {
    const { pendingEmail } = await requestEmailChange(ctx, authOf(request), request.body, requestMeta(request))
    return reply.status(202).send({ status: 'confirmation_sent' as const, pendingEmail })
  })

  api.get('/api/v1/me/email/pending', {
    schema: {
      tags: ['accounts'],
      summary: 'The change of email address waiting for confirmation',
      description: 'The address asked for, when, and until when its link works; `pending` is null when none waits (never asked, confirmed, cancelled, expired, or cancelled by a password change or reset, 2FA being turned on, or a disavowed sign-in).',
      response: { 200: PendingEmailChangeAnswer, ...errors(401) },
    },
    preHandler: [signedIn],
  }, async (request) => ({ pending: await pendingEmailChange(ctx, authOf(request).account) }))

  api.delete('/api/v1/me/email/pending', {
    schema: {
      tags: ['accounts'],
      summary: 'Cancel the pending change of email address',
      description: 'The link sent to the new address stops working; the current address stays. `not_found` when no change waits.',
      response: { 204: Type.Null(), ...errors(401, 404) },
    },
    preHandler: [signedIn],
  }, async (request, reply) => {
    await cancelEmailChange(ctx, authOf(request), requestMeta(request))
    return reply.status(204).send(null)
  })

  api.post('/api/v1/me/email/pending/resend', {
    schema: {
      tags: ['accounts'],
      summary: 'Re-send the link for the pending change of email address',
      description: 'A new link (24 h) to the address already asked for; the previous link stops working. `not_found` when no change waits. Rate limited like asking.',
      response: { 202: EmailChangeResent, ...errors(401, 404, 429) },
    },
    preHandler: [signedIn],
  }, async (request, reply) => {
    const pending = await resendEmailChange(ctx, authOf(request), requestMeta(request))
    return reply.status(202).send({ status: 'confirmation_sent' as const, pending })
  })

  api.post('/api/v1/me/password', {
    schema: {
      tags: ['accounts'],
      summary: 'Change password',
      description: 'Requires the current password; every other session is revoked, and a pending change of email address is cancelled (its link stops working): `cancelledEmailChange` names that address, and the notice email says so too.',
      body: Type.Object({ currentPassword: Password, newPassword: Password }, { additionalProperties: false }),
      response: {
        200: PasswordChanged,
        ...errors(400, 401, 403, 429),
      },
    },
    preHandler: withCurrentPassword,
  }, async (request) => ({ status: 'password_changed' as const, ...(await changePassword(ctx, authOf(request), request.body, requestMeta(request))) }))

  api.get('/api/v1/me/deletion', {
    schema: {
      tags: ['accounts'],
      summary: 'Can this account be deleted now?',
      description: 'Asked by the delete page before it asks for a password. `blockedBy` is the error `DELETE /api/v1/me` would answer (`team_membership_blocks_deletion`, with `teams` to leave first), or null.',
      response: {
        200: DeletionCheck,
        ...errors(401),
      },
    },
    preHandler: [signedIn],
  }, async (request) => {
    const blocker = await deletionBlocker(ctx, authOf(request).account.id)
    if (!blocker) return { allowed: true, blockedBy: null }
    const { code, message, ...details } = blocker.toJSON().error as { code: string; message: string; teams?: Array<{ slug: string; name: string }> }
    return { allowed: false, blockedBy: { code, message, ...(details.teams ? { teams: details.teams } : {}) } }
  })

  api.delete('/api/v1/me', {
    schema: {
      tags: ['accounts'],
      summary: 'Delete the account',
      description: 'Irreversible. Teams are checked first: an account in a team cannot be deleted, and `team_membership_blocks_deletion` lists the teams to leave (before the password is checked; `GET /api/v1/me/deletion` asks the same without deleting). The password must be entered again, and counts as confirming it is you: no separate re-authentication. All data and sessions are removed and a confirmation email is sent.',
      body: Type.Object({ password: Password }, { additionalProperties: false }),
      response: { 200: Type.Object({ status: Type.Literal('deleted') }), ...errors(400, 401, 403, 409, 429) },
    },
    preHandler: withPassword,
  }, async (request, reply) => {
    await deleteAccount(ctx, authOf(request), request.body, requestMeta(request))
    await pruneSessionCookie(ctx, request, reply)
    return { status: 'deleted' as const }
  })

  api.get('/api/v1/usernames/:username', {
    schema: {
      tags: ['accounts'],
      summary: 'Is this username available?',
      description: 'For the sign-up form. Usernames are public (profiles live at /u/<username>), so this reveals nothing private.',
      params: Type.Object({ username: Type.String({ maxLength: 64 }) }),
      response: {
        200: UsernameAvailability,
        ...errors(400),
      },
    },
  }, async (request) => usernameAvailability(ctx.db, request.params.username, ctx.clock.now()))

  api.get('/api/v1/users/:username', {
    schema: {
      tags: ['accounts'],
      summary: 'Public profile',
      description: 'Answers 404 both when there is no such user and when the profile is not public.',
      params: Type.Object({ username: Type.String({ maxLength: 64 }) }),
      response: { 200: PublicProfile, ...errors(400, 404) },
    },
  }, async (request) => publicProfile(ctx, request.params.username))
}
