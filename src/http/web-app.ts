/**
 * Serves the built React app (dist/web) from the same process: hashed assets with long
 * caching, compressed at build time, and index.html for every page route so deep links work. API and operator paths
 * keep their JSON 404s.
 */
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fs from 'node:fs'
import path from 'node:path'

/** The project folder: the nearest one up holding package.json (src/http or dist/server/http). */
function projectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir
    if (path.dirname(dir) === dir) return path.resolve(from, '../..')
  }
}

export const WEB_ROOT = path.join(projectRoot(import.meta.dirname), 'dist', 'web')

// Only this origin: no CDN, no inline scripts. Inline styles are needed by the captcha widget.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const NOT_PAGES = /^\/(api|docs|openapi\.json|healthz|readyz|metrics|assets)(\/|$)/

export function isPageRequest(request: FastifyRequest): boolean {
  if (request.method !== 'GET' || NOT_PAGES.test(request.url)) return false
  // The site's root is the app for anyone: an operator's `curl http://localhost:3000/` after
  // `npm start` should see the page, not "No route for GET /". Other unknown paths are pages only
  // for browsers, so an API client's typo still gets the JSON 404.
  if (request.url === '/' || request.url.startsWith('/?')) return true
  return String(request.headers.accept ?? '').includes('text/html')
}

export async function registerWebApp(app: FastifyInstance): Promise<(request: FastifyRequest, reply: FastifyReply) => FastifyReply> {
  const indexFile = path.join(WEB_ROOT, 'index.html')
  const built = fs.existsSync(indexFile)
  if (built) {
    await app.register(fastifyStatic, {
      root: WEB_ROOT,
      prefix: '/',
      wildcard: false,
      index: false,
      // The build writes .br and .gz beside each script and stylesheet (src/web/vite.config.ts):
      // sent, with Content-Encoding and Vary: Accept-Encoding, to browsers that accept them.
      preCompressed: true,
      setHeaders: (res, filePath) => {
        // Vite puts a content hash in every asset name, so they never change.
        if (filePath.includes(`${path.sep}assets${path.sep}`)) res.header('Cache-Control', 'public, max-age=31536000, immutable')
      },
    })
  }
  const html = built ? fs.readFileSync(indexFile, 'utf8') : '<!doctype html><title>Latchkey</title><p>The web app is not built. Run <code>npm run build</code>.</p>'
  return (_request, reply) =>
    reply
      .status(200)
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('cache-control', 'no-cache')
      .send(html)
}
