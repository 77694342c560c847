import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { accountKey, configDir, CredentialStore, type StoredAccount } from './credentials.ts'
import { CliError } from './errors.ts'

function tempStore(): CredentialStore {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cli-'))
  onTestFinished(() => fs.rmSync(root, { recursive: true, force: true }))
  return new CredentialStore(path.join(root, 'config', 'latchkey'))
}

function account(overrides: Partial<StoredAccount> = {}): StoredAccount {
  return {
    server: 'https://id.example.com',
    sub: 'sub-alice',
    username: 'alice',
    email: 'alice@example.com',
    name: 'Alice',
    accessToken: 'access-1',
    accessTokenExpiresAt: Date.now() + 3_600_000,
    refreshToken: 'refresh-1',
    scope: 'openid profile email offline_access',
    signedInAt: new Date().toISOString(),
    ...overrides,
  }
}

const mode = (file: string) => fs.statSync(file).mode & 0o777

function errorOf(work: () => unknown): CliError {
  try {
    work()
  } catch (err) {
    if (err instanceof CliError) return err
    throw err
  }
  throw new Error('expected a CliError')
}

describe('where credentials live', () => {
  it('uses $LATCHKEY_CONFIG_DIR first, then $XDG_CONFIG_HOME/latchkey', () => {
    expect(configDir({ LATCHKEY_CONFIG_DIR: '/tmp/lk', XDG_CONFIG_HOME: '/x' }, 'linux', '/home/a')).toBe('/tmp/lk')
    expect(configDir({ XDG_CONFIG_HOME: '/x' }, 'darwin', '/Users/a')).toBe('/x/latchkey')
  })

  it('follows each platform convention otherwise', () => {
    expect(configDir({}, 'linux', '/home/a')).toBe('/home/a/.config/latchkey')
    expect(configDir({}, 'darwin', '/Users/a')).toBe('/Users/a/Library/Application Support/latchkey')
    expect(configDir({ APPDATA: 'C:/Users/a/AppData/Roaming' }, 'win32', 'C:/Users/a')).toBe(path.join('C:/Users/a/AppData/Roaming', 'latchkey'))
  })
})

describe('file permissions', () => {
  it('creates the directory 0700 and the file 0600', () => {
    const store = tempStore()
    store.upsert(account())
    expect(mode(store.dir)).toBe(0o700)
    expect(mode(store.file)).toBe(0o600)
  })

  it('repairs a directory and a file that others could read', () => {
    const store = tempStore()
    store.upsert(account())
    fs.chmodSync(store.dir, 0o755)
    fs.chmodSync(store.file, 0o644)
    expect(store.active()?.username).toBe('alice')
    expect(mode(store.dir)).toBe(0o700)
    expect(mode(store.file)).toBe(0o600)
  })

  it('tightens an existing loose directory before writing into it', () => {
    const store = tempStore()
    fs.mkdirSync(store.dir, { recursive: true, mode: 0o777 })
    fs.chmodSync(store.dir, 0o777)
    store.upsert(account())
    expect(mode(store.dir)).toBe(0o700)
  })
})

describe('atomic writes', () => {
  it('replaces the file by rename: a reader of the old file still sees all of it', () => {
    const store = tempStore()
    store.upsert(account())
    const oldFd = fs.openSync(store.file, 'r')
    onTestFinished(() => fs.closeSync(oldFd))
    const before = fs.readFileSync(store.file, 'utf8')
    store.upsert(account({ sub: 'sub-bob', username: 'bob', email: 'bob@example.com' }))
    expect(fs.readFileSync(oldFd, 'utf8')).toBe(before)
    expect(store.list().map((r) => r.account.username)).toEqual(['alice', 'bob'])
  })

  it('leaves the old file whole and no temp file behind when a write fails', () => {
    const store = tempStore()
    store.upsert(account())
    const before = fs.readFileSync(store.file, 'utf8')
    // JSON.stringify throws on a BigInt, after the temp file was opened.
    expect(() => store.write({ version: 1, active: null, accounts: [account({ accessTokenExpiresAt: 1n as unknown as number })] })).toThrow(TypeError)
    expect(fs.readFileSync(store.file, 'utf8')).toBe(before)
    expect(fs.readdirSync(store.dir)).toEqual(['credentials.json'])
  })

  it('refuses a file that is not JSON with a message naming it', () => {
    const store = tempStore()
    fs.mkdirSync(store.dir, { recursive: true })
    fs.writeFileSync(store.file, '{ not json', { mode: 0o600 })
    const err = errorOf(() => store.list())
    expect(err.code).toBe('failure')
    expect(err.message).toContain(store.file)
  })
})

