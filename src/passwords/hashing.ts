/**
 * Argon2id password hashing. @node-rs/argon2 runs on libuv's thread pool, never on the event
 * loop. The parameters travel inside each PHC string, so raising them later only needs
 * `needsRehash` at the next successful sign-in.
 */
import { hash, verify } from '@node-rs/argon2'

// @node-rs/argon2 exports Algorithm as a const enum, which type stripping cannot inline.
const ARGON2ID = 2
import { randomBytes } from 'node:crypto'

export interface Argon2Params {
  memoryKiB: number
  iterations: number
  parallelism: number
}

export class PasswordHasher {
  readonly params: Argon2Params
  #dummyHash: Promise<string>

  constructor(params: Argon2Params) {
    this.params = params
    // Verified against when the login is unknown, so "no such account" costs the same time.
    this.#dummyHash = this.hash(randomBytes(24).toString('base64'))
  }

  hash(password: string): Promise<string> {
    return hash(password, {
      algorithm: ARGON2ID,
      memoryCost: this.params.memoryKiB,
      timeCost: this.params.iterations,
      parallelism: this.params.parallelism,
    })
  }

  async verify(storedHash: string | null, password: string): Promise<boolean> {
    if (!storedHash) {
      await verify(await this.#dummyHash, password).catch(() => false)
      return false
    }
    try {
      return await verify(storedHash, password)
    } catch {
      return false
    }
  }

  /** Spend the same time as a real verification, for paths where the account is unknown. */
  async verifyNothing(password: string): Promise<false> {
    await this.verify(null, password)
    return false
  }

  needsRehash(storedHash: string): boolean {
    const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(storedHash)
    if (!match) return true
    const [, m, t, p] = match.map(Number)
    return m < this.params.memoryKiB || t < this.params.iterations || p !== this.params.parallelism
  }
}
