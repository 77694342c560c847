import { randomBytes } from 'node:crypto'
import { connect, migrateToLatest } from '../../src/db/connect.ts'
import { adminQuery, postgresUrl } from './databases.ts'

/** Builds a migrated PostgreSQL template once per run; each test copies it. */
export default async function setup(): Promise<() => Promise<void>> {
  const template = `lk_template_${randomBytes(4).toString('hex')}`
  // Workers are started after this, so they inherit the name.
  process.env.LATCHKEY_TEST_TEMPLATE_DB = template
  await adminQuery(`CREATE DATABASE ${template}`)
  const handle = connect(postgresUrl(template), { poolSize: 1 })
  await migrateToLatest(handle.db)
  await handle.close()
  return async () => {
    await adminQuery(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`)
  }
}
