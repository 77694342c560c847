import fs from 'node:fs'
import path from 'node:path'
import type { Reporter, TestCase } from 'vitest/node'

/**
 * Records every test that passed only on its retry (browser suites retry once, as Playwright
 * does on CI), so `npm test` can name each one: a retry keeps one slow moment from failing a
 * whole run, but a test that needed it is still a defect to fix, never something to hide.
 * Writes one line per flaky test to the file named by LATCHKEY_FLAKY_REPORT.
 */
export default class FlakyReporter implements Reporter {
  readonly #flaky: string[] = []

  onTestCaseResult(testCase: TestCase): void {
    if (!testCase.diagnostic()?.flaky) return
    const file = path.relative(process.cwd(), testCase.module.moduleId)
    this.#flaky.push(`${file} > ${testCase.fullName}`)
  }

  onTestRunEnd(): void {
    const out = process.env.LATCHKEY_FLAKY_REPORT
    if (out) fs.writeFileSync(out, this.#flaky.map((line) => `${line}\n`).join(''))
  }
}
