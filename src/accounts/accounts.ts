/**
 * The account itself (SPEC §2, §6): sign-up, email confirmation, profile, username, email
 * and password changes, public profile, deletion, and operator deactivation.
 */
import { eraseAccountAudit, recordAudit, type RequestMeta } from '../audit/audit.ts'
import type { AppContext } from '../context.ts'
import { inTransaction, link } from '../context.ts'
import { isForeignKeyViolation, isUniqueViolation } from '../db/errors.ts'
import type { Queryable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { pickLocale, type Locale } from '../mail/templates.ts'
import { checkNewPassword, passwordContextWords } from '../passwords/policy.ts'
import { notifySecurity } from '../notifications/notifications.ts'
import { evictAfterCommit, markReauthenticated, revokeAllSessions, type Authenticated } from '../sessions/sessions.ts'
import { findAccountById, type Account } from './queries.ts'
import { randomInt } from 'node:crypto'
import { newId } from '../crypto.ts'
import { imagePath } from '../images/images.ts'
import { isReturnPath } from '../return-path.ts'
import { canonicalEmail, normalizeEmail } from './emails.ts'
import { verifyPasswordOf } from './reauth-password.ts'
import { consumeToken, issueToken, openToken, retireOutstandingLinks } from './tokens.ts'
import { checkUsername, normalizeUsername, usernameTakenError } from './usernames.ts'
import { accountDeleting, emailChanged } from './lifecycle.ts'
import { DISPLAY_NAME_MAX_LENGTH, type JobRole } from './limits.ts'

export function localeOf(account: Pick<Account, 'locale'>): Locale {
  return pickLocale(account.locale)
}

type OwnView = ReturnType<typeof buildAccountView>

// Account rows are never mutated (a change means a new row object), and the session cache
// hands the same row to every request until it is evicted: its view is built once.
const views = new WeakMap<Account, OwnView>()

/** What the account's owner sees about themselves (`GET /api/v1/me`). */
export function accountView(account: Account): OwnView {
  let view = views.get(account)
  if (!view) views.set(account, (view = buildAccountView(account)))
  return view
}

function buildAccountView(account: Account) {
  return {
    id: account.id,
    email: account.email,
    emailConfirmed: account.email_confirmed_at !== null,
    username: account.username,
    displayName: account.display_name,
    jobRole: account.job_role,
    bio: account.bio,
    aboutMe: account.about_me,
    links: JSON.parse(account.links) as string[],
    publicProfile: account.public_profile === 1,
    locale: localeOf(account),
    createdAt: new Date(account.created_at).toISOString(),
    avatarUrl: imagePath(account.avatar_image_id),
  }
}

// ---------------------------------------------------------------- sign-up and confirmation

export interface SignUpInput {
  email: string
  username: string
  password: string
  acceptTerms: boolean
  locale?: string
  /** A path on this site the confirmation link leads back to (the invitation the person came from). */
  next?: string
  meta: RequestMeta
}

/** The confirmation link, with where to go once confirmed when that is a path on this site. */
function confirmationLink(ctx: AppContext, token: string, next: string | undefined): string {
  return link(ctx, '/confirm-email', isReturnPath(next) ? { token, next } : { token })
}

/**
 * Answers the same whether or not the email already has an account (no enumeration): the
 * owner of an existing address gets an email instead of a second account.
 */
export async function signUp(ctx: AppContext, input: SignUpInput): Promise<{ email: string }> {
  await ctx.limits.consume('signup_ip', input.meta.ip)
  if (input.acceptTerms !== true) throw new AppError('terms_not_accepted', { fields: { acceptTerms: 'required' } })
  const email = canonicalEmail(input.email)
  const username = checkUsername(input.username)
  const password = checkNewPassword(input.password, 'password', passwordContextWords(ctx.config.publicUrl, { username, email }))
  const locale = pickLocale(input.locale)
  // Hashed before looking anything up, so both outcomes take the same time.
  const passwordHash = await ctx.hasher.hash(password)

  try {
    await inTransaction(ctx, async (trx) => {
      const now = ctx.clock.now()
      // One query for both: who has this email, and who has this username.
      const holders = await trx
        .selectFrom('accounts')
        .select(['id', 'locale', 'email_normalized', 'username_normalized'])
        .where((eb) => eb.or([eb('email_normalized', '=', normalizeEmail(email)), eb('username_normalized', '=', normalizeUsername(username))]))
        .execute()
      const owner = holders.find((a) => a.email_normalized === normalizeEmail(email))
      if (holders.some((a) => a.username_normalized === normalizeUsername(username))) throw await usernameTakenError(trx, username, ctx.clock.now())
      if (owner) {
        await ctx.mailer.enqueue(trx, {
          to: email,
          template: 'signup_existing_account',
          locale: pickLocale(owner.locale),
          vars: { signinUrl: link(ctx, '/signin'), recoveryUrl: link(ctx, '/trouble-signing-in') },
        })
        return
      }
      const id = newId()
      await trx
        .insertInto('accounts')
        .values({
          id,
          email,
          email_normalized: normalizeEmail(email),
          email_confirmed_at: null,
          username,
          username_normalized: normalizeUsername(username),
          password_hash: passwordHash,
          job_role: null,
          locale,
          terms_version: ctx.config.termsVersion,
          terms_accepted_at: now,
          created_at: now,
          updated_at: now,
        })
        .execute()
      const token = await issueToken(trx, ctx.clock, { accountId: id, purpose: 'email_confirm', email, newAccount: true })
      await ctx.mailer.enqueue(trx, { to: email, template: 'confirm_email', locale, vars: { username, link: confirmationLink(ctx, token, input.next) } })
      await recordAudit(trx, { accountId: id, type: 'account.created', meta: input.meta, at: now, details: { termsVersion: ctx.config.termsVersion } })
    })
  } catch (err) {
    // Two sign-ups racing for one username or email: the loser gets the same answers as above.
    if (!isUniqueViolation(err)) throw err
    const taken = await ctx.db.selectFrom('accounts').select('id').where('username_normalized', '=', normalizeUsername(username)).executeTakeFirst()
    if (taken) throw await usernameTakenError(ctx.db, username, ctx.clock.now())
  }
  return { email }
}

export async function confirmEmail(ctx: AppContext, token: string, meta: RequestMeta): Promise<{ email: string }> {
  const confirmed = await inTransaction(ctx, async (trx) => {
    const row = await consumeToken(trx, ctx.clock, token, ['email_confirm', 'email_change'])
    if (!row || !row.email) throw new AppError('token_invalid', { fields: { token: 'invalid' } })
    const account = await trx.selectFrom('accounts').selectAll().where('id', '=', row.account_id).executeTakeFirst()
    if (!account) throw new AppError('token_invalid', { fields: { token: 'invalid' } })
    const now = ctx.clock.now()
    await evictAfterCommit(ctx, trx, account.id)

    if (row.purpose === 'email_confirm') {
      // A confirmation for an address the account no longer uses confirms nothing.
      if (normalizeEmail(row.email) !== account.email_normalized) throw new AppError('token_invalid', { fields: { token: 'invalid' } })
      await trx.updateTable('accounts').set({ email_confirmed_at: account.email_confirmed_at ?? now, updated_at: now }).where('id', '=', account.id).execute()
      await recordAudit(trx, { accountId: account.id, type: 'account.email_confirmed', meta, at: now })
      return { email: account.email, accountId: account.id }
    }

    try {
      await trx
        .updateTable('accounts')
        .set({ email: row.email, email_normalized: normalizeEmail(row.email), email_confirmed_at: now, updated_at: now })
        .where('id', '=', account.id)
        .execute()
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('email_taken', { fields: { token: 'email_taken' } })
      throw err
    }
    // SPEC §7: a request to join a team found through the old address's domain is cancelled.
    await emailChanged.notify(ctx, trx, { accountId: account.id, newEmailNormalized: normalizeEmail(row.email), at: now })
    await notifySecurity(ctx, trx, account, 'email_changed', { username: account.username, newEmail: row.email })
    await recordAudit(trx, { accountId: account.id, type: 'account.email_changed', meta, at: now, details: { from: account.email, to: row.email } })
    return { email: row.email, accountId: account.id }
  })
  return { email: confirmed.email }
}

export async function resendConfirmation(ctx: AppContext, account: Account, next?: string): Promise<void> {
  if (account.email_confirmed_at !== null) throw new AppError('email_already_confirmed')
  await ctx.limits.consume('resend_account', account.id)
  await inTransaction(ctx, async (trx) => {
    const token = await issueToken(trx, ctx.clock, { accountId: account.id, purpose: 'email_confirm', email: account.email })
    await ctx.mailer.enqueue(trx, { to: account.email, template: 'confirm_email', locale: localeOf(account), vars: { username: account.username, link: confirmationLink(ctx, token, next) } })
  })
}

// ---------------------------------------------------------------- profile

export interface ProfilePatch {
  displayName?: string
  username?: string
  jobRole?: JobRole | null
  bio?: string
  aboutMe?: string
  links?: string[]
  publicProfile?: boolean
  locale?: Locale
}

export async function updateProfile(ctx: AppContext, auth: Authenticated, patch: ProfilePatch, meta: RequestMeta): Promise<Account> {
  const { account } = auth
  const changes: Partial<Account> = {}
  if (patch.displayName !== undefined) changes.display_name = patch.displayName.trim()
  if (patch.jobRole !== undefined) changes.job_role = patch.jobRole
  if (patch.bio !== undefined) changes.bio = patch.bio
  if (patch.aboutMe !== undefined) changes.about_me = patch.aboutMe
  if (patch.links !== undefined) changes.links = JSON.stringify(patch.links)
  if (patch.publicProfile !== undefined) changes.public_profile = patch.publicProfile ? 1 : 0
  if (patch.locale !== undefined) changes.locale = patch.locale
  const newUsername = patch.username !== undefined && patch.username !== account.username ? checkUsername(patch.username) : undefined
  if (newUsername) {
    changes.username = newUsername
    changes.username_normalized = normalizeUsername(newUsername)
  }
  if (Object.keys(changes).length === 0) return account

  try {
    const updated = await inTransaction(ctx, async (trx) => {
      const now = ctx.clock.now()
      if (newUsername && changes.username_normalized !== account.username_normalized) {
        const owner = await trx.selectFrom('accounts').select('id').where('username_normalized', '=', changes.username_normalized!).executeTakeFirst()
        if (owner) throw await usernameTakenError(trx, newUsername, ctx.clock.now())
      }
      const updated = await trx.updateTable('accounts').set({ ...changes, updated_at: now }).where('id', '=', account.id).returningAll().executeTakeFirstOrThrow()
      await evictAfterCommit(ctx, trx, account.id)
      if (newUsername) {
        await recordAudit(trx, { accountId: account.id, type: 'account.username_changed', meta, at: now, details: { from: account.username, to: newUsername } })
        // A login identifier changed: the owner hears of it, as of a password or email change (ASVS 5.0 V6.3.7).
        await notifySecurity(ctx, trx, updated, 'username_changed', { username: newUsername, previousUsername: account.username, recoveryUrl: link(ctx, '/trouble-signing-in') })
      }
      return updated
    })
    return updated
  } catch (err) {
    if (newUsername && isUniqueViolation(err)) throw await usernameTakenError(ctx.db, newUsername, ctx.clock.now())
    throw err
  }
}

export async function publicProfile(ctx: AppContext, username: string) {
  const account = await ctx.db
    .selectFrom('accounts')
    .select(['username', 'display_name', 'bio', 'about_me', 'links', 'created_at', 'avatar_image_id'])
    .where('username_normalized', '=', normalizeUsername(username))
    .where('public_profile', '=', 1)
    .where('status', '=', 'active')
    .executeTakeFirst()
  // A private profile and a missing one answer alike: the page shows nothing either way.
  if (!account) throw new AppError('not_found')
  return {
    username: account.username,
    displayName: account.display_name,
    bio: account.bio,
    aboutMe: account.about_me,
    links: JSON.parse(account.links) as string[],
    memberSince: new Date(account.created_at).toISOString(),
    avatarUrl: imagePath(account.avatar_image_id),
  }
}

// ---------------------------------------------------------------- email and password changes

export async function requestEmailChange(ctx: AppContext, auth: Authenticated, input: { email: string; password: string }, meta: RequestMeta): Promise<{ pendingEmail: string }> {
  const { account } = auth
  const email = canonicalEmail(input.email)
  await verifyPasswordOf(ctx, account, input.password, 'password')
  if (normalizeEmail(email) === account.email_normalized) {
    throw new AppError('email_invalid', { message: 'This is already your email address.', fields: { email: 'unchanged' } })
  }
  await ctx.limits.consume('resend_account', account.id)
  await inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now()
    const taken = await trx.selectFrom('accounts').select('id').where('email_normalized', '=', normalizeEmail(email)).executeTakeFirst()
    // The change waits the same either way (GET /me/email/pending shows it alike), so neither
    // the answer nor the Account page tells whether the address belongs to someone.
    const token = await issueToken(trx, ctx.clock, { accountId: account.id, purpose: 'email_change', email })
    if (taken) {
      // The new address learns why nothing happened; the token is never sent, and confirming it
      // would fail on the unique address anyway.
      await ctx.mailer.enqueue(trx, { to: email, template: 'email_change_unavailable', locale: localeOf(account), vars: {} })
      return
    }
    await ctx.mailer.enqueue(trx, { to: email, template: 'email_change_confirm', locale: localeOf(account), vars: { username: account.username, link: link(ctx, '/confirm-email', { token }) } })
    await notifySecurity(ctx, trx, account, 'email_change_requested', { username: account.username, newEmail: email })
    await recordAudit(trx, { accountId: account.id, type: 'account.email_change_requested', meta, at: now, details: { to: email } })
  })
  return { pendingEmail: email }
}

