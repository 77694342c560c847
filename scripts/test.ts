/**
 * The whole test suite, as the README's test command runs it: typecheck, lint, then every Vitest
 * suite (SQLite and PostgreSQL, real SMTP, real sockets), then one plain closing line
 * "N passed, N failed" so a run that ran nothing cannot pass unnoticed.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'

const root = path.resolve(import.meta.dirname, '..')
const extraArgs = process.argv.slice(2)

async function postgresReachable(): Promise<string | null> {
  const url = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.end()
    return null
  } catch (err) {
    return `PostgreSQL is not reachable at ${url} (${(err as Error).message}). Start it, or set TEST_POSTGRES_URL.`
  }
}

const problem = await postgresReachable()
if (problem) {
  console.error(problem)
  console.log('0 passed, 1 failed')
  process.exit(1)
}

function step(title: string, args: string[]): void {
  console.log(`> ${title}`)
  const result = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root })
  if (result.status !== 0) {
    console.log('0 passed, 1 failed')
    process.exit(1)
  }
}

if (!extraArgs.length) {
  step('typecheck (server)', [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', root])
  step('typecheck (web app)', [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'src/web/tsconfig.json')])
  step('lint', [path.join(root, 'node_modules/eslint/bin/eslint.js'), '--max-warnings', '0', '.'])
}
// The browser suites drive the built web app, so build it first (about two seconds).
step('build the web app', [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', path.join(root, 'src/web/vite.config.ts'), '--logLevel', 'warn'])

const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-test-')), 'report.json')
const vitest = spawnSync(
  process.execPath,
  ['--disable-warning=ExperimentalWarning', path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extraArgs],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --disable-warning=ExperimentalWarning`.trim() } },
)

let passed = 0
let failed = 0
let skipped = 0
try {
  const result = JSON.parse(fs.readFileSync(report, 'utf8'))
  passed = result.numPassedTests
  failed = result.numFailedTests + (result.numRuntimeErrorTestSuites ?? 0)
  skipped = result.numPendingTests + (result.numTodoTests ?? 0)
  if (!result.success && failed === 0) failed = 1
} catch {
  failed = Math.max(failed, 1)
}
if (vitest.status !== 0 && failed === 0) failed = 1
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 || passed === 0 ? 1 : 0)
