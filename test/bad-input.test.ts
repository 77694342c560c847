/**
 * Bad input on every public endpoint: each answer is a 4xx with `{"error": {"code", "message"}}`
 * and a stable code, never a 500, and a rejected request leaves no account or mail behind.
 */
import { solveChallenge, type Challenge } from 'altcha-lib'
import { deriveKey } from 'altcha-lib/algorithms/sha'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DAY_MS, HOUR_MS } from '../src/clock.ts'
import type { ErrorCode } from '../src/errors.ts'
import { errorOf, person, signedUpUser, STRONG_PASSWORD, testApp, type TestApp, type TestClient } from './helpers/app.ts'
import { DIALECTS } from './helpers/databases.ts'
import { tokenFrom } from './helpers/smtp.ts'
import type { SignedIn } from '../src/signin/schemas.ts'
import type { ConfirmationSent, EmailConfirmed } from '../src/accounts/schemas.ts'

interface ErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> }
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

/** One bad request and the exact answer it must get. */
interface BadRequest {
  rule: string
  method: Method
  url: string
  /** Sent by a signed-in browser client; otherwise by an anonymous one. */
  auth: boolean
  /** An object is sent as JSON; a string is sent as the raw body; undefined sends no body. */
  body?: unknown
  headers?: Record<string, string>
  /** Runs before the request, e.g. to create the account a sign-up collides with. */
  setup?: (t: TestApp) => Promise<void>
  status: number
  code: ErrorCode
  /** Exactly the `fields` the error must carry (undefined: none). */
  fields?: unknown
}

const TOKEN = 'A'.repeat(43)
const NEW_PASSWORD = 'a brand new passphrase'
const KIB = 1024

/** A body endpoint: its valid body and the schema facts the bad variants are made from. */
interface BodyEndpoint {
  method: Method
  path: string
  auth: boolean
  valid: Record<string, unknown>
  required: string[]
  /** String fields and their schema maxLength. */
  strings: Record<string, number>
  booleans: string[]
  /** A string field with minLength 1, for the empty-string variant. */
  nonEmpty: string
  /**
   * What an empty `nonEmpty` is called: `too_short` by the schema, or `required` where the domain
   * names an empty password ("Enter your password.", as for one left out).
   */
  emptyIs?: 'too_short' | 'required'
}

const BODY_ENDPOINTS: BodyEndpoint[] = [
  {
    method: 'POST', path: '/api/v1/signup', auth: false,
    valid: { email: 'ada@example.com', username: 'ada_l', password: STRONG_PASSWORD, acceptTerms: true },
    required: ['email', 'username', 'password', 'acceptTerms'],
    strings: { email: 254, username: 64, password: 512 },
    booleans: ['acceptTerms'],
    nonEmpty: 'username',
  },
  { method: 'POST', path: '/api/v1/email/confirm', auth: false, valid: { token: TOKEN }, required: ['token'], strings: { token: 128 }, booleans: [], nonEmpty: 'token' },
  {
    method: 'POST', path: '/api/v1/signin', auth: false,
    valid: { login: 'ada@example.com', password: STRONG_PASSWORD },
    required: ['login', 'password'],
    strings: { login: 254, password: 512 },
    booleans: ['staySignedIn', 'returnToken'],
    nonEmpty: 'login',
  },
  {
    method: 'POST', path: '/api/v1/recovery', auth: false,
    valid: { email: 'ada@example.com', captcha: 'bm90IGEgc29sdXRpb24=' },
    required: ['email', 'captcha'],
    strings: { email: 254, captcha: 8192 },
    booleans: [],
    nonEmpty: 'captcha',
  },
  {
    method: 'POST', path: '/api/v1/password/reset', auth: false,
    valid: { token: TOKEN, password: NEW_PASSWORD },
    required: ['token', 'password'],
    strings: { token: 128, password: 512 },
    booleans: [],
    nonEmpty: 'password',
  },
  {
    method: 'POST', path: '/api/v1/me/email', auth: true,
    valid: { email: 'new-address@example.com', password: STRONG_PASSWORD },
    required: ['email', 'password'],
    strings: { email: 254, password: 512 },
    booleans: [],
    nonEmpty: 'email',
  },
  {
    method: 'POST', path: '/api/v1/me/password', auth: true,
    valid: { currentPassword: STRONG_PASSWORD, newPassword: NEW_PASSWORD },
    required: ['currentPassword', 'newPassword'],
    strings: { currentPassword: 512, newPassword: 512 },
    booleans: [],
    nonEmpty: 'currentPassword',
    emptyIs: 'required',
  },
  {
    method: 'PATCH', path: '/api/v1/me', auth: true,
    valid: { displayName: 'Ada' },
    required: [],
    strings: { displayName: 100, username: 64, bio: 160, aboutMe: 5000 },
    booleans: ['publicProfile'],
    nonEmpty: 'username',
  },
  { method: 'DELETE', path: '/api/v1/me', auth: true, valid: { password: STRONG_PASSWORD }, required: ['password'], strings: { password: 512 }, booleans: [], nonEmpty: 'password', emptyIs: 'required' },
]

