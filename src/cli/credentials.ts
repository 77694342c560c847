/**
 * Where the `latchkey` CLI keeps its tokens: credentials.json in the user's config directory
 * (never in the project directory), readable by its owner only (file 0600 in a 0700 directory,
 * repaired when found looser), replaced atomically (temp file + rename) so a crash or a full disk
 * never leaves half a file. Several accounts, keyed by server + subject; one is active.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { CliError } from './errors.ts'

export interface StoredAccount {
  /** The server URL the person signed in to, without a trailing slash (what `--server` takes). */
  server: string
  /** The OpenID subject: stable for the account on that server. */
  sub: string
  username: string | null
  email: string | null
  name: string | null
  accessToken: string
  /** Milliseconds since the epoch; null when the server did not say. */
  accessTokenExpiresAt: number | null
  /** Rotated on every use: always the newest one the server gave. */
  refreshToken: string | null
  scope: string | null
  signedInAt: string
}

export interface CredentialsFile {
  version: 1
  /** accountKey() of the active account. */
  active: string | null
  accounts: StoredAccount[]
}

export const CREDENTIALS_FILE = 'credentials.json'
const LOCK_FILE = 'credentials.lock'
/** A lock older than this was left by a process that died (a refresh takes a few seconds at most). */
const STALE_LOCK_MS = 30_000
const LOCK_WAIT_MS = 20_000

const POSIX = process.platform !== 'win32'

export function accountKey(account: Pick<StoredAccount, 'server' | 'sub'>): string {
  return `${account.server}#${account.sub}`
}

/** "alice <alice@example.com>", or whatever the server told us. */
export function accountLabel(account: Pick<StoredAccount, 'username' | 'email' | 'sub'>): string {
  const who = account.username ?? account.email ?? account.sub
  return account.email && account.email !== who ? `${who} <${account.email}>` : who
}

/**
 * The directory: $LATCHKEY_CONFIG_DIR, else $XDG_CONFIG_HOME/latchkey, else the platform's
 * convention (~/.config/latchkey on Linux and BSDs, ~/Library/Application Support/latchkey on
 * macOS, %APPDATA%\latchkey on Windows).
 */
export function configDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = os.homedir()): string {
  if (env.LATCHKEY_CONFIG_DIR) return path.resolve(env.LATCHKEY_CONFIG_DIR)
  if (env.XDG_CONFIG_HOME) return path.join(env.XDG_CONFIG_HOME, 'latchkey')
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'latchkey')
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'latchkey')
  return path.join(home, '.config', 'latchkey')
}

function emptyFile(): CredentialsFile {
  return { version: 1, active: null, accounts: [] }
}

function isStoredAccount(value: unknown): value is StoredAccount {
  if (!value || typeof value !== 'object') return false
  const a = value as Record<string, unknown>
  return typeof a.server === 'string' && typeof a.sub === 'string' && typeof a.accessToken === 'string'
}

export class CredentialStore {
  readonly dir: string
  readonly file: string

  constructor(dir: string = configDir()) {
    this.dir = dir
    this.file = path.join(dir, CREDENTIALS_FILE)
  }

