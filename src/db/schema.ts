/** Row types as the database stores them. Timestamps are epoch milliseconds; booleans are 0/1. */
import type { Generated, Kysely, Transaction } from 'kysely'

export interface AccountsTable {
  id: string
  email: string
  email_normalized: string
  email_confirmed_at: number | null
  username: string
  username_normalized: string
  password_hash: string | null
  display_name: Generated<string>
  job_role: string | null
  bio: Generated<string>
  about_me: Generated<string>
  links: Generated<string>
  public_profile: Generated<number>
  locale: Generated<string>
  status: Generated<'active' | 'deactivated'>
  terms_version: string
  terms_accepted_at: number
  notification_preferences: Generated<string>
  failed_signins: Generated<number>
  password_signin_locked: Generated<number>
  created_at: number
  updated_at: number
  /** The re-encoded avatar in `images`, if one was uploaded. */
  avatar_image_id: Generated<string | null>
}

export interface SessionsTable {
  id: string
  account_id: string
  token_hash: string
  kind: 'web' | 'api'
  stay_signed_in: number
  ip: string
  user_agent: string
  browser: string
  os: string
  created_at: number
  last_active_at: number
  expires_at: number
  reauthenticated_at: number
}

export type TokenPurpose = 'email_confirm' | 'email_change' | 'password_reset' | 'signin_disavow'

export interface AccountTokensTable {
  id: string
  account_id: string
  purpose: TokenPurpose
  token_hash: string
  email: string | null
  session_id: Generated<string | null>
  created_at: number
  expires_at: number
  used_at: number | null
}

export interface MailOutboxTable {
  id: string
  to_address: string
  template: string
  locale: string
  subject: string
  text_body: string | null
  html_body: string | null
  /** `outbox`: kept for reading (no SMTP); `pending`: waiting for SMTP; `sent`; `failed`. */
  status: 'outbox' | 'pending' | 'sent' | 'failed'
  attempts: Generated<number>
  last_error: string | null
  created_at: number
  next_attempt_at: number
  sent_at: number | null
}

export interface AuditEventsTable {
  id: string
  account_id: string | null
  type: string
  ip: string | null
  user_agent: string | null
  details: Generated<string>
  at: number
}

export interface ServerSecretsTable {
  name: string
  value: string
  created_at: number
}

export interface CaptchaUsesTable {
  challenge_id: string
  expires_at: number
}

export interface TwoFactorTable {
  account_id: string
  secret_encrypted: string
  /** null while set-up waits for the first code. */
  enabled_at: number | null
  /** The last accepted TOTP time step: a code is accepted once (no replay in its window). */
  last_used_step: number | null
  created_at: number
}

export interface RecoveryCodesTable {
  id: string
  account_id: string
  code_hash: string
  created_at: number
  used_at: number | null
}

export interface SigninTicketsTable {
  id: string
  token_hash: string
  account_id: string
  stay_signed_in: number
  device_hash: string
  attempts: Generated<number>
  created_at: number
  expires_at: number
  used_at: number | null
}

export interface PasskeysTable {
  id: string
  account_id: string
  credential_id: string
  public_key: string
  counter: number
  transports: string
  device_type: string
  backed_up: number
  name: string
  created_at: number
  last_used_at: number | null
}

export interface WebauthnChallengesTable {
  id: string
  account_id: string | null
  purpose: 'register' | 'signin' | 'second_factor' | 'reauthenticate'
  challenge: string
  expires_at: number
}

export interface KnownDevicesTable {
  account_id: string
  device_hash: string
  first_seen_at: number
  last_seen_at: number
}

export interface NotificationsTable {
  id: string
  account_id: string
  category: string
  kind: string
  title: string
  body: string
  created_at: number
  read_at: number | null
}

/** Roles as 0/1 columns (SPEC §7): SQL can count Admins and support members directly. */
export interface TeamRoleColumns {
  role_admin: number
  role_billing: number
  role_developer: number
  role_community_manager: number
}

