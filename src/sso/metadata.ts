/**
 * IdP metadata in (SPEC §8): pasted XML, or fetched from a metadata URL, parsed with
 * @boxyhq/saml20's parseMetadata. The URL is an SSRF surface (the server fetches what an Admin
 * types), so, as SAML Jackson's validateMetadataURL does: https only, no private, loopback,
 * link-local or otherwise non-public address (checked on every address DNS gives, and on the
 * address actually connected to, so a rebinding answer cannot slip through), 1 MB, 8 s, no
 * redirects (a redirect could lead anywhere), and no DTD in the document (entity expansion).
 */
import { BlockList, isIP } from 'node:net'
import { lookup as dnsLookup } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import { X509Certificate } from 'node:crypto'
import boxyhq from '@boxyhq/saml20'
import type { AppContext } from '../context.ts'
import { AppError } from '../errors.ts'

// A CommonJS module compiled from ES modules: Node's ESM loader hands over `module.exports`,
// whose `default` is the toolkit; bundlers hand over the toolkit itself.
type Toolkit = typeof boxyhq.default
const saml20: Toolkit = 'parseMetadata' in boxyhq ? (boxyhq as unknown as Toolkit) : boxyhq.default

export const METADATA_MAX_BYTES = 1_000_000
export const METADATA_TIMEOUT_MS = 8000
export const MAX_IDP_CERTIFICATES = 2

export interface IdpSettings {
  entityId: string
  ssoUrl: string
  certificates: string[]
}

// Everything that is not a public unicast address (IANA special-purpose registries).
const blocked = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24],
  ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  blocked.addSubnet(net, prefix, 'ipv6')
}
// ::ffff:0:0/96 is not listed: BlockList checks IPv4 addresses against IPv6 rules in that
// mapped form, so it would block every IPv4 address; addressAllowed unwraps mapped ones itself.
const loopback = new BlockList()
loopback.addSubnet('127.0.0.0', 8, 'ipv4')
loopback.addAddress('::1', 'ipv6')

function refused(reason: string): AppError {
  return new AppError('sso_metadata_url_refused', { fields: { metadataUrl: reason } })
}

/** Whether the server may connect to `address` (an IP literal). */
export function addressAllowed(address: string, allowLoopback: boolean): boolean {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
  // An IPv4-mapped IPv6 address is the IPv4 address it maps.
  const mapped = family === 'ipv6' && /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return addressAllowed(mapped[1], allowLoopback)
  if (allowLoopback && loopback.check(address, family)) return true
  return !blocked.check(address, family)
}

/** Refuses a URL before any connection: scheme, credentials, and an IP literal host. */
export function checkMetadataUrl(raw: string, allowLoopback: boolean): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw refused('invalid')
  }
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const loopbackHost = isIP(host) !== 0 && loopback.check(host, isIP(host) === 6 ? 'ipv6' : 'ipv4')
  // http only towards loopback, only in test suites (the test IdP has no certificate).
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowLoopback && loopbackHost)) throw refused('https_required')
  if (url.username || url.password) throw refused('invalid')
  if (isIP(host) !== 0 && !addressAllowed(host, allowLoopback)) throw refused('private_address')
  return url
}

/** Fetches the metadata document: every rule of this module's comment, or an AppError. */
export async function fetchMetadata(ctx: AppContext, raw: string): Promise<string> {
  const allowLoopback = ctx.config.sso.metadataAllowLoopback
  const url = checkMetadataUrl(raw, allowLoopback)
  // Every address DNS gives must be public; the socket then connects to one of those.
  const lookup: typeof dnsLookup = ((hostname: string, options: object, callback: (err: Error | null, address: unknown, family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, undefined)
      const list = addresses as { address: string; family: number }[]
      if (list.length === 0 || list.some((a) => !addressAllowed(a.address, allowLoopback))) return callback(Object.assign(new Error('private address'), { code: 'PRIVATE_ADDRESS' }), undefined)
      if ((options as { all?: boolean }).all) return callback(null, list)
      callback(null, list[0].address, list[0].family)
    })
  }) as typeof dnsLookup
  const client = url.protocol === 'https:' ? https : http
  return new Promise<string>((resolve, reject) => {
    const request = client.get(url, { lookup, signal: AbortSignal.timeout(METADATA_TIMEOUT_MS), headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' } }, (response) => {
      const status = response.statusCode ?? 0
      if (status >= 300 && status < 400) {
        response.destroy()
        return reject(refused('redirect'))
      }
      if (status !== 200) {
        response.destroy()
        return reject(new AppError('sso_metadata_unreachable', { message: `The metadata URL answered with HTTP ${status}.` }))
      }
      const declared = Number(response.headers['content-length'] ?? 0)
      if (declared > METADATA_MAX_BYTES) {
        response.destroy()
        return reject(new AppError('sso_metadata_too_large'))
      }
      const chunks: Buffer[] = []
      let size = 0
      response.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > METADATA_MAX_BYTES) {
          response.destroy()
          reject(new AppError('sso_metadata_too_large'))
          return
        }
        chunks.push(chunk)
      })
      response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
      response.on('error', (err) => reject(unreachable(err)))
    })
    request.on('error', (err) => reject(unreachable(err)))
  })
}

