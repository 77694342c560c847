/**
 * A rolling restart drops nothing: under steady load through HAProxy (sign-ins and session
 * checks), each instance in turn gets SIGTERM, drains (its /readyz turns 503 and the balancer
 * stops sending to it), finishes what it was serving, exits, and is started again.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Cluster, DRAIN_SECONDS } from './harness.ts'
import { Load, makeAccounts } from './client.ts'

describe('rolling restart behind HAProxy', () => {
  let cluster: Cluster

  beforeAll(async () => {
    // All the load comes from a few addresses: the per-IP budgets are raised (as bench/ does).
    cluster = await Cluster.start({ env: { RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '1000000', RATE_LIMIT_SIGNUP_PER_IP_PER_HOUR: '1000000' } })
  })
  afterAll(async () => {
    await cluster?.close()
  })
  // What the instances and HAProxy said lately, when a test fails.
  beforeEach(({ onTestFailed }) => onTestFailed(() => console.log(cluster?.logs())))

  it('restarts each instance in turn under load with zero failed requests', async () => {
    const accounts = await makeAccounts(cluster.base, 8)
    const load = new Load({ base: cluster.base, accounts, connections: 6, checksPerSignin: 4, maxRequests: 200_000, maxDurationMs: 90_000 }).start()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const restarts = []
    for (const instance of cluster.instances) {
      const pidBefore = instance.pid
      const restart = await cluster.restart(instance.name)
      expect(restart.code, cluster.logs()).toBe(0)
      // It drained for SHUTDOWN_DRAIN_SECONDS before it stopped accepting.
      expect(restart.stopMs).toBeGreaterThanOrEqual(DRAIN_SECONDS * 1000)
      expect(instance.pid).not.toBe(pidBefore)
      restarts.push(restart)
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    const figures = await load.stop()
    console.log(`rolling restart: ${JSON.stringify({ ...figures, restarts })}`)
    expect(figures.failed, cluster.logs()).toEqual([])
    expect(figures.failures).toBe(0)
    expect(figures.requests).toBeGreaterThan(500)
    // Both instances served before and after their restart.
    expect(Object.keys(figures.byInstance).sort()).toEqual(['a', 'b'])
  })
})
