/**
 * The layout rules of ARCHITECTURE "Layout by capability", checked on every `npm test` before the
 * suites run, so a shortcut that would tie the folders back into one knot fails at once:
 *
 * 1. No runtime import cycle between the top-level parts of src/ (each folder, and each file
 *    directly in src/, is one part). Type-only imports are erased before Node runs the code, so
 *    they do not count; `import { type A }` does count, since Node keeps it as `import {}`.
 *    Dynamic `import()` of project code counts like a static import: lazy loading is fine, but a
 *    lazy import that closes a cycle is a cycle hidden from the reader.
 * 2. src/http/ is generic plumbing: it imports no capability folder (not even a type).
 * 3. Domain code never imports src/http/; route files (routes.ts, *-routes.ts), the session
 *    guard (the preHandlers routes list) and the files that build the server (server.ts, app.ts) may.
 *
 * 4. The web app (src/web, its own build) reaches the server's code only for what both sides share:
 *    schema modules (`schemas.ts`, TypeBox shapes whose `Static<>` types the pages read), limits
 *    modules (`limits.ts`, the numbers and rules both sides check), the error catalog (errors.ts),
 *    the languages (mail/locales.ts), the same-site return-path rule (return-path.ts) and the teams' permission map. Those import only typebox and each other, so following the
 *    web app's imports never pulls in server code (a database driver, node:crypto, a domain
 *    function) that would end up in the browser bundle or type-check against the DOM.
 *
 * Route files may import the session guard (sessions/guard.ts, sessions/recent-auth.ts) from any
 * folder: that import does not count towards rule 1, or every folder with a route and a place
 * in sessions' own dependencies (audit) would be "in a cycle".
 *
 * Tests (*.test.ts) are outside these rules, and so is src/web but for rule 4. Prints every
 * finding and exits 1 when there is one.
 *
 *   node scripts/check-imports.ts
 */
import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

const root = path.resolve(import.meta.dirname, '..')
const src = path.join(root, 'src')

/** Parts of src/ that http/ may import: the generic modules every layer shares. */
const SHARED_WITH_HTTP = new Set(['db', 'errors.ts', 'config.ts', 'clock.ts', 'crypto.ts', 'context.ts'])
/** Files that wire the whole server together and may reach every folder, http/ included. */
const WIRING = new Set(['server.ts', 'app.ts'])

export interface ImportEdge {
  from: string
  to: string
  /** `static`, `dynamic` (`import()`), or `type` (erased before running). */
  kind: 'static' | 'dynamic' | 'type'
  line: number
}

function isChecked(relative: string): boolean {
  return /\.tsx?$/.test(relative) && !relative.endsWith('.d.ts') && !/\.test\.tsx?$/.test(relative) && !relative.startsWith(`web${path.sep}`)
}

/** Server modules the web app may import (rule 4): besides every `schemas.ts` and `limits.ts`. */
const SHARED_WITH_WEB = new Set(['errors.ts', 'return-path.ts', 'mail/locales.ts', 'teams/permission-map.ts'].map((p) => p.split('/').join(path.sep)))
/** The only package those modules may import. */
const PACKAGES_SHARED_WITH_WEB = new Set(['typebox'])

function isWebFile(relative: string): boolean {
  return relative.startsWith(`web${path.sep}`)
}

export function isSharedWithWeb(relative: string): boolean {
  const base = path.basename(relative)
  return base === 'schemas.ts' || base === 'limits.ts' || SHARED_WITH_WEB.has(relative)
}

/** The top-level part of src/ a file belongs to: its first folder, or the file itself. */
export function partOf(relative: string): string {
  return relative.split(/[\\/]/)[0]!
}

/** The session guard: what routes list in their `preHandler`. Any route file may import it. */
const SESSION_GUARD = new Set(['sessions/guard.ts', 'sessions/recent-auth.ts'].map((p) => p.split('/').join(path.sep)))

/** A route file's import of the guard is no dependency of its folder on sessions' domain code. */
function countsForCycles(e: ImportEdge): boolean {
  return e.kind !== 'type' && !(isRouteFile(e.from) && SESSION_GUARD.has(e.to))
}

function isRouteFile(relative: string): boolean {
  const base = path.basename(relative)
  return base === 'routes.ts' || base.endsWith('-routes.ts')
}

/** Every module specifier one file imports, relative or a package, with its kind and line. */
export function specifiersOf(relative: string, source: string): { specifier: string; kind: ImportEdge['kind']; line: number }[] {
  const file = ts.createSourceFile(relative, source, ts.ScriptTarget.Latest, true, relative.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS)
  const found: { specifier: string; kind: ImportEdge['kind']; line: number }[] = []
  const add = (specifier: string, kind: ImportEdge['kind'], node: ts.Node) => {
    found.push({ specifier, kind, line: file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1 })
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.importClause?.isTypeOnly ? 'type' : 'static', node)
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly ? 'type' : 'static', node)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments
      if (arg && ts.isStringLiteralLike(arg)) add(arg.text, 'dynamic', node)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, 'type', node)
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return found
}

