/**
 * A real SAML IdP for tests: Debian's SimpleSAMLphp 1.19 under PHP's built-in server on
 * loopback (no Apache), with a temporary config directory, a key pair made here with the
 * openssl CLI, users in exampleauth:UserPass, and the SPs the test registers. One per test
 * file (start in beforeAll, stop in afterAll).
 *
 * The browser is played by `login`: it follows the IdP's redirects with a cookie jar, posts
 * the username and password to the login form, and returns the auto-post form's SAMLResponse
 * and RelayState, which the test posts to Latchkey's ACS.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

const WWW = '/usr/share/simplesamlphp/www'
const DEFAULT_CONFIG = '/etc/simplesamlphp/config.php'

export interface IdpUser {
  username: string
  password: string
  email: string
  attributes?: Record<string, string[]>
}

export interface AutoPost {
  action: string
  SAMLResponse: string
  RelayState: string | undefined
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

const php = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

export class SimpleSamlPhp {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-ssp-'))
  port = 0
  #process?: ChildProcess
  #stderr = ''
  #sps = new Map<string, string>()
  certificatePem = ''
  privateKeyPem = ''

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`
  }
  get entityId(): string {
    return `${this.baseUrl}/saml2/idp/metadata.php`
  }
  get metadataUrl(): string {
    return `${this.baseUrl}/saml2/idp/metadata.php`
  }
  get ssoUrl(): string {
    return `${this.baseUrl}/saml2/idp/SSOService.php`
  }

  async start(users: IdpUser[]): Promise<this> {
    this.port = await freePort()
    for (const sub of ['config', 'metadata', 'cert', 'log', 'data', 'tmp']) fs.mkdirSync(path.join(this.dir, sub))
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', '/CN=latchkey-test-idp', '-keyout', path.join(this.dir, 'cert', 'idp.key'), '-out', path.join(this.dir, 'cert', 'idp.crt')], { stdio: 'ignore' })
    this.certificatePem = fs.readFileSync(path.join(this.dir, 'cert', 'idp.crt'), 'utf8')
    this.privateKeyPem = fs.readFileSync(path.join(this.dir, 'cert', 'idp.key'), 'utf8')
    const overrides: Record<string, string> = {
      baseurlpath: php(`${this.baseUrl}/`),
      certdir: php(path.join(this.dir, 'cert') + '/'),
      loggingdir: php(path.join(this.dir, 'log') + '/'),
      datadir: php(path.join(this.dir, 'data') + '/'),
      tempdir: php(path.join(this.dir, 'tmp')),
      metadatadir: php(path.join(this.dir, 'metadata') + '/'),
      secretsalt: php('latchkey-test-salt-0123456789'),
      'auth.adminpassword': php('latchkey-test-admin'),
      'enable.saml20-idp': 'true',
      'session.cookie.secure': 'false',
      'session.cookie.samesite': 'null',
      'logging.handler': php('file'),
      'logging.level': 'SimpleSAML\\Logger::WARNING',
      'module.enable': "['exampleauth' => true, 'core' => true, 'admin' => true, 'saml' => true]",
      'store.type': php('phpsession'),
    }
    const config = fs.readFileSync(DEFAULT_CONFIG, 'utf8') + '\n' + Object.entries(overrides).map(([k, v]) => `$config[${php(k)}] = ${v};`).join('\n') + '\n'
    fs.writeFileSync(path.join(this.dir, 'config', 'config.php'), config)
    const userEntries = users
      .map((u) => {
        const attributes = { uid: [u.username], email: [u.email], ...(u.attributes ?? {}) }
        const attrs = Object.entries(attributes).map(([k, vs]) => `${php(k)} => [${vs.map(php).join(', ')}]`).join(', ')
        return `    ${php(`${u.username}:${u.password}`)} => [${attrs}],`
      })
      .join('\n')
    fs.writeFileSync(
      path.join(this.dir, 'config', 'authsources.php'),
      `<?php\n$config = [\n  'admin' => ['core:AdminPassword'],\n  'example-userpass' => [\n    'exampleauth:UserPass',\n${userEntries}\n  ],\n];\n`,
    )
    fs.writeFileSync(
      path.join(this.dir, 'metadata', 'saml20-idp-hosted.php'),
      `<?php\n$metadata[${php(this.entityId)}] = [\n  'host' => '__DEFAULT__',\n  'privatekey' => 'idp.key',\n  'certificate' => 'idp.crt',\n  'auth' => 'example-userpass',\n  'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',\n  'authproc' => [3 => ['class' => 'saml:AttributeNameID', 'attribute' => 'email', 'Format' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress']],\n  'saml20.sign.response' => true,\n  'saml20.sign.assertion' => true,\n  'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',\n];\n`,
    )
    this.#writeSps()
    this.#process = spawn('php', ['-S', `127.0.0.1:${this.port}`, '-t', WWW], { env: { ...process.env, SIMPLESAMLPHP_CONFIG_DIR: path.join(this.dir, 'config') }, stdio: ['ignore', 'ignore', 'pipe'] })
    this.#process.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-20_000)
    })
    const deadline = performance.now() + 15_000
    for (;;) {
      try {
        const res = await fetch(this.metadataUrl)
        if (res.status === 200) break
      } catch {
        // not listening yet
      }
      if (performance.now() > deadline) throw new Error(`SimpleSAMLphp did not start: ${this.#stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return this
  }

  /** Registers (or replaces) a Latchkey SP: PHP reads the file on every request. */
  registerSp(entityId: string, acsUrl: string): void {
    this.#sps.set(entityId, acsUrl)
    this.#writeSps()
  }

  #writeSps(): void {
    const entries = [...this.#sps]
      .map(([entityId, acs]) => `$metadata[${php(entityId)}] = ['AssertionConsumerService' => ${php(acs)}, 'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress', 'validate.authnrequest' => false];`)
      .join('\n')
    fs.writeFileSync(path.join(this.dir, 'metadata', 'saml20-sp-remote.php'), `<?php\n${entries}\n`)
  }

  async metadataXml(): Promise<string> {
    return (await fetch(this.metadataUrl)).text()
  }

  /** The IdP-initiated start URL for an SP (what an IdP dashboard's app tile opens). */
  idpInitiatedUrl(spEntityId: string, relayState?: string): string {
    const url = new URL('/saml2/idp/SSOService.php', this.baseUrl)
    url.searchParams.set('spentityid', spEntityId)
    if (relayState !== undefined) url.searchParams.set('RelayState', relayState)
    return url.href
  }

  /** Plays the browser at the IdP: from `url` to the auto-post form, signing in as `user`. */
  async login(url: string, user: { username: string; password: string }): Promise<AutoPost> {
    const jar = new Map<string, string>()
    const go = async (target: string, init: RequestInit = {}): Promise<{ url: string; body: string }> => {
      let current = target
      let options = init
      for (let hops = 0; hops < 10; hops++) {
        const res = await fetch(current, { ...options, redirect: 'manual', headers: { ...(options.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } })
        for (const c of res.headers.getSetCookie()) {
          const [pair] = c.split(';')
          const eq = pair.indexOf('=')
          jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim())
        }
        const location = res.headers.get('location')
        if (res.status >= 300 && res.status < 400 && location) {
          current = new URL(location, current).href
          options = {}
          continue
        }
        return { url: current, body: await res.text() }
      }
      throw new Error('too many redirects at the IdP')
    }
    const form = await go(url)
    const authState = /name="AuthState"\s+value="([^"]+)"/.exec(form.body)?.[1]
    if (!authState) throw new Error(`no login form at the IdP: ${form.body.slice(0, 500)} ${this.#stderr.slice(-2000)}`)
    const posted = await go(form.url.split('?')[0], {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user.username, password: user.password, AuthState: decodeHtml(authState) }).toString(),
    })
    const action = /<form[^>]+action="([^"]+)"/.exec(posted.body)?.[1]
    const samlResponse = /name="SAMLResponse"\s+value="([^"]+)"/.exec(posted.body)?.[1]
    if (!action || !samlResponse) throw new Error(`no SAMLResponse from the IdP: ${posted.body.slice(0, 800)}`)
    const relayState = /name="RelayState"\s+value="([^"]*)"/.exec(posted.body)?.[1]
    return { action: decodeHtml(action), SAMLResponse: decodeHtml(samlResponse), RelayState: relayState === undefined ? undefined : decodeHtml(relayState) }
  }

  async stop(): Promise<void> {
    const child = this.#process
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

function decodeHtml(value: string): string {
  return value.replace(/&quot;/g, '"').replace(/&#0?39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x2F;/gi, '/').replace(/&#x3D;/gi, '=').replace(/&#x2B;/gi, '+').replace(/&amp;/g, '&')
}
