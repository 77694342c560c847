/**
 * The SAML service provider of one connection: @node-saml/node-saml 5 does the XML signature,
 * audience, time and InResponseTo checks; this module adds what node-saml 5.1 does not check
 * (research §2d, upstream issues #437 and #405) and reads only the profile node-saml returns:
 *
 * - Response/@Destination and SubjectConfirmationData/@Recipient must be this connection's ACS URL;
 * - the assertion's Issuer must be the connection's IdP entity ID (node-saml's `idpIssuer` is
 *   only applied to logout messages);
 * - RSA-SHA256 or stronger, SHA-256 or stronger digests (xml-crypto 6 still accepts SHA-1);
 * - an assertion ID is accepted once (`sso_used_assertions`, a conditional insert, so two
 *   instances cannot both accept it) until its NotOnOrAfter;
 * - InResponseTo is always required, with the request-ID cache in `sso_requests`, shared by
 *   every instance and keyed per connection (one IdP cannot answer another's request); it may
 *   be missing only when the Admin turned IdP-initiated sign-in on.
 *
 * node-saml reads its own clock (`new Date()`, not injectable): assertion times are judged on
 * the system clock, everything Latchkey stores (request and assertion expiries) on ctx.clock.
 */
import { SAML, ValidateInResponseTo, type CacheItem, type CacheProvider, type Profile } from '@node-saml/node-saml'
// node-saml's own DOM parser and XPath helper, so the Destination and the signature algorithms are
// read from the very document tree node-saml verifies (no second parser, no differential).
import { parseDomFromString, xpath } from '@node-saml/node-saml/lib/xml.js'
import { randomBytes } from 'node:crypto'
import type { AppContext } from '../context.ts'
import { AppError, type ErrorCode } from '../errors.ts'
import { acsUrl, certificatesOf, spEntityId, type ConnectionRow } from './connections.ts'

/** How long an AuthnRequest waits for its answer. */
export const REQUEST_TTL_MS = 10 * 60_000
export const CLOCK_SKEW_MS = 60_000
/** An assertion without a NotOnOrAfter is remembered this long (node-saml refuses it anyway past its age). */
const DEFAULT_ASSERTION_MEMORY_MS = 60 * 60_000

const ALLOWED_SIGNATURE_METHODS = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
])
const ALLOWED_DIGEST_METHODS = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512',
])

/** What Latchkey keeps with an AuthnRequest it sent (beside node-saml's own timestamp). */
export interface RequestData {
  purpose: 'signin' | 'test'
  returnTo: string
  /** Hash of the browser cookie set when the sign-in started (login CSRF: only that browser finishes it). */
  bindHash: string
  /** The Admin who started a test sign-in. */
  testerAccountId?: string
}

interface StoredRequest extends RequestData {
  instant: string
}

/**
 * node-saml's CacheProvider over `sso_requests`, for one connection. Remembers what it read, so
 * the caller learns which of its requests the response answered (node-saml removes the entry).
 */
export class RequestCache implements CacheProvider {
  read: StoredRequest | null = null
  private readonly ctx: AppContext
  private readonly connectionId: string
  private readonly data?: RequestData
  constructor(ctx: AppContext, connectionId: string, data?: RequestData) {
    this.ctx = ctx
    this.connectionId = connectionId
    this.data = data
  }

  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    if (!this.data) throw new Error('RequestCache: no request data to save')
    const now = this.ctx.clock.now()
    const stored: StoredRequest = { ...this.data, instant: value }
    await this.ctx.db.insertInto('sso_requests').values({ connection_id: this.connectionId, request_id: key, value: JSON.stringify(stored), expires_at: now + REQUEST_TTL_MS }).execute()
    return { value, createdAt: now }
  }

  async getAsync(key: string): Promise<string | null> {
    const row = await this.ctx.db.selectFrom('sso_requests').select(['value', 'expires_at']).where('connection_id', '=', this.connectionId).where('request_id', '=', key).executeTakeFirst()
    if (!row || row.expires_at <= this.ctx.clock.now() || key.startsWith('handoff:')) return null
    this.read = JSON.parse(row.value) as StoredRequest
    return this.read.instant
  }

  async removeAsync(key: string | null): Promise<string | null> {
    if (!key || key.startsWith('handoff:')) return null
    await this.ctx.db.deleteFrom('sso_requests').where('connection_id', '=', this.connectionId).where('request_id', '=', key).execute()
    return key
  }
}

function spFor(ctx: AppContext, connection: ConnectionRow, cache: CacheProvider, options: { requestId?: string } = {}): SAML {
  return new SAML({
    callbackUrl: acsUrl(ctx, connection.id),
    entryPoint: connection.idp_sso_url ?? undefined,
    issuer: spEntityId(ctx, connection.id),
    idpCert: certificatesOf(connection),
    idpIssuer: connection.idp_entity_id ?? undefined,
    audience: spEntityId(ctx, connection.id),
    wantAssertionsSigned: true,
    // Either a signed Response or only a signed Assertion is fine: the assertion must be signed.
    wantAuthnResponseSigned: false,
    signatureAlgorithm: 'sha256',
    acceptedClockSkewMs: CLOCK_SKEW_MS,
    validateInResponseTo: connection.idp_initiated === 1 ? ValidateInResponseTo.ifPresent : ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: REQUEST_TTL_MS,
    cacheProvider: cache,
    identifierFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    disableRequestedAuthnContext: true,
    // The ID is ours, so the request's data can be stored under it; "_" + hex is a valid xs:ID.
    generateUniqueId: () => options.requestId ?? `_${randomBytes(20).toString('hex')}`,
  })
}

