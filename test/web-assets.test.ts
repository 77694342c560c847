/**
 * The web app's scripts and stylesheets leave compressed (brotli or gzip, written at build time)
 * to browsers that accept it, with the headers caches need, and decode to the very bytes built.
 * Needs the web app built (`npm test` builds it first).
 */
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { WEB_ROOT } from '../src/http/web-app.ts'
import { testApp, type TestApp } from './helpers/app.ts'
import { DIALECTS } from './helpers/databases.ts'

/** The script and stylesheet index.html loads: what every first visit downloads. */
function builtAssets(): string[] {
  const html = fs.readFileSync(path.join(WEB_ROOT, 'index.html'), 'utf8')
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1])
  expect(assets.length).toBeGreaterThanOrEqual(2)
  return assets
}

async function fetchAsset(t: TestApp, url: string, acceptEncoding?: string) {
  return t.app.server.inject({
    method: 'GET',
    url,
    headers: { host: t.app.ctx.config.publicUrl.host, ...(acceptEncoding !== undefined ? { 'accept-encoding': acceptEncoding } : {}) },
  })
}

describe.each(DIALECTS)('the web bundle on %s', (dialect) => {
  it('is sent as brotli to a browser that accepts it, and decodes to the built bytes', async () => {
    const t = await testApp(dialect)
    for (const url of builtAssets()) {
      const built = fs.readFileSync(path.join(WEB_ROOT, url))
      const res = await fetchAsset(t, url, 'gzip, deflate, br, zstd')
      expect({ url, status: res.statusCode, encoding: res.headers['content-encoding'] }).toEqual({ url, status: 200, encoding: 'br' })
      expect(String(res.headers.vary).toLowerCase()).toContain('accept-encoding')
      expect(String(res.headers['content-type'])).toMatch(url.endsWith('.js') ? /javascript/ : /text\/css/)
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable')
      expect(zlib.brotliDecompressSync(res.rawPayload).equals(built)).toBe(true)
      // The point of it: the main script is a fraction of its size on the wire.
      if (url.endsWith('.js')) expect(res.rawPayload.length).toBeLessThan(built.length / 3)
    }
  })

  it('is sent as gzip to a client that accepts only gzip', async () => {
    const t = await testApp(dialect)
    for (const url of builtAssets()) {
      const res = await fetchAsset(t, url, 'gzip')
      expect({ url, encoding: res.headers['content-encoding'] }).toEqual({ url, encoding: 'gzip' })
      expect(String(res.headers.vary).toLowerCase()).toContain('accept-encoding')
      expect(zlib.gunzipSync(res.rawPayload).equals(fs.readFileSync(path.join(WEB_ROOT, url)))).toBe(true)
    }
  })

  it('is sent as it is built to a client that accepts no encoding, still varying on Accept-Encoding', async () => {
    const t = await testApp(dialect)
    for (const url of builtAssets()) {
      for (const acceptEncoding of [undefined, 'identity']) {
        const res = await fetchAsset(t, url, acceptEncoding)
        expect({ url, acceptEncoding, encoding: res.headers['content-encoding'] }).toEqual({ url, acceptEncoding, encoding: undefined })
        expect(String(res.headers.vary).toLowerCase()).toContain('accept-encoding')
        expect(res.rawPayload.equals(fs.readFileSync(path.join(WEB_ROOT, url)))).toBe(true)
      }
    }
  })
})