  /** Creates the directory (0700) or tightens it if someone loosened it. */
  #ensureDir(): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    if (POSIX && (fs.statSync(this.dir).mode & 0o077) !== 0) fs.chmodSync(this.dir, 0o700)
  }

  read(): CredentialsFile {
    let text: string
    try {
      text = fs.readFileSync(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyFile()
      throw err
    }
    // Tokens are bearer secrets: a file others can read is repaired before anything else.
    if (POSIX) {
      if ((fs.statSync(this.dir).mode & 0o077) !== 0) fs.chmodSync(this.dir, 0o700)
      if ((fs.statSync(this.file).mode & 0o077) !== 0) fs.chmodSync(this.file, 0o600)
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new CliError('failure', `${this.file} is not valid JSON. Delete it and run \`latchkey login\` again.`)
    }
    const data = parsed as Partial<CredentialsFile>
    if (!data || data.version !== 1 || !Array.isArray(data.accounts)) {
      throw new CliError('failure', `${this.file} is not a Latchkey credentials file this version understands. Delete it and run \`latchkey login\` again.`)
    }
    const accounts = data.accounts.filter(isStoredAccount)
    const active = typeof data.active === 'string' && accounts.some((a) => accountKey(a) === data.active) ? data.active : null
    return { version: 1, active, accounts }
  }

  /** Writes a temp file (0600) in the same directory, flushes it, and renames it over the old one. */
  write(data: CredentialsFile): void {
    this.#ensureDir()
    const temp = path.join(this.dir, `.${CREDENTIALS_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
    let fd: number | undefined
    try {
      fd = fs.openSync(temp, 'wx', 0o600)
      fs.writeFileSync(fd, `${JSON.stringify(data, null, 2)}\n`)
      fs.fsyncSync(fd)
      fs.closeSync(fd)
      fd = undefined
      fs.renameSync(temp, this.file)
    } catch (err) {
      if (fd !== undefined) fs.closeSync(fd)
      fs.rmSync(temp, { force: true })
      throw err
    }
  }

  /**
   * Runs `work` holding a lock file, so two `latchkey` processes refreshing at once do not both
   * spend the same refresh token (the server would take the second use as theft and end the
   * session). `work` should re-read the file: another process may have refreshed meanwhile.
   */
  async withLock<T>(work: () => Promise<T>): Promise<T> {
    this.#ensureDir()
    const lock = path.join(this.dir, LOCK_FILE)
    const deadline = Date.now() + LOCK_WAIT_MS
    for (;;) {
      try {
        fs.closeSync(fs.openSync(lock, 'wx', 0o600))
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        try {
          if (Date.now() - fs.statSync(lock).mtimeMs > STALE_LOCK_MS) fs.rmSync(lock, { force: true })
        } catch {
          // Released between our two calls: try again.
        }
        if (Date.now() > deadline) throw new CliError('failure', `Another latchkey command is using ${this.file}. Try again in a moment (or delete ${lock} if no latchkey command is running).`)
        await sleep(50)
      }
    }
    try {
      return await work()
    } finally {
      fs.rmSync(lock, { force: true })
    }
  }

  list(): { index: number; active: boolean; account: StoredAccount }[] {
    const data = this.read()
    return data.accounts.map((account, i) => ({ index: i + 1, active: accountKey(account) === data.active, account }))
  }

  active(): StoredAccount | undefined {
    const data = this.read()
    return data.accounts.find((a) => accountKey(a) === data.active)
  }

  /** Adds the account or replaces its tokens (same server and subject), and makes it the active one. Returns the one it replaced. */
  upsert(account: StoredAccount): StoredAccount | undefined {
    const data = this.read()
    const key = accountKey(account)
    const index = data.accounts.findIndex((a) => accountKey(a) === key)
    const previous = index >= 0 ? data.accounts[index] : undefined
    if (index >= 0) data.accounts[index] = account
    else data.accounts.push(account)
    data.active = key
    this.write(data)
    return previous
  }

  /** Changes some fields of one account (e.g. newly rotated tokens); no-op if it was removed meanwhile. */
  update(key: string, patch: Partial<StoredAccount>): StoredAccount | undefined {
    const data = this.read()
    const index = data.accounts.findIndex((a) => accountKey(a) === key)
    if (index < 0) return undefined
    data.accounts[index] = { ...data.accounts[index], ...patch }
    this.write(data)
    return data.accounts[index]
  }

  /**
   * Finds one account by its number in `latchkey accounts`, its username or its email
   * ("alice@server-url" style is not needed: the number disambiguates).
   */
  find(selector: string): StoredAccount {
    const data = this.read()
    if (!data.accounts.length) throw notSignedIn()
    const trimmed = selector.trim()
    if (/^\d+$/.test(trimmed)) {
      const account = data.accounts[Number(trimmed) - 1]
      if (!account) throw new CliError('not_signed_in', `There is no account number ${trimmed}: \`latchkey accounts\` lists ${data.accounts.length}.`)
      return account
    }
    const wanted = trimmed.toLowerCase()
    const matches = data.accounts.filter((a) => a.username?.toLowerCase() === wanted || a.email?.toLowerCase() === wanted || accountKey(a) === trimmed)
    if (matches.length === 1) return matches[0]
    if (matches.length > 1) {
      throw new CliError('usage', `"${selector}" is signed in on several servers. Use its number from \`latchkey accounts\` instead.`)
    }
    throw new CliError('not_signed_in', `No signed-in account is "${selector}". \`latchkey accounts\` lists them.`)
  }

  switchTo(selector: string): StoredAccount {
    const account = this.find(selector)
    const data = this.read()
    data.active = accountKey(account)
    this.write(data)
    return account
  }

  /** Forgets one account. If it was the active one, the first remaining account becomes active. */
  remove(key: string): void {
    const data = this.read()
    data.accounts = data.accounts.filter((a) => accountKey(a) !== key)
    if (data.active === key || !data.accounts.some((a) => accountKey(a) === data.active)) data.active = data.accounts[0] ? accountKey(data.accounts[0]) : null
    this.write(data)
  }
}

export function notSignedIn(): CliError {
  return new CliError('not_signed_in', 'You are not signed in. Run `latchkey login --server <url>` first.')
}
