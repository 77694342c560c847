/**
 * The team pages for test/web.pages.test.ts (axe in both languages, screenshots): a team with
 * members, a pending invitation and a suggestion, made through the real API. Names start with
 * `teams-`, so `npx vitest run test/web.pages.test.ts -t teams-` runs only these.
 */
import { expect } from 'vitest'
import { signedUpUser, type TestApp } from './app.ts'
import { tokenFrom } from './smtp.ts'
import type { PageCase } from './web.ts'
import type { NewInviteLink } from '../../src/teams/invitations/schemas.ts'
import type { Domain } from '../../src/teams/discovery/schemas.ts'
import type { AccountView } from '../../src/accounts/schemas.ts'
import type { Profile } from '../../src/teams/profile/schemas.ts'
import type { Invitations, JoinedTeam, SeatUsage, TeamSummary } from '../../src/teams/schemas.ts'
import type { SignedIn } from '../../src/signin/schemas.ts'

export const TEAM_SLUG = 'analytical-engines'
const FAKE_TOKEN = 'A'.repeat(43)


/** `who` (already signed up and confirmed) becomes the Admin of a team with a Developer, an invitation and a suggestion. */
export async function seedTeamPages(t: TestApp, who: { email: string; password: string }): Promise<void> {
  const admin = t.client()
  expect((await admin.post<SignedIn>('/api/v1/signin', { login: who.email, password: who.password })).status).toBe(200)
  expect((await admin.post<TeamSummary>('/api/v1/teams', { name: 'Analytical Engines', slug: TEAM_SLUG })).status).toBe(201)
  expect((await admin.put<SeatUsage>(`/api/v1/teams/${TEAM_SLUG}/seats`, { seats: 5 })).status).toBe(200)
  const developer = await signedUpUser(t)
  await developer.client.patch<AccountView>('/api/v1/me', { displayName: 'Charles Babbage' })
  expect((await admin.post<Invitations>(`/api/v1/teams/${TEAM_SLUG}/invitations`, { emails: [developer.email], roles: ['developer'] })).status).toBe(201)
  const mail = await t.smtp.waitFor(developer.email, /invited you/)
  expect((await developer.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: tokenFrom(mail) })).status).toBe(200)
  expect((await admin.post<Invitations>(`/api/v1/teams/${TEAM_SLUG}/invitations`, { emails: ['grace@example.org'], roles: ['developer', 'community_manager'] })).status).toBe(201)
  expect((await developer.client.post<Invitations>(`/api/v1/teams/${TEAM_SLUG}/invitations`, { emails: ['mary@example.org'], roles: ['admin'] })).status).toBe(201)
  expect((await admin.post<NewInviteLink>(`/api/v1/teams/${TEAM_SLUG}/invite-links`, { roles: ['developer'] })).status).toBe(201)
  // A domain waiting for its TXT record (this app has no DNS server to verify it).
  expect((await admin.post<Domain>(`/api/v1/teams/${TEAM_SLUG}/domains`, { domain: 'analytical-engines.example' })).status).toBe(201)
  // Another team's invite link, for `who` to open.
  expect((await developer.client.post<TeamSummary>('/api/v1/teams', { name: 'Babbage & Co', slug: 'babbage-co' })).status).toBe(201)
  const link = await developer.client.post<NewInviteLink>('/api/v1/teams/babbage-co/invite-links', { roles: ['developer', 'community_manager'] })
  expect(link.status).toBe(201)
  joinPath = new URL(link.body.url).pathname
  // A pending invitation of `who` to that team, for the accept page's preview.
  expect((await developer.client.post<Invitations>('/api/v1/teams/babbage-co/invitations', { emails: [who.email], roles: ['developer'] })).status).toBe(201)
  invitationToken = tokenFrom(await t.smtp.waitFor(who.email, /invited you/))
  // The public profile at /t/<slug>.
  const profile = { description: 'We design difference engines and analytical engines.\nSince 1834.', website: 'https://analytical-engines.example', public: true }
  expect((await admin.put<Profile>(`/api/v1/teams/${TEAM_SLUG}/profile`, profile)).status).toBe(200)
}

let joinPath = ''
let invitationToken = ''

export const TEAM_PAGES: PageCase[] = [
  { name: 'teams-list', path: '/teams', signedIn: true, phone: true, ready: { en: /2 members/, 'zh-CN': /2 名成员/ } },
  { name: 'teams-team', path: `/teams/${TEAM_SLUG}`, signedIn: true, phone: true, ready: { en: /Suggested invitations/, 'zh-CN': /建议的邀请/ } },
  {
    name: 'teams-roles', path: `/teams/${TEAM_SLUG}`, signedIn: true, ready: { en: /Save roles/, 'zh-CN': /保存角色/ },
    before: async (page) => {
      await page.locator('li.member').nth(1).locator('.actions button').first().click()
    },
  },
  { name: 'teams-settings', path: `/teams/${TEAM_SLUG}/settings`, signedIn: true, ready: { en: /Add this DNS record/, 'zh-CN': /DNS 记录/ } },
  { name: 'teams-activity', path: `/teams/${TEAM_SLUG}/activity`, signedIn: true, phone: true, ready: { en: /Team created/, 'zh-CN': /创建了团队/ } },
  // The preview names the team and the inviter before accepting.
  {
    name: 'teams-invitation', get path() { return `/invitations/accept#token=${invitationToken}` }, signedIn: true,
    ready: { en: /Charles Babbage invited you to join Babbage & Co[\s\S]*Accept invitation/, 'zh-CN': /Charles Babbage 邀请你加入 Babbage & Co[\s\S]*接受邀请/ },
  },
  // An unknown token is refused as soon as the page opens (the preview asks the server).
  { name: 'teams-invitation-invalid', path: `/invitations/accept#token=${FAKE_TOKEN}`, signedIn: true, ready: { en: /This invitation is not valid/, 'zh-CN': /此邀请无效/ } },
  {
    name: 'teams-join', path: '/teams', signedIn: true, phone: true, ready: { en: /Join Babbage & Co/, 'zh-CN': /加入 Babbage & Co/ },
    before: async (page) => {
      await page.goto(new URL(joinPath, page.url()).href)
    },
  },
  // Signed out, the link's page names the team before anyone signs in.
  {
    name: 'teams-join-signed-out', path: '/teams', ready: { en: /Join Babbage & Co[\s\S]*Create an account/, 'zh-CN': /加入 Babbage & Co[\s\S]*创建账户/ },
    before: async (page) => {
      await page.goto(new URL(joinPath, page.url()).href)
    },
  },
  { name: 'teams-join-invalid', path: `/join/${FAKE_TOKEN}`, signedIn: true, ready: { en: /This invite link is not valid/, 'zh-CN': /此邀请链接无效/ } },
  {
    name: 'teams-invitation-signed-out', get path() { return `/invitations/accept#token=${invitationToken}` },
    ready: { en: /invited you to join Babbage & Co[\s\S]*Create an account/, 'zh-CN': /邀请你加入 Babbage & Co[\s\S]*创建账户/ },
  },
  { name: 'teams-public', path: `/t/${TEAM_SLUG}`, phone: true, ready: { en: /2 members/, 'zh-CN': /2 名成员/ } },
  { name: 'teams-public-missing', path: '/t/no-such-team', ready: { en: /No public team at this address/, 'zh-CN': /此地址没有公开的团队/ } },
  {
    name: 'teams-onboarding', path: '/onboarding', signedIn: true, phone: true, ready: { en: /Join or create a team/, 'zh-CN': /加入或创建团队/ },
    before: async (page) => {
      await page.locator('form button[type=submit]').click()
    },
  },
]
