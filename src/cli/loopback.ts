/**
 * The loopback redirect of RFC 8252 §7.3: a one-shot HTTP server on 127.0.0.1 and an ephemeral
 * port that waits for the browser to come back to /callback. Only a request carrying this
 * sign-in's state is taken; anything else gets a 400 (or 404) and the wait goes on, so another
 * program on this machine cannot end or hijack the sign-in by poking the port.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface LoopbackOutcome {
  /** The full callback URL the browser was redirected to. */
  url: URL
  /** Shows the browser a page ("You can close this tab...") and closes the server. */
  respond(ok: boolean, message: string): void
}

export interface Loopback {
  redirectUri: string
  /** Resolves with the browser's redirect that carries `state`; rejects when `signal` aborts. */
  wait(state: string, signal: AbortSignal): Promise<LoopbackOutcome>
  close(): void
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

export function resultPage(ok: boolean, message: string): string {
  const title = ok ? 'Signed in to the Latchkey CLI' : 'Sign-in not completed'
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#1f2328}h1{font-size:1.4rem}</style>
</head><body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p><strong>You can close this tab and go back to the terminal.</strong></p></main></body></html>`
}

export async function startLoopback(): Promise<Loopback> {
  let pending: { state: string; resolve: (outcome: LoopbackOutcome) => void } | null = null
  let answered = false
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`)
    res.setHeader('cache-control', 'no-store')
    res.setHeader('referrer-policy', 'no-referrer')
    if (req.method !== 'GET' || url.pathname !== '/callback') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found.\n')
      return
    }
    if (answered || !pending || url.searchParams.get('state') !== pending.state) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(resultPage(false, 'This page does not belong to the sign-in the CLI is waiting for. Start again from the terminal if needed.'))
      return
    }
    answered = true
    const { resolve } = pending
    pending = null
    resolve({
      url,
      respond(ok, message) {
        res.writeHead(ok ? 200 : 400, { 'content-type': 'text/html; charset=utf-8', connection: 'close' }).end(resultPage(ok, message), () => {
          server.close()
          server.closeAllConnections()
        })
      },
    })
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    wait(state, signal) {
      return new Promise((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason)
        pending = { state, resolve }
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      })
    },
    close() {
      server.close()
      server.closeAllConnections()
    },
  }
}
