/**
 * Invitations from a CSV file: the parser on its own (quotes, line ends, headers, role
 * spellings), then the endpoint on both databases — line-numbered errors, nothing sent when
 * any row is bad, seats for the whole batch, suggestions for a Developer's other roles, emails
 * through the same path as `POST /invitations` — and the hourly invitation limits.
 */
import { describe, expect, it } from 'vitest'
import { DIALECTS } from '../../../test/helpers/databases.ts'
import { errorDetails, errorOf, expectError, expectErrorCode, signedUpUser, testApp, type TestApp } from '../../../test/helpers/app.ts'
import { AppError } from '../../errors.ts'
import { invitationsFromCsv, parseCsv, parseRoles } from './csv-invitations.ts'
import { addMember, invitationToken, teamWithAdmin } from '../../../test/helpers/teams.ts'
import type { Invitation, Invitations, JoinedTeam } from '../schemas.ts'
import type { CsvProblem } from './schemas.ts'

function problemsOf(fn: () => unknown): { line: number; column: string; code: string }[] {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(AppError)
    expect((err as AppError).code).toBe('csv_invalid')
    return ((err as AppError).details!.rows as { line: number; column: string; code: string }[]).map(({ line, column, code }) => ({ line, column, code }))
  }
  throw new Error('no csv_invalid error')
}

describe('the CSV parser', () => {
  it('reads quoted cells, doubled quotes, CRLF, CR and LF line ends, a BOM, and skips blank lines with their numbers kept', () => {
    const text = '\uFEFFemail,roles\r\n"ada@example.com","admin,billing"\r\n\r\nbo@example.com,"say ""hi""\nthere"\rcy@example.com\n'
    expect(parseCsv(text)).toEqual([
      { line: 1, cells: ['email', 'roles'] },
      { line: 2, cells: ['ada@example.com', 'admin,billing'] },
      { line: 4, cells: ['bo@example.com', 'say "hi"\nthere'] },
      { line: 6, cells: ['cy@example.com'] },
    ])
  })

  it('reports an unterminated quote with its line', () => {
    expect(problemsOf(() => parseCsv('a@example.com,developer\nb@example.com,"developer\n'))).toEqual([{ line: 2, column: 'row', code: 'unterminated_quote' }])
  })

  it('understands role spellings and separators', () => {
    expect(parseRoles('Admin; Community Manager | billing')).toEqual({ roles: ['admin', 'billing', 'community_manager'], unknown: [] })
    expect(parseRoles('community-manager,owner')).toEqual({ roles: ['community_manager'], unknown: ['owner'] })
  })

  it('works with or without a header, with roles per row or by default', () => {
    expect(invitationsFromCsv('email,roles\nada@example.com,developer\nbo@example.com,admin|billing\n')).toEqual([
      { email: 'ada@example.com', roles: ['developer'], field: 'csv.2' },
      { email: 'bo@example.com', roles: ['admin', 'billing'], field: 'csv.3' },
    ])
    expect(invitationsFromCsv('ada@example.com\nbo@example.com\n', ['developer'])).toEqual([
      { email: 'ada@example.com', roles: ['developer'], field: 'csv.1' },
      { email: 'bo@example.com', roles: ['developer'], field: 'csv.2' },
    ])
    // A header with other columns: email and roles found by name, the rest ignored.
    expect(invitationsFromCsv('Name,Roles,E-mail\nAda,Developer,ada@example.com\n')).toEqual([{ email: 'ada@example.com', roles: ['developer'], field: 'csv.2' }])
  })

  it('reads semicolon- and tab-separated exports, deciding by the first line', () => {
    expect(invitationsFromCsv('email;roles\nada@example.com;admin|billing\nbo@example.com;developer\n')).toEqual([
      { email: 'ada@example.com', roles: ['admin', 'billing'], field: 'csv.2' },
      { email: 'bo@example.com', roles: ['developer'], field: 'csv.3' },
    ])
    expect(invitationsFromCsv('ada@example.com\tDeveloper; Community Manager\n')).toEqual([{ email: 'ada@example.com', roles: ['developer', 'community_manager'], field: 'csv.1' }])
    // A comma on the first line keeps commas: `;` then separates roles.
    expect(problemsOf(() => invitationsFromCsv('ada@example.com,admin;billing\nbo@example.com;developer\n'))).toEqual([{ line: 2, column: 'email', code: 'email_invalid' }, { line: 2, column: 'roles', code: 'roles_missing' }])
  })

  it('lists every bad row with its line and column', () => {
    const csv = ['email,roles', 'ada@example.com,developer', 'not-an-email,developer', ',developer', 'bo@example.com,owner', 'ADA@example.com,developer', 'cy@example.com', 'dee@example.com,developer,extra'].join('\n')
    expect(problemsOf(() => invitationsFromCsv(csv))).toEqual([
      { line: 3, column: 'email', code: 'email_invalid' },
      { line: 4, column: 'email', code: 'email_missing' },
      { line: 5, column: 'roles', code: 'unknown_role' },
      { line: 6, column: 'email', code: 'duplicate' },
      { line: 7, column: 'roles', code: 'roles_missing' },
    ])
    expect(problemsOf(() => invitationsFromCsv('ada@example.com,developer,extra'))).toEqual([{ line: 1, column: 'row', code: 'too_many_columns' }])
    expect(problemsOf(() => invitationsFromCsv('email,roles\n\n'))).toEqual([{ line: 0, column: 'file', code: 'empty' }])
    const tooMany = Array.from({ length: 501 }, (_, i) => `p${i}@example.com,developer`).join('\n')
    expect(problemsOf(() => invitationsFromCsv(tooMany))).toEqual([{ line: 0, column: 'file', code: 'too_many_rows' }])
  })
})