export interface TeamsTable {
  id: string
  /** Lowercase letters, digits and hyphens, 3–48; unique. */
  slug: string
  name: string
  /** Paid seats bought; support members up to the free allowance take none. */
  seats: number
  created_at: number
  updated_at: number
  /** The re-encoded logo in `images`, if one was uploaded. */
  logo_image_id: Generated<string | null>
  /** Public profile (0007): plain text, at most 500 characters. */
  description: Generated<string>
  /** An https URL, or null. */
  website: Generated<string | null>
  /** 1 when the profile is shown at /t/<slug>. */
  profile_public: Generated<number>
}

/** A slug a team used before (0007): old links find the team until the record expires. */
export interface TeamSlugHistoryTable {
  slug: string
  team_id: string
  changed_at: number
}

export interface TeamMembersTable extends TeamRoleColumns {
  team_id: string
  account_id: string
  joined_at: number
}

export interface TeamInvitationsTable extends TeamRoleColumns {
  id: string
  team_id: string
  email: string
  email_normalized: string
  /** `suggested`: a Developer's invitation of another role, waiting for an Admin (no token yet). */
  status: 'pending' | 'suggested' | 'accepted' | 'cancelled' | 'declined'
  token_hash: string | null
  invited_by: string | null
  /** The language of the invitation email (the invitee's if they have an account). */
  locale: string
  created_at: number
  sent_at: number | null
  closed_at: number | null
}

export interface TeamActivityTable {
  id: string
  team_id: string
  actor_id: string | null
  /** Kept as it was at the time, so the log still reads after a rename or a departure. */
  actor_username: string | null
  type: string
  details: string
  ip: string | null
  at: number
}

/** A shareable invite link (SPEC §7): only the token's SHA-256 is stored. */
export interface TeamInviteLinksTable extends TeamRoleColumns {
  id: string
  team_id: string
  token_hash: string
  created_by: string | null
  created_by_username: string | null
  created_at: number
  expires_at: number
  max_uses: number
  uses: number
  revoked_at: number | null
  revoked_by_username: string | null
}

/** An uploaded image after re-encoding; owned by one account (avatar) or one team (logo). */
export interface ImagesTable {
  id: string
  account_id: string | null
  team_id: string | null
  content_type: string
  width: number
  height: number
  /** The encoded image, base64. */
  data: string
  created_at: number
}

/** An email domain a team claims; `verified` once its DNS TXT record was seen (one team per domain). */
export interface TeamDomainsTable {
  id: string
  team_id: string
  /** Lower-case ASCII, IDNs in punycode. */
  domain: string
  /** The TXT record's value is `latchkey-verification=<this>`; public by design. */
  verification_token: string
  status: 'pending' | 'verified'
  added_by: string | null
  created_at: number
  verified_at: number | null
  last_checked_at: number | null
  /** `verified`, `record_not_found`, `wrong_value` or `dns_error`. */
  last_check_outcome: string | null
}

/** A team's discovery switch (on only with a verified domain) and its optional question. */
export interface TeamDiscoveryTable {
  team_id: string
  enabled: number
  question: string | null
  updated_at: number
}

/** A person's request to join a discoverable team; one pending per person and team. */
export interface TeamJoinRequestsTable {
  id: string
  team_id: string
  account_id: string
  /** The requester's email domain when they asked. */
  domain: string
  /** The team's question as it was asked, and the answer. */
  question: string | null
  answer: string | null
  status: 'pending' | 'approved' | 'denied' | 'cancelled'
  created_at: number
  decided_at: number | null
  decided_by: string | null
}

/** oidc-provider's artifacts (see src/oauth/adapter.ts); payload is its JSON. */
export interface OauthModelsTable {
  model: string
  id: string
  payload: string
  grant_id: string | null
  user_code: string | null
  uid: string | null
  client_id: string | null
  account_id: string | null
  created_at: number
  expires_at: number | null
  consumed_at: number | null
  /** Device codes: the last poll answered other than `slow_down` (RFC 8628 §3.5). */
  polled_at: number | null
}

export interface OauthSigningKeysTable {
  kid: string
  alg: string
  public_jwk: string
  private_jwk_encrypted: string
  created_at: number
  retired_at: number | null
}

export interface OauthClientsTable {
  client_id: string
  name: string
  secret_hash: string
  /** JSON array of exact redirect URIs. */
  redirect_uris: string
  first_party: number
  created_at: number
}

