/**
 * The account limits both sides check: the route schemas enforce them (./schemas.ts), the web
 * app's profile and sign-up forms read them to cap and hint before a request is sent. No
 * imports, so the web app takes them without any server code.
 */

/** The job roles the profile offers (onboarding and settings). */
export const JOB_ROLES = ['developer', 'qa', 'product', 'manager', 'student', 'other'] as const
export type JobRole = (typeof JOB_ROLES)[number]

/** RFC 5321's longest address. */
export const EMAIL_MAX_LENGTH = 254

/** The public profile's fields. */
export const DISPLAY_NAME_MAX_LENGTH = 100
export const BIO_MAX_LENGTH = 160
export const ABOUT_ME_MAX_LENGTH = 5000
export const MAX_PROFILE_LINKS = 5
export const PROFILE_LINK_MAX_LENGTH = 200
