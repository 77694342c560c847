/**
 * Test-only building blocks for discovery suites: a real DNS server per app, people with an
 * email at a chosen domain, and a team whose domain is verified through that server.
 */
import { expect, onTestFinished } from 'vitest'
import { person, testApp, type TestApp, type TestClient } from './app.ts'
import type { TestDialect } from './databases.ts'
import { DnsServer } from './dns.ts'
import { tokenFrom } from './smtp.ts'
import { teamWithAdmin, type Person } from './teams.ts'
import type { Discovery, Domain, VerifyResult } from '../../src/teams/discovery/schemas.ts'
import type { SignedIn } from '../../src/signin/schemas.ts'
import type { ConfirmationSent, EmailConfirmed } from '../../src/accounts/schemas.ts'
import type { SeatUsage, TeamSummary } from '../../src/teams/schemas.ts'

export interface DiscoveryApp extends TestApp {
  dns: DnsServer
}

/** A test app whose DNS resolver is a real DNS server on loopback. */
export async function appWithDns(dialect: TestDialect, env: Record<string, string> = {}, options: { manualTeardown?: boolean } = {}): Promise<DiscoveryApp> {
  const dns = await new DnsServer().start()
  const t = await testApp(dialect, { DNS_SERVERS: dns.address, DNS_TIMEOUT_MS: '400', ...env }, options)
  if (options.manualTeardown) {
    const close = t.close
    return Object.assign(t, { dns, close: async () => { await close(); await dns.stop() } })
  }
  onTestFinished(() => dns.stop())
  return Object.assign(t, { dns })
}

let domains = 0
export function newDomain(prefix = 'acme'): string {
  domains += 1
  return `${prefix}${domains}-${Math.random().toString(36).slice(2, 7)}.test`
}

/** Signs up with an address at `domain`, confirms it (unless `confirm: false`) and signs in. */
export async function personAt(t: TestApp, domain: string, options: { confirm?: boolean; client?: TestClient } = {}): Promise<Person> {
  const who = person('p')
  const email = `${who.username}@${domain}`
  const client = options.client ?? t.client()
  const signup = await client.post<ConfirmationSent>('/api/v1/signup', { email, username: who.username, password: who.password, acceptTerms: true })
  if (signup.status !== 202) throw new Error(`signup failed: ${JSON.stringify(signup.body)}`)
  const mail = await t.smtp.waitFor(email, /confirm/i)
  if (options.confirm !== false) {
    const confirmed = await client.post<EmailConfirmed>('/api/v1/email/confirm', { token: tokenFrom(mail) })
    if (confirmed.status !== 200) throw new Error(`confirm failed: ${JSON.stringify(confirmed.body)}`)
  }
  const signin = await client.post<SignedIn>('/api/v1/signin', { login: email, password: who.password, staySignedIn: false })
  if (signin.status !== 200) throw new Error(`signin failed: ${JSON.stringify(signin.body)}`)
  return { ...who, email, client, accountId: signin.body.account.id, sessionId: signin.body.session.id }
}

/** Adds `domain` to the team, publishes its TXT record on the test DNS server and verifies it. */
export async function verifiedDomain(t: DiscoveryApp, admin: Person, slug: string, domain: string): Promise<string> {
  const added = await admin.client.post<Domain>(`/api/v1/teams/${slug}/domains`, { domain })
  expect(added.status, JSON.stringify(added.body)).toBe(201)
  t.dns.setTxt(added.body.record.name, [added.body.record.value])
  const verified = await admin.client.post<VerifyResult>(`/api/v1/teams/${slug}/domains/${added.body.id}/verify`)
  expect(verified.body.outcome, JSON.stringify(verified.body)).toBe('verified')
  return added.body.id
}

/** A team with a verified domain and discovery on (optionally with a question). */
export async function discoverableTeam(t: DiscoveryApp, options: { seats?: number; question?: string; admin?: Person } = {}) {
  const domain = newDomain()
  const { admin, slug } = options.admin
    ? await (async () => {
      const s = `disc-${Math.random().toString(36).slice(2, 9)}`
      expect((await options.admin!.client.post<TeamSummary>('/api/v1/teams', { name: `Team ${s}`, slug: s })).status).toBe(201)
      if (options.seats) expect((await options.admin!.client.put<SeatUsage>(`/api/v1/teams/${s}/seats`, { seats: options.seats })).status).toBe(200)
      return { admin: options.admin!, slug: s }
    })()
    : await teamWithAdmin(t, { seats: options.seats })
  const domainId = await verifiedDomain(t, admin, slug, domain)
  const on = await admin.client.put<Discovery>(`/api/v1/teams/${slug}/discovery`, { enabled: true, ...(options.question ? { question: options.question } : {}) })
  expect(on.status, JSON.stringify(on.body)).toBe(200)
  return { admin, slug, domain, domainId }
}

