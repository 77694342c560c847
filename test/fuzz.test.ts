/**
 * Property-based fuzzing of every operation in the app's own /openapi.json, signed out and
 * signed in, on SQLite and on PostgreSQL: whatever the path parameters, query and body, the
 * answer is never a 5xx, and every 4xx is a catalogued `{"error": {"code", "message"}}`.
 *
 * The run is bounded (FUZZ_RUNS requests per operation and mode) and seeded: the seed is
 * printed, and `FUZZ_SEED=<seed> npx vitest run test/fuzz.test.ts` replays a failure exactly
 * (each operation draws from its own seed derived from it). A failure names the request.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PUBLIC_URL, signedUpUser, testApp } from './helpers/app.ts'
import { DIALECTS } from './helpers/databases.ts'
import { operationsOf, requestFor, ruleBroken, seedFor, type FuzzRequest, type KnownValues, type OpenApiDocument } from './helpers/openapi-fuzz.ts'
import type { NewInviteLink } from '../src/teams/invitations/schemas.ts'
import type { Invitations, TeamSummary } from '../src/teams/schemas.ts'
import type { Domain } from '../src/teams/discovery/schemas.ts'
import type { SignedIn } from '../src/signin/schemas.ts'

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_203)
const RUNS = Number(process.env.FUZZ_RUNS ?? 12)
/** About 2 × 90 operations × 2 modes × RUNS requests, plus shrinking when one fails. */
const FUZZ_TIMEOUT_MS = 240_000

/** Limits high enough that the fuzzer reaches the handlers instead of hearing 429 throughout. */
const ROOMY_LIMITS = {
  RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '100000',
  RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: '1000',
  RATE_LIMIT_SIGNUP_PER_IP_PER_HOUR: '100000',
  RATE_LIMIT_RECOVERY_PER_IP_PER_HOUR: '100000',
  RATE_LIMIT_RESEND_PER_ACCOUNT_PER_HOUR: '1000',
  RATE_LIMIT_INVITATIONS_PER_INVITER_PER_HOUR: '100000',
  RATE_LIMIT_INVITATIONS_PER_TEAM_PER_HOUR: '100000',
  RATE_LIMIT_IMAGE_UPLOADS_PER_ACCOUNT_PER_HOUR: '100000',
  RATE_LIMIT_TEAM_SLUG_CHECKS_PER_ACCOUNT_PER_HOUR: '100000',
  RATE_LIMIT_DOMAIN_CHECKS_PER_TEAM_PER_HOUR: '100000',
  RATE_LIMIT_JOIN_REQUESTS_PER_ACCOUNT_PER_HOUR: '1000',
}

/** Every `id` anywhere in a JSON answer. */
function idsIn(body: unknown): string[] {
  const found: string[] = []
  const stack = [body]
  while (stack.length) {
    const value = stack.pop()
    if (Array.isArray(value)) stack.push(...value)
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'id' && typeof inner === 'string') found.push(inner)
        else stack.push(inner)
      }
    }
  }
  return found
}