export interface PendingEmailChange {
  email: string
  requestedAt: string
  expiresAt: string
}

/** The change of address waiting for its link to be used, if any (only the newest link works). */
export async function pendingEmailChange(ctx: AppContext, account: Account): Promise<PendingEmailChange | null> {
  const row = await openToken(ctx.db, ctx.clock, account.id, 'email_change')
  if (!row?.email) return null
  return { email: row.email, requestedAt: new Date(row.created_at).toISOString(), expiresAt: new Date(row.expires_at).toISOString() }
}

function noPendingEmailChange(): AppError {
  return new AppError('not_found', { message: 'No change of email address is waiting for confirmation.' })
}

/** The link sent to the new address stops working; the current address stays. */
export async function cancelEmailChange(ctx: AppContext, auth: Authenticated, meta: RequestMeta): Promise<void> {
  const { account } = auth
  await inTransaction(ctx, async (trx) => {
    const pending = await openToken(trx, ctx.clock, account.id, 'email_change')
    if (!pending) throw noPendingEmailChange()
    await trx.deleteFrom('account_tokens').where('account_id', '=', account.id).where('purpose', '=', 'email_change').where('used_at', 'is', null).execute()
    await recordAudit(trx, { accountId: account.id, type: 'account.email_change_cancelled', meta, at: ctx.clock.now(), details: { to: pending.email } })
  })
}

