/**
 * Opens a URL in the person's browser: $BROWSER first (a colon-separated list of commands, "%s"
 * standing for the URL, as xdg-utils and Python's webbrowser read it), else the platform's opener
 * (open, xdg-open, rundll32). No shell is involved, so the URL cannot inject a command.
 */
import { spawn } from 'node:child_process'

export type OpenResult = { opened: true } | { opened: false; reason: string }

/** A launcher that has not failed within this long is taken as having opened the page. */
const SETTLE_MS = 2_000

function commands(url: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[][] | string {
  if (env.BROWSER?.trim()) {
    return env.BROWSER.split(platform === 'win32' ? ';' : ':')
      .map((entry) => entry.trim())
      .filter(Boolean)
      .map((entry) => {
        const words = entry.split(/\s+/)
        return words.some((w) => w.includes('%s')) ? words.map((w) => w.replaceAll('%s', url)) : [...words, url]
      })
  }
  if (platform === 'darwin') return [['open', url]]
  if (platform === 'win32') return [['rundll32', 'url.dll,FileProtocolHandler', url]]
  // xdg-open with no graphical session falls back to a text browser that would take over this terminal.
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return 'there is no graphical session here (DISPLAY and WAYLAND_DISPLAY are not set) and BROWSER is not set'
  return [['xdg-open', url]]
}

function run(argv: string[], env: NodeJS.ProcessEnv): Promise<OpenResult> {
  return new Promise((resolve) => {
    let settled = false
    const done = (result: OpenResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(result)
    }
    const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore', detached: true, env })
    const timer = setTimeout(() => {
      child.unref()
      done({ opened: true })
    }, SETTLE_MS)
    child.once('error', (err: NodeJS.ErrnoException) => done({ opened: false, reason: err.code === 'ENOENT' ? `${argv[0]} was not found` : `${argv[0]} failed: ${err.message}` }))
    child.once('exit', (code, signal) => done(code === 0 ? { opened: true } : { opened: false, reason: `${argv[0]} exited with ${signal ?? `code ${code}`}` }))
  })
}

export async function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<OpenResult> {
  const candidates = commands(url, env, platform)
  if (typeof candidates === 'string') return { opened: false, reason: candidates }
  const reasons: string[] = []
  for (const argv of candidates) {
    const result = await run(argv, env)
    if (result.opened) return result
    reasons.push(result.reason)
  }
  return { opened: false, reason: reasons.join('; ') || 'no browser command' }
}
