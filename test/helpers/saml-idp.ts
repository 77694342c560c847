/**
 * A programmable SAML IdP for negative tests: responses built field by field and signed with
 * xml-crypto (the library node-saml verifies with) using a key pair made by the openssl CLI,
 * so each test can change exactly one thing (Destination, Recipient, audience, issuer, times,
 * signature placement, algorithm). @boxyhq/saml20's createSAMLResponse is the other one.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SignedXml } from 'xml-crypto'

export interface KeyPair {
  privateKey: string
  certificate: string
}

export function testKeyPair(cn = 'latchkey-test-idp'): KeyPair {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-key-'))
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', `/CN=${cn}`, '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem')], { stdio: 'ignore' })
    return { privateKey: fs.readFileSync(path.join(dir, 'k.pem'), 'utf8'), certificate: fs.readFileSync(path.join(dir, 'c.pem'), 'utf8') }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'
export const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1'
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256'
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1'
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#'
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature'

export interface ResponseSpec {
  issuer: string
  audience: string
  destination: string | null
  recipient: string
  inResponseTo?: string
  email: string
  /** Milliseconds from now for NotOnOrAfter (negative: expired). */
  validForMs?: number
  /** Shift of every timestamp, in ms (negative: issued in the past). */
  shiftMs?: number
  assertionId?: string
  signAssertion?: boolean
  signResponse?: boolean
  algorithm?: 'sha256' | 'sha1'
  key: KeyPair
}

const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;')

export function buildResponse(spec: ResponseSpec): { xml: string; base64: string; assertionId: string } {
  const now = Date.now() + (spec.shiftMs ?? 0)
  const iso = (ms: number) => new Date(ms).toISOString()
  const end = now + (spec.validForMs ?? 5 * 60_000)
  const assertionId = spec.assertionId ?? `_a${randomBytes(16).toString('hex')}`
  const irt = spec.inResponseTo ? ` InResponseTo="${esc(spec.inResponseTo)}"` : ''
  const assertion =
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${assertionId}" Version="2.0" IssueInstant="${iso(now)}">` +
    `<saml:Issuer>${esc(spec.issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${esc(spec.email)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${iso(end)}" Recipient="${esc(spec.recipient)}"${irt}/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${iso(now - 30_000)}" NotOnOrAfter="${iso(end)}"><saml:AudienceRestriction><saml:Audience>${esc(spec.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${iso(now)}" SessionIndex="_s${randomBytes(8).toString('hex')}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    `<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>${esc(spec.email)}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>` +
    `</saml:Assertion>`
  const destination = spec.destination === null ? '' : ` Destination="${esc(spec.destination)}"`
  let xml =
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${randomBytes(16).toString('hex')}" Version="2.0" IssueInstant="${iso(now)}"${destination}${irt}>` +
    `<saml:Issuer>${esc(spec.issuer)}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    assertion +
    `</samlp:Response>`
  const sign = (document: string, target: 'Assertion' | 'Response') => {
    const sig = new SignedXml({ privateKey: spec.key.privateKey, publicCert: spec.key.certificate, signatureAlgorithm: spec.algorithm === 'sha1' ? RSA_SHA1 : RSA_SHA256, canonicalizationAlgorithm: EXC_C14N })
    const xpath = target === 'Assertion' ? "//*[local-name(.)='Assertion']" : "/*[local-name(.)='Response']"
    sig.addReference({ xpath, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: spec.algorithm === 'sha1' ? SHA1 : SHA256 })
    sig.computeSignature(document, { location: { reference: `${xpath}/*[local-name(.)='Issuer']`, action: 'after' } })
    return sig.getSignedXml()
  }
  if (spec.signAssertion !== false) xml = sign(xml, 'Assertion')
  if (spec.signResponse) xml = sign(xml, 'Response')
  return { xml, base64: Buffer.from(xml).toString('base64'), assertionId }
}

/** The AuthnRequest ID Latchkey sent (it is also the RelayState) from its redirect to the IdP. */
export function requestIdOf(idpUrl: string): string {
  const relay = new URL(idpUrl).searchParams.get('RelayState')
  if (!relay) throw new Error(`no RelayState in ${idpUrl}`)
  return relay
}
