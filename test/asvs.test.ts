/**
 * Keeps docs/asvs.md (Latchkey against OWASP ASVS 5.0 V6, V7, V8 and V10) in sync with the code,
 * as src/errors.test.ts does for the error catalog: every requirement of the four chapters has a
 * row with its level and a status, a row that is not met says why, a met row names its proof,
 * and every test or document it names exists and contains what the row quotes.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = path.join(import.meta.dirname, '..')
const DOC = fs.readFileSync(path.join(ROOT, 'docs', 'asvs.md'), 'utf8')

/**
 * The requirements of ASVS 5.0.0 in these chapters, as `section:levels` (one digit per
 * requirement, in order), from the release's CSV: V6.2 holds V6.2.1 to V6.2.12, and so on.
 */
const ASVS_5_0_LEVELS = [
  'V6.1:122', 'V6.2:111111112222', 'V6.3:11223333', 'V6.4:112233', 'V6.5:22222333', 'V6.6:2223', 'V6.7:33', 'V6.8:2222',
  'V7.1:222', 'V7.2:1111', 'V7.3:22', 'V7.4:11222', 'V7.5:223', 'V7.6:22',
  'V8.1:1233', 'V8.2:1123', 'V8.3:133', 'V8.4:23',
  'V10.1:22', 'V10.2:223', 'V10.3:22223', 'V10.4:1111122222233333', 'V10.5:22222', 'V10.6:22', 'V10.7:222',
]
const EXPECTED = new Map<string, number>(ASVS_5_0_LEVELS.flatMap((entry) => {
  const [section, levels] = entry.split(':')
  return [...levels].map((level, i): [string, number] => [`${section}.${i + 1}`, Number(level)])
}))
const STATUSES = ['met', 'not met', 'not applicable'] as const
type Status = (typeof STATUSES)[number]

interface Proof { file: string; quote: string }
interface Row { id: string; requirement: string; level: number; status: string; why: string; proofs: Proof[]; errors: string[] }

function between(text: string, start: string, end: string): string {
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from < 0 || to < from) throw new Error(`docs/asvs.md lacks ${start} … ${end}`)
  return text.slice(from + start.length, to)
}

