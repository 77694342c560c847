import { describe, expect, it } from 'vitest'
import { bundledCommonPasswords, CommonPasswordList } from './common-passwords.ts'
import { PasswordHasher } from './hashing.ts'
import { checkNewPassword, passwordContextWords } from './policy.ts'

describe('the bundled common-password list', () => {
  it('holds at least 100 000 entries of 8 or more characters', () => {
    expect(bundledCommonPasswords().size).toBeGreaterThanOrEqual(100_000)
  })

  it('finds entries regardless of letter case and misses strong passphrases', () => {
    const list = bundledCommonPasswords()
    for (const common of ['password', 'PASSWORD1', 'qwertyuiop', 'iloveyou', '12345678', 'sunshine1']) expect(list.has(common)).toBe(true)
    for (const strong of ['correct horse battery staple', 'xk3#Lq9!vRt2@pZ', '我的密码非常安全而且很长']) expect(list.has(strong)).toBe(false)
  })

  it('binary-searches its own sorted buffer correctly at the edges', () => {
    const list = new CommonPasswordList(['zzzzzzzz', 'aaaaaaaa', 'mmmmmmmm', 'short'])
    expect(list.size).toBe(3)
    expect(list.has('aaaaaaaa')).toBe(true)
    expect(list.has('zzzzzzzz')).toBe(true)
    expect(list.has('mmmmmmmm')).toBe(true)
    expect(list.has('short')).toBe(false)
    expect(list.has('aaaaaaab')).toBe(false)
  })

  it('reads a file as bytes exactly as it reads lines: trimmed, lowercased, NFC, deduplicated', () => {
    const lines = ['  Password1\r', 'password1', 'short', 'ÉTÉ-été-2024', 'e\u0301te\u0301-long', 'zz\tzzzzzz ', '', 'İSTANBUL-İZMİR', 'ünïcode']
    const fromLines = new CommonPasswordList(lines)
    const fromFile = CommonPasswordList.fromFile(Buffer.from(lines.join('\n')))
    expect(fromFile.size).toBe(fromLines.size)
    for (const probe of ['password1', 'PASSWORD1', 'été-été-2024', 'été-long', 'zz\tzzzzzz', 'short', 'missing1', 'i̇stanbul-i̇zmi̇r', 'ünïcode']) {
      expect(fromFile.has(probe)).toBe(fromLines.has(probe))
    }
    expect(fromFile.has('été-long')).toBe(true)
    // Lowercasing İ takes more bytes than the line had: kept after the file's bytes.
    expect(fromFile.has('İstanbul-İzmİr')).toBe(true)
    expect(fromFile.has('ünïcode')).toBe(false) // 7 characters: shorter ones are refused anyway
  })
})

describe('the password policy (NIST 800-63B-4)', () => {
  it('counts characters as a person sees them, not UTF-16 units', () => {
    expect(() => checkNewPassword('🔑🔑🔑🔑🔑🔑🔑')).toThrow(expect.objectContaining({ code: 'password_too_short' }))
    expect(checkNewPassword('🔑🔑🔑🔑🔑🔑🔑🔐')).toBe('🔑🔑🔑🔑🔑🔑🔑🔐')
    expect(checkNewPassword('x'.repeat(127) + '🔑')).toHaveLength(129)
  })

  it('refuses passwords that are little more than words of their context: product, host name, username, email', () => {
    const words = passwordContextWords(new URL('https://accounts.example.com'), { username: 'ada_lovelace', email: 'ada.l@analytical.org' })
    expect(words).toEqual(['latchkey', 'accounts', 'example', 'ada_lovelace', 'ada.l'])
    for (const password of ['latchkey2026', 'LatchKey!LatchKey', 'accounts-1234', 'example2024!', 'Ada_Lovelace!', 'ada.l1234', 'latchkey@example']) {
      expect(() => checkNewPassword(password, 'password', words), password).toThrow(expect.objectContaining({ code: 'password_common', fields: { password: 'common' } }))
    }
    for (const password of ['latchkey is my favourite app', 'ada.l + 8 more chars', 'correct horse battery staple']) {
      expect(checkNewPassword(password, 'password', words)).toBe(password)
    }
    // An address names nothing; a single-label host is a word of its own.
    expect(passwordContextWords(new URL('http://127.0.0.1:3000'))).toEqual(['latchkey'])
    expect(passwordContextWords(new URL('http://localhost:3000'))).toEqual(['latchkey', 'localhost'])
  })

  it('has no composition rules', () => {
    expect(checkNewPassword('all lowercase words here')).toBe('all lowercase words here')
  })
})

describe('argon2id hashing', () => {
  it('uses m=19456 KiB, t=2, p=1 by default and records them in the hash', async () => {
    const hasher = new PasswordHasher({ memoryKiB: 19456, iterations: 2, parallelism: 1 })
    const hash = await hasher.hash('correct horse battery staple')
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true)
    expect(await hasher.verify(hash, 'correct horse battery stapler')).toBe(false)
    expect(hasher.needsRehash(hash)).toBe(false)
  })

  it('salts every hash', async () => {
    const hasher = new PasswordHasher({ memoryKiB: 1024, iterations: 1, parallelism: 1 })
    expect(await hasher.hash('same password')).not.toBe(await hasher.hash('same password'))
  })

  it('asks for a rehash when parameters rise or the hash is not argon2id', () => {
    const hasher = new PasswordHasher({ memoryKiB: 19456, iterations: 2, parallelism: 1 })
    expect(hasher.needsRehash('$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaA')).toBe(true)
    expect(hasher.needsRehash('$2b$10$abcdefghijklmnopqrstuv')).toBe(true)
  })

  it('matches the reference argon2id output for known inputs', async () => {
    // Cross-checked with the argon2 reference CLI: echo -n password | argon2 somesalt -id -t 2 -m 16 -p 1 -e
    const { verify } = await import('@node-rs/argon2')
    expect(await verify('$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc', 'password')).toBe(true)
  })

  it('spends hash time on unknown accounts and never matches', async () => {
    const hasher = new PasswordHasher({ memoryKiB: 1024, iterations: 1, parallelism: 1 })
    expect(await hasher.verify(null, 'anything at all')).toBe(false)
  })
})
