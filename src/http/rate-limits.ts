/**
 * Named rate limits over rate-limiter-flexible: in memory for one instance, in Redis when
 * REDIS_URL is set so every instance counts together.
 */
import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Clock } from '../clock.ts'
import type { RateLimitConfig } from '../config.ts'
import { AppError } from '../errors.ts'

export type LimitName = 'signin_ip' | 'signin_failures_account' | 'two_factor_account' | 'signup_ip' | 'recovery_ip' | 'recovery_email' | 'resend_account' | 'join_request_account' | 'domain_check_team' | 'invitations_inviter' | 'invitations_team' | 'image_uploads_account' | 'team_slug_checks_account' | 'device_code_entries_ip' | 'oauth_token_ip'

const rules = (c: RateLimitConfig): Record<LimitName, { points: number; durationSeconds: number }> => ({
  signin_ip: { points: c.signinPerIpPerMinute, durationSeconds: 60 },
  signin_failures_account: { points: c.signinFailuresPerAccountPer15Minutes, durationSeconds: 15 * 60 },
  two_factor_account: { points: c.twoFactorFailuresPerAccountPer15Minutes, durationSeconds: 15 * 60 },
  signup_ip: { points: c.signupPerIpPerHour, durationSeconds: 3600 },
  recovery_ip: { points: c.recoveryPerIpPerHour, durationSeconds: 3600 },
  recovery_email: { points: c.recoveryPerEmailPerHour, durationSeconds: 3600 },
  resend_account: { points: c.resendPerAccountPerHour, durationSeconds: 3600 },
  join_request_account: { points: c.joinRequestsPerAccountPerHour, durationSeconds: 3600 },
  domain_check_team: { points: c.domainChecksPerTeamPerHour, durationSeconds: 3600 },
  invitations_inviter: { points: c.invitationsPerInviterPerHour, durationSeconds: 3600 },
  invitations_team: { points: c.invitationsPerTeamPerHour, durationSeconds: 3600 },
  image_uploads_account: { points: c.imageUploadsPerAccountPerHour, durationSeconds: 3600 },
  team_slug_checks_account: { points: c.teamSlugChecksPerAccountPerHour, durationSeconds: 3600 },
  device_code_entries_ip: { points: c.deviceCodeEntriesPerIpPerMinute, durationSeconds: 60 },
  oauth_token_ip: { points: c.oauthTokenPerIpPerMinute, durationSeconds: 60 },
})

/**
 * The refusal, with when to retry on the server's clock (`retryAt` sits beside every other time the
 * API answers). rate-limiter-flexible keeps its windows on the system clock (in memory) or in
 * Redis's key expiry: what it gives is a duration, `msBeforeNext`, which is the same on any clock.
 */
function tooMany(res: RateLimiterRes, clock: Clock): AppError {
  const retryAt = new Date(clock.now() + res.msBeforeNext)
  return new AppError('too_many_requests', {
    message: `Too many attempts. Try again after ${retryAt.toISOString()}.`,
    details: { retryAt: retryAt.toISOString(), retryAfterSeconds: Math.ceil(res.msBeforeNext / 1000) },
  })
}

export class RateLimits {
  readonly #limiters: Record<LimitName, RateLimiterAbstract>
  readonly #clock: Clock

  constructor(config: RateLimitConfig, clock: Clock, redis?: Redis) {
    this.#clock = clock
    const entries = Object.entries(rules(config)).map(([name, rule]) => {
      const options = { keyPrefix: `lk:rl:${name}`, points: rule.points, duration: rule.durationSeconds }
      const limiter = redis
        ? // While Redis is unreachable each process counts in memory at once (budgets per
          // process until it is back) instead of holding the request for a reconnect.
          new RateLimiterRedis({ ...options, storeClient: redis, useRedisPackage: false, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(options) })
        : new RateLimiterMemory(options)
      return [name, limiter]
    })
    this.#limiters = Object.fromEntries(entries) as Record<LimitName, RateLimiterAbstract>
  }

  /** Spends one point (or `points`); throws `too_many_requests` (with `retryAt`) when none are left. */
  async consume(name: LimitName, key: string, points = 1): Promise<void> {
    try {
      await this.#limiters[name].consume(key, points)
    } catch (err) {
      if (err instanceof RateLimiterRes) throw tooMany(err, this.#clock)
      throw err
    }
  }

  /** Throws if the key has no points left, without spending one. */
  async check(name: LimitName, key: string): Promise<void> {
    const res = await this.#limiters[name].get(key)
    if (res && res.remainingPoints <= 0) throw tooMany(res, this.#clock)
  }

  /** Gives back points spent on work that did not happen (a refused batch). */
  async refund(name: LimitName, key: string, points: number): Promise<void> {
    await this.#limiters[name].reward(key, points)
  }

  async reset(name: LimitName, key: string): Promise<void> {
    await this.#limiters[name].delete(key)
  }
}