/**
 * A new link to the address already asked for (the mail was lost, or the link is about to
 * expire): no password again, since the address itself was vetted by the password when the
 * change was asked for. The old link stops working; the budget is the same as for asking.
 */
export async function resendEmailChange(ctx: AppContext, auth: Authenticated, meta: RequestMeta): Promise<PendingEmailChange> {
  const { account } = auth
  const before = await openToken(ctx.db, ctx.clock, account.id, 'email_change')
  if (!before?.email) throw noPendingEmailChange()
  await ctx.limits.consume('resend_account', account.id)
  await inTransaction(ctx, async (trx) => {
    // Read again in the transaction: a password change in between cancelled it for good.
    const email = (await openToken(trx, ctx.clock, account.id, 'email_change'))?.email
    if (!email) throw noPendingEmailChange()
    const token = await issueToken(trx, ctx.clock, { accountId: account.id, purpose: 'email_change', email })
    const taken = await trx.selectFrom('accounts').select('id').where('email_normalized', '=', normalizeEmail(email)).executeTakeFirst()
    if (taken) await ctx.mailer.enqueue(trx, { to: email, template: 'email_change_unavailable', locale: localeOf(account), vars: {} })
    else await ctx.mailer.enqueue(trx, { to: email, template: 'email_change_confirm', locale: localeOf(account), vars: { username: account.username, link: link(ctx, '/confirm-email', { token }) } })
    await recordAudit(trx, { accountId: account.id, type: 'account.email_change_requested', meta, at: ctx.clock.now(), details: { to: email, resent: true } })
  })
  return (await pendingEmailChange(ctx, account))!
}

