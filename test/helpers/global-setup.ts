import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { adminQuery, postgresUrl } from './databases.ts'

/**
 * Builds the templates every test database is copied from, once per run: migrated, and started
 * once so they hold what a first start creates (the server secret, an OAuth signing key). A
 * test then starts in milliseconds instead of migrating and generating an RSA key.
 */
export default async function setup(): Promise<() => Promise<void>> {
  // Each Vitest project (server suites, browser suites) calls this: the first one builds the
  // templates for all, since workers read them from the environment.
  if (process.env.LATCHKEY_TEST_TEMPLATE_DB) return async () => {}
  const template = `lk_template_${randomBytes(4).toString('hex')}`
  const sqliteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-template-'))
  const sqliteTemplate = path.join(sqliteDir, 'template.db')
  // Workers are started after this, so they inherit both.
  process.env.LATCHKEY_TEST_TEMPLATE_DB = template
  process.env.LATCHKEY_TEST_SQLITE_TEMPLATE = sqliteTemplate
  await adminQuery(`CREATE DATABASE ${template}`)
  await firstStart(postgresUrl(template))
  await firstStart(`sqlite:${sqliteTemplate}`)
  for (const leftover of ['-wal', '-shm']) {
    if (fs.existsSync(sqliteTemplate + leftover)) throw new Error(`the SQLite template was not checkpointed (${leftover} left)`)
  }
  return async () => {
    await adminQuery(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`)
    fs.rmSync(sqliteDir, { recursive: true, force: true })
  }
}

async function firstStart(databaseUrl: string): Promise<void> {
  const app = await createApp(loadConfig({ NODE_ENV: 'test', DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' }))
  await app.close()
}
