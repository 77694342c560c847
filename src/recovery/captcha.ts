/**
 * The self-hosted proof-of-work captcha on "Trouble signing in?" (SPEC §6), built on ALTCHA
 * v2 in deterministic mode: the server picks the counter, signs the challenge with a secret
 * only it knows, and verifies a solution with one HMAC instead of redoing the work.
 * Each solved challenge is accepted once, across every instance (the captcha_uses table).
 */
import { createChallenge, randomInt, verifySolution, type Challenge } from 'altcha-lib'
import { deriveKey } from 'altcha-lib/algorithms/sha'
import { randomBytes } from 'node:crypto'
import { MINUTE_MS, systemClock } from '../clock.ts'
import { isUniqueViolation } from '../db/errors.ts'
import type { Db } from '../db/schema.ts'
import { AppError } from '../errors.ts'

const CHALLENGE_LIFETIME_MS = 10 * MINUTE_MS

/**
 * The captcha's time is the system clock, not ctx.clock, and that is ALTCHA's rule, not a
 * shortcut: `verifySolution` refuses a challenge whose signed `expiresAt` is before the system
 * clock's `Date.now()` (no way to hand it another clock), and the widget times a challenge out
 * when that same `expiresAt` passes by the browser's clock. So a challenge's expiry is set on the system
 * clock, and the record of its use (captcha_uses.expires_at, kept as long as ALTCHA would
 * accept the challenge) and its pruning are on that clock too. On the injected clock, a test
 * clock set in the past would make every challenge look expired to ALTCHA, one set in the
 * future would prune uses of challenges ALTCHA still accepts (letting a solution be replayed).
 */
const altchaClock = systemClock

/** Reads a named server secret, creating it once; every instance then shares the same one. */
export async function serverSecret(db: Db, name: string, now: number): Promise<string> {
  const existing = await db.selectFrom('server_secrets').select('value').where('name', '=', name).executeTakeFirst()
  if (existing) return existing.value
  try {
    await db.insertInto('server_secrets').values({ name, value: randomBytes(32).toString('base64url'), created_at: now }).execute()
  } catch (err) {
    if (!isUniqueViolation(err)) throw err
  }
  return (await db.selectFrom('server_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow()).value
}

export class Captcha {
  readonly #db: Db
  readonly #maxCounter: number
  readonly #secret: string
  readonly #keySecret: string

  constructor(options: { db: Db; maxCounter: number; secret: string }) {
    this.#db = options.db
    this.#maxCounter = options.maxCounter
    this.#secret = options.secret
    this.#keySecret = `${options.secret}:key`
  }

  /** Expires by ALTCHA's clock (see altchaClock). */
  async challenge(): Promise<Challenge> {
    return createChallenge({
      algorithm: 'SHA-256',
      cost: 1,
      counter: randomInt(Math.ceil(this.#maxCounter / 2), this.#maxCounter),
      deriveKey,
      expiresAt: new Date(altchaClock.now() + CHALLENGE_LIFETIME_MS),
      hmacSignatureSecret: this.#secret,
      hmacKeySignatureSecret: this.#keySecret,
    })
  }

  /** Accepts the base64 payload the ALTCHA widget submits; throws `captcha_failed` otherwise. */
  async verify(payload: string): Promise<void> {
    const fail = () => new AppError('captcha_failed', { fields: { captcha: 'invalid' } })
    let parsed: { challenge?: Challenge; solution?: { counter: number; derivedKey: string } }
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'))
    } catch {
      throw fail()
    }
    if (!parsed?.challenge?.parameters || !parsed.solution) throw fail()
    let verified: boolean
    try {
      const result = await verifySolution({
        challenge: parsed.challenge,
        solution: parsed.solution,
        deriveKey,
        hmacSignatureSecret: this.#secret,
        hmacKeySignatureSecret: this.#keySecret,
      })
      verified = result.verified
    } catch {
      verified = false
    }
    if (!verified) throw fail()
    const expiresAt = (parsed.challenge.parameters.expiresAt ?? 0) * 1000 || altchaClock.now() + CHALLENGE_LIFETIME_MS
    try {
      await this.#db.insertInto('captcha_uses').values({ challenge_id: parsed.challenge.parameters.nonce, expires_at: expiresAt }).execute()
    } catch (err) {
      if (isUniqueViolation(err)) throw fail()
      throw err
    }
  }

  async prune(): Promise<void> {
    await this.#db.deleteFrom('captcha_uses').where('expires_at', '<', altchaClock.now()).execute()
  }
}