describe('several accounts', () => {
  it('keeps accounts apart by server and subject; the newest sign-in is active', () => {
    const store = tempStore()
    store.upsert(account())
    store.upsert(account({ server: 'https://other.example.com', accessToken: 'access-other' }))
    store.upsert(account({ sub: 'sub-bob', username: 'bob', email: 'bob@example.com' }))
    const rows = store.list()
    expect(rows.map((r) => [r.index, r.account.server, r.account.username, r.active])).toEqual([
      [1, 'https://id.example.com', 'alice', false],
      [2, 'https://other.example.com', 'alice', false],
      [3, 'https://id.example.com', 'bob', true],
    ])
  })

  it('signing in again to the same account replaces its tokens and returns the old ones', () => {
    const store = tempStore()
    store.upsert(account())
    const previous = store.upsert(account({ accessToken: 'access-2', refreshToken: 'refresh-2' }))
    expect(previous?.refreshToken).toBe('refresh-1')
    expect(store.list()).toHaveLength(1)
    expect(store.active()?.refreshToken).toBe('refresh-2')
  })

  it('update changes one account only and ignores one removed meanwhile', () => {
    const store = tempStore()
    store.upsert(account())
    store.upsert(account({ sub: 'sub-bob', username: 'bob' }))
    store.update(accountKey(account()), { refreshToken: 'refresh-rotated' })
    expect(store.list().map((r) => r.account.refreshToken)).toEqual(['refresh-rotated', 'refresh-1'])
    expect(store.update('https://id.example.com#gone', { refreshToken: 'x' })).toBeUndefined()
  })
})

describe('switch', () => {
  it('finds an account by number, username or email (any case)', () => {
    const store = tempStore()
    store.upsert(account())
    store.upsert(account({ sub: 'sub-bob', username: 'bob', email: 'bob@example.com' }))
    expect(store.switchTo('1').username).toBe('alice')
    expect(store.active()?.username).toBe('alice')
    expect(store.switchTo('BOB@example.com').username).toBe('bob')
    expect(store.active()?.username).toBe('bob')
    expect(store.switchTo('alice').username).toBe('alice')
    expect(store.active()?.username).toBe('alice')
  })

  it('asks for the number when a username is signed in on two servers', () => {
    const store = tempStore()
    store.upsert(account())
    store.upsert(account({ server: 'https://other.example.com' }))
    const err = errorOf(() => store.switchTo('alice'))
    expect(err.code).toBe('usage')
    expect(err.message).toContain('number')
    expect(store.switchTo('1').server).toBe('https://id.example.com')
  })

  it('says so for an unknown account, a number out of range, or no account at all', () => {
    const store = tempStore()
    expect(errorOf(() => store.switchTo('alice')).code).toBe('not_signed_in')
    store.upsert(account())
    expect(errorOf(() => store.switchTo('carol')).message).toContain('No signed-in account is "carol"')
    expect(errorOf(() => store.switchTo('2')).message).toContain('no account number 2')
  })
})

describe('logout (local side)', () => {
  it('removing the active account makes the first remaining one active', () => {
    const store = tempStore()
    store.upsert(account())
    store.upsert(account({ sub: 'sub-bob', username: 'bob' }))
    store.remove(accountKey(store.active()!))
    expect(store.list().map((r) => [r.account.username, r.active])).toEqual([['alice', true]])
  })

  it('removing another account keeps the active one', () => {
    const store = tempStore()
    store.upsert(account())
    store.upsert(account({ sub: 'sub-bob', username: 'bob' }))
    store.remove(accountKey(account()))
    expect(store.active()?.username).toBe('bob')
  })

  it('removing the last account leaves nobody active and no token on disk', () => {
    const store = tempStore()
    store.upsert(account())
    store.remove(accountKey(account()))
    expect(store.active()).toBeUndefined()
    expect(fs.readFileSync(store.file, 'utf8')).not.toContain('refresh-1')
  })
})

describe('lock around refreshes', () => {
  it('runs one holder at a time', async () => {
    const store = tempStore()
    const events: string[] = []
    const holder = (name: string) =>
      store.withLock(async () => {
        events.push(`${name} in`)
        await new Promise((resolve) => setTimeout(resolve, 100))
        events.push(`${name} out`)
      })
    await Promise.all([holder('a'), holder('b')])
    expect(events).toEqual(['a in', 'a out', 'b in', 'b out'])
    expect(fs.existsSync(path.join(store.dir, 'credentials.lock'))).toBe(false)
  })

  it('takes over a lock left by a process that died', async () => {
    const store = tempStore()
    fs.mkdirSync(store.dir, { recursive: true })
    const lock = path.join(store.dir, 'credentials.lock')
    fs.writeFileSync(lock, '')
    const longAgo = new Date(Date.now() - 60_000)
    fs.utimesSync(lock, longAgo, longAgo)
    await expect(store.withLock(async () => 'done')).resolves.toBe('done')
  })

  it('releases the lock when the work fails', async () => {
    const store = tempStore()
    await expect(store.withLock(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await expect(store.withLock(async () => 'again')).resolves.toBe('again')
  })
})
