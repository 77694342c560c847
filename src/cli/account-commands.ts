/**
 * The signed-in side of the CLI: `latchkey accounts`, `switch`, `logout`, `whoami`, and the
 * session helper every command that calls the server as the person uses (silent refresh, with
 * the rotated refresh token saved before anything else).
 */
import { accountKey, accountLabel, CredentialStore, notSignedIn, type StoredAccount } from './credentials.ts'
import { CliError } from './errors.ts'
import { discover, isUnreachable, refresh, revoke, SessionEndedError, userInfo, type Server, type UserInfo } from './oauth-client.ts'

/** Refresh a little before the expiry the server announced, so a request never races it. */
const EXPIRY_MARGIN_MS = 30_000

function sessionEnded(account: StoredAccount, store: CredentialStore): CliError {
  const next = store.active()
  const switched = next ? ` The active account is now ${accountLabel(next)} on ${next.server}.` : ''
  return new CliError('not_signed_in', `Your session for ${accountLabel(account)} on ${account.server} was ended (signed out elsewhere, revoked, or expired). Run \`latchkey login --server ${account.server}\` to sign in again.${switched}`)
}

/**
 * Trades the refresh token for new tokens, under the credentials lock: if another latchkey
 * process refreshed first, its tokens are used instead of spending a token that is already
 * spent (which the server would take as theft, ending the session).
 */
async function refreshAccount(store: CredentialStore, server: Server, account: StoredAccount, force: boolean): Promise<StoredAccount> {
  const key = accountKey(account)
  return store.withLock(async () => {
    const current = store.read().accounts.find((a) => accountKey(a) === key)
    if (!current) throw notSignedIn()
    const rotatedElsewhere = current.refreshToken !== account.refreshToken
    if (rotatedElsewhere && !expired(current) && (!force || current.accessToken !== account.accessToken)) return current
    if (!current.refreshToken) {
      store.remove(key)
      throw sessionEnded(current, store)
    }
    try {
      const tokens = await refresh(server, current.refreshToken)
      // Saved at once: the old refresh token is spent, the new one is the only way back in.
      return store.update(key, { accessToken: tokens.accessToken, accessTokenExpiresAt: tokens.accessTokenExpiresAt, refreshToken: tokens.refreshToken, scope: tokens.scope ?? current.scope })!
    } catch (err) {
      if (err instanceof SessionEndedError) {
        store.remove(key)
        throw sessionEnded(current, store)
      }
      throw err
    }
  })
}

function expired(account: StoredAccount): boolean {
  return account.accessTokenExpiresAt !== null && account.accessTokenExpiresAt - EXPIRY_MARGIN_MS <= Date.now()
}

/**
 * The active account with a working access token and what the server says about it now.
 * Refreshes when the token has expired, or when the server turns it down (revoked early).
 */
export async function currentSession(store: CredentialStore = new CredentialStore()): Promise<{ account: StoredAccount; server: Server; info: UserInfo }> {
  let account = store.active()
  if (!account) throw notSignedIn()
  const server = await discover(account.server)
  let refreshed = false
  if (expired(account)) {
    account = await refreshAccount(store, server, account, false)
    refreshed = true
  }
  let info = await userInfo(server, account.accessToken, account.sub)
  if (!info && !refreshed) {
    account = await refreshAccount(store, server, account, true)
    info = await userInfo(server, account.accessToken, account.sub)
  }
  if (!info) {
    store.remove(accountKey(account))
    throw sessionEnded(account, store)
  }
  // Keep what `latchkey accounts` shows in step with the server (a renamed username, a new email).
  if (info.username !== account.username || info.email !== account.email || info.name !== account.name) {
    account = store.update(accountKey(account), { username: info.username, email: info.email, name: info.name }) ?? account
  }
  return { account, server, info }
}

export async function whoami(store: CredentialStore = new CredentialStore()): Promise<void> {
  const { account, info } = await currentSession(store)
  console.log(`Signed in to ${account.server} as ${info.username ?? info.sub}`)
  if (info.email) console.log(`Email: ${info.email}`)
  if (info.name) console.log(`Name: ${info.name}`)
}

export function listAccounts(store: CredentialStore = new CredentialStore()): void {
  const rows = store.list()
  if (!rows.length) {
    console.log('No account is signed in on this computer. Run `latchkey login --server <url>` to sign in.')
    return
  }
  const table = [['', '#', 'SERVER', 'USERNAME', 'EMAIL'], ...rows.map((r) => [r.active ? '*' : '', String(r.index), r.account.server, r.account.username ?? '-', r.account.email ?? '-'])]
  const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)))
  for (const row of table) console.log(row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd())
  console.log(`\n* active account. Tokens are kept in ${store.file}`)
}

export function switchAccount(selector: string, store: CredentialStore = new CredentialStore()): void {
  const account = store.switchTo(selector)
  console.log(`Now using ${accountLabel(account)} on ${account.server}.`)
}

/**
 * Ends the session at the server (revokes the refresh token, then the access token) and forgets
 * the account here. With the server unreachable the account is still forgotten, with a warning:
 * the person asked to be signed out of this computer, and that much we can always do.
 */
async function logoutOne(store: CredentialStore, account: StoredAccount): Promise<void> {
  let warning: string | null = null
  try {
    const server = await discover(account.server)
    if (account.refreshToken) await revoke(server, account.refreshToken, 'refresh_token')
    await revoke(server, account.accessToken, 'access_token')
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    warning = isUnreachable(err)
      ? `Warning: ${reason} The session could not be ended there; it ends when it expires, or revoke it from the Sessions page of ${account.server}.`
      : `Warning: the session could not be ended at ${account.server} (${reason}); revoke it from its Sessions page.`
  }
  await store.withLock(async () => store.remove(accountKey(account)))
  if (warning) console.error(warning)
  console.log(`Signed out of ${accountLabel(account)} on ${account.server}.`)
}

export async function logout(selector: string | undefined, options: { all?: boolean }, store: CredentialStore = new CredentialStore()): Promise<void> {
  if (options.all && selector) throw new CliError('usage', 'Give an account or --all, not both.')
  const targets = options.all ? store.list().map((r) => r.account) : [selector ? store.find(selector) : store.active()]
  const accounts = targets.filter((a): a is StoredAccount => Boolean(a))
  if (!accounts.length) throw notSignedIn()
  for (const account of accounts) await logoutOne(store, account)
  const next = store.active()
  if (next && !options.all) console.log(`The active account is now ${accountLabel(next)} on ${next.server}.`)
}
