/**
 * The account API's shapes (routes: ./routes.ts): each drives validation and the OpenAPI document,
 * and its `Static<>` type is what the web app reads. Imports only typebox and import-free modules,
 * so src/web takes it without pulling in server code (scripts/check-imports.ts checks that).
 */
import { Type, type Static } from 'typebox'
import { LOCALES } from '../mail/locales.ts'
import { PASSWORD_MAX_LENGTH } from '../passwords/limits.ts'
import {
  ABOUT_ME_MAX_LENGTH, BIO_MAX_LENGTH, DISPLAY_NAME_MAX_LENGTH, EMAIL_MAX_LENGTH, JOB_ROLES, MAX_PROFILE_LINKS, PROFILE_LINK_MAX_LENGTH,
} from './limits.ts'
import { RETURN_PATH_MAX_LENGTH, RETURN_PATH_PATTERN } from '../return-path.ts'

// Upper bounds are generous on purpose: the domain gives the precise, field-level reason.
// No minLength: an empty password gets "Enter your password." on its own field from the domain.
export const Password = Type.String({ maxLength: PASSWORD_MAX_LENGTH * 4 })
export const Email = Type.String({ minLength: 1, maxLength: EMAIL_MAX_LENGTH })
export const Username = Type.String({ minLength: 1, maxLength: 64 })

export const ReturnPath = Type.String({
  minLength: 1,
  maxLength: RETURN_PATH_MAX_LENGTH,
  pattern: RETURN_PATH_PATTERN,
  description: 'A path on this site (`/join/…`, `/invitations/accept#token=…`) that the confirmation link brings the person back to once the address is confirmed. Never another site: absolute and protocol-relative URLs, backslashes and whitespace are refused.',
})

export const PendingEmailChange = Type.Object({
  email: Type.String({ description: 'The new address, which the link was sent to.' }),
  requestedAt: Type.String({ format: 'date-time', description: 'When the newest link was sent.' }),
  expiresAt: Type.String({ format: 'date-time', description: 'When that link stops working.' }),
})

export const AccountView = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    emailConfirmed: Type.Boolean(),
    username: Type.String(),
    displayName: Type.String(),
    jobRole: Type.Union([Type.String(), Type.Null()]),
    bio: Type.String(),
    aboutMe: Type.String({ description: 'Markdown; clients must render it sanitised.' }),
    links: Type.Array(Type.String()),
    publicProfile: Type.Boolean(),
    locale: Type.Enum([...LOCALES]),
    createdAt: Type.String({ format: 'date-time' }),
    avatarUrl: Type.Union([Type.String(), Type.Null()], { description: 'The avatar (256×256 PNG), a path on this server; null without one.' }),
  },
  { $id: 'Account' },
)

export const PublicProfile = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  bio: Type.String(),
  aboutMe: Type.String(),
  links: Type.Array(Type.String()),
  memberSince: Type.String({ format: 'date-time' }),
  avatarUrl: Type.Union([Type.String(), Type.Null()]),
})

export const ProfilePatch = Type.Object(
  {
    displayName: Type.Optional(Type.String({ maxLength: DISPLAY_NAME_MAX_LENGTH, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })),
    username: Type.Optional(Username),
    jobRole: Type.Optional(Type.Union([Type.Enum([...JOB_ROLES]), Type.Null()])),
    bio: Type.Optional(Type.String({ maxLength: BIO_MAX_LENGTH })),
    aboutMe: Type.Optional(Type.String({ maxLength: ABOUT_ME_MAX_LENGTH })),
    links: Type.Optional(Type.Array(Type.String({ maxLength: PROFILE_LINK_MAX_LENGTH, pattern: '^https?://[^\\s]+$' }), { maxItems: MAX_PROFILE_LINKS })),
    publicProfile: Type.Optional(Type.Boolean()),
    locale: Type.Optional(Type.Enum([...LOCALES])),
  },
  { additionalProperties: false, minProperties: 1 },
)

/** `GET /api/v1/me/deletion`: whether the account can be deleted now, and if not the error `DELETE /api/v1/me` would answer. */
export const DeletionCheck = Type.Object({
  allowed: Type.Boolean(),
  blockedBy: Type.Union([
    Type.Object({ code: Type.String(), message: Type.String(), teams: Type.Optional(Type.Array(Type.Object({ slug: Type.String(), name: Type.String() }))) }),
    Type.Null(),
  ]),
})
export const PendingEmailChangeAnswer = Type.Object({ pending: Type.Union([PendingEmailChange, Type.Null()]) })
export const EmailChangeResent = Type.Object({ status: Type.Literal('confirmation_sent'), pending: PendingEmailChange })
export const PasswordChanged = Type.Object({
  status: Type.Literal('password_changed'),
  otherSessionsRevoked: Type.Integer(),
  cancelledEmailChange: Type.Union([Type.String(), Type.Null()], { description: 'The new address of the email change this cancelled; null when none was waiting.' }),
})

export const ConfirmationSent = Type.Object({ status: Type.Literal('confirmation_sent'), email: Type.String() })
export const EmailChangeSent = Type.Object({ status: Type.Literal('confirmation_sent'), pendingEmail: Type.String() })
export const Terms = Type.Object({ version: Type.String(), termsUrl: Type.Union([Type.String(), Type.Null()]), privacyUrl: Type.Union([Type.String(), Type.Null()]) })
export const UsernameAvailability = Type.Object({ available: Type.Boolean(), reason: Type.Optional(Type.String()), message: Type.Optional(Type.String()), suggestions: Type.Array(Type.String()) })

/** The signed-in account as its owner sees it (`GET /api/v1/me`). */
export const EmailConfirmed = Type.Object({ status: Type.Literal('confirmed'), email: Type.String() })
export const AvatarSet = Type.Object({ avatarUrl: Type.String() })

export type AccountView = Static<typeof AccountView>
export type EmailConfirmed = Static<typeof EmailConfirmed>
export type AvatarSet = Static<typeof AvatarSet>
export type PublicProfile = Static<typeof PublicProfile>
export type PendingEmailChange = Static<typeof PendingEmailChange>
export type ProfilePatch = Static<typeof ProfilePatch>
export type ConfirmationSent = Static<typeof ConfirmationSent>
export type DeletionCheck = Static<typeof DeletionCheck>
export type PendingEmailChangeAnswer = Static<typeof PendingEmailChangeAnswer>
export type EmailChangeResent = Static<typeof EmailChangeResent>
export type PasswordChanged = Static<typeof PasswordChanged>
export type EmailChangeSent = Static<typeof EmailChangeSent>
export type Terms = Static<typeof Terms>
export type UsernameAvailability = Static<typeof UsernameAvailability>
