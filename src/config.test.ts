import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config.ts'

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('configuration', () => {
  it('starts with embedded defaults: SQLite under ./data and the mail outbox', () => {
    const config = loadConfig({})
    expect(config.databaseUrl).toBe('sqlite:data/latchkey.db')
    expect(config.smtpUrl).toBeUndefined()
    expect(config.publicUrl.origin).toBe('http://localhost:3000')
    expect(config.argon2).toEqual({ memoryKiB: 19456, iterations: 2, parallelism: 1 })
    expect(config.teamDefaultSeats).toBe(25)
  })

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
    [{ PUBLIC_URL: 'ftp://example.com' }, 'PUBLIC_URL'],
    [{ PUBLIC_URL: 'https://example.com/accounts' }, 'PUBLIC_URL'],
    [{ DATABASE_URL: 'mysql://localhost/db' }, 'DATABASE_URL'],
    [{ SMTP_URL: 'http://mail.example.com' }, 'SMTP_URL'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ MAIL_FROM: 'nobody' }, 'MAIL_FROM'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN'],
    [{ METRICS_TOKEN: 'a token with spaces in it, long enough to pass' }, 'METRICS_TOKEN'],
    [{ ARGON2_MEMORY_KIB: '8' }, 'ARGON2_MEMORY_KIB'],
    [{ TERMS_URL: 'terms.html' }, 'TERMS_URL'],
    [{ PRIVACY_URL: 'javascript:alert(1)' }, 'PRIVACY_URL'],
    [{ TEAM_DEFAULT_SEATS: '0' }, 'TEAM_DEFAULT_SEATS'],
    [{ TEAM_DEFAULT_SEATS: '10001' }, 'TEAM_DEFAULT_SEATS'],
    [{ DATABASE_POOL_SIZE: '0' }, 'DATABASE_POOL_SIZE'],
    [{ SHUTDOWN_DRAIN_SECONDS: 'soon' }, 'SHUTDOWN_DRAIN_SECONDS'],
  ])('names the bad variable in %j', (env, variable) => {
    const err = errorOf(env)
    expect(err.variable).toBe(variable)
    expect(err.message).toContain(variable)
  })

  it('accepts PostgreSQL, SMTP and Redis URLs', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@db/latchkey', SMTP_URL: 'smtps://u:p@mail.example.com:465', REDIS_URL: 'redis://cache:6379', PUBLIC_URL: 'https://accounts.example.com' })
    expect(config.databaseUrl).toBe('postgres://u@db/latchkey')
    expect(config.smtpUrl).toBe('smtps://u:p@mail.example.com:465')
    expect(config.redisUrl).toBe('redis://cache:6379')
    expect(config.mailFrom).toBe('Latchkey <no-reply@accounts.example.com>')
  })

  it('reads the terms of use and privacy policy addresses, unset by default', () => {
    expect(loadConfig({})).toMatchObject({ termsVersion: '2026-01', termsUrl: undefined, privacyUrl: undefined })
    const config = loadConfig({ TERMS_URL: 'https://example.com/terms', PRIVACY_URL: 'https://example.com/privacy#data', TERMS_VERSION: '2026-07' })
    expect(config).toMatchObject({ termsVersion: '2026-07', termsUrl: 'https://example.com/terms', privacyUrl: 'https://example.com/privacy#data' })
  })
})
