import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // HAProxy and two server processes: `npm run test:cluster` (test/cluster/vitest.config.ts).
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests spend most of their time waiting on PostgreSQL, SMTP and Chromium: on two cores,
    // four workers finish the suite in about 55 % of the time two take.
    maxWorkers: 4,
  },
})
