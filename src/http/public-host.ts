/**
 * The server answers at PUBLIC_URL only. A browser that opened the app at another address of
 * the same process (http://127.0.0.1:3000 when PUBLIC_URL is http://localhost:3000, a bare
 * IP, an internal host name) would load the pages and then fail every form with
 * `forbidden_origin`, since its Origin is not PUBLIC_URL; cookies would be set for the wrong
 * host too. So a page visit at another host is redirected to the same path and query at
 * PUBLIC_URL, and every other request (the API, /oauth, discovery, /docs assets, images) is
 * refused with `wrong_host`, naming PUBLIC_URL. It also closes DNS rebinding: a page served
 * under an attacker's name that resolves to this server gets no answer but the redirect.
 *
 * Requests that are not a browser's (no Origin, no cookie, not a page visit: scripts, the
 * CLI, a balancer's checks, an operator's curl at an instance) are answered at any Host.
 * Health and metrics stay reachable at any Host: probes (a load balancer, Kubernetes, a
 * Prometheus scraper) address the instance by IP, not by the public name.
 *
 * Behind a proxy the Host it forwards is what counts: keep the visitor's Host (nginx:
 * `proxy_set_header Host $host;`), or set TRUST_PROXY and send X-Forwarded-Host.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../errors.ts'

/** Reachable at any Host (the instance's own address), for health checks and scrapers. */
const PROBE_PATHS = new Set(['/healthz', '/readyz', '/metrics'])
/** Never redirected, even for a browser: a redirect would not carry a POST or an app's request. */
const NOT_PAGES = /^\/(api|oauth|\.well-known)(\/|$)/

function pathOf(url: string): string {
  const end = url.search(/[?#]/)
  return end === -1 ? url : url.slice(0, end)
}

/** The host a request was sent to, normalised like PUBLIC_URL's (default port dropped, lower case). */
function normalisedHost(protocol: string, host: string): string | null {
  try {
    const parsed = new URL(`${protocol}//${host}`)
    // A Host header is a host and a port, nothing more ("a@b", "a/b" are not hosts).
    return parsed.username || parsed.password || parsed.pathname !== '/' || parsed.search || parsed.hash ? null : parsed.host
  } catch {
    return null
  }
}

/** onRequest: redirect page visits at another host to PUBLIC_URL, refuse everything else. */
export function publicHostCheck(publicUrl: URL) {
  const expected = publicUrl.host
  const origin = publicUrl.origin
  return (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    const sent = request.host ? normalisedHost(publicUrl.protocol, request.host) : null
    if (sent === expected) return done()
    const path = pathOf(request.url)
    if (PROBE_PATHS.has(path)) return done()
    const visit = (request.method === 'GET' || request.method === 'HEAD') && String(request.headers.accept ?? '').includes('text/html')
    // Only what a browser sends is at stake (its Origin and cookies belong to PUBLIC_URL): a
    // script or a service calling an instance by its own address (no Origin, no cookie, no
    // page visit) is answered, as a load balancer's checks and an operator's curl expect.
    const fromBrowser = visit || request.headers.origin !== undefined || request.headers.cookie !== undefined
    if (!fromBrowser) return done()
    if (visit && !NOT_PAGES.test(path) && request.url.startsWith('/')) {
      // 307, not 308: PUBLIC_URL may change, and a browser keeps a permanent redirect for good.
      void reply.redirect(`${origin}${request.url}`, 307)
      return
    }
    done(new AppError('wrong_host', {
      message: `This server answers at ${origin} only; this request was sent to ${request.host || 'no host'}. Use ${origin} (or, if that is not the address people use, set PUBLIC_URL to it).`,
      details: { publicUrl: origin },
    }))
  }
}