function without(body: Record<string, unknown>, field: string): Record<string, unknown> {
  const copy = { ...body }
  delete copy[field]
  return copy
}

/** The bad variants every body endpoint must refuse, derived from its schema facts. */
function bodyCases(e: BodyEndpoint): BadRequest[] {
  const at = `${e.method} ${e.path}`
  const base = { method: e.method, url: e.path, auth: e.auth }
  const cases: BadRequest[] = [
    { ...base, rule: `${at}: malformed JSON is 400 invalid_json`, body: '{"email": "ada@', status: 400, code: 'invalid_json' },
    { ...base, rule: `${at}: an empty JSON body is 400 invalid_json`, body: '', status: 400, code: 'invalid_json' },
    { ...base, rule: `${at}: no body at all is 400 invalid_request`, body: undefined, status: 400, code: 'invalid_request', fields: { body: 'must_be_object' } },
    { ...base, rule: `${at}: a JSON array instead of an object is 400 invalid_request`, body: '[]', status: 400, code: 'invalid_request', fields: { body: 'must_be_object' } },
    {
      ...base, rule: `${at}: a text/plain body is 415 unsupported_media_type`,
      body: JSON.stringify(e.valid), headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type',
    },
    {
      ...base, rule: `${at}: an unknown extra field is 400 unknown_field`,
      body: { ...e.valid, isAdmin: true }, status: 400, code: 'invalid_request', fields: { isAdmin: 'unknown_field' },
    },
    {
      ...base, rule: `${at}: a body over 64 KiB is 413 payload_too_large`,
      body: JSON.stringify({ ...e.valid, padding: 'x'.repeat(65 * KIB) }), status: 413, code: 'payload_too_large',
    },
  ]
  const strings = Object.entries(e.strings)
  cases.push(
    {
      ...base, rule: `${at}: every string field as a number is 400 must_be_string`,
      body: { ...e.valid, ...Object.fromEntries(strings.map(([f]) => [f, 12345])) },
      status: 400, code: 'invalid_request', fields: Object.fromEntries(strings.map(([f]) => [f, 'must_be_string'])),
    },
    {
      ...base, rule: `${at}: every string field one character over its limit is 400 too_long`,
      body: { ...e.valid, ...Object.fromEntries(strings.map(([f, max]) => [f, 'a'.repeat(max + 1)])) },
      status: 400, code: 'invalid_request', fields: Object.fromEntries(strings.map(([f]) => [f, 'too_long'])),
    },
  )
  if (e.booleans.length) {
    cases.push({
      ...base, rule: `${at}: every boolean field as a string is 400 must_be_boolean`,
      body: { ...e.valid, ...Object.fromEntries(e.booleans.map((f) => [f, 'true'])) },
      status: 400, code: 'invalid_request', fields: Object.fromEntries(e.booleans.map((f) => [f, 'must_be_boolean'])),
    })
  }
  if (e.required.length) {
    const field = e.required[e.required.length - 1]
    cases.push({ ...base, rule: `${at}: a missing ${field} is 400 required`, body: without(e.valid, field), status: 400, code: 'invalid_request', fields: { [field]: 'required' } })
  }
  if (e.required.length > 1) {
    cases.push({
      ...base, rule: `${at}: an empty object names every required field`,
      body: {}, status: 400, code: 'invalid_request', fields: Object.fromEntries(e.required.map((f) => [f, 'required'])),
    })
  }
  const emptyIs = e.emptyIs ?? 'too_short'
  cases.push({ ...base, rule: `${at}: an empty ${e.nonEmpty} is 400 ${emptyIs}`, body: { ...e.valid, [e.nonEmpty]: '' }, status: 400, code: 'invalid_request', fields: { [e.nonEmpty]: emptyIs } })
  return cases
}

