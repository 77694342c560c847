/**
 * oidc-provider prints its notices and warnings with console.info / console.warn as plain text
 * ("oidc-provider NOTICE: …", coloured on a terminal), the one line in the server's output that
 * is not JSON: log collectors could not parse it. Those lines go to the JSON log instead, with
 * `source: "oidc-provider"`; anything else written to the console is left alone.
 */
import type { Logger } from 'pino'

const PROVIDER_LINE = /^oidc-provider (NOTICE|WARNING): ([\s\S]*)$/
// eslint-disable-next-line no-control-regex
const COLOURS = /\u001b\[[0-9;]*m/g

let target: Logger | undefined
let installed = false

/** Sends oidc-provider's console lines to `log` (the latest process logger; installed once). */
export function routeProviderNotices(log: Logger): void {
  target = log
  if (installed) return
  installed = true
  for (const method of ['info', 'warn'] as const) {
    const original = console[method].bind(console)
    console[method] = (...args: unknown[]) => {
      const line = typeof args[0] === 'string' ? PROVIDER_LINE.exec(args[0].replace(COLOURS, '')) : null
      if (!line || !target || args.length > 1) return original(...args)
      if (line[1] === 'WARNING') target.warn({ source: 'oidc-provider' }, line[2])
      else target.info({ source: 'oidc-provider' }, line[2])
    }
  }
}