function unreachable(err: Error): AppError {
  if ((err as NodeJS.ErrnoException).code === 'PRIVATE_ADDRESS') return refused('private_address')
  return new AppError('sso_metadata_unreachable', { cause: err })
}

/** A PEM certificate from PEM or bare base64; refuses anything node:crypto cannot read. */
export function normalizeCertificate(input: string): string {
  const body = input.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new AppError('sso_certificate_invalid', { fields: { certificates: 'invalid' } })
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`
  try {
    new X509Certificate(pem)
  } catch {
    throw new AppError('sso_certificate_invalid', { fields: { certificates: 'invalid' } })
  }
  return pem
}

export function certificateSummary(pem: string): { fingerprintSha256: string; subject: string; notAfter: string } {
  const cert = new X509Certificate(pem)
  return { fingerprintSha256: cert.fingerprint256, subject: cert.subject, notAfter: new Date(cert.validTo).toISOString() }
}

/** Reads IdP metadata XML into the three settings a connection needs. */
export async function parseIdpMetadata(xml: string): Promise<IdpSettings> {
  if (Buffer.byteLength(xml) > METADATA_MAX_BYTES) throw new AppError('sso_metadata_too_large')
  // No DTD at all: entity declarations are how XML bombs and external entities get in.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new AppError('sso_metadata_invalid', { message: 'The IdP metadata has a DTD (<!DOCTYPE or <!ENTITY): remove it and try again.', fields: { metadataXml: 'dtd' } })
  let parsed: { entityID?: unknown; loginType?: unknown; publicKey?: unknown; sso?: { redirectUrl?: unknown; postUrl?: unknown } }
  try {
    parsed = await saml20.parseMetadata(xml, {})
  } catch (err) {
    throw new AppError('sso_metadata_invalid', { fields: { metadataXml: 'unreadable' }, cause: err })
  }
  // An SP's metadata parses too (loginType 'sp'): it is not an IdP's.
  const ssoUrl = parsed.sso?.redirectUrl ?? parsed.sso?.postUrl
  if (parsed.loginType !== 'idp' || typeof parsed.entityID !== 'string' || !parsed.entityID || typeof ssoUrl !== 'string') {
    throw new AppError('sso_metadata_invalid', { fields: { metadataXml: 'not_idp_metadata' } })
  }
  // parseMetadata joins the signing certificates with commas (base64 has none); the same one
  // may be listed twice (for signing and for encryption).
  const certificates = [...new Set(String(parsed.publicKey ?? '').split(',').map((c) => c.trim()).filter(Boolean).map((c) => normalizeCertificate(c)))].slice(0, MAX_IDP_CERTIFICATES)
  if (certificates.length === 0) throw new AppError('sso_metadata_invalid', { fields: { metadataXml: 'no_certificate' } })
  return { entityId: parsed.entityID, ssoUrl: checkSsoUrl(ssoUrl), certificates }
}

/** The IdP's SSO URL: where browsers are sent, so http(s) only. */
export function checkSsoUrl(raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new AppError('invalid_request', { message: 'The SSO URL is not a valid URL.', fields: { ssoUrl: 'invalid' } })
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('invalid_request', { message: 'The SSO URL must be an http(s) address.', fields: { ssoUrl: 'invalid' } })
  return url.href
}