const signup = (body: Record<string, unknown>) => ({ ...BODY_ENDPOINTS[0].valid, ...body })

/** Rules of one endpoint that the derived variants do not cover. */
const SPECIFIC_CASES: BadRequest[] = [
  {
    rule: 'POST /api/v1/signup: a form-encoded body is 415 unsupported_media_type', method: 'POST', url: '/api/v1/signup', auth: false,
    body: 'email=ada%40example.com&username=ada_l&password=correct+horse+battery+staple&acceptTerms=true',
    headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type',
  },
  { rule: 'POST /api/v1/signup: a __proto__ key is 400 invalid_json', method: 'POST', url: '/api/v1/signup', auth: false, body: `{"__proto__":{"isAdmin":true},${JSON.stringify(BODY_ENDPOINTS[0].valid).slice(1)}`, status: 400, code: 'invalid_json' },
  {
    rule: 'POST /api/v1/signin: a body shorter than its Content-Length is 400 invalid_request', method: 'POST', url: '/api/v1/signin', auth: false,
    body: '{}', headers: { 'content-length': '99' }, status: 400, code: 'invalid_request',
  },
  { rule: 'POST /api/v1/signup: JSON null is 400 invalid_request', method: 'POST', url: '/api/v1/signup', auth: false, body: 'null', status: 400, code: 'invalid_request', fields: { body: 'must_be_object' } },
  // Sign-up: the domain's own refusals.
  { rule: 'POST /api/v1/signup: acceptTerms false is 400 terms_not_accepted', method: 'POST', url: '/api/v1/signup', auth: false, body: signup({ acceptTerms: false }), status: 400, code: 'terms_not_accepted', fields: { acceptTerms: 'required' } },
  { rule: 'POST /api/v1/signup: an unsupported locale is 400 not_allowed', method: 'POST', url: '/api/v1/signup', auth: false, body: signup({ locale: 'fr' }), status: 400, code: 'invalid_request', fields: { locale: 'not_allowed' } },
  { rule: 'POST /api/v1/signup: an email without a domain is 400 email_invalid', method: 'POST', url: '/api/v1/signup', auth: false, body: signup({ email: 'ada-at-example' }), status: 400, code: 'email_invalid', fields: { email: 'invalid' } },
  { rule: 'POST /api/v1/signup: an email with a NUL character is 400 invalid_characters', method: 'POST', url: '/api/v1/signup', auth: false, body: signup({ email: 'ada\u0000l@example.com' }), status: 400, code: 'invalid_request', fields: { email: 'invalid_characters' } },
  { rule: 'POST /api/v1/signup: a username with a space is 400 username_invalid', method: 'POST', url: '/api/v1/signup', auth: false, body: signup({ username: 'ada l' }), status: 400, code: 'username_invalid', fields: { username: 'invalid_characters' } },
  { rule: 'POST /api/v1/signup: a reserved username is 400 username_invalid', method: 'POST', url: '/api/v1/signup', auth: false, body: signup({ username: 'Admin' }), status: 400, code: 'username_invalid', fields: { username: 'reserved' } },
  { rule: 'POST /api/v1/signup: a 7-character password is 400 password_too_short', method: 'POST', url: '/api/v1/signup', auth: false, body: signup({ password: 'abcdefg' }), status: 400, code: 'password_too_short', fields: { password: 'too_short' } },
  { rule: 'POST /api/v1/signup: a 129-character password is 400 password_too_long', method: 'POST', url: '/api/v1/signup', auth: false, body: signup({ password: 'p'.repeat(129) }), status: 400, code: 'password_too_long', fields: { password: 'too_long' } },
  { rule: 'POST /api/v1/signup: the username as password is 400 password_common', method: 'POST', url: '/api/v1/signup', auth: false, body: signup({ username: 'ada_lovelace', password: 'ada_lovelace' }), status: 400, code: 'password_common', fields: { password: 'common' } },
  {
    rule: 'POST /api/v1/signup: a taken username is 409 username_taken',
    method: 'POST', url: '/api/v1/signup', auth: false,
    setup: async (t) => {
      const res = await t.client().post<ConfirmationSent>('/api/v1/signup', { ...person(), username: 'ada_l', acceptTerms: true })
      if (res.status !== 202) throw new Error(`setup sign-up failed: ${JSON.stringify(res.body)}`)
    },
    body: signup({ username: 'ADA_L' }), status: 409, code: 'username_taken', fields: { username: 'taken' },
  },
  // Sign-in: a login no account can have is just wrong credentials.
  { rule: 'POST /api/v1/signin: a login with a NUL character is 400 invalid_characters', method: 'POST', url: '/api/v1/signin', auth: false, body: { login: 'ada\u0000l', password: STRONG_PASSWORD }, status: 400, code: 'invalid_request', fields: { login: 'invalid_characters' } },
  // Email and password changes: the domain's refusals for a signed-in user.
  { rule: 'POST /api/v1/me/email: an invalid address is 400 email_invalid', method: 'POST', url: '/api/v1/me/email', auth: true, body: { email: 'not-an-address', password: STRONG_PASSWORD }, status: 400, code: 'email_invalid', fields: { email: 'invalid' } },
  { rule: 'POST /api/v1/me/email: an address with a NUL character is 400 invalid_characters', method: 'POST', url: '/api/v1/me/email', auth: true, body: { email: 'new\u0000addr@example.com', password: STRONG_PASSWORD }, status: 400, code: 'invalid_request', fields: { email: 'invalid_characters' } },
  { rule: 'POST /api/v1/me/email: a wrong password is 403 password_incorrect', method: 'POST', url: '/api/v1/me/email', auth: true, body: { email: 'new-address@example.com', password: 'not my password at all' }, status: 403, code: 'password_incorrect', fields: { password: 'incorrect' } },
  { rule: 'POST /api/v1/me/password: a too-short new password is 400 password_too_short', method: 'POST', url: '/api/v1/me/password', auth: true, body: { currentPassword: STRONG_PASSWORD, newPassword: 'short' }, status: 400, code: 'password_too_short', fields: { newPassword: 'too_short' } },
  { rule: 'POST /api/v1/me/password: a wrong current password is 403 password_incorrect', method: 'POST', url: '/api/v1/me/password', auth: true, body: { currentPassword: 'not my password at all', newPassword: NEW_PASSWORD }, status: 403, code: 'password_incorrect', fields: { currentPassword: 'incorrect' } },
  { rule: 'DELETE /api/v1/me: a wrong password is 403 password_incorrect', method: 'DELETE', url: '/api/v1/me', auth: true, body: { password: 'not my password at all' }, status: 403, code: 'password_incorrect', fields: { password: 'incorrect' } },
  // Profile: every property of the patch has its own shape.
  { rule: 'PATCH /api/v1/me: an empty patch is 400 too_short', method: 'PATCH', url: '/api/v1/me', auth: true, body: {}, status: 400, code: 'invalid_request', fields: { body: 'too_short' } },
  { rule: 'PATCH /api/v1/me: an unknown job role is 400 not_allowed', method: 'PATCH', url: '/api/v1/me', auth: true, body: { jobRole: 'ceo' }, status: 400, code: 'invalid_request', fields: { jobRole: 'not_allowed' } },
  { rule: 'PATCH /api/v1/me: an unsupported locale is 400 not_allowed', method: 'PATCH', url: '/api/v1/me', auth: true, body: { locale: 'fr' }, status: 400, code: 'invalid_request', fields: { locale: 'not_allowed' } },
  { rule: 'PATCH /api/v1/me: links as a string is 400 must_be_array', method: 'PATCH', url: '/api/v1/me', auth: true, body: { links: 'https://example.com' }, status: 400, code: 'invalid_request', fields: { links: 'must_be_array' } },
  { rule: 'PATCH /api/v1/me: a javascript: link is 400 invalid_format', method: 'PATCH', url: '/api/v1/me', auth: true, body: { links: ['javascript:alert(1)'] }, status: 400, code: 'invalid_request', fields: { 'links.0': 'invalid_format' } },
  { rule: 'PATCH /api/v1/me: a link over 200 characters is 400 too_long', method: 'PATCH', url: '/api/v1/me', auth: true, body: { links: [`https://example.com/${'a'.repeat(200)}`] }, status: 400, code: 'invalid_request', fields: { 'links.0': 'too_long' } },
  { rule: 'PATCH /api/v1/me: six links is 400 too_long', method: 'PATCH', url: '/api/v1/me', auth: true, body: { links: Array.from({ length: 6 }, (_, i) => `https://example.com/${i}`) }, status: 400, code: 'invalid_request', fields: { links: 'too_long' } },
  { rule: 'PATCH /api/v1/me: a reserved username is 400 username_invalid', method: 'PATCH', url: '/api/v1/me', auth: true, body: { username: 'support' }, status: 400, code: 'username_invalid', fields: { username: 'reserved' } },
  {
    rule: 'PATCH /api/v1/me: a NUL character in a text field is 400 invalid_request',
    method: 'PATCH', url: '/api/v1/me', auth: true, body: { displayName: 'Ada\u0000Lovelace' }, status: 400, code: 'invalid_request',
    fields: expect.objectContaining({ displayName: expect.any(String) }),
  },
  // Endpoints without a body: what they do read must still be well-formed.
  { rule: 'POST /api/v1/signout: malformed JSON is 400 invalid_json', method: 'POST', url: '/api/v1/signout', auth: true, body: '{"x":', status: 400, code: 'invalid_json' },
  { rule: 'POST /api/v1/signout: a text/plain body is 415 unsupported_media_type', method: 'POST', url: '/api/v1/signout', auth: true, body: 'bye', headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
  { rule: 'POST /api/v1/signout: a body over 64 KiB is 413 payload_too_large', method: 'POST', url: '/api/v1/signout', auth: true, body: JSON.stringify({ padding: 'x'.repeat(65 * KIB) }), status: 413, code: 'payload_too_large' },
  { rule: 'POST /api/v1/email/resend: malformed JSON is 400 invalid_json', method: 'POST', url: '/api/v1/email/resend', auth: true, body: '{"x":', status: 400, code: 'invalid_json' },
  { rule: 'POST /api/v1/email/resend: a text/plain body is 415 unsupported_media_type', method: 'POST', url: '/api/v1/email/resend', auth: true, body: 'again', headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
  { rule: 'POST /api/v1/email/resend: a body over 64 KiB is 413 payload_too_large', method: 'POST', url: '/api/v1/email/resend', auth: true, body: JSON.stringify({ padding: 'x'.repeat(65 * KIB) }), status: 413, code: 'payload_too_large' },
  { rule: 'GET /api/v1/me: a malformed bearer token is 401 unauthenticated', method: 'GET', url: '/api/v1/me', auth: false, headers: { authorization: 'Bearer not a token!' }, status: 401, code: 'unauthenticated' },
  { rule: 'GET /api/v1/me: a made-up bearer token of 5000 characters is 401 unauthenticated', method: 'GET', url: '/api/v1/me', auth: false, headers: { authorization: `Bearer ${'a'.repeat(5000)}` }, status: 401, code: 'unauthenticated' },
  { rule: 'GET /api/v1/me/sessions: a garbled session cookie is 401 unauthenticated', method: 'GET', url: '/api/v1/me/sessions', auth: false, headers: { cookie: 'latchkey_session=%%%;;' }, status: 401, code: 'unauthenticated' },
  { rule: 'DELETE /api/v1/me/sessions: keepCurrent that is not a boolean is 400 must_be_boolean', method: 'DELETE', url: '/api/v1/me/sessions?keepCurrent=maybe', auth: true, status: 400, code: 'invalid_request', fields: { keepCurrent: 'must_be_boolean' } },
  { rule: 'DELETE /api/v1/me/sessions: an unknown query parameter is 400 unknown_field', method: 'DELETE', url: '/api/v1/me/sessions?everywhere=1', auth: true, status: 400, code: 'invalid_request', fields: { everywhere: 'unknown_field' } },
  { rule: 'DELETE /api/v1/me/sessions/:id: an id over 64 characters is 400 too_long', method: 'DELETE', url: `/api/v1/me/sessions/${'a'.repeat(65)}`, auth: true, status: 400, code: 'invalid_request', fields: { id: 'too_long' } },
  { rule: 'DELETE /api/v1/me/sessions/:id: an unknown id is 404 not_found', method: 'DELETE', url: '/api/v1/me/sessions/00000000-0000-4000-8000-000000000000', auth: true, status: 404, code: 'not_found' },
  { rule: 'DELETE /api/v1/me/sessions/:id: an id with a NUL character is 400 invalid_request', method: 'DELETE', url: '/api/v1/me/sessions/a%00b', auth: true, status: 400, code: 'invalid_request' },
  { rule: 'GET /api/v1/users/:username: a username over 64 characters is 400 too_long', method: 'GET', url: `/api/v1/users/${'a'.repeat(65)}`, auth: false, status: 400, code: 'invalid_request', fields: { username: 'too_long' } },
  { rule: 'GET /api/v1/users/:username: a username over the router limit of 200 characters is 414 uri_too_long', method: 'GET', url: `/api/v1/users/${'a'.repeat(201)}`, auth: false, status: 414, code: 'uri_too_long' },
  { rule: 'GET /api/v1/users/:username: broken percent-encoding is 400 invalid_request', method: 'GET', url: '/api/v1/users/%E0%A4%A', auth: false, status: 400, code: 'invalid_request' },
  { rule: 'GET /api/v1/users/:username: a username with a NUL character is 400 invalid_request', method: 'GET', url: '/api/v1/users/ada%00l', auth: false, status: 400, code: 'invalid_request' },
  { rule: 'GET /api/v1/users/:username: an unknown username is 404 not_found', method: 'GET', url: '/api/v1/users/nobody-here', auth: false, status: 404, code: 'not_found' },
  // OAuth: the app sign-in page's API and authorized apps.
  { rule: 'GET /api/v1/oauth/interactions/:uid: a uid with a space is 400 invalid_request', method: 'GET', url: '/api/v1/oauth/interactions/bad%20uid', auth: false, status: 400, code: 'invalid_request', fields: { uid: 'invalid_format' } },
  { rule: 'GET /api/v1/oauth/interactions/:uid: an unknown uid is 404 oauth_request_invalid', method: 'GET', url: '/api/v1/oauth/interactions/nosuchrequest', auth: true, status: 404, code: 'oauth_request_invalid' },
  { rule: 'POST /api/v1/oauth/interactions/:uid/complete: consent that is not a boolean is 400 must_be_boolean', method: 'POST', url: '/api/v1/oauth/interactions/nosuchrequest/complete', auth: true, body: { consent: 'yes' }, status: 400, code: 'invalid_request', fields: { consent: 'must_be_boolean' } },
  { rule: 'POST /api/v1/oauth/interactions/:uid/complete: signed out is 401 unauthenticated', method: 'POST', url: '/api/v1/oauth/interactions/nosuchrequest/complete', auth: false, body: {}, status: 401, code: 'unauthenticated' },
  { rule: 'POST /api/v1/oauth/interactions/:uid/abort: an unknown field is 400 unknown_field', method: 'POST', url: '/api/v1/oauth/interactions/nosuchrequest/abort', auth: false, body: { reason: 'bored' }, status: 400, code: 'invalid_request', fields: { reason: 'unknown_field' } },
  { rule: 'POST /api/v1/oauth/interactions/:uid/abort: an unknown uid is 404 oauth_request_invalid', method: 'POST', url: '/api/v1/oauth/interactions/nosuchrequest/abort', auth: false, body: {}, status: 404, code: 'oauth_request_invalid' },
  { rule: 'GET /api/v1/me/authorized-apps: signed out is 401 unauthenticated', method: 'GET', url: '/api/v1/me/authorized-apps', auth: false, status: 401, code: 'unauthenticated' },
  { rule: 'DELETE /api/v1/me/authorized-apps/:clientId: a client id over 100 characters is 400 too_long', method: 'DELETE', url: `/api/v1/me/authorized-apps/${'a'.repeat(101)}`, auth: true, status: 400, code: 'invalid_request', fields: { clientId: 'too_long' } },
  { rule: 'DELETE /api/v1/me/authorized-apps/:clientId: an app never authorized is 404 not_found', method: 'DELETE', url: '/api/v1/me/authorized-apps/lk_unknown', auth: true, status: 404, code: 'not_found' },
  // Unknown routes answer JSON too.
  { rule: 'GET on an unknown /api/v1 route is 404 not_found', method: 'GET', url: '/api/v1/does-not-exist', auth: false, status: 404, code: 'not_found' },
  { rule: 'POST with a JSON body to an unknown /api/v1 route is 404 not_found', method: 'POST', url: '/api/v1/does-not-exist', auth: false, body: { x: 1 }, status: 404, code: 'not_found' },
  { rule: 'GET on an unknown API version is 404 not_found', method: 'GET', url: '/api/v2/me', auth: false, status: 404, code: 'not_found' },
  { rule: 'GET on an unknown path outside /api is 404 not_found', method: 'GET', url: '/wp-login.php', auth: false, status: 404, code: 'not_found' },
]

const CASES: BadRequest[] = [...BODY_ENDPOINTS.flatMap(bodyCases), ...SPECIFIC_CASES]

/** Every route of the public API; the table must hold bad input for each. */
const PUBLIC_ROUTES: Array<[Method, string]> = [
  ['POST', '/api/v1/signup'], ['POST', '/api/v1/email/confirm'], ['POST', '/api/v1/email/resend'],
  ['POST', '/api/v1/signin'], ['POST', '/api/v1/signout'], ['POST', '/api/v1/recovery'],
  ['POST', '/api/v1/password/reset'], ['POST', '/api/v1/me/email'], ['POST', '/api/v1/me/password'],
  ['GET', '/api/v1/me'], ['PATCH', '/api/v1/me'], ['DELETE', '/api/v1/me'],
  ['GET', '/api/v1/me/sessions'], ['DELETE', '/api/v1/me/sessions'], ['DELETE', '/api/v1/me/sessions/:id'],
  ['GET', '/api/v1/users/:username'],
  ['GET', '/api/v1/oauth/interactions/:uid'], ['POST', '/api/v1/oauth/interactions/:uid/complete'], ['POST', '/api/v1/oauth/interactions/:uid/abort'],
  ['GET', '/api/v1/me/authorized-apps'], ['DELETE', '/api/v1/me/authorized-apps/:id'],
]

function routeMatches(route: string, url: string): boolean {
  const pattern = new RegExp(`^${route.replace(/:[a-z]+/g, '[^/?]+')}(\\?.*)?$`)
  return pattern.test(url)
}

async function count(t: TestApp, table: 'accounts' | 'mail_outbox'): Promise<number> {
  const row = await t.app.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

async function send(client: TestClient, c: BadRequest) {
  const body = c.body === undefined || typeof c.body === 'string' ? c.body : JSON.stringify(c.body)
  return client.request<ErrorBody>(c.method, c.url, body, c.headers)
}

/** Solves the server's captcha the way the ALTCHA widget does, and encodes the payload. */
async function solvedCaptcha(t: TestApp): Promise<string> {
  const challenge = (await t.client().get<Challenge>('/api/v1/captcha')).body
  const solution = await solveChallenge({ challenge, deriveKey })
  if (!solution) throw new Error('captcha could not be solved')
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64')
}

async function resetToken(t: TestApp, email: string): Promise<string> {
  const res = await t.client().post('/api/v1/recovery', { email, captcha: await solvedCaptcha(t) })
  if (res.status !== 202) throw new Error(`recovery failed: ${JSON.stringify(res.body)}`)
  return tokenFrom(await t.smtp.waitFor(email, /password reset/))
}

it('has bad-input rules for every public route, each rule named once', () => {
  const uncovered = PUBLIC_ROUTES.filter(([method, route]) => !CASES.some((c) => c.method === method && routeMatches(route, c.url)))
  expect(uncovered).toEqual([])
  expect(new Set(CASES.map((c) => c.rule)).size).toBe(CASES.length)
})

describe.each(DIALECTS)('bad input on %s', (dialect) => {
  describe('each is a 4xx with a stable code and writes nothing', () => {
    // One app for the whole table: every row is refused, and each row compares the row counts
    // before and after itself, so rows cannot see each other's leftovers. Limits are not under test.
    let t: TestApp
    beforeAll(async () => {
      t = await testApp(dialect, { RATE_LIMIT_SIGNUP_PER_IP_PER_HOUR: '100000', RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '100000' }, { manualTeardown: true })
    })
    afterAll(async () => {
      await t?.close()
    })
    // One test per row, named by its rule in full (it.each would shorten long names).
    for (const c of CASES) it(c.rule, async () => {
      const client = c.auth ? (await signedUpUser(t)).client : t.client()
      await c.setup?.(t)
      const accountsBefore = await count(t, 'accounts')
      const mailBefore = await count(t, 'mail_outbox')

      const res = await send(client, c)

      expect(res.status).toBe(c.status)
      expect(String(res.headers['content-type'])).toMatch(/^application\/json/)
      expect(res.body).toMatchObject({ error: { code: c.code, message: expect.any(String) } })
      expect(errorOf(res).message).not.toBe('')
      // A body over the limit says what the limit is.
      if (c.code === 'payload_too_large') expect(errorOf(res)).toMatchObject({ message: 'The request body is over the limit of 64 KiB.', maxBytes: 64 * KIB })
      expect(errorOf(res).fields).toEqual(c.fields)
      expect(await count(t, 'accounts')).toBe(accountsBefore)
      expect(await count(t, 'mail_outbox')).toBe(mailBefore)
    })
  })

  describe('text fields with a NUL character', () => {
    it('refuses a recovery request for an address with a NUL character as 400 invalid_characters', async () => {
      const t = await testApp(dialect)
      const res = await t.client().post<ErrorBody>('/api/v1/recovery', { email: 'ada\u0000l@example.com', captcha: await solvedCaptcha(t) })
      expect(res.status).toBe(400)
      expect(errorOf(res)).toMatchObject({ code: 'invalid_request', fields: { email: 'invalid_characters' } })
      expect(await count(t, 'mail_outbox')).toBe(0)
    })
  })

  describe('single-use tokens', () => {
    it('refuses an email confirmation token after 24 hours as 400 token_invalid', async () => {
      const t = await testApp(dialect)
      const who = person()
      expect((await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })).status).toBe(202)
      const token = tokenFrom(await t.smtp.waitFor(who.email, /confirm/i))
      t.clock.advance(DAY_MS)
      const res = await t.client().post<ErrorBody>('/api/v1/email/confirm', { token })
      expect(res.status).toBe(400)
      expect(errorOf(res)).toMatchObject({ code: 'token_invalid', fields: { token: 'invalid' } })
      const account = await t.app.ctx.db.selectFrom('accounts').select('email_confirmed_at').where('email', '=', who.email).executeTakeFirstOrThrow()
      expect(account.email_confirmed_at).toBeNull()
    })

    it('refuses an email confirmation token used once already as 400 token_invalid', async () => {
      const t = await testApp(dialect)
      const who = person()
      expect((await t.client().post<ConfirmationSent>('/api/v1/signup', { ...who, acceptTerms: true })).status).toBe(202)
      const token = tokenFrom(await t.smtp.waitFor(who.email, /confirm/i))
      expect((await t.client().post<EmailConfirmed>('/api/v1/email/confirm', { token })).status).toBe(200)
      const again = await t.client().post<ErrorBody>('/api/v1/email/confirm', { token })
      expect(again.status).toBe(400)
      expect(errorOf(again)).toMatchObject({ code: 'token_invalid', fields: { token: 'invalid' } })
    })

    it('refuses a password reset token after 1 hour as 400 token_invalid', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const token = await resetToken(t, user.email)
      t.clock.advance(HOUR_MS)
      const res = await t.client().post<ErrorBody>('/api/v1/password/reset', { token, password: NEW_PASSWORD })
      expect(res.status).toBe(400)
      expect(errorOf(res)).toMatchObject({ code: 'token_invalid', fields: { token: 'invalid' } })
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: STRONG_PASSWORD })).status).toBe(200)
    })

    it('refuses a password reset token used once already as 400 token_invalid', async () => {
      const t = await testApp(dialect)
      const user = await signedUpUser(t)
      const token = await resetToken(t, user.email)
      expect((await t.client().post('/api/v1/password/reset', { token, password: NEW_PASSWORD })).status).toBe(200)
      const again = await t.client().post<ErrorBody>('/api/v1/password/reset', { token, password: 'yet another passphrase' })
      expect(again.status).toBe(400)
      expect(errorOf(again)).toMatchObject({ code: 'token_invalid', fields: { token: 'invalid' } })
      expect((await t.client().post<SignedIn>('/api/v1/signin', { login: user.email, password: NEW_PASSWORD })).status).toBe(200)
    })
  })
})
