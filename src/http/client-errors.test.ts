/**
 * Malformed HTTP, written byte for byte over a raw TCP socket to a listening server: each is
 * answered in the catalogued error shape with the fitting status, and the connection closes.
 */
import net from 'node:net'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ERROR_CATALOG } from '../errors.ts'
import { listeningApp } from '../../test/helpers/web.ts'
import { DIALECTS } from '../../test/helpers/databases.ts'
import { testApp } from '../../test/helpers/app.ts'

interface RawAnswer {
  status: number
  headers: Record<string, string>
  body: string
}

/** Writes the bytes, reads until the server closes the connection, and parses the answer. */
function rawRequest(port: number, bytes: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.write(bytes))
    const chunks: Buffer[] = []
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const split = text.indexOf('\r\n\r\n')
      if (split < 0) return reject(new Error(`no complete answer: ${JSON.stringify(text)}`))
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n')
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: text.slice(split + 4) })
    })
  })
}

const LONG = 'a'.repeat(20 * 1024)

const CASES: { rule: string; bytes: string; status: number; code: keyof typeof ERROR_CATALOG }[] = [
  { rule: 'an over-long header is 431 headers_too_large', bytes: `GET /api/v1/me HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${LONG}\r\n\r\n`, status: 431, code: 'headers_too_large' },
  { rule: 'an over-long query string is 431 headers_too_large', bytes: `GET /api/v1/users/ada?q=${LONG} HTTP/1.1\r\nHost: localhost\r\n\r\n`, status: 431, code: 'headers_too_large' },
  { rule: 'a Content-Length that is not a number is 400', bytes: 'POST /api/v1/signin HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ten\r\n\r\n{}', status: 400, code: 'malformed_request' },
  { rule: 'two different Content-Lengths are 400', bytes: 'POST /api/v1/signin HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', status: 400, code: 'malformed_request' },
  { rule: 'a chunk size that is not hexadecimal is 400', bytes: 'POST /api/v1/signin HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', status: 400, code: 'malformed_request' },
  { rule: 'Content-Length beside Transfer-Encoding is 400 (request smuggling)', bytes: 'POST /api/v1/signin HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n', status: 400, code: 'malformed_request' },
  { rule: 'bare-LF line endings are 400', bytes: 'GET /healthz HTTP/1.1\nHost: localhost\n\n', status: 400, code: 'malformed_request' },
  { rule: 'a request line that is not HTTP is 400', bytes: 'HELLO THERE\r\n\r\n', status: 400, code: 'malformed_request' },
  { rule: 'a bad HTTP version is 400', bytes: 'GET /healthz HTTP/9.x\r\nHost: localhost\r\n\r\n', status: 400, code: 'malformed_request' },
  { rule: 'a space inside the URL is 400', bytes: 'GET /api/v1/users/a b HTTP/1.1\r\nHost: localhost\r\n\r\n', status: 400, code: 'malformed_request' },
  { rule: 'an HTTP/1.1 request without Host is 400', bytes: 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n', status: 400, code: 'malformed_request' },
]

describe.each(DIALECTS)('malformed HTTP over a raw socket on %s', (dialect) => {
  // One server for the cases: each opens its own connection, and none reaches the database.
  let server: Awaited<ReturnType<typeof listeningApp>>
  beforeAll(async () => {
    server = await listeningApp(dialect, {}, { manualTeardown: true })
  })
  afterAll(() => server?.close())

  it.each(CASES)('$rule', async ({ bytes, status, code }) => {
    const port = Number(new URL(server.base).port)
    // Sent to PUBLIC_URL's host (localhost:<port>): the server answers nowhere else.
    const answer = await rawRequest(port, bytes.replace(/Host: localhost(\r?\n)/, `Host: localhost:${port}$1`))
    expect(answer.status).toBe(status)
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body))
    const body = JSON.parse(answer.body)
    expect(body).toEqual({ error: { code, message: expect.any(String) } })
    expect(ERROR_CATALOG[code].status).toBe(status)
  })

  it('still serves a well-formed request, and an HTTP/1.0 one without Host', async () => {
    const port = Number(new URL(server.base).port)
    const ok = await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
    expect(ok.status).toBe(200)
    const old = await rawRequest(port, 'GET /healthz HTTP/1.0\r\n\r\n')
    expect(old.status).toBe(200)
  })

  it('answers 408 request_timeout to a client that sends its headers too slowly, and closes the connection', async () => {
    const t = await testApp(dialect)
    const server = t.app.server.server
    // Node's own timeouts (60 s for the headers, checked every 30 s), shortened so the test
    // need not wait a minute; the answer is the same whatever their values.
    server.headersTimeout = 300
    server.requestTimeout = 600
    ;(server as typeof server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = 50
    await t.app.server.listen({ port: 0, host: '127.0.0.1' })
    const port = (server.address() as net.AddressInfo).port
    // A slowloris: one header byte every 50 ms, never the blank line that ends them.
    const answer = await new Promise<{ text: string; bytesSent: number }>((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' })
      const bytes = `GET /healthz HTTP/1.1\r\nHost: localhost:${port}\r\nX-Slow: ${'a'.repeat(200)}`
      let sent = 0
      const drip = setInterval(() => {
        if (sent < bytes.length && socket.writable) socket.write(bytes[sent++])
      }, 50)
      const chunks: Buffer[] = []
      socket.on('data', (chunk) => chunks.push(chunk))
      socket.on('error', (err) => {
        clearInterval(drip)
        reject(err)
      })
      socket.on('close', () => {
        clearInterval(drip)
        resolve({ text: Buffer.concat(chunks).toString('utf8'), bytesSent: sent })
      })
    })
    // It was still sending when the server gave up: the timeout counts from the first byte, not the last.
    expect(answer.bytesSent).toBeLessThan(200)
    const [head, body] = answer.text.split('\r\n\r\n')
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout')
    expect(head).toMatch(/^content-type: application\/json; charset=utf-8$/im)
    expect(head).toMatch(/^connection: close$/im)
    expect(JSON.parse(body)).toEqual({ error: { code: 'request_timeout', message: ERROR_CATALOG.request_timeout.message } })
  })

  it('logs the parser error code only, never the bytes of the request', async () => {
    const lines: string[] = []
    const log = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) })
    const t = await testApp(dialect, { LOG_LEVEL: 'trace' }, { log })
    await t.app.server.listen({ port: 0, host: '127.0.0.1' })
    const port = (t.app.server.server.address() as net.AddressInfo).port
    const secret = 'sessiontoken'.repeat(4)
    const answer = await rawRequest(port, `GET /api/v1/me HTTP/1.1\r\nHost: localhost\r\nCookie: latchkey_session=${secret}\r\nX-Padding: ${LONG}\r\n\r\n`)
    expect(answer.status).toBe(431)
    expect(lines.some((l) => l.includes('HPE_HEADER_OVERFLOW'))).toBe(true)
    expect(lines.join('\n')).not.toContain(secret)
  })
})
