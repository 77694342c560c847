/**
 * The session cache on its own: bounded, short-lived, emptied per account, and never
 * refilled by a load that raced with an eviction.
 */
import { describe, expect, it } from 'vitest'
import { SessionCache, type CachedSession } from './session-cache.ts'
import type { Account } from '../accounts/queries.ts'
import type { Session } from './sessions.ts'

const T0 = Date.UTC(2026, 5, 1, 12)

function entry(accountId: string, sessionId: string): CachedSession {
  return {
    session: { id: sessionId, account_id: accountId, last_active_at: T0 } as Session,
    account: { id: accountId, status: 'active' } as Account,
  }
}

function cache(options: { ttlMs?: number; maxEntries?: number } = {}) {
  return new SessionCache({ ttlMs: options.ttlMs ?? 5000, maxEntries: options.maxEntries ?? 100 })
}

describe('session cache', () => {
  it('answers a stored token within its TTL', () => {
    const c = cache()
    c.set('hash-a', entry('acc-1', 's-1'), c.generation, T0)
    expect(c.get('hash-a', T0 + 4999)?.session.id).toBe('s-1')
  })

  it('forgets an entry once its TTL has passed', () => {
    const c = cache({ ttlMs: 5000 })
    c.set('hash-a', entry('acc-1', 's-1'), c.generation, T0)
    expect(c.get('hash-a', T0 + 5000)).toBeUndefined()
    expect(c.size).toBe(0)
  })

  it('stores nothing when the TTL is 0 (cache off)', () => {
    const c = cache({ ttlMs: 0 })
    c.set('hash-a', entry('acc-1', 's-1'), c.generation, T0)
    expect(c.enabled).toBe(false)
    expect(c.get('hash-a', T0)).toBeUndefined()
  })

  it('keeps at most maxEntries, dropping the least recently used', () => {
    const c = cache({ maxEntries: 2 })
    c.set('hash-a', entry('acc-1', 's-1'), c.generation, T0)
    c.set('hash-b', entry('acc-2', 's-2'), c.generation, T0)
    c.get('hash-a', T0) // a is now the most recently used
    c.set('hash-c', entry('acc-3', 's-3'), c.generation, T0)
    expect(c.size).toBe(2)
    expect(c.get('hash-b', T0)).toBeUndefined()
    expect(c.get('hash-a', T0)?.session.id).toBe('s-1')
    expect(c.get('hash-c', T0)?.session.id).toBe('s-3')
  })

  it('evicts every session of an account and no other', () => {
    const c = cache()
    c.set('hash-a', entry('acc-1', 's-1'), c.generation, T0)
    c.set('hash-b', entry('acc-1', 's-2'), c.generation, T0)
    c.set('hash-c', entry('acc-2', 's-3'), c.generation, T0)
    c.evictAccounts(['acc-1'])
    expect(c.get('hash-a', T0)).toBeUndefined()
    expect(c.get('hash-b', T0)).toBeUndefined()
    expect(c.get('hash-c', T0)?.session.id).toBe('s-3')
  })

  it('does not store a row loaded before an eviction (a revocation racing a cache miss)', () => {
    const c = cache()
    const generationAtLoad = c.generation
    // ... the database read is in flight when a revocation commits and evicts ...
    c.evictAccounts(['acc-1'])
    c.set('hash-a', entry('acc-1', 's-1'), generationAtLoad, T0)
    expect(c.get('hash-a', T0)).toBeUndefined()
  })

  it('evicts a single token', () => {
    const c = cache()
    c.set('hash-a', entry('acc-1', 's-1'), c.generation, T0)
    c.set('hash-b', entry('acc-1', 's-2'), c.generation, T0)
    c.evictToken('hash-a')
    expect(c.get('hash-a', T0)).toBeUndefined()
    expect(c.get('hash-b', T0)?.session.id).toBe('s-2')
  })

  it('empties completely on clear (the eviction feed was interrupted)', () => {
    const c = cache()
    c.set('hash-a', entry('acc-1', 's-1'), c.generation, T0)
    c.set('hash-b', entry('acc-2', 's-2'), c.generation, T0)
    c.clear()
    expect(c.size).toBe(0)
  })
})