/** The SP metadata an IdP administrator uploads (or fetches from the entity ID, which is its URL). */
export function spMetadataXml(ctx: AppContext, connection: ConnectionRow): string {
  return spFor(ctx, connection, new RequestCache(ctx, connection.id)).generateServiceProviderMetadata(null)
}

/** The IdP URL to send the browser to (HTTP-Redirect binding), its request stored for the answer. */
export async function authnRequestUrl(ctx: AppContext, connection: ConnectionRow, data: RequestData): Promise<string> {
  const cache = new RequestCache(ctx, connection.id, data)
  // Always validated: even with IdP-initiated on, our own requests must come back to us.
  // The RelayState is the request's own ID: where to go afterwards is kept with the request
  // (never in the URL, so never an open redirect), and the answer must bring the same one back.
  const requestId = `_${randomBytes(20).toString('hex')}`
  const sp = spFor(ctx, { ...connection, idp_initiated: 0 }, cache, { requestId })
  return sp.getAuthorizeUrlAsync(requestId, undefined, {})
}

export interface ValidatedAssertion {
  nameId: string
  email: string | null
  attributes: Record<string, unknown>
  assertionId: string
  notOnOrAfter: number
  /** The request this answers; null for an IdP-initiated (unsolicited) response. */
  request: RequestData | null
  /** The answered request's ID (the RelayState it was sent with). */
  inResponseTo: string | null
  sessionIndex: string | null
}

function fail(code: ErrorCode, cause: unknown): AppError {
  return new AppError(code, { cause })
}

/** node-saml's error messages, sorted into the error pages people see. */
function classify(err: unknown): AppError {
  if (err instanceof AppError) return err
  const message = err instanceof Error ? err.message : String(err)
  if (/InResponseTo/i.test(message)) return fail('saml_request_unknown', err)
  if (/signature|Cannot obtain assertion|Referenced node|ID cannot refer|transforms/i.test(message)) return fail('saml_signature_invalid', err)
  if (/audience/i.test(message)) return fail('saml_wrong_recipient', err)
  if (/issuer/i.test(message)) return fail('saml_wrong_issuer', err)
  // "No valid subject confirmation": node-saml's words when SubjectConfirmationData's times fail.
  if (/expired|not yet valid|too old|clocks skewed|No valid subject confirmation/i.test(message)) return fail('saml_expired', err)
  return fail('saml_response_invalid', err)
}

/**
 * Checks made on node-saml's own parse of the response, before node-saml verifies it: the
 * Destination (when present) and the algorithms of the signatures node-saml will check (the
 * Response's and the Assertion's direct-child Signature elements, the nodes node-saml selects).
 */
async function precheck(ctx: AppContext, connection: ConnectionRow, samlResponse: string): Promise<void> {
  let doc: Awaited<ReturnType<typeof parseDomFromString>>
  try {
    doc = await parseDomFromString(Buffer.from(samlResponse, 'base64').toString('utf8'))
  } catch (err) {
    throw fail('saml_response_invalid', err)
  }
  const destination = xpath.selectAttributes(doc, "/*[local-name()='Response']/@Destination")
  // SAML Profiles §4.1.4.5: a signed response MUST carry it; unsigned ones may omit it.
  if (destination.length > 0 && destination[0].nodeValue !== acsUrl(ctx, connection.id)) throw fail('saml_wrong_recipient', new Error('Destination mismatch'))
  const signatures = [
    ...xpath.selectElements(doc, "/*[local-name()='Response']/*[local-name()='Signature']"),
    ...xpath.selectElements(doc, "/*[local-name()='Response']/*[local-name()='Assertion']/*[local-name()='Signature']"),
  ]
  for (const signature of signatures) {
    const methods = xpath.selectAttributes(signature, ".//*[local-name()='SignatureMethod']/@Algorithm").map((a) => a.nodeValue)
    const digests = xpath.selectAttributes(signature, ".//*[local-name()='DigestMethod']/@Algorithm").map((a) => a.nodeValue)
    if (methods.some((m) => !ALLOWED_SIGNATURE_METHODS.has(m ?? '')) || digests.some((d) => !ALLOWED_DIGEST_METHODS.has(d ?? ''))) {
      throw fail('saml_signature_invalid', new Error(`signature algorithm refused: ${methods.join(',')} / ${digests.join(',')}`))
    }
  }
}

// xml2js output, as node-saml hands it over (its own type for it is as loose).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type XmlJs = Record<string, any>