export interface OauthConsentsTable {
  account_id: string
  client_id: string
  /** Space-separated scopes the person allowed. */
  scopes: string
  granted_at: number
  last_used_at: number
}

export interface OauthAppSessionsTable {
  session_id: string
  account_id: string
  grant_id: string
  client_id: string
  device_name: string
  created_at: number
}

export type SsoProtocol = 'saml' | 'oidc'

/** A team's SAML or OIDC identity provider (owned by `src/sso/`). */
export interface SsoConnectionsTable {
  id: string
  team_id: string
  protocol: SsoProtocol
  name: string
  enabled: number
  /** SAML only: accept responses the IdP sends unasked (RelayState), after a confirmation page. */
  idp_initiated: number
  idp_entity_id: string | null
  idp_sso_url: string | null
  /** JSON array of PEM certificates (two during a rollover). */
  idp_certificates: string | null
  oidc_issuer: string | null
  oidc_client_id: string | null
  /** Encrypted with the server's secret box, like TOTP secrets. */
  oidc_client_secret: string | null
  tested_at: number | null
  created_by: string | null
  created_at: number
  updated_at: number
}

/** An outside identity tied to an account, keyed by issuer + subject, never by email. */
export interface LinkedIdentitiesTable {
  id: string
  account_id: string
  method: 'google' | SsoProtocol
  connection_id: string | null
  issuer: string
  subject: string
  email: string
  created_at: number
  last_used_at: number
}

/** SAML request IDs and OIDC states awaiting their answer, shared by every instance. */
export interface SsoRequestsTable {
  connection_id: string
  request_id: string
  value: string
  expires_at: number
}

/** Consumed assertion IDs, kept until their NotOnOrAfter so a replay is refused. */
export interface SsoUsedAssertionsTable {
  connection_id: string
  assertion_id: string
  expires_at: number
}

/** JIT and the Enterprise sign-in controls of one team (a row only once an Admin sets one). */
export interface TeamSigninPoliciesTable {
  team_id: string
  jit_enabled: number
  password_signin_disabled: number
  google_signin_disabled: number
  require_two_factor: number
  max_session_minutes: number | null
  google_workspace_domain: string | null
  updated_at: number
}

/** A link that lets a company's IT administrator open one team's SSO set-up pages. */
export interface SsoSetupLinksTable {
  id: string
  team_id: string
  token_hash: string
  created_by: string | null
  created_at: number
  expires_at: number
  revoked_at: number | null
}

export interface Database {
  accounts: AccountsTable
  sessions: SessionsTable
  account_tokens: AccountTokensTable
  mail_outbox: MailOutboxTable
  audit_events: AuditEventsTable
  server_secrets: ServerSecretsTable
  captcha_uses: CaptchaUsesTable
  two_factor: TwoFactorTable
  recovery_codes: RecoveryCodesTable
  signin_tickets: SigninTicketsTable
  passkeys: PasskeysTable
  webauthn_challenges: WebauthnChallengesTable
  known_devices: KnownDevicesTable
  notifications: NotificationsTable
  teams: TeamsTable
  team_slug_history: TeamSlugHistoryTable
  team_members: TeamMembersTable
  team_invitations: TeamInvitationsTable
  team_activity: TeamActivityTable
  team_domains: TeamDomainsTable
  team_discovery: TeamDiscoveryTable
  team_join_requests: TeamJoinRequestsTable
  team_invite_links: TeamInviteLinksTable
  images: ImagesTable
  oauth_models: OauthModelsTable
  oauth_signing_keys: OauthSigningKeysTable
  oauth_clients: OauthClientsTable
  oauth_consents: OauthConsentsTable
  oauth_app_sessions: OauthAppSessionsTable
  sso_connections: SsoConnectionsTable
  linked_identities: LinkedIdentitiesTable
  sso_requests: SsoRequestsTable
  sso_used_assertions: SsoUsedAssertionsTable
  team_signin_policies: TeamSigninPoliciesTable
  sso_setup_links: SsoSetupLinksTable
}

export type Db = Kysely<Database>
/** A database handle or an open transaction: store functions accept either. */
export type Queryable = Kysely<Database> | Transaction<Database>