export async function changePassword(ctx: AppContext, auth: Authenticated, input: { currentPassword: string; newPassword: string }, meta: RequestMeta): Promise<{ otherSessionsRevoked: number; cancelledEmailChange: string | null }> {
  const { account, session } = auth
  await verifyPasswordOf(ctx, account, input.currentPassword, 'currentPassword')
  const password = checkNewPassword(input.newPassword, 'newPassword', passwordContextWords(ctx.config.publicUrl, account))
  const passwordHash = await ctx.hasher.hash(password)
  const result = await inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now()
    await trx.updateTable('accounts').set({ password_hash: passwordHash, failed_signins: 0, password_signin_locked: 0, updated_at: now }).where('id', '=', account.id).execute()
    const revoked = await revokeAllSessions(ctx, trx, { accountId: account.id, exceptSessionId: session.id })
    const { cancelledEmailChange } = await retireOutstandingLinks(ctx, trx, account.id)
    await markReauthenticated(ctx, trx, session, now)
    await recordAudit(trx, { accountId: account.id, type: 'account.password_changed', meta, at: now, details: { otherSessionsRevoked: revoked, cancelledEmailChange } })
    await notifySecurity(ctx, trx, account, 'password_changed', { username: account.username, recoveryUrl: link(ctx, '/trouble-signing-in'), cancelledEmailChange })
    return { otherSessionsRevoked: revoked, cancelledEmailChange }
  })
  return result
}

