/**
 * The in-process cache of live sessions (ARCHITECTURE "The hot path"): token hash → the
 * session and account rows the hot-path join returned. Bounded (least recently used entries
 * fall out) and short-lived (TTL), and emptied for an account whenever its sessions or its
 * row change, here or on another instance (see evictions.ts).
 *
 * A load that raced with an eviction must not put back what the eviction removed: a request
 * that read the database just before a revocation committed would otherwise cache the
 * revoked session until the TTL ran out. So every eviction bumps a generation number, and
 * `set` only stores a row loaded under the current generation.
 */
import type { Account } from '../accounts/queries.ts'
import type { Session } from './sessions.ts'

export interface CachedSession {
  /** As loaded, plus the last activity this instance wrote (kept in step by the hot path). */
  session: Session
  /** Shared by every request that hits this entry: never mutate it. */
  account: Account
}

interface Entry extends CachedSession {
  tokenHash: string
  cachedUntilMs: number
}

export interface SessionCacheOptions {
  /** How long an entry may answer without a database read; 0 turns the cache off. */
  ttlMs: number
  maxEntries: number
}

export class SessionCache {
  readonly ttlMs: number
  readonly maxEntries: number
  // A Map iterates in insertion order; a hit re-inserts its key, so the first key is the
  // least recently used one.
  readonly #entries = new Map<string, Entry>()
  readonly #byAccount = new Map<string, Set<string>>()
  #generation = 0

  constructor(options: SessionCacheOptions) {
    this.ttlMs = options.ttlMs
    this.maxEntries = options.maxEntries
  }

  get enabled(): boolean {
    return this.ttlMs > 0 && this.maxEntries > 0
  }

  get size(): number {
    return this.#entries.size
  }

  /** Read before a database load and handed back to `set`. */
  get generation(): number {
    return this.#generation
  }

  get(tokenHash: string, nowMs: number): CachedSession | undefined {
    const entry = this.#entries.get(tokenHash)
    if (!entry) return undefined
    if (nowMs >= entry.cachedUntilMs) {
      this.#remove(entry)
      return undefined
    }
    this.#entries.delete(tokenHash)
    this.#entries.set(tokenHash, entry)
    return entry
  }

  /** Stores a row loaded while `generation` was current; a no-op if an eviction came since. */
  set(tokenHash: string, value: CachedSession, generation: number, nowMs: number): void {
    if (!this.enabled || generation !== this.#generation) return
    const previous = this.#entries.get(tokenHash)
    if (previous) this.#remove(previous)
    const entry: Entry = { ...value, tokenHash, cachedUntilMs: nowMs + this.ttlMs }
    this.#entries.set(tokenHash, entry)
    let hashes = this.#byAccount.get(value.account.id)
    if (!hashes) this.#byAccount.set(value.account.id, (hashes = new Set()))
    hashes.add(tokenHash)
    if (this.#entries.size > this.maxEntries) this.#remove(this.#entries.values().next().value!)
  }

  /** Drops one token's entry (an expired session this instance just deleted). */
  evictToken(tokenHash: string): void {
    this.#generation++
    const entry = this.#entries.get(tokenHash)
    if (entry) this.#remove(entry)
  }

  /** Drops every cached session of these accounts: their sessions or account rows changed. */
  evictAccounts(accountIds: Iterable<string>): void {
    this.#generation++
    for (const accountId of accountIds) {
      const hashes = this.#byAccount.get(accountId)
      if (!hashes) continue
      for (const hash of hashes) this.#entries.delete(hash)
      this.#byAccount.delete(accountId)
    }
  }

  /** Drops everything: the eviction feed was interrupted and messages may have been lost. */
  clear(): void {
    this.#generation++
    this.#entries.clear()
    this.#byAccount.clear()
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.tokenHash)
    const hashes = this.#byAccount.get(entry.account.id)
    if (!hashes) return
    hashes.delete(entry.tokenHash)
    if (hashes.size === 0) this.#byAccount.delete(entry.account.id)
  }
}
