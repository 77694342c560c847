import { describe, expect, it } from 'vitest'
import { CLI_EXIT_CODES, CliError } from './errors.ts'
import { LOGIN_TIMEOUT_MS, loginTimeoutMs } from './login.ts'
import { authorizationError } from './oauth-client.ts'

describe('the 5-minute limit', () => {
  it('is 5 minutes unless LATCHKEY_LOGIN_TIMEOUT_SECONDS shortens it', () => {
    expect(LOGIN_TIMEOUT_MS).toBe(300_000)
    expect(loginTimeoutMs({})).toBe(300_000)
    expect(loginTimeoutMs({ LATCHKEY_LOGIN_TIMEOUT_SECONDS: '2' })).toBe(2000)
    expect(loginTimeoutMs({ LATCHKEY_LOGIN_TIMEOUT_SECONDS: '0.5' })).toBe(500)
  })

  it('can never be lengthened, and ignores nonsense', () => {
    expect(loginTimeoutMs({ LATCHKEY_LOGIN_TIMEOUT_SECONDS: '3600' })).toBe(300_000)
    expect(loginTimeoutMs({ LATCHKEY_LOGIN_TIMEOUT_SECONDS: 'soon' })).toBe(300_000)
    expect(loginTimeoutMs({ LATCHKEY_LOGIN_TIMEOUT_SECONDS: '-1' })).toBe(300_000)
  })
})

describe('errors from the authorization server', () => {
  it('access_denied carries the server\'s description and the denied exit code', () => {
    const err = authorizationError('https://id.example.com', 'access_denied', 'This sign-in request expired. Go back to the app and start again.')
    expect(err.code).toBe('access_denied')
    expect(err.exitCode).toBe(5)
    expect(err.message).toBe('Sign-in was not completed: This sign-in request expired. Go back to the app and start again.')
  })

  it('access_denied without a description says it was skipped or denied', () => {
    expect(authorizationError('https://id.example.com', 'access_denied', undefined).message).toBe('Sign-in was not completed (it was skipped or denied in the browser).')
  })

  it('expired_token (device code) is a time-out', () => {
    const err = authorizationError('https://id.example.com', 'expired_token', undefined)
    expect(err.exitCode).toBe(CLI_EXIT_CODES.timed_out)
    expect(err.message).toContain('Run `latchkey login` again')
  })

  it('anything else names the server and the error', () => {
    const err = authorizationError('https://id.example.com', 'invalid_request', 'redirect_uri did not match')
    expect(err).toBeInstanceOf(CliError)
    expect(err.message).toBe('The server at https://id.example.com refused the sign-in (invalid_request): redirect_uri did not match.')
  })
})

describe('exit codes', () => {
  it('are distinct per reason', () => {
    const codes = Object.values(CLI_EXIT_CODES)
    expect(new Set(codes).size).toBe(codes.length)
    expect(codes).not.toContain(0)
  })
})
