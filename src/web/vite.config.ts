import { defineConfig, type Plugin } from 'vite'
import react from '@vitejs/plugin-react'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'

/**
 * Writes a brotli (`.br`) and a gzip (`.gz`) copy beside every script and stylesheet, once at
 * build time, for src/http/web-app.ts to send to browsers that accept them: the bundle is ~600 KB
 * raw and ~170 KB as brotli, and compressing per request would cost CPU on every page load
 * instead of once. Brotli quality 9, not 11: 11 saves another 12 KB for 3 s more of every build.
 */
function precompress(): Plugin {
  return {
    name: 'latchkey-precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      for (const file of Object.keys(bundle)) {
        if (!/\.(js|css|svg)$/.test(file)) continue
        const full = path.join(options.dir!, file)
        const data = fs.readFileSync(full)
        fs.writeFileSync(`${full}.br`, zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length } }))
        fs.writeFileSync(`${full}.gz`, zlib.gzipSync(data, { level: zlib.constants.Z_BEST_COMPRESSION }))
      }
    },
  }
}

// The web app is built into dist/web and served by the Latchkey server itself (no second server).
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react(), precompress()],
  build: {
    outDir: path.resolve(import.meta.dirname, '../../dist/web'),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
})
