/**
 * Builds the server for `npm start`: every server module of src/ (not the web app, not tests)
 * with its TypeScript types stripped, into dist/server/ (or the folder given as the first
 * argument), relative `.ts` imports rewritten to `.js`.
 *
 * Why: Node strips types itself when it loads a .ts file, but through a WebAssembly compiler
 * that stays in the process: ~25 MB more resident memory for the server's whole life and a
 * slower start. Stripping replaces types with spaces, so lines and columns in stack traces
 * still match src/. Tests and `npm run latchkey` keep running src/ directly.
 *
 *   node scripts/build-server.ts [outDir]
 */
import fs from 'node:fs'
import { stripTypeScriptTypes } from 'node:module'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')
const src = path.join(root, 'src')
const out = path.resolve(root, process.argv[2] ?? 'dist/server')

/** Relative module specifiers in static imports/exports, dynamic imports and `new URL(…, import.meta.url)`. */
const RELATIVE_TS_SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bnew URL\(\s*)(['"])(\.{1,2}\/[^'"\n]+)\.ts\2/g

export function isServerModule(relative: string): boolean {
  const parts = relative.split(path.sep)
  return relative.endsWith('.ts') && !relative.endsWith('.d.ts') && !relative.endsWith('.test.ts') && parts[0] !== 'web'
}

export function compileModule(source: string): string {
  return stripTypeScriptTypes(source, { mode: 'strip' }).replace(RELATIVE_TS_SPECIFIER, '$1$2$3.js$2')
}

function build(): number {
  // A fresh folder each time: a module deleted from src/ must not live on in dist/.
  const staging = `${out}.building-${process.pid}`
  fs.rmSync(staging, { recursive: true, force: true })
  let count = 0
  for (const relative of fs.readdirSync(src, { recursive: true, encoding: 'utf8' })) {
    if (!isServerModule(relative)) continue
    const target = path.join(staging, relative.replace(/\.ts$/, '.js'))
    fs.mkdirSync(path.dirname(target), { recursive: true })
    fs.writeFileSync(target, compileModule(fs.readFileSync(path.join(src, relative), 'utf8')))
    count++
  }
  fs.rmSync(out, { recursive: true, force: true })
  fs.renameSync(staging, out)
  return count
}

if (import.meta.main) {
  const started = performance.now()
  const count = build()
  console.log(`server: ${count} modules -> ${path.relative(root, out)} (${Math.round(performance.now() - started)} ms)`)
}