describe.each(DIALECTS)('fuzzing every OpenAPI operation on %s', (dialect) => {
  it('never answers 5xx, and answers every 4xx with a catalogued error, signed out and signed in', { timeout: FUZZ_TIMEOUT_MS }, async () => {
    console.log(`fuzz on ${dialect}: seed ${SEED}, ${RUNS} runs per operation and mode (replay with FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})`)
    const started = Date.now()
    const t = await testApp(dialect, ROOMY_LIMITS)
    const ada = await signedUpUser(t)
    const team = await ada.client.post<TeamSummary>('/api/v1/teams', { name: 'Fuzz Team', slug: 'fuzz-team' })
    expect(team.status, JSON.stringify(team.body)).toBe(201)
    // Real rows for the path parameters to name now and then, so requests reach past "not found".
    const invited = await ada.client.post<Invitations>('/api/v1/teams/fuzz-team/invitations', { emails: ['bea@example.com'], roles: ['developer'] })
    const link = await ada.client.post<NewInviteLink>('/api/v1/teams/fuzz-team/invite-links', { roles: ['developer'] })
    const domain = await ada.client.post<Domain>('/api/v1/teams/fuzz-team/domains', { domain: 'fuzz-team.example' })
    for (const res of [invited, link, domain]) expect(res.status, JSON.stringify(res.body)).toBeLessThan(300)
    const known: KnownValues = {
      username: [ada.username],
      accountId: [ada.accountId],
      id: [ada.sessionId],
      slug: ['fuzz-team'],
      invitationId: idsIn((await ada.client.get<Invitations>('/api/v1/teams/fuzz-team/invitations')).body),
      linkId: idsIn(link.body),
      token: [String(link.body.url).split('/').pop()!],
      domainId: idsIn(domain.body),
      clientId: ['latchkey-cli'],
    }
    const openapi = await t.client().get<OpenApiDocument>('/openapi.json')
    const operations = operationsOf(openapi.body)
    expect(operations.length).toBeGreaterThan(80)

    let signedOut = 0
    const statuses = new Map<string, number>()
    const send = async (request: FuzzRequest, signedIn: boolean) => {
      // The Host a browser at PUBLIC_URL sends: another host is refused (421 wrong_host) before any route runs.
      const headers: Record<string, string> = { host: new URL(PUBLIC_URL).host, origin: PUBLIC_URL, 'user-agent': 'latchkey-fuzz' }
      if (signedIn) headers.cookie = [...ada.client.jar].map(([k, v]) => `${k}=${v}`).join('; ')
      if (request.payload !== undefined) headers['content-type'] = 'application/json'
      const res = await t.app.server.inject({ method: request.method as 'GET', url: request.url, headers, payload: request.payload, remoteAddress: request.remoteAddress })
      // A request may end the session (sign out, revoke all): sign in again for the next one.
      if (signedIn && res.statusCode === 401) {
        signedOut++
        const again = await ada.client.post<SignedIn>('/api/v1/signin', { login: ada.email, password: ada.password })
        if (again.status !== 200) throw new Error(`could not sign in again: ${JSON.stringify(again.body)}`)
      }
      // A request refused for its Host never reached a route: the suite would test nothing.
      if (res.statusCode === 421) throw new Error(`refused for its Host (421): ${res.body}`)
      const kind = `${Math.floor(res.statusCode / 100)}xx`
      statuses.set(kind, (statuses.get(kind) ?? 0) + 1)
      return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body: res.body }
    }

    const failures: string[] = []
    for (const op of operations) {
      for (const signedIn of [false, true]) {
        const seed = seedFor(SEED, op) + (signedIn ? 1 : 0)
        const property = fc.asyncProperty(requestFor(op, known), async (request) => {
          const broken = ruleBroken(await send(request, signedIn))
          if (broken) throw new Error(`${request.method} ${request.url} ${signedIn ? 'signed in' : 'signed out'}${request.payload !== undefined ? ` with ${request.payload.slice(0, 300)}` : ''}: ${broken}`)
        })
        try {
          await fc.assert(property, { seed, numRuns: RUNS })
        } catch (err) {
          // fast-check's report names the seed, the replay path and the shrunk request; the cause says what broke.
          const report = (err as Error).message.split('\n').slice(0, 3).join(' | ')
          failures.push(`${(err as Error & { cause?: Error }).cause?.message ?? op.path} [${report}]`)
        }
      }
    }
    console.log(`fuzz on ${dialect}: ${operations.length} operations × 2 modes × ${RUNS} runs in ${((Date.now() - started) / 1000).toFixed(1)} s (${[...statuses].sort().map(([k, n]) => `${k}: ${n}`).join(', ')}); the session was ended and renewed ${signedOut} times`)
    expect(failures).toEqual([])
  })
})
