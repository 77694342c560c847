import { describe, expect, it } from 'vitest'
import pino from 'pino'
import { expectError, testApp } from '../../test/helpers/app.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { jsonDepthExceeds, MAX_JSON_DEPTH, nulPath } from './json-body.ts'
import type { SignedIn } from '../signin/schemas.ts'
import type { AccountView } from '../accounts/schemas.ts'

/** A test app whose log lines are kept, to prove what was (not) logged. */
async function appWithLog(dialect: (typeof DIALECTS)[number]) {
  const lines: string[] = []
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) })
  const t = await testApp(dialect, {}, { log })
  return { t, lines }
}

function nested(levels: number, open = '[', close = ']', inner = ''): string {
  return open.repeat(levels) + inner + close.repeat(levels)
}

describe('measuring JSON depth without parsing', () => {
  it('counts arrays and objects, and ignores brackets inside strings', () => {
    expect(jsonDepthExceeds('{"a":[{"b":1}]}', 3)).toBe(false)
    expect(jsonDepthExceeds('{"a":[{"b":[]}]}', 3)).toBe(true)
    expect(jsonDepthExceeds(JSON.stringify({ s: '[[[[[[{{{{{{' }), 1)).toBe(false)
    expect(jsonDepthExceeds(JSON.stringify({ s: 'a\\"[[[[' }), 1)).toBe(false)
    expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false)
    expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true)
  })

  it('finds a NUL in a value or a key at any depth, without recursion', () => {
    let deep: unknown = 'x\u0000'
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(nulPath(deep)).toBe(Array(100_000).fill('0').join('.'))
    expect(nulPath({ a: ['ok', { 'b\u0000': 1 }] })).toBe('a.1.b\u0000')
    expect(nulPath({ a: ['ok', 'no\u0000'], b: 'x\u0000' })).toBe('a.1')
    expect(nulPath({ a: ['ok', { b: 1 }] })).toBeNull()
  })
})

describe.each(DIALECTS)('deeply nested JSON bodies on %s', (dialect) => {
  it('refuses [ x30000 ] x30000 on sign-in with 400 json_too_deep, and logs no error or stack', async () => {
    const { t, lines } = await appWithLog(dialect)
    const body = nested(30_000)
    expect(body.length).toBeLessThan(64 * 1024)
    const res = await t.client().request<SignedIn>('POST', '/api/v1/signin', body, { 'content-type': 'application/json' })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ error: { code: 'json_too_deep', message: 'The JSON body is nested more than 32 levels deep.' } })
    const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level >= 50)
    expect(errors).toEqual([])
    expect(lines.join('\n')).not.toMatch(/RangeError|Maximum call stack/)
  })

  it('refuses 5000 levels of objects on the first request a fresh app gets', async () => {
    const { t, lines } = await appWithLog(dialect)
    const res = await t.client().request<SignedIn>('POST', '/api/v1/signin', nested(5000, '{"a":', '}', '1'), { 'content-type': 'application/json' })
    expectError(res, 400, 'json_too_deep')
    expect(lines.join('\n')).not.toMatch(/RangeError|Maximum call stack|"level":50/)
  })

  it('refuses one level past the limit inside a field, and lets the limit itself through to validation', async () => {
    const { t } = await appWithLog(dialect)
    const client = t.client()
    const over = await client.request<AccountView>('PATCH', '/api/v1/me', `{"links":${nested(MAX_JSON_DEPTH)}}`, { 'content-type': 'application/json' })
    expectError(over, 400, 'json_too_deep')
    // At the limit the body parses, and the route's schema answers.
    const at = await client.request<AccountView>('PATCH', '/api/v1/me', `{"links":${nested(MAX_JSON_DEPTH - 1)}}`, { 'content-type': 'application/json' })
    expectError(at, 400, 'invalid_request')
  })
})
