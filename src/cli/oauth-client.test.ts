/**
 * The CLI as an OAuth client talking to servers it does not control: it believes only the
 * server it was pointed at (issuer checks on discovery and on every authorization response,
 * RFC 8414 §3.3 and RFC 9207) and only the answer to the sign-in it started (state).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { discover, exchangeCode, type AuthorizationRequest, type Server } from './oauth-client.ts'

/** A real server on loopback whose discovery document claims to be someone else. */
async function impostor(issuer: string): Promise<string> {
  const server = http.createServer((request, response) => {
    response.writeHead(request.url === '/.well-known/openid-configuration' ? 200 : 404, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/oauth/auth`, token_endpoint: `${issuer}/oauth/token` }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const SERVER: Server = {
  url: 'https://id.example.com',
  as: { issuer: 'https://id.example.com', authorization_endpoint: 'https://id.example.com/oauth/auth', token_endpoint: 'https://id.example.com/oauth/token', authorization_response_iss_parameter_supported: true },
}
const REQUEST: AuthorizationRequest = { url: new URL('https://id.example.com/oauth/auth'), state: 'the-state-we-sent', codeVerifier: 'v'.repeat(43), redirectUri: 'http://127.0.0.1:5000/callback' }

describe('the CLI trusts only the server it was pointed at', () => {
  it('refuses server metadata whose issuer is not the URL it asked', async () => {
    const url = await impostor('https://id.example.com')
    await expect(discover(url)).rejects.toMatchObject({ code: 'usage', message: expect.stringContaining('calls itself https://id.example.com') })
  })

  it('refuses an authorization response from another issuer (mix-up) or for another sign-in (state)', async () => {
    const answers = [
      `http://127.0.0.1:5000/callback?code=abc&state=${REQUEST.state}&iss=${encodeURIComponent('https://evil.example')}`,
      `http://127.0.0.1:5000/callback?code=abc&state=${REQUEST.state}`,
      `http://127.0.0.1:5000/callback?code=abc&state=another-state&iss=${encodeURIComponent(SERVER.as.issuer)}`,
    ]
    for (const answer of answers) {
      await expect(exchangeCode(SERVER, REQUEST, new URL(answer)), answer).rejects.toMatchObject({ code: 'access_denied', message: expect.stringContaining('does not belong to this sign-in') })
    }
  })
})
