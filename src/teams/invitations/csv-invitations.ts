/**
 * Invitations from a CSV file (SPEC §7). The file's text comes in the JSON body; columns are
 * `email[,roles]` (or `;`- or tab-separated, see detectDelimiter), with or without a header row (`email,roles`; with a header, other columns
 * are ignored). Roles are separated by `;` or `|` (or `,` inside a quoted cell), spelled as in
 * the API (`community_manager`) or as shown (`Community Manager`); an empty roles cell takes
 * `defaultRoles`. Every row is checked first and every problem is reported with its line
 * number (`csv_invalid`); only a clean file is sent, through the same all-or-nothing batch as
 * `POST /invitations` (seats for the whole batch, suggestions for a Developer's other roles).
 */
import type { RequestMeta } from '../../audit/audit.ts'
import { canonicalEmail, normalizeEmail } from '../../accounts/emails.ts'
import type { AppContext } from '../../context.ts'
import { AppError } from '../../errors.ts'
import type { Account } from '../../accounts/queries.ts'
import { inviteMany, type InvitationRequest, type InvitationResult } from './invitations.ts'
import { normalizeRoles, TEAM_ROLES, type TeamRole } from '../roles.ts'
import { CSV_MAX_LENGTH, CSV_MAX_ROWS } from '../limits.ts'
import type { CsvProblem } from './schemas.ts'

/** At most this many row problems are listed; the message says how many there were. */
const MAX_LISTED_PROBLEMS = 100

export interface CsvRecord {
  line: number
  cells: string[]
}

export type { CsvProblem } from './schemas.ts'

function csvInvalid(problems: CsvProblem[], message?: string): AppError {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS)
  const fields: Record<string, string> = {}
  for (const p of listed) fields[p.line > 0 ? `csv.${p.line}` : 'csv'] ??= p.code
  return new AppError('csv_invalid', {
    message: message ?? `${problems.length} row${problems.length === 1 ? ' is' : 's are'} not valid (first on line ${problems[0].line}); nothing was sent.`,
    fields,
    details: { rows: listed, problemCount: problems.length },
  })
}

export type CsvDelimiter = ',' | ';' | '\t'

/**
 * Spreadsheets export with `,`, but with `;` in many locales and with tabs when pasted: the first
 * line decides. A tab means tabs; `;` without any `,` means `;` (roles then split by `|`).
 */
export function detectDelimiter(text: string): CsvDelimiter {
  const first = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/).find((line) => line.trim() !== '') ?? ''
  if (first.includes('\t')) return '\t'
  if (!first.includes(',') && first.includes(';')) return ';'
  return ','
}

/**
 * RFC 4180 records: `"` quotes (`""` inside), CRLF, LF or CR line ends; each record keeps its first line number.
 * Linear in the text: whether the cell so far is blank is tracked as characters are added (re-trimming the
 * cell at each `"` made a 200 000-character file of quotes take half a minute of the event loop).
 */
export function parseCsv(text: string, delimiter: CsvDelimiter = ','): CsvRecord[] {
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text
  const records: CsvRecord[] = []
  let cells: string[] = []
  let cell = ''
  /** `cell.trim() === ''`, kept up to date per character. */
  let blank = true
  let line = 1
  let recordLine = 1
  let quoted = false
  let quoteLine = 0
  let i = 0
  const endRecord = () => {
    cells.push(cell)
    if (cells.some((c) => c.trim() !== '')) records.push({ line: recordLine, cells })
    cells = []
    cell = ''
    blank = true
  }
  while (i < input.length) {
    const ch = input[i]
    if (quoted) {
      if (ch === '"') {
        if (input[i + 1] === '"') { cell += '"'; i += 2; continue }
        quoted = false
        i += 1
        continue
      }
      if (ch === '\n' || (ch === '\r' && input[i + 1] !== '\n')) line += 1
      cell += ch
      if (blank && ch.trim() !== '') blank = false
      i += 1
      continue
    }
    if (ch === '"' && blank) { quoted = true; quoteLine = line; cell = ''; i += 1; continue }
    if (ch === delimiter) { cells.push(cell); cell = ''; blank = true; i += 1; continue }
    if (ch === '\r' || ch === '\n') {
      endRecord()
      i += ch === '\r' && input[i + 1] === '\n' ? 2 : 1
      line += 1
      recordLine = line
      continue
    }
    cell += ch
    if (blank && ch.trim() !== '') blank = false
    i += 1
  }
  if (quoted) throw csvInvalid([{ line: quoteLine, column: 'row', code: 'unterminated_quote', message: `Line ${quoteLine}: a quoted cell is never closed.` }])
  endRecord()
  return records
}

const ROLE_NAMES = new Map<string, TeamRole>(TEAM_ROLES.map((role) => [role, role]))

