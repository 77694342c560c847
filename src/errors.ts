/**
 * One error type for everything a client may see. Codes are stable API: integrators
 * switch on them, so a code is never renamed; `test/errors.test.ts` keeps this catalog and
 * the README's table in sync.
 */
export const ERROR_CATALOG = {
  invalid_request: { status: 400, message: 'The request is not valid.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  json_too_deep: { status: 400, message: 'The JSON body is nested more than 32 levels deep.' },
  unsupported_media_type: { status: 415, message: 'Send the request body as application/json.' },
  payload_too_large: { status: 413, message: 'The request body is over the size limit.' },
  uri_too_long: { status: 414, message: 'The URL is too long.' },
  malformed_request: { status: 400, message: 'The request is not well-formed HTTP/1.1.' },
  headers_too_large: { status: 431, message: 'The request line and headers are too large.' },
  request_timeout: { status: 408, message: 'The request took too long to arrive.' },
  not_found: { status: 404, message: 'Nothing was found here.' },
  unauthenticated: { status: 401, message: 'Sign in to continue.' },
  session_expired: { status: 401, message: 'Your session has expired. Please sign in again.' },
  forbidden_origin: { status: 403, message: 'This request did not come from a trusted origin.' },
  wrong_host: { status: 421, message: 'This server answers at its PUBLIC_URL only.' },
  invalid_credentials: { status: 401, message: 'The sign-in details are not correct.' },
  account_deactivated: { status: 403, message: 'This account has been deactivated. Contact the operator of this service.' },
  signin_locked: { status: 423, message: 'Password sign-in is locked after too many failed attempts. Reset your password to unlock it.' },
  too_many_requests: { status: 429, message: 'Too many attempts. Try again later.' },
  username_taken: { status: 409, message: 'This username is taken.' },
  username_invalid: { status: 400, message: 'This username is not allowed.' },
  email_invalid: { status: 400, message: 'This email address is not valid.' },
  password_too_short: { status: 400, message: 'The password must be at least 8 characters.' },
  password_too_long: { status: 400, message: 'The password must be at most 128 characters.' },
  password_common: { status: 400, message: 'This password is too common. Choose one that is harder to guess.' },
  password_incorrect: { status: 403, message: 'The password is not correct.' },
  terms_not_accepted: { status: 400, message: 'You must accept the terms of use.' },
  token_invalid: { status: 400, message: 'This link is invalid or has expired.' },
  email_already_confirmed: { status: 409, message: 'This email address is already confirmed.' },
  email_taken: { status: 409, message: 'This email address cannot be used.' },
  captcha_failed: { status: 400, message: 'The captcha was not solved. Please try again.' },
  too_many_accounts: { status: 409, message: 'This browser is signed in to 5 accounts already. Sign out of one first.' },
  reauthentication_required: { status: 403, message: 'Confirm it is you (password, authenticator code or passkey) to continue.' },
  password_required: { status: 409, message: 'Set a password before turning on two-factor authentication.' },
  two_factor_already_enabled: { status: 409, message: 'Two-factor authentication is already on.' },
  two_factor_not_enabled: { status: 409, message: 'Two-factor authentication is not on.' },
  two_factor_setup_missing: { status: 409, message: 'Start two-factor set-up first.' },
  two_factor_code_invalid: { status: 400, message: 'The authentication code is not correct.' },
  two_factor_code_reused: { status: 400, message: 'This authentication code was already used. Wait for the next one.' },
  recovery_code_invalid: { status: 400, message: 'The recovery code is not correct or was already used.' },
  ticket_invalid: { status: 400, message: 'This sign-in attempt has expired. Sign in again.' },
  passkey_invalid: { status: 400, message: 'The passkey could not be verified.' },
  challenge_invalid: { status: 400, message: 'This passkey request has expired. Try again.' },
  email_not_confirmed: { status: 403, message: 'Confirm your email address first: use the link we emailed you, or ask for a new one.' },
  team_slug_invalid: { status: 400, message: 'A team URL has 3 to 48 lowercase letters, digits or hyphens, starts and ends with a letter or digit, and is not a reserved word.' },
  team_slug_taken: { status: 409, message: 'This team URL is taken.' },
  team_moved: { status: 404, message: 'This team has a new URL.' },
  team_limit_reached: { status: 409, message: 'A person can belong to at most 10 teams. Leave one first.' },
  team_permission_denied: { status: 403, message: 'Your role in this team does not allow this.' },
  last_admin: { status: 409, message: 'A team always keeps at least one Admin. Make another member an Admin first.' },
  no_seats_available: { status: 409, message: 'No seat is free in this team. An Admin or a Billing member of the team can add seats.' },
  seats_in_use: { status: 409, message: 'More seats are taken by members than that. Remove members or change their roles first.' },
  already_team_member: { status: 409, message: 'This person is already a member of the team.' },
  already_invited: { status: 409, message: 'This address already has an open invitation to the team; re-send it instead.' },
  invitation_invalid: { status: 400, message: 'This invitation is invalid or was cancelled, replaced by a newer one or already used.' },
  invitation_email_mismatch: { status: 403, message: 'This invitation was sent to another email address. Sign in with the account that has that address.' },
  team_membership_blocks_deletion: { status: 409, message: 'Leave every team before deleting your account.' },
  invite_link_invalid: { status: 400, message: 'This invite link is not valid: it is unknown, expired, revoked or used up. Ask the team for a new one.' },
  csv_invalid: { status: 400, message: 'The CSV file has rows that are not valid; nothing was sent. Fix the rows listed and upload it again.' },
  image_invalid: { status: 400, message: 'This file is not a readable PNG or JPEG image.' },
  image_type_unsupported: { status: 415, message: 'Upload a PNG or JPEG image.' },
  image_too_large: { status: 413, message: 'The image is over the size limit.' },
  domain_invalid: { status: 400, message: 'Enter a domain name such as example.com, without "@", "http://" or a path.' },
  domain_public_webmail: { status: 400, message: 'This is a public email provider: anyone can have an address there, so it cannot be a team domain.' },
  domain_already_added: { status: 409, message: 'The team has already added this domain.' },
  domain_taken: { status: 409, message: 'Another team has already verified this domain.' },
  domain_limit_reached: { status: 409, message: 'A team can add at most 20 domains. Remove one first.' },
  domain_not_verified: { status: 409, message: 'Verify at least one email domain before turning discovery on.' },
  join_request_pending: { status: 409, message: 'You have already asked to join this team; the Admins will answer.' },
  oauth_request_invalid: { status: 404, message: 'This sign-in request is unknown, was already answered, or belongs to another browser. Go back to the app and start again.' },
  oauth_request_expired: { status: 410, message: 'This sign-in request expired. Go back to the app and start again.' },
  oauth_consent_required: { status: 400, message: 'Allow this app access to your account first.' },
  google_not_configured: { status: 404, message: 'Sign-in with Google is not set up on this server.' },
  google_signin_expired: { status: 400, message: 'This sign-in with Google expired or was started in another browser. Start again.' },
  google_signin_failed: { status: 400, message: 'Google did not confirm this sign-in. Start again.' },
  google_unavailable: { status: 502, message: 'Google could not be reached. Try again in a moment.' },
  google_workspace_required: { status: 403, message: 'Your team allows Google sign-in only with its Google Workspace account.' },
  identity_already_linked: { status: 409, message: 'This Google account is already linked to another account.' },
  identity_not_found: { status: 404, message: 'This account has no such linked sign-in.' },
  last_signin_method: { status: 409, message: 'This is your only way to sign in. Set a password or add a passkey first.' },
  password_already_set: { status: 409, message: 'This account already has a password. Change it with the current one instead.' },
  sso_metadata_invalid: { status: 400, message: 'The IdP metadata could not be read: it must be SAML 2.0 metadata with an IDPSSODescriptor, an entity ID, an SSO URL and a signing certificate, without a DTD.' },
  sso_metadata_url_refused: { status: 400, message: 'This metadata URL cannot be used: it must be an https:// address on the public internet, answered without a redirect.' },
  sso_metadata_unreachable: { status: 400, message: 'The metadata URL did not answer with the metadata in time. Check the address, or paste the metadata XML instead.' },
  sso_metadata_too_large: { status: 413, message: 'The IdP metadata is over 1 MB.' },
  sso_certificate_invalid: { status: 400, message: 'The IdP certificate is not a readable X.509 certificate (PEM or base64).' },
  sso_entity_id_taken: { status: 409, message: 'Another team already uses this IdP entity ID. Each identity provider can sign in to one team only.' },
  sso_connection_unknown: { status: 404, message: 'This single sign-on connection does not exist (any more). Ask your team\'s Admin for the right sign-in link.' },
  sso_connection_disabled: { status: 403, message: 'This single sign-on connection is switched off. Ask your team\'s Admin.' },
  saml_signature_invalid: { status: 400, message: 'The identity provider\'s answer is not signed with the certificate set up for this connection, or with an algorithm that is not accepted (RSA-SHA256 or stronger).' },
  saml_wrong_recipient: { status: 400, message: 'The identity provider\'s answer was meant for another service (wrong ACS URL, destination, recipient or audience). Check the connection\'s set-up at the IdP.' },
  saml_wrong_issuer: { status: 400, message: 'The identity provider\'s answer comes from another issuer than the one set up for this connection.' },
  saml_expired: { status: 400, message: 'The identity provider\'s answer has expired (or the clocks disagree by more than a minute). Sign in again.' },
  saml_replayed: { status: 400, message: 'This sign-in answer has already been used. Sign in again.' },
  saml_request_unknown: { status: 400, message: 'This sign-in answer does not belong to a sign-in started here (or it took too long). Start the sign-in again from this site.' },
  saml_relay_state_invalid: { status: 400, message: 'The sign-in came back with a destination this site does not recognise or that has expired. Start the sign-in again.' },
  saml_response_invalid: { status: 400, message: 'The identity provider\'s answer could not be used. Start the sign-in again; if it keeps failing, ask your team\'s Admin to test the connection.' },
  sso_email_missing: { status: 400, message: 'The identity provider did not send an email address (as NameID or an email attribute).' },
  sso_domain_not_verified: { status: 403, message: 'This email address is not at one of the team\'s verified domains, so this team\'s sign-in cannot be used for it.' },
  sso_jit_not_allowed: { status: 403, message: 'You are not a member of this team and it does not add new members automatically. The team\'s Admins have been asked to let you in.' },
  sso_jit_no_seat: { status: 409, message: 'You cannot be added to this team: no seat is free. Ask an Admin or a Billing member of the team to add seats.' },
  sso_password_required: { status: 409, message: 'An account with this email address already exists. Enter its password once to connect it to single sign-on.' },
  team_requires_sso: { status: 403, message: 'Your team requires signing in with single sign-on (SSO): use "Sign in with SSO" instead.' },
  team_requires_two_factor: { status: 403, message: 'Your team requires two-factor authentication for password sign-in. Set it up now to finish signing in.' },
  sso_connection_required: { status: 409, message: 'Turn on an SSO connection for the team first: without one, members could not sign in at all.' },
  setup_link_invalid: { status: 404, message: 'This set-up link is unknown. Ask the team\'s Admin for a new one.' },
  setup_link_expired: { status: 410, message: 'This set-up link has expired. Ask the team\'s Admin for a new one.' },
  setup_link_revoked: { status: 410, message: 'This set-up link was revoked by the team\'s Admin. Ask them for a new one.' },
  internal_error: { status: 500, message: 'Something went wrong on our side.' },
  service_unavailable: { status: 503, message: 'The service is not ready.' },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof ERROR_CATALOG

export type FieldErrors = Record<string, string>

export interface AppErrorOptions {
  message?: string
  fields?: FieldErrors
  /** Extra client-safe data (e.g. `retryAt`, `suggestions`). */
  details?: Record<string, unknown>
  /** Internal detail for logs; never sent to the client. */
  cause?: unknown
}

export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly fields?: FieldErrors
  readonly details?: Record<string, unknown>

  constructor(code: ErrorCode, options: AppErrorOptions = {}) {
    super(options.message ?? ERROR_CATALOG[code].message, { cause: options.cause })
    this.name = 'AppError'
    this.code = code
    this.status = ERROR_CATALOG[code].status
    this.fields = options.fields
    this.details = options.details
  }

  /** The JSON body a client receives. 5xx messages are generic: internals stay in the log. */
  toJSON(): { error: Record<string, unknown> } {
    const expose = this.status < 500
    return {
      error: {
        code: this.code,
        message: expose ? this.message : ERROR_CATALOG[this.code].message,
        ...(this.fields ? { fields: this.fields } : {}),
        ...(expose && this.details ? this.details : {}),
      },
    }
  }
}

/** A size limit as people read it: 64 KiB, 500 KB, 2 MiB, 1 MB (the unit the limit was set in). */
export function describeBytes(bytes: number): string {
  const units: Array<[number, string]> = [[1024 * 1024, 'MiB'], [1000 * 1000, 'MB'], [1024, 'KiB'], [1000, 'KB']]
  for (const [size, unit] of units) if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`
  return `${bytes} bytes`
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError
}
