/**
 * The one place Latchkey reads the time. Every expiry rule (24 h links, 1 h resets,
 * 30 min idle, 30 days) takes a Clock so tests can move time exactly instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock tests can freeze and move; never used in production. */
export class ManualClock implements Clock {
  #nowMs: number
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#nowMs = startMs
  }
  now(): number {
    return this.#nowMs
  }
  advance(ms: number): void {
    this.#nowMs += ms
  }
  set(ms: number): void {
    this.#nowMs = ms
  }
}

export const SECOND_MS = 1000
export const MINUTE_MS = 60 * SECOND_MS
export const HOUR_MS = 60 * MINUTE_MS
export const DAY_MS = 24 * HOUR_MS
