import { describe, expect, it } from 'vitest'
import { isReturnPath, RETURN_PATH_MAX_LENGTH } from './return-path.ts'

describe('a return path (`next`)', () => {
  it('accepts a path on this site, with its query and fragment', () => {
    for (const path of ['/', '/teams', '/join/abcDEF_123-x', '/invitations/accept#token=abc', '/signin?next=%2Fteams', '/u/ada%20b']) {
      expect(isReturnPath(path), path).toBe(true)
    }
  })

  it('refuses anything a browser could follow to another site', () => {
    for (const path of [
      'https://evil.example', 'http:/evil.example', 'javascript:alert(1)', '//evil.example', '/\\evil.example', '\\\\evil.example',
      '/\tevil', ' /teams', '/te ams', '/teams\n', '/a\u0000b', 'teams', '', '/x\\y',
    ]) {
      expect(isReturnPath(path), JSON.stringify(path)).toBe(false)
    }
    expect(isReturnPath(undefined)).toBe(false)
    expect(isReturnPath(['/teams'])).toBe(false)
  })

  it(`refuses one longer than ${RETURN_PATH_MAX_LENGTH} characters`, () => {
    expect(isReturnPath(`/${'a'.repeat(RETURN_PATH_MAX_LENGTH - 1)}`)).toBe(true)
    expect(isReturnPath(`/${'a'.repeat(RETURN_PATH_MAX_LENGTH)}`)).toBe(false)
  })
})
