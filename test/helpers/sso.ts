/**
 * Test-only building blocks for SAML suites: a team with a verified domain and a SAML
 * connection, JIT switched through the sign-in policy API,
 * and the browser's side of Latchkey's flow (start, ACS form post, finish).
 */
import { expect } from 'vitest'
import type { TestClient, Response } from './app.ts'
import { appWithDns, verifiedDomain, type DiscoveryApp } from './discovery.ts'
import type { TestDialect } from './databases.ts'
import { teamWithAdmin, type Person } from './teams.ts'
import type { SamlConnection } from '../../src/sso/schemas.ts'

export const SSO_DOMAIN = 'sso-acme.test'

export interface SsoTeam {
  t: DiscoveryApp
  admin: Person
  slug: string
}

export async function ssoApp(dialect: TestDialect): Promise<DiscoveryApp> {
  return appWithDns(dialect, { SSO_METADATA_ALLOW_LOOPBACK: 'true' })
}

/** A team whose Admin verified SSO_DOMAIN (or `domain`). */
export async function ssoTeam(t: DiscoveryApp, domain = SSO_DOMAIN): Promise<SsoTeam> {
  const { admin, slug } = await teamWithAdmin(t)
  await verifiedDomain(t, admin, slug, domain)
  return { t, admin, slug }
}

/** "Automatically add new users", through the Admin's sign-in policy API. */
export async function setJit(team: SsoTeam, enabled: boolean): Promise<void> {
  const res = await team.admin.client.request('PATCH', `/api/v1/teams/${team.slug}/signin-policy`, { jitEnabled: enabled })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
}

export async function createConnection(team: SsoTeam, idp: Record<string, unknown>, options: { enable?: boolean; idpInitiated?: boolean } = {}): Promise<SamlConnection> {
  const created = await team.admin.client.post<SamlConnection>(`/api/v1/teams/${team.slug}/sso/saml`, { name: 'Company IdP', idp })
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  if (options.enable !== false || options.idpInitiated) {
    const patched = await team.admin.client.request<SamlConnection>('PATCH', `/api/v1/teams/${team.slug}/sso/saml/${created.body.id}`, { enabled: options.enable !== false, idpInitiated: options.idpInitiated ?? false })
    expect(patched.status, JSON.stringify(patched.body)).toBe(200)
    return patched.body
  }
  return created.body
}

/** GET start: the IdP URL Latchkey redirects to. */
export async function startSignIn(client: TestClient, connectionId: string, returnTo?: string): Promise<string> {
  const res = await client.get(`/sso/saml/${connectionId}/start${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`)
  expect(res.status, String(res.body).slice(0, 300)).toBe(302)
  return String(res.headers.location)
}

/** The IdP's auto-post form, posted to Latchkey from the IdP's origin. */
export async function postToAcs(client: TestClient, connectionId: string, samlResponse: string, relayState?: string, idpOrigin = 'http://127.0.0.1'): Promise<Response> {
  const form = new URLSearchParams({ SAMLResponse: samlResponse, ...(relayState !== undefined ? { RelayState: relayState } : {}) })
  return client.request('POST', `/sso/saml/${connectionId}/acs`, form.toString(), { 'content-type': 'application/x-www-form-urlencoded', origin: idpOrigin })
}

/** The error code an SSO error page shows. */
export function pageError(res: Response): string | undefined {
  return /data-error-code="([a-z_]+)"/.exec(String(res.body))?.[1]
}

/** Follows the ACS's redirect to finish; answers the finish response. */
export async function finish(client: TestClient, acs: Response): Promise<Response> {
  expect(acs.status, String(acs.body).slice(0, 500)).toBe(303)
  return client.get(String(acs.headers.location))
}
