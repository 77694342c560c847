/**
 * Bulk seeding straight into PostgreSQL, not through the API: the sign-in users (each with a
 * real argon2id hash of the bench password, made with Latchkey's own parameters), filler
 * accounts sharing one precomputed hash, and one session per filler account. Rows are
 * generated inside PostgreSQL (INSERT … SELECT over generate_series), 100 000 per statement.
 */
import { hash } from '@node-rs/argon2'
import pg from 'pg'
import { loadConfig } from '../src/config.ts'

export const BENCH_PASSWORD = 'bench-password-123!'
export const SIGNIN_USERS = 500
const BATCH = 100_000
const ARGON2ID = 2

function argon2(password: string): Promise<string> {
  const { memoryKiB, iterations, parallelism } = loadConfig({}).argon2
  return hash(password, { algorithm: ARGON2ID, memoryCost: memoryKiB, timeCost: iterations, parallelism })
}

export function signinEmail(i: number): string {
  return `signin${i}@bench.test`
}

/** The 500 sign-in users, real hashes each (made 4 at a time on the thread pool). */
export async function seedSigninUsers(databaseUrl: string, count = SIGNIN_USERS): Promise<void> {
  const hashes: string[] = []
  for (let i = 0; i < count; i += 4) {
    hashes.push(...(await Promise.all(Array.from({ length: Math.min(4, count - i) }, () => argon2(BENCH_PASSWORD)))))
  }
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const now = Date.now()
    const values: unknown[] = []
    const rows = hashes.map((h, i) => {
      const email = signinEmail(i)
      values.push(email, `signin${i}`, h)
      const n = values.length
      return `(gen_random_uuid()::text, $${n - 2}, $${n - 2}, ${now}, $${n - 1}, $${n - 1}, $${n}, '2026-01', ${now}, ${now}, ${now})`
    })
    await client.query(
      `INSERT INTO accounts (id, email, email_normalized, email_confirmed_at, username, username_normalized, password_hash, terms_version, terms_accepted_at, created_at, updated_at)
       VALUES ${rows.join(',')}`,
      values,
    )
  } finally {
    await client.end()
  }
}

/**
 * Adds filler accounts, each with one live "stay signed in" session, until the database
 * holds `targetAccounts` accounts. Returns the row counts afterwards.
 */
export async function seedFiller(databaseUrl: string, targetAccounts: number, log: (line: string) => void = () => {}): Promise<{ accounts: number; sessions: number }> {
  const sharedHash = await argon2(`filler-${Math.random()}`)
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const count = async (table: string) => Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n)
    const existing = await count('accounts')
    const { rows } = await client.query(`SELECT count(*) AS n FROM accounts WHERE email LIKE 'filler%'`)
    let next = Number(rows[0].n)
    let missing = targetAccounts - existing
    const now = Date.now()
    while (missing > 0) {
      const size = Math.min(BATCH, missing)
      const started = Date.now()
      // One statement makes the accounts and a session for each; token hashes look like real
      // ones (base64url SHA-256) so the unique index is as wide as in production.
      await client.query(
        `WITH made AS (
           INSERT INTO accounts (id, email, email_normalized, email_confirmed_at, username, username_normalized, password_hash, terms_version, terms_accepted_at, created_at, updated_at)
           SELECT gen_random_uuid()::text, 'filler' || g || '@bench.test', 'filler' || g || '@bench.test', $3, 'filler' || g, 'filler' || g, $4, '2026-01', $3, $3, $3
           FROM generate_series($1::int, $2::int) g
           RETURNING id
         )
         INSERT INTO sessions (id, account_id, token_hash, kind, stay_signed_in, ip, user_agent, browser, os, created_at, last_active_at, expires_at, reauthenticated_at)
         SELECT gen_random_uuid()::text, made.id,
                rtrim(translate(encode(sha256(convert_to(made.id || ':token', 'UTF8')), 'base64'), '+/', '-_'), '='),
                'web', 1, '192.0.2.1', 'Mozilla/5.0 (bench filler)', 'Firefox 140', 'Linux', $3, $3, $3 + 30 * 86400000::bigint, $3
         FROM made`,
        [next, next + size - 1, now, sharedHash],
      )
      next += size
      missing -= size
      log(`[seed] +${size} accounts and sessions in ${((Date.now() - started) / 1000).toFixed(1)}s (${missing} to go)`)
    }
    await client.query('ANALYZE accounts')
    await client.query('ANALYZE sessions')
    return { accounts: await count('accounts'), sessions: await count('sessions') }
  } finally {
    await client.end()
  }
}
