/**
 * A real OpenID Connect identity provider for tests: a second `oidc-provider` over HTTPS on
 * 127.0.0.1, with a CA and server certificate made by the `openssl` CLI for this run, so
 * Latchkey's production code talks to it exactly as to Google (HTTPS only, issuer checked,
 * PKCE required) and trusts it only through the operator's SSO_CA_FILE setting: no "allow
 * insecure" switch exists anywhere.
 *
 * Generic on purpose: it plays Google (users with `email_verified` and `hd`) and a company's
 * own IdP for team OIDC alike. Its built-in development login page takes any password; the
 * login typed is the user's `sub`. Consent is skipped (a grant is made for every sign-in), as
 * Google does for a first-party sign-in after the first time.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Agent, fetch as undiciFetch } from 'undici'
import { onTestFinished } from 'vitest'

export interface IdpUser {
  sub: string
  email: string
  email_verified: boolean
  hd?: string
  name?: string
}

export interface IdpClient {
  client_id: string
  client_secret: string
  redirect_uris: string[]
}

export interface TestIdp {
  /** The issuer, `https://127.0.0.1:<port>`. */
  issuer: string
  /** Path of the PEM CA certificate that signed the IdP's server certificate (for SSO_CA_FILE). */
  caFile: string
  caPem: string
  users: Map<string, IdpUser>
  addUser(user: IdpUser): IdpUser
  addClient(client: IdpClient): void
  /** fetch() that trusts the test CA, never follows redirects, and keeps no cookies. */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>
  /**
   * A person at the IdP's sign-in page: follows the authorization URL, types `sub` as the login
   * (any password) and returns the URL the IdP sends the browser back to (the client's
   * redirect URI with `code`, `state` and `iss`, or an error).
   */
  signIn(authorizationUrl: string, sub: string): Promise<URL>
  close(): Promise<void>
}

/** A CA and a server certificate for 127.0.0.1 and localhost, made by openssl in a temp dir. */
export function makeCertificates(): { dir: string; caFile: string; caPem: string; key: string; cert: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-idp-'))
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Latchkey test IdP CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1')
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n')
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext')
  const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8')
  return { dir, caFile: path.join(dir, 'ca.pem'), caPem: read('ca.pem'), key: read('server.key'), cert: read('server.pem') }
}

export async function startTestIdp(options: { users?: IdpUser[]; clients?: IdpClient[]; manualTeardown?: boolean } = {}): Promise<TestIdp> {
  const { default: Provider } = await import('oidc-provider')
  const certs = makeCertificates()
  const users = new Map<string, IdpUser>()
  const clients: IdpClient[] = []
  for (const u of options.users ?? []) users.set(u.sub, u)
  for (const c of options.clients ?? []) clients.push(c)

  // The port is known only once listening, and the issuer includes it: listen first, then
  // hand requests to the provider built for that address.
  let handler: ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) | undefined
  const server: Server = createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
    // Google's `prompt=select_account` shows its account chooser; oidc-provider knows no such
    // prompt, and its nearest is `login` (the person says who they are every time).
    if (req.url?.startsWith('/auth?')) req.url = req.url.replace(/([?&]prompt=)select_account(?=&|$)/, '$1login')
    if (handler) handler(req, res)
    else res.writeHead(503).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`

  // Rebuilt when a client is added (oidc-provider reads static clients once); its memory
  // adapter is shared by every instance in the process, so a sign-in under way survives that.
  const build = () => {
  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({ ...c, token_endpoint_auth_method: 'client_secret_basic', response_types: ['code'], grant_types: ['authorization_code'] })),
    cookies: { keys: ['test-idp-cookie-key-0123456789abcdef'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'hd'] },
    async findAccount(_ctx, sub) {
      const user = users.get(sub)
      if (!user) return undefined
      return { accountId: sub, claims: async () => ({ ...user }) }
    },
    // Claims in the ID token itself, as Google puts them there.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    ttl: { AuthorizationCode: 60, AccessToken: 600, IdToken: 600, Interaction: 600, Grant: 600, Session: 600 },
    features: { devInteractions: { enabled: true } },
    async loadExistingGrant(ctx) {
      const accountId = ctx.oidc.session?.accountId
      const clientId = ctx.oidc.client?.clientId
      if (!accountId || !clientId) return undefined
      const grant = new ctx.oidc.provider.Grant({ accountId, clientId })
      grant.addOIDCScope('openid email profile')
      grant.addOIDCClaims(['email', 'email_verified', 'name', 'hd'])
      await grant.save()
      return grant
    },
  })
  const callback = provider.callback()
  handler = (req, res) => void callback(req, res)
  }
  build()

  const agent = new Agent({ connect: { ca: certs.caPem } })
  const idpFetch = async (url: string | URL, init: RequestInit = {}) =>
    (await undiciFetch(url, { ...(init as object), redirect: 'manual', dispatcher: agent })) as unknown as Response

  async function signIn(authorizationUrl: string, sub: string): Promise<URL> {
    const jar = new Map<string, string>()
    const send = async (url: string, init: RequestInit = {}) => {
      const res = await idpFetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } })
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';')
        const eq = pair.indexOf('=')
        const value = pair.slice(eq + 1)
        if (value) jar.set(pair.slice(0, eq), value)
        else jar.delete(pair.slice(0, eq))
      }
      return res
    }
    let url = authorizationUrl
    let submitted = false
    // Redirects within the IdP are followed; the first one that leaves it is the answer.
    for (let hop = 0; hop < 10; hop += 1) {
      const res = await send(url)
      const location = res.headers.get('location')
      if (location) {
        const next = new URL(location, url)
        if (next.origin !== issuer) return next
        url = next.href
        continue
      }
      const html = await res.text()
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]
      if (!action || submitted) throw new Error(`test IdP: no way on from ${url} (${res.status}): ${html.slice(0, 300)}`)
      submitted = true
      const posted = await send(new URL(action.replace(/&amp;/g, '&'), url).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ prompt: 'login', login: sub, password: 'any password' }).toString(),
      })
      const after = posted.headers.get('location')
      if (!after) throw new Error(`test IdP: the login form answered ${posted.status}`)
      const next = new URL(after, url)
      if (next.origin !== issuer) return next
      url = next.href
    }
    throw new Error('test IdP: too many redirects')
  }

  const close = async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await agent.close()
    fs.rmSync(certs.dir, { recursive: true, force: true })
  }
  if (!options.manualTeardown) onTestFinished(close)

  return {
    issuer,
    caFile: certs.caFile,
    caPem: certs.caPem,
    users,
    addUser(user) {
      users.set(user.sub, user)
      return user
    },
    addClient(client) {
      clients.push(client)
      build()
    },
    fetch: idpFetch,
    signIn,
    close,
  }
}
