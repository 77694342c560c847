/**
 * RFC 8628 §3.5 pacing of the device grant, which oidc-provider leaves out: the device
 * authorization response names the polling `interval`, and a token request for a device code
 * that is still pending, made sooner than that after the last one, is answered `slow_down`
 * (the app then adds 5 seconds to its interval) instead of `authorization_pending`.
 *
 * The last poll's time is kept on the device code's row with a conditional UPDATE, so two
 * polls racing on two instances cannot both pass, and it is measured with ctx.clock.
 */
import type { KoaContextWithOIDC } from 'oidc-provider'
import { SECOND_MS } from '../clock.ts'
import type { AppContext } from '../context.ts'
import { storedId } from './adapter.ts'

/** RFC 8628 §3.2: the default when the response names none; said explicitly all the same. */
export const DEVICE_POLL_INTERVAL_SECONDS = 5
/**
 * An app that waits the full interval can still seem early by a little: its previous request
 * may have spent longer in transit than this one. Half a second of that is not held against it.
 */
const TRANSIT_JITTER_MS = 500

/** Records a poll of a pending device code; false when the previous one was too recent. */
export async function recordDevicePoll(ctx: AppContext, deviceCode: string): Promise<boolean> {
  const now = ctx.clock.now()
  const updated = await ctx.db
    .updateTable('oauth_models')
    .set({ polled_at: now })
    .where('model', '=', 'DeviceCode')
    .where('id', '=', storedId(deviceCode))
    .where((eb) => eb.or([eb('polled_at', 'is', null), eb('polled_at', '<=', now - DEVICE_POLL_INTERVAL_SECONDS * SECOND_MS + TRANSIT_JITTER_MS)]))
    .executeTakeFirst()
  return Number(updated.numUpdatedRows) > 0
}

type Next = () => Promise<unknown>

/** Koa middleware for provider.use(): it adjusts oidc-provider's answers after they are made. */
export function devicePollPacing(ctx: AppContext) {
  return async function paceDevicePolling(koa: KoaContextWithOIDC, next: Next): Promise<void> {
    await next()
    // Routes outside oidc-provider's router (a 404) have no ctx.oidc.
    const route = (koa as { oidc?: KoaContextWithOIDC['oidc'] }).oidc?.route
    const body = koa.body as Record<string, unknown> | undefined
    if (route === 'device_authorization' && koa.status === 200 && body && typeof body.device_code === 'string') {
      body.interval = DEVICE_POLL_INTERVAL_SECONDS
      return
    }
    if (route === 'token' && koa.status === 400 && body?.error === 'authorization_pending') {
      const deviceCode = koa.oidc.params?.device_code
      if (typeof deviceCode === 'string' && !(await recordDevicePoll(ctx, deviceCode))) {
        koa.body = { error: 'slow_down', error_description: `polling too quickly: wait at least ${DEVICE_POLL_INTERVAL_SECONDS} seconds between polls, and 5 more after each slow_down` }
      }
    }
  }
}