/** `Community Manager`, `community-manager`, `community_manager` → `community_manager`. */
export function parseRoles(cell: string): { roles: TeamRole[]; unknown: string[] } {
  const names = cell.split(/[;|,]/).map((n) => n.trim()).filter(Boolean)
  const roles: TeamRole[] = []
  const unknown: string[] = []
  for (const name of names) {
    const role = ROLE_NAMES.get(name.toLowerCase().replace(/[\s-]+/g, '_'))
    if (role) roles.push(role)
    else unknown.push(name)
  }
  return { roles: normalizeRoles(roles), unknown }
}

const HEADER_EMAIL = /^(e-?mail|e-?mail address)$/i
const HEADER_ROLES = /^roles?$/i

/** The rows to invite, or `csv_invalid` listing every problem. */
export function invitationsFromCsv(text: string, defaultRoles: TeamRole[] = []): InvitationRequest[] {
  if (text.length > CSV_MAX_LENGTH) throw csvInvalid([{ line: 0, column: 'file', code: 'too_long', message: `The file is over ${CSV_MAX_LENGTH} characters.` }])
  const records = parseCsv(text, detectDelimiter(text))
  let emailColumn = 0
  let rolesColumn: number | null = 1
  let body = records
  const header = records[0]?.cells.map((c) => c.trim())
  const hasHeader = header !== undefined && (HEADER_EMAIL.test(header[0] ?? '') || (header.some((c) => HEADER_EMAIL.test(c)) && header.some((c) => HEADER_ROLES.test(c))))
  if (hasHeader) {
    emailColumn = header.findIndex((c) => HEADER_EMAIL.test(c))
    const found = header.findIndex((c) => HEADER_ROLES.test(c))
    rolesColumn = found === -1 ? null : found
    body = records.slice(1)
  }
  if (body.length === 0) throw csvInvalid([{ line: 0, column: 'file', code: 'empty', message: 'The file has no rows to invite.' }], 'The CSV file has no rows to invite.')
  if (body.length > CSV_MAX_ROWS) {
    throw csvInvalid([{ line: 0, column: 'file', code: 'too_many_rows', message: `The file has ${body.length} rows; at most ${CSV_MAX_ROWS} can be invited at once.` }], `The CSV file has ${body.length} rows; at most ${CSV_MAX_ROWS} can be invited at once. Split it.`)
  }
  const defaults = normalizeRoles(defaultRoles)
  const problems: CsvProblem[] = []
  const seen = new Map<string, number>()
  const invitations: InvitationRequest[] = []
  for (const { line, cells } of body) {
    if (!hasHeader && cells.filter((c) => c.trim() !== '').length > 2) {
      problems.push({ line, column: 'row', code: 'too_many_columns', message: `Line ${line}: expected "email" or "email,roles", found ${cells.length} columns.` })
      continue
    }
    const rawEmail = (cells[emailColumn] ?? '').trim()
    let email: string | undefined
    if (!rawEmail) {
      problems.push({ line, column: 'email', code: 'email_missing', message: `Line ${line}: the email address is missing.` })
    } else {
      try {
        email = canonicalEmail(rawEmail)
      } catch {
        problems.push({ line, column: 'email', code: 'email_invalid', message: `Line ${line}: "${rawEmail.slice(0, 100)}" is not a valid email address.` })
      }
    }
    if (email) {
      const first = seen.get(normalizeEmail(email))
      if (first !== undefined) {
        problems.push({ line, column: 'email', code: 'duplicate', message: `Line ${line}: ${email} is already on line ${first}.` })
        email = undefined
      } else {
        seen.set(normalizeEmail(email), line)
      }
    }
    const rolesCell = rolesColumn === null ? '' : (cells[rolesColumn] ?? '').trim()
    let roles: TeamRole[] = defaults
    if (rolesCell) {
      const parsed = parseRoles(rolesCell)
      if (parsed.unknown.length) {
        problems.push({ line, column: 'roles', code: 'unknown_role', message: `Line ${line}: unknown role ${parsed.unknown.map((r) => `"${r.slice(0, 50)}"`).join(', ')}; roles are ${TEAM_ROLES.join(', ')}.` })
        continue
      }
      roles = parsed.roles
    }
    if (roles.length === 0) {
      problems.push({ line, column: 'roles', code: 'roles_missing', message: `Line ${line}: no roles; add them in the second column or choose default roles.` })
      continue
    }
    if (email) invitations.push({ email, roles, field: `csv.${line}` })
  }
  if (problems.length) throw csvInvalid(problems)
  return invitations
}

export async function inviteFromCsv(
  ctx: AppContext,
  input: { account: Account; teamId: string; csv: string; defaultRoles?: TeamRole[]; meta: RequestMeta },
): Promise<InvitationResult> {
  const invitations = invitationsFromCsv(input.csv, input.defaultRoles ?? [])
  return inviteMany(ctx, { account: input.account, teamId: input.teamId, invitations, meta: input.meta })
}