async function invitationMails(t: TestApp): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 300))
  return t.smtp.messages.filter((m) => /invited you|邀请你/.test(m.subject)).length
}

/** Files that made the parser quadratic: a cell with text and then many `"` (each re-trimmed the whole cell). */
const HOSTILE_CSV = [' '.repeat(100_000) + 'a' + '"'.repeat(99_998), 'a' + '"'.repeat(199_998), ('a,' + '"'.repeat(1000) + '\n').repeat(190)]

describe('the CSV parser on hostile files', () => {
  it('reads the largest accepted file in linear time (was ~20-30 s of blocked event loop)', () => {
    for (const text of HOSTILE_CSV) {
      const started = performance.now()
      try {
        parseCsv(text)
      } catch {
        // Only the time matters here.
      }
      expect(performance.now() - started, `${text.length} characters`).toBeLessThan(1000)
    }
  })
})

describe.each(DIALECTS)('CSV invitations on %s', (dialect) => {
  it('answers a hostile 200 000-character file quickly with csv_invalid, and the server stays responsive', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 5 })
    for (const csv of HOSTILE_CSV) {
      const started = performance.now()
      const res = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations/csv`, { csv, defaultRoles: ['developer'] })
      expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(400)
      expectErrorCode(res, 'csv_invalid')
      expect(performance.now() - started).toBeLessThan(3000)
    }
  })

  it('invites every row with its roles and emails each person the usual invitation', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 5 })
    const invitee = await signedUpUser(t)
    const csv = `email,roles\n${invitee.email},Developer;Community Manager\nbo@example.com,billing\n"cy@example.com",\n`
    const res = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations/csv`, { csv, defaultRoles: ['developer'] })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.suggestions).toEqual([])
    expect(res.body.invitations.map((i: { email: string; roles: string[] }) => [i.email, i.roles]).sort()).toEqual([
      ['bo@example.com', ['billing']],
      ['cy@example.com', ['developer']],
      [invitee.email, ['developer', 'community_manager']],
    ].sort())
    // The same invitation email and acceptance as POST /invitations.
    const accepted = await invitee.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: await invitationToken(t, invitee.email) })
    expect(accepted.status).toBe(200)
    expect(accepted.body.roles).toEqual(['developer', 'community_manager'])
    await invitationToken(t, 'bo@example.com')
    await invitationToken(t, 'cy@example.com')
  })

  it('sends nothing when any row is bad, and says which lines', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 5 })
    const res = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations/csv`, { csv: 'ok@example.com,developer\nnope,developer\nfine@example.com,wizard\n' })
    expect(res.status).toBe(400)
    expect(errorOf(res)).toMatchObject({ code: 'csv_invalid', fields: { 'csv.2': 'email_invalid', 'csv.3': 'unknown_role' }, problemCount: 2 })
    expect((errorDetails(res).rows as CsvProblem[]).map((r) => r.line)).toEqual([2, 3])
    expect(errorOf(res).message).toContain('line 2')
    expect((await admin.client.get<Invitations>(`/api/v1/teams/${slug}/invitations`)).body.invitations).toEqual([])
    expect(await invitationMails(t)).toBe(0)
    // Malformed bodies: still 400s.
    for (const body of [{ csv: '' }, { csv: 'a@example.com', defaultRoles: ['wizard'] }, { csv: 5 }, {}, { csv: 'x', other: 1 }]) {
      const bad = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations/csv`, body)
      expect(bad.status, JSON.stringify(body)).toBe(400)
    }
    const quote = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations/csv`, { csv: '"a@example.com,developer\n' })
    expect(errorOf(quote)).toMatchObject({ code: 'csv_invalid', fields: { 'csv.1': 'unterminated_quote' } })
  })

  it('checks seats for the whole batch, and members or open invitations by line', async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 2 })
    const three = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations/csv`, { csv: 'a@example.com\nb@example.com\nc@example.com\n', defaultRoles: ['developer'] })
    expectError(three, 409, 'no_seats_available')
    expect((await admin.client.get<Invitations>(`/api/v1/teams/${slug}/invitations`)).body.invitations).toEqual([])
    expect(await invitationMails(t)).toBe(0)

    expect((await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['a@example.com'], roles: ['developer'] })).status).toBe(201)
    const again = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations/csv`, { csv: `email\nz@example.com\na@example.com\n`, defaultRoles: ['developer'] })
    expect(again.status).toBe(409)
    expect(errorOf(again)).toMatchObject({ code: 'already_invited', fields: { 'csv.3': 'already_invited' } })
    const member = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations/csv`, { csv: `${admin.email},developer\n` })
    expect(errorOf(member)).toMatchObject({ code: 'already_team_member', fields: { 'csv.1': 'already_member' } })
  })

  it("turns a Developer's rows with other roles into suggestions and sends their Developer rows", async () => {
    const t = await testApp(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 5 })
    const dev = await addMember(t, admin, slug, ['developer'])
    const res = await dev.client.post<Invitations>(`/api/v1/teams/${slug}/invitations/csv`, { csv: 'd1@example.com,developer\ns1@example.com,admin\ns2@example.com,billing|developer\n' })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.invitations.map((i: { email: string }) => i.email)).toEqual(['d1@example.com'])
    expect(res.body.suggestions.map((i: { email: string; roles: string[] }) => [i.email, i.roles])).toEqual([['s1@example.com', ['admin']], ['s2@example.com', ['billing', 'developer']]])
    const billing = await addMember(t, admin, slug, ['billing'])
    const denied = await billing.client.post<Invitations>(`/api/v1/teams/${slug}/invitations/csv`, { csv: 'x@example.com,developer\n' })
    expect(denied.status).toBe(403)
  })

  it('limits invitations per inviter and per team per hour, all or nothing, and the limit says so', async () => {
    const t = await testApp(dialect, { RATE_LIMIT_INVITATIONS_PER_INVITER_PER_HOUR: '3', RATE_LIMIT_INVITATIONS_PER_TEAM_PER_HOUR: '5' })
    const { admin, slug } = await teamWithAdmin(t, { seats: 20 })
    const second = await addMember(t, admin, slug, ['admin']) // admin 1/3, team 1/5
    const three = await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations/csv`, { csv: 'a@example.com\nb@example.com\nc@example.com\n', defaultRoles: ['developer'] })
    expect(three.status).toBe(429)
    expect(errorOf(three)).toMatchObject({ code: 'too_many_requests', limit: 'invitations_inviter', retryAt: expect.any(String) })
    expect(errorOf(three).message).toContain('Too many invitations')
    expect((await admin.client.get<Invitations>(`/api/v1/teams/${slug}/invitations`)).body.invitations).toEqual([])
    // The refused batch spent nothing: two still fit.
    expect((await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations/csv`, { csv: 'a@example.com\nb@example.com\n', defaultRoles: ['developer'] })).status).toBe(201)
    expect((await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['c@example.com'], roles: ['developer'] })).status).toBe(429)
    // A request refused for another reason gives its points back.
    expect((await second.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['a@example.com'], roles: ['developer'] })).status).toBe(409)
    // Team: 3/5 used; three more would pass the second Admin's own limit but not the team's.
    const teamWide = await second.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['c@example.com', 'd@example.com', 'e@example.com'], roles: ['developer'] })
    expect(teamWide.status).toBe(429)
    expect(errorDetails(teamWide).limit).toBe('invitations_team')
    expect((await second.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['c@example.com', 'd@example.com'], roles: ['developer'] })).status).toBe(201)
    // Re-sending spends from the same budget.
    const pending = (await second.client.get<Invitations>(`/api/v1/teams/${slug}/invitations`)).body.invitations[0].id
    expect((await second.client.post<Invitation>(`/api/v1/teams/${slug}/invitations/${pending}/resend`)).status).toBe(429)
  })
})
