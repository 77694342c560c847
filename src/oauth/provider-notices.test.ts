/**
 * oidc-provider's console notices ("oidc-provider NOTICE: …") reach the log as JSON lines,
 * printed by the library's own function, and other console output is left alone.
 */
import pino from 'pino'
import { describe, expect, it, vi } from 'vitest'
import { routeProviderNotices } from './provider-notices.ts'

// What the console printed, underneath the routing (installed once, over these spies).
const printedInfo = vi.spyOn(console, 'info').mockImplementation(() => {})
const printedWarn = vi.spyOn(console, 'warn').mockImplementation(() => {})

/** The library's own printer, which it calls for every NOTICE and WARNING (no types shipped). */
async function attention(): Promise<{ info(text: string): void; warn(text: string): void }> {
  const specifier: string = 'oidc-provider/lib/helpers/attention.js'
  return import(specifier)
}

function memoryLog() {
  const lines: string[] = []
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) })
  return { log, lines }
}

describe("oidc-provider's console notices", () => {
  it('become JSON log lines with source oidc-provider, at info (NOTICE) and warn (WARNING)', async () => {
    const { log, lines } = memoryLog()
    routeProviderNotices(log)
    const library = await attention()
    library.info('default renderError function called, you SHOULD change it.')
    library.warn('a quick start development-only feature is enabled.')
    expect(printedInfo).not.toHaveBeenCalled()
    expect(printedWarn).not.toHaveBeenCalled()
    expect(lines.map((line) => JSON.parse(line))).toMatchObject([
      { level: 30, source: 'oidc-provider', msg: 'default renderError function called, you SHOULD change it.' },
      { level: 40, source: 'oidc-provider', msg: 'a quick start development-only feature is enabled.' },
    ])
  })

  it('leave every other console line as it was', () => {
    const { log, lines } = memoryLog()
    routeProviderNotices(log)
    console.info('something else', 42)
    console.warn('oidc-provider is mentioned, but this is no notice')
    expect(printedInfo).toHaveBeenLastCalledWith('something else', 42)
    expect(printedWarn).toHaveBeenLastCalledWith('oidc-provider is mentioned, but this is no notice')
    expect(lines).toEqual([])
  })
})