function first(node: unknown): XmlJs | undefined {
  return Array.isArray(node) ? (node[0] as XmlJs) : undefined
}

/** Validates a POSTed SAMLResponse for this connection; throws the AppError of its error page. */
export async function validateSamlResponse(ctx: AppContext, connection: ConnectionRow, samlResponse: string): Promise<ValidatedAssertion> {
  const cache = new RequestCache(ctx, connection.id)
  let profile: Profile | null
  try {
    await precheck(ctx, connection, samlResponse)
    ;({ profile } = await spFor(ctx, connection, cache).validatePostResponseAsync({ SAMLResponse: samlResponse }))
  } catch (err) {
    ctx.log.info({ err: err instanceof Error ? err.message : String(err), connectionId: connection.id }, 'SAML response refused')
    throw classify(err)
  }
  if (!profile) throw fail('saml_response_invalid', new Error('no profile'))
  // Everything below is read from node-saml's parse of the verified assertion.
  const assertion = (profile.getAssertion?.() as XmlJs | undefined)?.Assertion as XmlJs | undefined
  if (!assertion) throw fail('saml_response_invalid', new Error('no verified assertion'))
  if (profile.issuer !== connection.idp_entity_id) throw fail('saml_wrong_issuer', new Error(`issuer ${profile.issuer}`))
  const confirmation = first(first(assertion.Subject)?.SubjectConfirmation)
  const confirmationData = first(confirmation?.SubjectConfirmationData)
  const recipient = confirmationData?.$?.Recipient as string | undefined
  if (recipient !== acsUrl(ctx, connection.id)) throw fail('saml_wrong_recipient', new Error(`Recipient ${recipient}`))
  const assertionId = assertion.$?.ID as string | undefined
  if (!assertionId) throw fail('saml_response_invalid', new Error('assertion without ID'))
  const conditionsEnd = first(assertion.Conditions)?.$?.NotOnOrAfter as string | undefined
  const subjectEnd = confirmationData?.$?.NotOnOrAfter as string | undefined
  const ends = [conditionsEnd, subjectEnd].map((v) => (v ? Date.parse(v) : NaN)).filter((v) => Number.isFinite(v))
  const notOnOrAfter = ends.length ? Math.max(...ends) + CLOCK_SKEW_MS : Date.now() + DEFAULT_ASSERTION_MEMORY_MS

  await rememberAssertion(ctx, connection.id, assertionId, notOnOrAfter)

  const attributes = (profile.attributes ?? {}) as Record<string, unknown>
  const email = pickEmail(profile, attributes)
  return {
    nameId: profile.nameID,
    email,
    attributes,
    assertionId,
    notOnOrAfter,
    request: profile.inResponseTo ? requestData(cache) : null,
    inResponseTo: typeof profile.inResponseTo === 'string' ? profile.inResponseTo : null,
    sessionIndex: profile.sessionIndex ?? null,
  }
}

function requestData(cache: RequestCache): RequestData | null {
  if (!cache.read) return null
  const { instant: _instant, ...data } = cache.read
  return data
}

function pickEmail(profile: Profile, attributes: Record<string, unknown>): string | null {
  const candidates = [
    profile.nameIDFormat?.endsWith(':emailAddress') ? profile.nameID : undefined,
    profile.email,
    profile.mail,
    attributes.email,
    attributes.mail,
    attributes['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'],
    /^[^@\s]+@[^@\s]+$/.test(profile.nameID ?? '') ? profile.nameID : undefined,
  ]
  for (const candidate of candidates) {
    const value = Array.isArray(candidate) ? candidate[0] : candidate
    if (typeof value === 'string' && /^[^@\s]+@[^@\s]+$/.test(value.trim())) return value.trim()
  }
  return null
}

/**
 * Records the assertion ID; refuses one already used. One statement: insert, or take over an
 * entry whose time is over; two instances racing for one ID see one row inserted between them.
 */
async function rememberAssertion(ctx: AppContext, connectionId: string, assertionId: string, expiresAt: number): Promise<void> {
  const now = ctx.clock.now()
  const result = await ctx.db
    .insertInto('sso_used_assertions')
    .values({ connection_id: connectionId, assertion_id: assertionId, expires_at: Math.max(expiresAt, now + CLOCK_SKEW_MS) })
    .onConflict((oc) => oc.columns(['connection_id', 'assertion_id']).doUpdateSet({ expires_at: (eb) => eb.ref('excluded.expires_at') }).where('sso_used_assertions.expires_at', '<=', now))
    .executeTakeFirst()
  if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) throw fail('saml_replayed', new Error(`assertion ${assertionId} already used`))
}

/** Forgets expired requests and assertions (called now and then; expiry is also checked on read). */
export async function pruneSamlState(ctx: AppContext): Promise<void> {
  const now = ctx.clock.now()
  await ctx.db.deleteFrom('sso_requests').where('expires_at', '<=', now).execute()
  await ctx.db.deleteFrom('sso_used_assertions').where('expires_at', '<=', now).execute()
}