/** `file` “title”; “title”; `other file` “title”: each quote belongs to the file named before it. */
function parseProofs(cell: string): { proofs: Proof[]; errors: string[] } {
  const proofs: Proof[] = []
  const errors: string[] = []
  let file: string | null = null
  for (const token of cell.matchAll(/`([^`]+)`|“([^”]*)”/g)) {
    if (token[1] !== undefined) file = token[1]
    else if (file === null) errors.push(`“${token[2]}” names no file before it`)
    else proofs.push({ file, quote: token[2] })
  }
  return { proofs, errors }
}

function parseRows(table: string): Row[] {
  return table.split('\n').filter((line) => /^\|\s*V\d/.test(line)).map((line) => {
    const cells = line.trim().replace(/^\||\|$/g, '').split('|').map((cell) => cell.trim())
    const [id = '', requirement = '', level = '', status = '', why = '', proof = ''] = cells
    const { proofs, errors } = parseProofs(proof)
    if (cells.length !== 6) errors.push(`has ${cells.length} cells, not 6`)
    return { id, requirement, level: Number(level), status, why, proofs, errors }
  })
}

/**
 * The titles of a test file's `it`, `test` and `describe` calls (with `.each`, `.skip`, … and
 * the `.each([...])('title'` form), as written in single, double or back quotes.
 */
function testTitles(source: string): Set<string> {
  const titles = new Set<string>()
  const call = /(?:\b(?:it|test|describe)(?:\.\w+)*|\))\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1\s*,/g
  for (const match of source.matchAll(call)) titles.add(match[2].replace(/\\(.)/g, '$1'))
  return titles
}

const rows = parseRows(between(DOC, '<!-- asvs:start -->', '<!-- asvs:end -->'))
/** Documents are quoted outside the requirement table, or a row would prove itself. */
const DOC_OUTSIDE_TABLE = DOC.slice(0, DOC.indexOf('<!-- asvs:start -->')) + DOC.slice(DOC.indexOf('<!-- asvs:end -->'))

function problemsOf(row: Row): string[] {
  const problems = [...row.errors]
  if (!EXPECTED.has(row.id)) problems.push('is not a requirement of ASVS 5.0 V6, V7, V8 or V10')
  else if (EXPECTED.get(row.id) !== row.level) problems.push(`has level ${row.level}; ASVS 5.0 says ${EXPECTED.get(row.id)}`)
  if (!row.requirement) problems.push('has no requirement text')
  if (!STATUSES.includes(row.status as Status)) problems.push(`has status "${row.status}", not one of ${STATUSES.join(', ')}`)
  if (row.status !== 'met' && !row.why) problems.push(`is ${row.status || 'without a status'} and does not say why`)
  if (row.status === 'met' && row.proofs.length === 0) problems.push('is met but names no test or document that proves it')
  for (const { file, quote } of row.proofs) {
    const full = path.join(ROOT, file)
    if (!fs.existsSync(full)) {
      problems.push(`names ${file}, which does not exist`)
      continue
    }
    if (file.endsWith('.test.ts')) {
      if (!testTitles(fs.readFileSync(full, 'utf8')).has(quote)) problems.push(`names “${quote}”, which is no test title in ${file}`)
    } else {
      const text = file === 'docs/asvs.md' ? DOC_OUTSIDE_TABLE : fs.readFileSync(full, 'utf8')
      if (!text.includes(quote)) problems.push(`quotes “${quote}”, which ${file} does not contain`)
    }
  }
  return problems
}

describe('the ASVS 5.0 table in docs/asvs.md', () => {
  it('has one row per requirement of V6, V7, V8 and V10, each with its level', () => {
    const ids = rows.map((row) => row.id)
    expect(ids.filter((id, i) => ids.indexOf(id) !== i), 'listed twice').toEqual([])
    expect([...EXPECTED.keys()].filter((id) => !ids.includes(id)), 'missing').toEqual([])
    expect(ids.length).toBe(EXPECTED.size)
  })

  it('gives every row a status, a reason when not met, and proofs that exist: files, test titles and quoted text', () => {
    const problems = rows.flatMap((row) => problemsOf(row).map((problem) => `${row.id || '(no id)'} ${problem}`))
    expect(problems).toEqual([])
  })

  it('states the counts per chapter that the rows add up to', () => {
    const chapters = [['V6', 'V6 Authentication'], ['V7', 'V7 Session Management'], ['V8', 'V8 Authorization'], ['V10', 'V10 OAuth and OIDC']]
    const counted = chapters.map(([prefix, name]) => {
      const inChapter = rows.filter((row) => row.id.startsWith(`${prefix}.`))
      const count = (status: Status) => inChapter.filter((row) => row.status === status).length
      return `| ${name} | ${count('met')} | ${count('not met')} | ${count('not applicable')} | ${inChapter.length} |`
    })
    const stated = between(DOC, '<!-- asvs-summary:start -->', '<!-- asvs-summary:end -->').split('\n').filter((line) => /^\| V\d/.test(line))
    expect(stated).toEqual(counted)
  })

  it('recognises test titles in every form the suites use', () => {
    const titles = testTitles([
      "describe.each(DIALECTS)('sessions on %s', (dialect) => {",
      "  it('says \\'no\\' to \"this\"', async () => {",
      '  it.each([\n    [1, 2],\n  ])(`adds %i and %i`, (a, b) => {',
      "  test.skipIf(slow)('runs when fast', SLOW, async () => {",
    ].join('\n'))
    expect([...titles]).toEqual(['sessions on %s', 'says \'no\' to "this"', 'adds %i and %i', 'runs when fast'])
  })
})
