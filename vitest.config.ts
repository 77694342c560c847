import { configDefaults, defineConfig } from 'vitest/config'

/** Suites that drive Chromium: they may retry once (as Playwright does on CI); `npm test` names every test that needed it. */
const BROWSER_SUITES = ['test/**/*.browser.test.ts', 'test/web.pages.test.ts']
// HAProxy and two server processes: test/cluster/vitest.config.ts, run by `npm test` after these.
const CLUSTER = 'test/cluster/**'

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests spend most of their time waiting on PostgreSQL, SMTP and Chromium: on two cores,
    // four workers finish the suite in about 55 % of the time two take.
    maxWorkers: 4,
    projects: [
      {
        extends: true,
        test: { name: 'server', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], exclude: [...configDefaults.exclude, CLUSTER, ...BROWSER_SUITES] },
      },
      { extends: true, test: { name: 'browser', include: BROWSER_SUITES, exclude: [...configDefaults.exclude, CLUSTER], retry: 1 } },
    ],
  },
})
