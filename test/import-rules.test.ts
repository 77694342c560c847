/**
 * scripts/check-imports.ts, the layout rules `npm test` checks before the suites: each rule on
 * made-up modules (so each can be seen to fail), then the real src/ passing them.
 */
import { describe, expect, it } from 'vitest'
import { collectImports, findProblems, findWebProblems, importsOf, readSources, type ImportEdge } from '../scripts/check-imports.ts'

/** The imports of made-up files, given as { 'folder/file.ts': source }. */
function edgesOf(files: Record<string, string>): ImportEdge[] {
  return Object.entries(files).flatMap(([file, source]) => importsOf(file, source))
}

describe('import rules', () => {
  it('finds a runtime cycle between two folders and names the imports that make it', () => {
    const problems = findProblems(edgesOf({
      'accounts/accounts.ts': "import { revokeAllSessions } from '../sessions/sessions.ts'",
      'sessions/sessions.ts': "import { findAccount } from '../accounts/accounts.ts'",
    }))
    expect(problems[0]).toBe('runtime import cycle between accounts, sessions:')
    expect(problems).toContain('  src/accounts/accounts.ts:1 imports src/sessions/sessions.ts')
    expect(problems).toContain('  src/sessions/sessions.ts:1 imports src/accounts/accounts.ts')
  })

  it('does not count type-only imports, which Node erases before running', () => {
    expect(findProblems(edgesOf({
      'accounts/accounts.ts': "import { revokeAllSessions } from '../sessions/sessions.ts'",
      'sessions/sessions.ts': "import type { Account } from '../accounts/queries.ts'\nexport type { Account as A } from '../accounts/queries.ts'",
    }))).toEqual([])
  })

  it('counts `import { type A }`, which Node keeps as a side-effect import', () => {
    expect(findProblems(edgesOf({
      'accounts/accounts.ts': "import { revokeAllSessions } from '../sessions/sessions.ts'",
      'sessions/sessions.ts': "import { type Account } from '../accounts/queries.ts'",
    }))).toHaveLength(3)
  })

  it('counts a dynamic import() of project code that closes a cycle', () => {
    const problems = findProblems(edgesOf({
      'http/errors.ts': "import { AppError } from '../errors.ts'",
      'sessions/guard.ts': "import { usesBearer } from '../oauth/bearer.ts'",
      'oauth/bearer.ts': "export async function f() { const { authenticate } = await import('../sessions/sessions.ts') }",
    }))
    expect(problems).toContain('  src/oauth/bearer.ts:1 import()s src/sessions/sessions.ts')
  })

  it('lets route files import the session guard without putting their folder in a cycle', () => {
    expect(findProblems(edgesOf({
      'sessions/sessions.ts': "import { recordAudit } from '../audit/audit.ts'",
      'audit/routes.ts': "import { requireAuth } from '../sessions/guard.ts'\nimport { requireRecentAuth } from '../sessions/recent-auth.ts'",
    }))).toEqual([])
    expect(findProblems(edgesOf({
      'sessions/sessions.ts': "import { recordAudit } from '../audit/audit.ts'",
      'audit/audit.ts': "import { requireAuth } from '../sessions/guard.ts'",
    }))[0]).toBe('runtime import cycle between audit, sessions:')
  })

  it('refuses http/ importing a capability, even a type', () => {
    expect(findProblems(edgesOf({ 'http/origin-check.ts': "import type { Session } from '../sessions/sessions.ts'\nimport { AppError } from '../errors.ts'" }))).toEqual([
      'http/ imports a capability: src/http/origin-check.ts:1 imports types from src/sessions/sessions.ts',
    ])
  })

  it('refuses domain code importing http/, and lets route files and the server do it', () => {
    expect(findProblems(edgesOf({
      'signin/new-device.ts': "import { requestMeta } from '../http/request-meta.ts'",
      'signin/routes.ts': "import { requestMeta } from '../http/request-meta.ts'",
      'teams/logo-routes.ts': "import { errors } from '../http/schemas.ts'",
      'server.ts': "import { originCheck } from './http/origin-check.ts'",
    }))).toEqual(['domain code imports http/: src/signin/new-device.ts:1 imports src/http/request-meta.ts'])
  })

  it('lets the web app import schema and limits modules that import only typebox and each other', () => {
    expect(findWebProblems(new Map(Object.entries({
      'web/pages/teams/list.tsx': "import type { TeamSummary } from '../../../teams/schemas.ts'\nimport { MAX_SEATS } from '../../../teams/limits.ts'",
      'teams/schemas.ts': "import { Type } from 'typebox'\nimport { TEAM_ROLES } from './permission-map.ts'\nimport { MAX_SEATS } from './limits.ts'",
      'teams/permission-map.ts': 'export const TEAM_ROLES = []',
      'teams/limits.ts': 'export const MAX_SEATS = 1',
    })))).toEqual([])
  })

  it('refuses the web app reaching server code, even a type, directly or through a schema module', () => {
    expect(findWebProblems(new Map(Object.entries({
      'web/api.ts': "import type { Account } from '../accounts/queries.ts'\nimport type { Team } from '../teams/schemas.ts'",
      'accounts/queries.ts': "import { sql } from 'kysely'",
      'teams/schemas.ts': "import { Type } from 'typebox'\nimport { TEAM_ROLES } from './roles.ts'",
      'teams/roles.ts': "import type { Locale } from '../mail/templates.ts'",
    })))).toEqual([
      'the web app reaches server code: src/web/api.ts:1 imports src/accounts/queries.ts (only schemas.ts, limits.ts, errors.ts, return-path.ts, mail/locales.ts and teams/permission-map.ts are shared with it)',
      'the web app reaches server code: src/teams/schemas.ts:2 imports src/teams/roles.ts (only schemas.ts, limits.ts, errors.ts, return-path.ts, mail/locales.ts and teams/permission-map.ts are shared with it)',
    ])
  })

  it('refuses a module shared with the web app importing a package other than typebox', () => {
    expect(findWebProblems(new Map(Object.entries({
      'web/pages/teams/list.tsx': "import { MAX_SEATS } from '../../../teams/limits.ts'",
      'teams/limits.ts': "import { randomInt } from 'node:crypto'\nexport const MAX_SEATS = 1",
    })))).toEqual(['a module shared with the web app imports a package: src/teams/limits.ts:1 imports node:crypto (only typebox)'])
  })

  it('passes on src/ as it is', () => {
    expect(findProblems(collectImports())).toEqual([])
    expect(findWebProblems(readSources())).toEqual([])
  })
})
