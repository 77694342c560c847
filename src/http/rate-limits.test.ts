import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { RateLimits } from './rate-limits.ts'
import { loadConfig } from '../config.ts'

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

describe('rate limits', () => {
  it('counts in memory per key and says when to retry', async () => {
    const limits = new RateLimits({ ...loadConfig({}).rateLimits, signupPerIpPerHour: 2 })
    await limits.consume('signup_ip', '192.0.2.1')
    await limits.consume('signup_ip', '192.0.2.1')
    await expect(limits.consume('signup_ip', '192.0.2.1')).rejects.toMatchObject({ code: 'too_many_requests', details: { retryAfterSeconds: expect.any(Number) } })
    await limits.consume('signup_ip', '192.0.2.2')
  })

  it('shares counts between instances through Redis', async () => {
    const prefix = `test-${Math.random().toString(36).slice(2)}`
    const first = new Redis(REDIS_URL)
    const second = new Redis(REDIS_URL)
    onTestFinished(() => {
      first.disconnect()
      second.disconnect()
    })
    const config = { ...loadConfig({}).rateLimits, signinPerIpPerMinute: 3 }
    const instanceA = new RateLimits(config, first)
    const instanceB = new RateLimits(config, second)
    await instanceA.consume('signin_ip', prefix)
    await instanceB.consume('signin_ip', prefix)
    await instanceA.consume('signin_ip', prefix)
    await expect(instanceB.consume('signin_ip', prefix)).rejects.toMatchObject({ code: 'too_many_requests' })
    await instanceA.reset('signin_ip', prefix)
    await instanceB.consume('signin_ip', prefix)
  })
})
