/**
 * The whole test suite, as the README's test command runs it: typecheck, import rules, lint, then every Vitest
 * suite (SQLite and PostgreSQL, real SMTP, real sockets; browser suites may retry once and each test that
 * needed it is named as flaky), then the HAProxy cluster suite, then one plain closing line
 * "N passed, N failed" so a run that ran nothing cannot pass unnoticed. With arguments (files, -t …) it
 * runs only those, through the main config.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'

const root = path.resolve(import.meta.dirname, '..')
const extraArgs = process.argv.slice(2)

// PostgreSQL and Redis up, Chromium, CJK fonts and HAProxy installed (when missing and allowed).
const machine = spawnSync('bash', [path.join(root, 'scripts/prepare-machine.sh')], { stdio: 'inherit', cwd: root })
if (machine.status !== 0) {
  console.log('0 passed, 1 failed')
  process.exit(1)
}

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
  step('import rules (no cycle between folders, http/ apart)', ['--disable-warning=ExperimentalWarning', path.join(root, 'scripts/check-imports.ts')])
  step('lint', [path.join(root, 'node_modules/eslint/bin/eslint.js'), '--max-warnings', '0', '.'])
}
// The browser suites drive the built web app, so build it first (about two seconds).
step('build the web app', [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', path.join(root, 'src/web/vite.config.ts'), '--logLevel', 'warn'])

interface Outcome { passed: number; failed: number; skipped: number; flaky: string[] }

/** One Vitest run with its own JSON report, counted from that report (a run that ran nothing cannot pass). */
function vitestRun(args: string[]): Outcome {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-test-'))
  const report = path.join(dir, 'report.json')
  const flakyReport = path.join(dir, 'flaky.txt')
  const run = spawnSync(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning', path.join(root, 'node_modules/vitest/vitest.mjs'), 'run',
      '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, `--reporter=${path.join(root, 'test/helpers/flaky-reporter.ts')}`,
      ...args,
    ],
    {
      stdio: 'inherit', cwd: root,
      env: { ...process.env, LATCHKEY_FLAKY_REPORT: flakyReport, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --disable-warning=ExperimentalWarning`.trim() },
    },
  )
  const outcome: Outcome = { passed: 0, failed: 0, skipped: 0, flaky: [] }
  try {
    const result = JSON.parse(fs.readFileSync(report, 'utf8'))
    outcome.passed = result.numPassedTests
    outcome.failed = result.numFailedTests + (result.numRuntimeErrorTestSuites ?? 0)
    outcome.skipped = result.numPendingTests + (result.numTodoTests ?? 0)
    if (!result.success && outcome.failed === 0) outcome.failed = 1
  } catch {
    outcome.failed = Math.max(outcome.failed, 1)
  }
  if (fs.existsSync(flakyReport)) outcome.flaky = fs.readFileSync(flakyReport, 'utf8').split('\n').filter(Boolean)
  if (run.status !== 0 && outcome.failed === 0) outcome.failed = 1
  return outcome
}

const outcomes = [vitestRun(extraArgs)]
// The whole suite also runs the deployment tests: HAProxy in front of two server processes with
// private Redis and PostgreSQL, one file at a time with the machine to itself.
if (!extraArgs.length) {
  console.log('> several instances behind HAProxy (test/cluster)')
  outcomes.push(vitestRun(['--config', path.join(root, 'test/cluster/vitest.config.ts')]))
}
const total = outcomes.reduce((sum, o) => ({ passed: sum.passed + o.passed, failed: sum.failed + o.failed, skipped: sum.skipped + o.skipped, flaky: [...sum.flaky, ...o.flaky] }))
if (total.flaky.length) {
  // Passed, but only on their retry: each is a race to fix (wait for the state the test needs).
  console.log(`\n${total.flaky.length} flaky (passed only on retry):`)
  for (const line of total.flaky) console.log(`  flaky: ${line}`)
}
console.log(`\n${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`)
process.exit(total.failed > 0 || total.passed === 0 ? 1 : 0)