// ---------------------------------------------------------------- deletion and operator actions

/**
 * What stops this account from being deleted now (SPEC §6: membership of a team), as the error
 * a deletion would get, or null. Asked before any password, so nobody types one to learn it.
 */
export async function deletionBlocker(ctx: AppContext, accountId: string): Promise<AppError | null> {
  try {
    await accountDeleting.notify(ctx, ctx.db, accountId)
    return null
  } catch (err) {
    if (err instanceof AppError) return err
    throw err
  }
}

export async function deleteAccount(ctx: AppContext, auth: Authenticated, input: { password: string }, meta: RequestMeta): Promise<void> {
  const { account } = auth
  // The teams first: the person learns what to do before typing (or mistyping) a password.
  const blocker = await deletionBlocker(ctx, account.id)
  if (blocker) throw blocker
  await verifyPasswordOf(ctx, account, input.password, 'password')
  await inTransaction(ctx, async (trx) => {
    // SPEC §6: only an account in no team can be deleted; the error lists the teams to leave.
    await accountDeleting.notify(ctx, trx, account.id)
    await removeAccountData(ctx, trx, account, meta)
  }).catch(async (err) => {
    // An invitation accepted between the check and the delete: the membership's foreign key
    // refuses the delete, and the person gets the same clear error as above.
    if (isForeignKeyViolation(err)) await accountDeleting.notify(ctx, ctx.db, account.id)
    throw err
  })
}

async function removeAccountData(ctx: AppContext, trx: Queryable, account: Account, meta: RequestMeta): Promise<void> {
  const now = ctx.clock.now()
  await ctx.mailer.enqueue(trx, { to: account.email, template: 'account_deleted', locale: localeOf(account), vars: { username: account.username } })
  // Sessions and tokens go with the account (ON DELETE CASCADE); the personal audit trail too,
  // leaving one record without personal data that the deletion happened.
  await eraseAccountAudit(trx, account.id)
  await trx.deleteFrom('accounts').where('id', '=', account.id).execute()
  await evictAfterCommit(ctx, trx, account.id)
  await recordAudit(trx, { accountId: account.id, type: 'account.deleted', meta: { ip: meta.ip, userAgent: '' }, at: now })
}

