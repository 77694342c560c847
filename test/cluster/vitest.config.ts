import path from 'node:path'
import { defineConfig } from 'vitest/config'

/**
 * `npm run test:cluster`: HAProxy in front of two `latchkey serve` processes (test/cluster).
 * Apart from `npm test` because it needs Debian's haproxy, and because it measures a
 * deployment: its files run one at a time, each with the machine to itself, so a rolling
 * restart's figures are not those of four other suites competing for two cores.
 */
export default defineConfig({
  root: path.resolve(import.meta.dirname, '../..'),
  test: {
    include: ['test/cluster/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
})
