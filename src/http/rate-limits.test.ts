import { Redis } from 'ioredis'
import net from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { RateLimits } from './rate-limits.ts'
import { loadConfig } from '../config.ts'
import { ManualClock, systemClock } from '../clock.ts'

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

describe('rate limits', () => {
  it("counts in memory per key and says when to retry, by the server's clock", async () => {
    const clock = new ManualClock(Date.UTC(2031, 0, 1))
    const limits = new RateLimits({ ...loadConfig({}).rateLimits, signupPerIpPerHour: 2 }, clock)
    await limits.consume('signup_ip', '192.0.2.1')
    await limits.consume('signup_ip', '192.0.2.1')
    const refused = await limits.consume('signup_ip', '192.0.2.1').then(() => null, (err: unknown) => err)
    expect(refused).toMatchObject({ code: 'too_many_requests', details: { retryAfterSeconds: expect.any(Number) } })
    const { retryAt, retryAfterSeconds } = (refused as { details: { retryAt: string; retryAfterSeconds: number } }).details
    // An hour's window: retry within the hour after the clock's now, whatever the system time is.
    expect(Date.parse(retryAt)).toBeGreaterThan(clock.now())
    expect(Date.parse(retryAt)).toBeLessThanOrEqual(clock.now() + 3600 * 1000)
    expect(retryAfterSeconds).toBe(Math.ceil((Date.parse(retryAt) - clock.now()) / 1000))
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
    // As a serving process does before its first request (app.ts).
    await Promise.all([first, second].map((client) => new Promise((resolve) => client.once('ready', resolve))))
    const config = { ...loadConfig({}).rateLimits, signinPerIpPerMinute: 3 }
    const instanceA = new RateLimits(config, systemClock, first)
    const instanceB = new RateLimits(config, systemClock, second)
    await instanceA.consume('signin_ip', prefix)
    await instanceB.consume('signin_ip', prefix)
    await instanceA.consume('signin_ip', prefix)
    await expect(instanceB.consume('signin_ip', prefix)).rejects.toMatchObject({ code: 'too_many_requests' })
    await instanceA.reset('signin_ip', prefix)
    await instanceB.consume('signin_ip', prefix)
  })

  it('counts in memory at once, without waiting for a reconnect, while Redis is unreachable', async () => {
    const closed = net.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as net.AddressInfo
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const unreachable = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: 2, retryStrategy: () => 500 })
    unreachable.on('error', () => {})
    onTestFinished(() => unreachable.disconnect())
    const limits = new RateLimits({ ...loadConfig({}).rateLimits, signinPerIpPerMinute: 3 }, systemClock, unreachable)
    const started = Date.now()
    for (let i = 0; i < 3; i++) await limits.consume('signin_ip', '192.0.2.9')
    await expect(limits.consume('signin_ip', '192.0.2.9')).rejects.toMatchObject({ code: 'too_many_requests' })
    // Not a reconnect cycle per request (ioredis would queue each command for 3 attempts).
    expect(Date.now() - started).toBeLessThan(1000)
  })
})