async function findByEmailOrUsername(db: Queryable, login: string): Promise<Account | undefined> {
  const column = login.includes('@') ? 'email_normalized' : 'username_normalized'
  const value = login.includes('@') ? normalizeEmail(canonicalEmail(login)) : normalizeUsername(login)
  return db.selectFrom('accounts').selectAll().where(column, '=', value).executeTakeFirst()
}

/** Looks an account up by email or username for operator commands; a clear error otherwise. */
export async function findAccount(db: Queryable, login: string): Promise<Account> {
  const account = await findByEmailOrUsername(db, login)
  if (!account) throw new AppError('not_found', { message: `No account with email or username "${login}".` })
  return account
}

/** Operator action: the account cannot sign in and loses every session at once. */
export async function setAccountActive(ctx: AppContext, login: string, active: boolean, meta: RequestMeta): Promise<{ account: Account; sessionsRevoked: number }> {
  const result = await inTransaction(ctx, async (trx) => {
    const account = await findAccount(trx, login)
    const now = ctx.clock.now()
    await trx.updateTable('accounts').set({ status: active ? 'active' : 'deactivated', updated_at: now }).where('id', '=', account.id).execute()
    // Usually run from the CLI, a process of its own: the eviction is what tells the running servers.
    await evictAfterCommit(ctx, trx, account.id)
    const sessionsRevoked = active ? 0 : await revokeAllSessions(ctx, trx, { accountId: account.id })
    if (!active) await retireOutstandingLinks(ctx, trx, account.id)
    await recordAudit(trx, { accountId: account.id, type: active ? 'account.reactivated' : 'account.deactivated', meta, at: now, details: { sessionsRevoked } })
    if (!active && account.status === 'active') {
      await notifySecurity(ctx, trx, account, 'account_deactivated', { username: account.username })
    }
    return { account: { ...account, status: active ? ('active' as const) : ('deactivated' as const) }, sessionsRevoked }
  })
  return result
}

/**
 * An account made by single sign-on (JIT, SPEC §8): the identity provider vouched for the
 * address at a verified domain, so it is confirmed; there is no password (one can be set later,
 * SPEC §6). The username comes from the address's local part, with digits added when taken.
 * The terms are those in force: the team's sign-in page states them.
 */
export async function createAccountForIdentity(ctx: AppContext, trx: Queryable, input: { email: string; displayName?: string; meta: RequestMeta }): Promise<Account> {
  const email = canonicalEmail(input.email)
  const now = ctx.clock.now()
  const base = (email.slice(0, email.indexOf('@')).replace(/[^A-Za-z0-9_-]/g, '').replace(/^[_-]+|[_-]+$/g, '') || 'user').slice(0, 24).padEnd(3, '0')
  let username = base
  for (let attempt = 0; ; attempt++) {
    const free = !(await trx.selectFrom('accounts').select('id').where('username_normalized', '=', normalizeUsername(username)).executeTakeFirst())
    let allowed = true
    try {
      checkUsername(username)
    } catch {
      allowed = false
    }
    if (free && allowed) break
    if (attempt > 20) throw new AppError('internal_error', { message: 'No free username for a new SSO account.' })
    username = `${base.slice(0, 24)}${randomInt(10, 99_999)}`
  }
  const id = newId()
  await trx
    .insertInto('accounts')
    .values({
      id,
      email,
      email_normalized: normalizeEmail(email),
      email_confirmed_at: now,
      username,
      username_normalized: normalizeUsername(username),
      password_hash: null,
      ...(input.displayName ? { display_name: input.displayName.slice(0, DISPLAY_NAME_MAX_LENGTH) } : {}),
      job_role: null,
      locale: 'en',
      terms_version: ctx.config.termsVersion,
      terms_accepted_at: now,
      created_at: now,
      updated_at: now,
    })
    .execute()
  await recordAudit(trx, { accountId: id, type: 'account.created', meta: input.meta, at: now, details: { method: 'sso' } })
  return (await findAccountById(trx, id))!
}