/** Every import of a module inside src/ by one file, with whether it survives type stripping. */
export function importsOf(relative: string, source: string): ImportEdge[] {
  const edges: ImportEdge[] = []
  for (const { specifier, kind, line } of specifiersOf(relative, source)) {
    if (!specifier.startsWith('.')) continue
    const target = path.relative(src, path.resolve(path.dirname(path.join(src, relative)), specifier))
    if (target.startsWith('..')) continue
    edges.push({ from: relative, to: target, kind, line })
  }
  return edges
}

export function collectImports(): ImportEdge[] {
  const edges: ImportEdge[] = []
  for (const relative of fs.readdirSync(src, { recursive: true, encoding: 'utf8' })) {
    if (!isChecked(relative)) continue
    edges.push(...importsOf(relative, fs.readFileSync(path.join(src, relative), 'utf8')))
  }
  return edges
}

/** Strongly connected groups of parts (Tarjan), each with more than one part: the cycles. */
export function partCycles(edges: ImportEdge[]): string[][] {
  const next = new Map<string, Set<string>>()
  for (const e of edges) {
    if (!countsForCycles(e)) continue
    const a = partOf(e.from)
    const b = partOf(e.to)
    if (a === b) continue
    if (!next.has(a)) next.set(a, new Set())
    next.get(a)!.add(b)
  }
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const groups: string[][] = []
  let counter = 0
  const connect = (v: string): void => {
    index.set(v, counter)
    low.set(v, counter++)
    stack.push(v)
    onStack.add(v)
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!))
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        group.push(w)
      } while (w !== v)
      if (group.length > 1) groups.push(group.sort())
    }
  }
  for (const v of [...next.keys()].sort()) if (!index.has(v)) connect(v)
  return groups
}

export function findProblems(edges: ImportEdge[]): string[] {
  const problems: string[] = []
  const where = (e: ImportEdge) => `src/${e.from}:${e.line} ${e.kind === 'dynamic' ? 'import()s' : e.kind === 'type' ? 'imports types from' : 'imports'} src/${e.to}`
  for (const group of partCycles(edges)) {
    const members = new Set(group)
    problems.push(`runtime import cycle between ${group.join(', ')}:`)
    for (const e of edges) {
      if (countsForCycles(e) && members.has(partOf(e.from)) && members.has(partOf(e.to)) && partOf(e.from) !== partOf(e.to)) problems.push(`  ${where(e)}`)
    }
  }
  for (const e of edges) {
    const from = partOf(e.from)
    const to = partOf(e.to)
    if (from === 'http' && to !== 'http' && !SHARED_WITH_HTTP.has(to)) problems.push(`http/ imports a capability: ${where(e)}`)
    if (to === 'http' && from !== 'http' && !WIRING.has(from) && !isRouteFile(e.from) && !SESSION_GUARD.has(e.from) && e.kind !== 'type') problems.push(`domain code imports http/: ${where(e)}`)
  }
  return problems
}

/** Every source file of src/ (the web app's too), by its path relative to src/. */
export function readSources(): Map<string, string> {
  const files = new Map<string, string>()
  for (const relative of fs.readdirSync(src, { recursive: true, encoding: 'utf8' })) {
    if (/\.tsx?$/.test(relative) && !relative.endsWith('.d.ts') && !/\.test\.tsx?$/.test(relative)) files.set(relative, fs.readFileSync(path.join(src, relative), 'utf8'))
  }
  return files
}

/**
 * Rule 4: follows the web app's imports out of src/web, type-only ones included (the web app's
 * type check reads those files too), and reports each step onto a module that is not shared with
 * the web app, and each package a shared module imports other than typebox.
 */
export function findWebProblems(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = []
  const queue: ImportEdge[] = []
  for (const [relative, source] of files) {
    if (isWebFile(relative)) queue.push(...importsOf(relative, source).filter((e) => !isWebFile(e.to)))
  }
  const visited = new Set<string>()
  while (queue.length) {
    const e = queue.shift()!
    if (visited.has(e.to)) continue
    visited.add(e.to)
    const source = files.get(e.to)
    if (!isSharedWithWeb(e.to) || source === undefined) {
      problems.push(`the web app reaches server code: src/${e.from}:${e.line} imports src/${e.to} (only schemas.ts, limits.ts, errors.ts, return-path.ts, mail/locales.ts and teams/permission-map.ts are shared with it)`)
      continue
    }
    for (const s of specifiersOf(e.to, source)) {
      if (!s.specifier.startsWith('.') && !PACKAGES_SHARED_WITH_WEB.has(s.specifier)) problems.push(`a module shared with the web app imports a package: src/${e.to}:${s.line} imports ${s.specifier} (only typebox)`)
    }
    queue.push(...importsOf(e.to, source))
  }
  return problems
}

if (import.meta.main) {
  const edges = collectImports()
  const problems = [...findProblems(edges), ...findWebProblems(readSources())]
  const parts = new Set(edges.map((e) => partOf(e.from))).size
  if (problems.length) {
    console.error(problems.join('\n'))
    console.error(`\nimport rules: ${problems.filter((p) => !p.startsWith('  ')).length} problem(s) (the rules: scripts/check-imports.ts)`)
    process.exit(1)
  }
  console.log(`import rules: ${edges.length} imports between modules of src/ checked: no runtime cycle between its ${parts} parts, http/ imports no capability, no domain code imports http/, the web app imports only schemas and limits`)
}
