import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { AppError, ERROR_CATALOG } from './errors.ts'

describe('the error catalog', () => {
  it('matches the table in the README, code for code and status for status', () => {
    const readme = fs.readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8')
    const table = readme.slice(readme.indexOf('<!-- error-codes:start -->'), readme.indexOf('<!-- error-codes:end -->'))
    const documented = Object.fromEntries([...table.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]))
    const actual = Object.fromEntries(Object.entries(ERROR_CATALOG).map(([code, { status }]) => [code, status]))
    expect(documented).toEqual(actual)
  })

  it('never sends the message of a 5xx error to the client', () => {
    const err = new AppError('internal_error', { message: 'db password is hunter2' })
    expect(JSON.stringify(err.toJSON())).not.toContain('hunter2')
  })

  it('sends fields and client-safe details of a 4xx error', () => {
    const err = new AppError('username_taken', { fields: { username: 'taken' }, details: { suggestions: ['ada1'] } })
    expect(err.toJSON()).toEqual({ error: { code: 'username_taken', message: 'This username is taken.', fields: { username: 'taken' }, suggestions: ['ada1'] } })
  })
})
