import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { startLoopback } from './loopback.ts'
import { normalizeServerUrl } from './oauth-client.ts'
import { openBrowser } from './open-browser.ts'
import { CliError } from './errors.ts'

async function loopback() {
  const lb = await startLoopback()
  onTestFinished(() => lb.close())
  return lb
}

describe('loopback redirect (RFC 8252 §7.3)', () => {
  it('listens on 127.0.0.1 and an ephemeral port, path /callback', async () => {
    const lb = await loopback()
    expect(lb.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    expect(new URL(lb.redirectUri).port).not.toBe('0')
  })

  it('turns away a request with another state and keeps waiting for the right one', async () => {
    const lb = await loopback()
    const waiting = lb.wait('the-state', new AbortController().signal)
    const stranger = await fetch(`${lb.redirectUri}?code=stolen&state=other`)
    expect(stranger.status).toBe(400)
    expect(await fetch(lb.redirectUri.replace('/callback', '/elsewhere')).then((r) => r.status)).toBe(404)
    const browser = fetch(`${lb.redirectUri}?code=abc&state=the-state`)
    const outcome = await waiting
    expect(outcome.url.searchParams.get('code')).toBe('abc')
    outcome.respond(true, 'Signed in as alice.')
    const page = await browser
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('Signed in as alice.')
    expect(html).toContain('You can close this tab and go back to the terminal')
  })

  it('shows the failure, escaped, on the page', async () => {
    const lb = await loopback()
    const waiting = lb.wait('s', new AbortController().signal)
    const browser = fetch(`${lb.redirectUri}?error=access_denied&state=s`)
    ;(await waiting).respond(false, 'Denied <script>')
    const page = await browser
    expect(page.status).toBe(400)
    const html = await page.text()
    expect(html).toContain('Denied &#60;script&#62;')
    expect(html).toContain('You can close this tab and go back to the terminal')
  })

  it('stops waiting when cancelled (Ctrl-C) and closes the port', async () => {
    const lb = await loopback()
    const controller = new AbortController()
    const waiting = lb.wait('s', controller.signal)
    controller.abort(new CliError('cancelled', 'Sign-in cancelled.'))
    await expect(waiting).rejects.toThrow('Sign-in cancelled.')
    lb.close()
    await expect(fetch(`${lb.redirectUri}?state=s`)).rejects.toThrow()
  })
})

describe('opening the browser', () => {
  function script(body: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-browser-'))
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'browser.sh')
    fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 })
    return file
  }

  it('runs $BROWSER with the URL as one argument, untouched by any shell', async () => {
    const out = path.join(os.tmpdir(), `latchkey-url-${process.pid}-${Date.now()}`)
    onTestFinished(() => fs.rmSync(out, { force: true }))
    const url = 'http://localhost:1/authorize?a=1&b=$(touch /tmp/pwned)&c=`id`'
    const result = await openBrowser(url, { BROWSER: script(`printf '%s' "$1" > ${out}`) }, 'linux')
    expect(result).toEqual({ opened: true })
    expect(fs.readFileSync(out, 'utf8')).toBe(url)
  })

  it('tries each command of a colon-separated $BROWSER in turn', async () => {
    const out = path.join(os.tmpdir(), `latchkey-url-${process.pid}-${Date.now()}-2`)
    onTestFinished(() => fs.rmSync(out, { force: true }))
    const result = await openBrowser('http://x.test/', { BROWSER: `/nonexistent/browser:${script(`printf '%s' "$1" > ${out}`)}` }, 'linux')
    expect(result).toEqual({ opened: true })
    expect(fs.readFileSync(out, 'utf8')).toBe('http://x.test/')
  })

  it('reports a browser command that is missing or fails', async () => {
    expect(await openBrowser('http://x.test/', { BROWSER: '/nonexistent/browser' }, 'linux')).toEqual({ opened: false, reason: '/nonexistent/browser was not found' })
    const failing = script('exit 3')
    expect(await openBrowser('http://x.test/', { BROWSER: failing }, 'linux')).toEqual({ opened: false, reason: `${failing} exited with code 3` })
  })

  it('does not start xdg-open without a graphical session', async () => {
    const result = await openBrowser('http://x.test/', {}, 'linux')
    expect(result.opened).toBe(false)
    if (!result.opened) expect(result.reason).toContain('DISPLAY')
  })
})

describe('server URL', () => {
  it('assumes https, keeps a path, drops a trailing slash', () => {
    expect(normalizeServerUrl('id.example.com')).toBe('https://id.example.com')
    expect(normalizeServerUrl('https://example.com/latchkey/')).toBe('https://example.com/latchkey')
    expect(normalizeServerUrl('http://localhost:3000/')).toBe('http://localhost:3000')
    expect(normalizeServerUrl('http://127.0.0.1:3000')).toBe('http://127.0.0.1:3000')
  })

  it('refuses plain http to another machine, and URLs with credentials or a query', () => {
    expect(() => normalizeServerUrl('http://id.example.com')).toThrow(/HTTPS only/)
    expect(() => normalizeServerUrl('https://u:p@id.example.com')).toThrow(/without credentials/)
    expect(() => normalizeServerUrl('https://id.example.com/?x=1')).toThrow(/without credentials/)
    expect(() => normalizeServerUrl('ftp://id.example.com')).toThrow(/not an http/)
  })
})
