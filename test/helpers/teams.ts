/**
 * Test-only building blocks for team suites: teams and members made through the real API
 * (sign-up, invitation email, acceptance), so fixtures obey the same rules as people do.
 */
import { expect } from 'vitest'
import { signedUpUser, type TestApp } from './app.ts'
import { tokenFrom } from './smtp.ts'
import type { TeamRole } from '../../src/teams/roles.ts'
import type { Invitations, JoinedTeam, SeatUsage, TeamSummary } from '../../src/teams/schemas.ts'

export type Person = Awaited<ReturnType<typeof signedUpUser>>

let teams = 0
export function newSlug(prefix = 'team'): string {
  teams += 1
  return `${prefix}-${teams}-${Math.random().toString(36).slice(2, 7)}`
}

/** A confirmed person who creates a team (as Admin + Billing) with `seats` seats (else TEAM_DEFAULT_SEATS). */
export async function teamWithAdmin(t: TestApp, options: { seats?: number; slug?: string } = {}) {
  const admin = await signedUpUser(t)
  const slug = options.slug ?? newSlug()
  const created = await admin.client.post<TeamSummary>('/api/v1/teams', { name: `Team ${slug}`, slug })
  expect(created.status).toBe(201)
  if (options.seats !== undefined) {
    expect((await admin.client.put<SeatUsage>(`/api/v1/teams/${slug}/seats`, { seats: options.seats })).status).toBe(200)
  }
  return { admin, slug }
}

/** Waits for the `nth` (1-based) invitation email to `email` and returns its token. */
export async function invitationToken(t: TestApp, email: string, nth = 1): Promise<string> {
  const deadline = performance.now() + 10_000
  for (;;) {
    const mails = t.smtp.messagesTo(email).filter((m) => /invited you|邀请你/.test(m.subject))
    if (mails.length >= nth) return tokenFrom(mails[nth - 1])
    if (performance.now() > deadline) throw new Error(`no invitation #${nth} to ${email}`)
    await t.smtp.waitFor(email, /invited you|邀请你/, 250).catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Invites `person` (or a new one) with `roles` as `inviter` and accepts; returns the member. */
export async function addMember(t: TestApp, inviter: Person, slug: string, roles: TeamRole[], person?: Person): Promise<Person> {
  const member = person ?? (await signedUpUser(t))
  const before = t.smtp.messagesTo(member.email).filter((m) => /invited you/.test(m.subject)).length
  const invited = await inviter.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [member.email], roles })
  expect(invited.status, JSON.stringify(invited.body)).toBe(201)
  const accepted = await member.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: await invitationToken(t, member.email, before + 1) })
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(200)
  return member
}
