/**
 * Teams in real Chromium, on SQLite and PostgreSQL: create a team, invite by email, accept from
 * the caught email's link in a second browser context, change roles, check what a Developer
 * sees (and that the API refuses the rest), remove a member, leave.
 */
import { AxeBuilder } from '@axe-core/playwright'
import type { Page } from 'playwright-core'
import { describe, expect, it, onTestFinished } from 'vitest'
import { DIALECTS } from './helpers/databases.ts'
import { BROWSER_FLOW, chromiumForFile } from './helpers/browser.ts'
import { person, signedUpUser, type TestApp } from './helpers/app.ts'
import { listeningApp } from './helpers/web.ts'
import { tokenFrom } from './helpers/smtp.ts'
import { DnsServer } from './helpers/dns.ts'
import { personAt } from './helpers/discovery.ts'
import type { Invitations, JoinedTeam, Member, SeatUsage, TeamPage, TeamRef, TeamSummary } from '../src/teams/schemas.ts'

const { newPage } = chromiumForFile({ viewport: { width: 1100, height: 900 }, screenshotLabel: 'teams', textOf: 'main' })

async function signIn(page: Page, base: string, login: string, password: string, path = '/signin') {
  await page.goto(`${base}${path}`)
  await page.getByLabel('Email or username').fill(login)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
}

/** The invitation email's link, as the person would click it. */
async function invitationLink(t: TestApp, email: string, nth = 1): Promise<string> {
  await expect.poll(() => t.smtp.messagesTo(email).filter((m) => /invited you/.test(m.subject)).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(nth)
  const mail = t.smtp.messagesTo(email).filter((m) => /invited you/.test(m.subject))[nth - 1]
  const link = /(https?:\/\/\S+\/invitations\/accept#token=[A-Za-z0-9_-]{43})/.exec(mail.text)?.[1]
  if (!link) throw new Error(`no invitation link in: ${mail.text}`)
  return link
}

/** Calls the API from inside the page (same origin, the page's own cookie), as a script on it could. */
async function fetchFromPage(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; code?: string }> {
  return page.evaluate(async ({ method, path, body }) => {
    const res = await fetch(`/api/v1${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    const text = await res.text()
    return { status: res.status, code: text ? JSON.parse(text).error?.code : undefined }
  }, { method, path, body })
}

/** A 2×2 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAEUlEQVR4nGM4oaHxH4QZYAwASgQIXRyHR0QAAAAASUVORK5CYII=', 'base64')

/** The same bar as test/web.pages.test.ts, for states that page list cannot reach (no DNS server there). */
async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze()
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  expect(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([])
}

// Each flow drives two or three browsers through many pages: generous on a busy 2-core machine.

describe.each(DIALECTS)('teams in Chromium on %s', (dialect) => {
  it('create, invite, accept, change roles, Developer and Billing limits, remove, leave, activity log pages', async () => {
    const t = await listeningApp(dialect, { RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '10000' })
    const [alice, bob, carol] = [await signedUpUser(t), await signedUpUser(t), await signedUpUser(t)]
    const slug = `engines-${Math.random().toString(36).slice(2, 7)}`

    // The Admin creates a team from the avatar menu's Teams page; the URL is checked as typed.
    const admin = await newPage()
    await signIn(admin, t.base, alice.email, alice.password)
    await admin.getByRole('heading', { name: 'Settings' }).waitFor()
    await admin.getByRole('button', { name: 'Account menu' }).click()
    await admin.getByRole('menuitem', { name: 'Teams' }).click()
    await admin.getByText('You are not in a team yet.').waitFor()
    await admin.getByLabel('Team name').fill('Analytical Engines')
    await expect.poll(() => admin.getByLabel('Team URL').inputValue()).toBe('analytical-engines')
    await admin.getByLabel('Team URL').fill('ab')
    await admin.getByText('At least 3 characters.').waitFor()
    await admin.getByLabel('Team URL').fill('settings')
    await admin.getByText('This word is reserved').waitFor()
    expect(await admin.getByRole('button', { name: 'Create team' }).isDisabled()).toBe(true)
    await admin.getByLabel('Team URL').fill(slug)
    await admin.getByText(`/teams/${slug}`).waitFor()
    await admin.getByText('This URL is free.').waitFor()
    await admin.getByRole('button', { name: 'Create team' }).click()
    await admin.getByRole('link', { name: 'Open the team' }).click()
    await admin.getByRole('heading', { name: 'Analytical Engines', level: 1 }).waitFor()

    // Seats for two Developers, then invite both at once.
    await admin.getByLabel('Number of paid seats').fill('3')
    await admin.getByRole('button', { name: 'Set seats' }).click()
    await admin.getByText('Seats updated.').waitFor()
    await admin.getByLabel('Email addresses').fill(`${bob.email}, ${carol.email}`)
    await admin.getByRole('button', { name: 'Send invitations', exact: true }).click()
    await admin.getByText('Invitations sent to 2 addresses.').waitFor()
    await admin.locator('.invitations li', { hasText: bob.email }).waitFor()
    await admin.getByText('2 of 3 paid seats used').waitFor()

    // The link opened by the wrong account says so clearly.
    const bobLink = await invitationLink(t, bob.email)
    await admin.goto(bobLink)
    // The preview names the team before accepting, and warns that this account was not invited.
    await admin.getByText(`invited you to join Analytical Engines`).waitFor()
    await admin.getByText('This invitation was sent to another email address').waitFor()
    await admin.getByRole('button', { name: 'Accept invitation' }).click()
    await admin.getByRole('heading', { name: 'This invitation is for another email address' }).waitFor()

    // Bob opens the link signed out, signs in, comes back and accepts.
    const member = await newPage()
    await member.goto(bobLink)
    await member.getByRole('heading', { name: 'Team invitation' }).waitFor()
    // The token leaves the address bar (and history) at once.
    await expect.poll(() => member.url()).toBe(`${t.base}/invitations/accept`)
    await member.getByRole('main').getByRole('link', { name: 'Sign in' }).click()
    await member.getByLabel('Email or username').fill(bob.email)
    await member.getByLabel('Password').fill(bob.password)
    await member.getByRole('button', { name: 'Sign in', exact: true }).click()
    await member.getByRole('button', { name: 'Accept invitation' }).click()
    await member.getByRole('heading', { name: 'Welcome to Analytical Engines' }).waitFor()
    await member.getByText('You joined as Developer.').waitFor()
    // The same link again (a fresh page load, as from the email): already used.
    await member.goto(`${t.base}/teams`)
    await member.goto(bobLink)
    // Said on opening (the preview asks the server), with no button to press.
    await member.getByRole('heading', { name: 'This invitation was already used' }).waitFor()
    // Carol accepts through the API.
    const carolToken = /#token=([A-Za-z0-9_-]{43})/.exec(await invitationLink(t, carol.email))![1]
    expect((await carol.client.post<JoinedTeam>('/api/v1/invitations/accept', { token: carolToken })).status).toBe(200)

    // The Admin changes Bob's roles; the only Admin's own Admin role is locked.
    await admin.goto(`${t.base}/teams/${slug}`)
    const bobRow = admin.locator('li.member', { hasText: `@${bob.username}` })
    await bobRow.waitFor()
    await admin.locator('li.member', { hasText: `@${carol.username}` }).waitFor()
    await admin.getByRole('button', { name: `Change roles of ${alice.username}` }).click()
    const aliceRow = admin.locator('li.member', { hasText: `@${alice.username}` })
    expect(await aliceRow.getByRole('checkbox', { name: 'Admin', exact: true }).isDisabled()).toBe(true)
    await aliceRow.getByText('The team’s only Admin keeps the Admin role.').waitFor()
    await aliceRow.getByRole('button', { name: 'Cancel' }).click()
    await admin.getByRole('button', { name: `Change roles of ${bob.username}` }).click()
    await bobRow.getByRole('checkbox', { name: 'Developer', exact: true }).uncheck()
    await bobRow.getByRole('button', { name: 'Save roles' }).click()
    await bobRow.getByText('Choose at least one role.').waitFor()
    await bobRow.getByRole('checkbox', { name: 'Community Manager', exact: true }).check()
    await bobRow.getByRole('button', { name: 'Save roles' }).click()
    await admin.getByText('Roles saved.').waitFor()
    await bobRow.locator('.pill', { hasText: 'Community Manager' }).waitFor()
    await admin.getByRole('button', { name: `Change roles of ${bob.username}` }).click()
    await bobRow.getByRole('checkbox', { name: 'Community Manager', exact: true }).uncheck()
    await bobRow.getByRole('checkbox', { name: 'Developer', exact: true }).check()
    await bobRow.getByRole('button', { name: 'Save roles' }).click()
    await expect.poll(() => bobRow.locator('.pill').allTextContents()).toEqual(['Developer'])

    // As a Developer: what the role does not allow is absent, and the API refuses it.
    await member.goto(`${t.base}/teams/${slug}`)
    await member.getByRole('heading', { name: 'Analytical Engines', level: 1 }).waitFor()
    await member.getByRole('heading', { name: 'Invite people' }).waitFor()
    await member.getByText('An invitation with any other role becomes a suggestion').waitFor()
    for (const name of [/^Change roles of/, /^Remove /, /^Re-send/, /^Cancel the invitation/, /^Set seats$/]) {
      expect(await member.getByRole('button', { name }).count(), String(name)).toBe(0)
    }
    for (const name of ['Team settings', 'Activity log']) expect(await member.getByRole('link', { name }).count(), name).toBe(0)
    expect(await member.getByLabel('Number of paid seats').count()).toBe(0)
    const carolId = carol.accountId
    const refusals = await Promise.all([
      fetchFromPage(member, 'PATCH', `/teams/${slug}`, { name: 'Taken over' }),
      fetchFromPage(member, 'PUT', `/teams/${slug}/seats`, { seats: 9 }),
      fetchFromPage(member, 'PUT', `/teams/${slug}/members/${carolId}/roles`, { roles: ['admin'] }),
      fetchFromPage(member, 'DELETE', `/teams/${slug}/members/${carolId}`),
      fetchFromPage(member, 'GET', `/teams/${slug}/activity`),
    ])
    expect(refusals).toEqual(Array(5).fill({ status: 403, code: 'team_permission_denied' }))
    // Opening the activity log by its address shows the server's refusal in words.
    await member.goto(`${t.base}/teams/${slug}/activity`)
    await member.getByText('Refused by the server: only a member with the Admin or Community Manager role can do this.').waitFor()
    // A Developer's invitation of an Admin becomes a suggestion the Admin declines.
    await member.goto(`${t.base}/teams/${slug}`)
    await member.getByLabel('Email addresses').fill('someone@example.org')
    const inviteForm = member.locator('section.invite')
    await inviteForm.getByRole('checkbox', { name: 'Admin', exact: true }).check()
    await inviteForm.getByRole('button', { name: 'Suggest to the Admins' }).click()
    await member.getByText('1 invitation waits for an Admin’s approval.').waitFor()
    await admin.reload()
    await admin.getByRole('button', { name: 'Decline the invitation to someone@example.org' }).click()
    await admin.getByText('The suggestion to invite someone@example.org was declined.').waitFor()

    // A Billing-only member: seats yes; in the role editor only the Billing box; no inviting.
    expect((await alice.client.put<Member>(`/api/v1/teams/${slug}/members/${carol.accountId}/roles`, { roles: ['billing'] })).status).toBe(200)
    const billing = await newPage()
    await signIn(billing, t.base, carol.email, carol.password, `/signin?next=${encodeURIComponent(`/teams/${slug}`)}`)
    await billing.getByRole('heading', { name: 'Analytical Engines', level: 1 }).waitFor()
    await billing.getByRole('button', { name: 'Set seats' }).waitFor()
    expect(await billing.getByRole('heading', { name: 'Invite people' }).count()).toBe(0)
    expect(await billing.getByRole('button', { name: /^Remove / }).count()).toBe(0)
    await billing.getByRole('button', { name: `Change roles of ${bob.username}` }).click()
    const editor = billing.locator('li.member', { hasText: `@${bob.username}` }).locator('form.role-editor')
    for (const role of ['Admin', 'Developer', 'Community Manager']) expect(await editor.getByRole('checkbox', { name: role, exact: true }).isDisabled(), role).toBe(true)
    expect(await editor.getByRole('checkbox', { name: 'Billing', exact: true }).isEnabled()).toBe(true)
    await editor.getByText('As a Billing member you can give or take only the Billing role.').waitFor()

    // The Admin removes Carol; her access ends at once.
    await admin.getByRole('button', { name: `Remove ${carol.username}` }).click()
    await admin.getByRole('button', { name: 'Remove from team' }).click()
    await admin.getByText(`${carol.username} was removed from the team.`).waitFor()
    await expect.poll(() => admin.locator('li.member', { hasText: `@${carol.username}` }).count()).toBe(0)
    expect((await carol.client.get<TeamPage>(`/api/v1/teams/${slug}`)).status).toBe(404)

    // Bob leaves.
    await member.getByRole('button', { name: 'Leave team' }).click()
    await member.getByRole('button', { name: 'Yes, leave' }).click()
    await member.getByText('You left Analytical Engines.').waitFor()
    expect(new URL(member.url()).pathname).toBe('/teams')
    await member.getByText('You are not in a team yet.').waitFor()

    // The activity log shows all of it to the Admin.
    await admin.getByRole('link', { name: 'Activity log' }).click()
    await admin.getByText(`${bob.username} left`).waitFor()
    await admin.getByText(`${carol.username} was removed`).waitFor()
    await admin.getByText(`Roles of ${bob.username} changed to Developer`).waitFor()

    // Older events are a page further: 25 renames push "Team created" off the first page.
    for (let i = 1; i <= 25; i++) expect((await alice.client.patch<TeamRef>(`/api/v1/teams/${slug}`, { name: `Analytical Engines ${i}` })).status).toBe(200)
    await admin.reload()
    await admin.getByText('Team renamed from “Analytical Engines 24” to “Analytical Engines 25”').waitFor()
    expect(await admin.getByText('Team created').count()).toBe(0)
    await admin.getByRole('button', { name: 'Load older events' }).click()
    await admin.getByText('Team created').waitFor()

    // A new URL: the settings field checks it live; the old address then leads to the new one.
    await admin.goto(`${t.base}/teams/${slug}/settings`)
    const moved = `${slug}-moved`
    await admin.getByRole('textbox', { name: 'Team URL' }).fill(moved)
    await admin.getByText('This URL is free.').waitFor()
    await admin.getByRole('button', { name: 'Change URL' }).click()
    await admin.getByText(`The team is now at /teams/${moved}.`).waitFor()
    expect(new URL(admin.url()).pathname).toBe(`/teams/${moved}/settings`)
    await admin.goto(`${t.base}/teams/${slug}`)
    await expect.poll(() => new URL(admin.url()).pathname).toBe(`/teams/${moved}`)
    await admin.getByRole('heading', { name: 'Analytical Engines 25', level: 1 }).waitFor()
  }, BROWSER_FLOW)

  it('invite links (create, join from another browser, revoke), CSV invitations, team logo and avatar, an invitation through sign-up', async () => {
    const t = await listeningApp(dialect, { RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '10000' })
    const [alice, joiner, late] = [await signedUpUser(t), await signedUpUser(t), await signedUpUser(t)]
    const slug = `links-${Math.random().toString(36).slice(2, 7)}`
    expect((await alice.client.post<TeamSummary>('/api/v1/teams', { name: 'Difference Engines', slug })).status).toBe(201)
    expect((await alice.client.put<SeatUsage>(`/api/v1/teams/${slug}/seats`, { seats: 6 })).status).toBe(200)

    const admin = await newPage()
    await signIn(admin, t.base, alice.email, alice.password, `/signin?next=${encodeURIComponent(`/teams/${slug}`)}`)
    const links = admin.locator('section.invite-links')
    await links.getByText('No invite links yet.').waitFor()
    await links.getByRole('button', { name: 'Create invite link' }).click()
    const url = await links.getByRole('textbox', { name: 'Invite link' }).inputValue()
    expect(url).toMatch(new RegExp(`^${t.base}/join/[A-Za-z0-9_-]{43}$`))
    await links.getByText('0 of 30 joins').waitFor()

    // Someone else opens the link, signs in on the way, and joins.
    const other = await newPage()
    await other.goto(url)
    await other.getByRole('main').getByRole('link', { name: 'Sign in' }).click()
    await other.getByLabel('Email or username').fill(joiner.email)
    await other.getByLabel('Password').fill(joiner.password)
    await other.getByRole('button', { name: 'Sign in', exact: true }).click()
    await other.getByRole('heading', { name: 'Join Difference Engines' }).waitFor()
    await other.getByText('You will join as Developer.').waitFor()
    await other.getByRole('button', { name: 'Join team' }).click()
    await other.getByRole('heading', { name: 'Welcome to Difference Engines' }).waitFor()
    await other.goto(url)
    await other.getByText('You are already a member of this team.').waitFor()

    // The Admin sees the use, with the creator, and revokes the link; it stops working.
    await admin.reload()
    await links.getByText('1 of 30 joins').waitFor()
    await links.getByText(`Created by ${alice.username}`).waitFor()
    await links.getByRole('button', { name: /^Revoke the invite link/ }).click()
    // Revoking asks first; cancelling keeps the link.
    await links.getByText('Revoke this link? Nobody can join with it any more; people who already joined stay.').waitFor()
    await links.getByRole('button', { name: 'Cancel' }).click()
    await links.locator('.pill', { hasText: 'Active' }).waitFor()
    await links.getByRole('button', { name: /^Revoke the invite link/ }).click()
    await links.getByRole('button', { name: 'Revoke link' }).click()
    await links.getByText('The link was revoked').waitFor()
    await links.locator('.pill', { hasText: 'Revoked' }).waitFor()
    await signIn(other, t.base, late.email, late.password, `/signin?add=1&next=${encodeURIComponent(new URL(url).pathname)}`)
    await other.getByRole('heading', { name: 'This invite link was revoked' }).waitFor()
    await other.getByText('Ask the team “Difference Engines” for a new invite link.').waitFor()

    // CSV: a bad row refuses the whole file and names its line; a good file invites everyone.
    const csv = admin.locator('form.csv-invite')
    await csv.getByLabel('CSV file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from('email,roles\nada@example.org,developer\nnot-an-address,developer\n') })
    await csv.getByText('people.csv: 3 lines ready to send.').waitFor()
    await csv.getByRole('button', { name: 'Send invitations from the file' }).click()
    await csv.getByText('Nothing was sent.').waitFor()
    await csv.getByText('Line 3: "not-an-address" is not a valid email address.').waitFor()
    await csv.getByLabel('CSV file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from('ada@example.org,developer;community_manager\nbob@example.org\n') })
    await csv.getByRole('button', { name: 'Send invitations from the file' }).click()
    await csv.getByText('Invitations sent to 2 addresses.').waitFor()
    // The same file again: both addresses are already invited, each named by its line.
    await csv.getByLabel('CSV file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from('ada@example.org\nbob@example.org\n') })
    await csv.getByRole('button', { name: 'Send invitations from the file' }).click()
    await csv.getByText('Line 2: already invited (re-send that invitation instead)').waitFor()
    await admin.locator('.invitations li', { hasText: 'ada@example.org' }).locator('.pill', { hasText: 'Community Manager' }).waitFor()

    // A logo, then an avatar: uploaded, re-encoded, shown.
    await admin.getByRole('link', { name: 'Team settings' }).click()
    await admin.getByLabel('Upload a logo').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: PNG })
    await admin.getByText('Logo updated.').waitFor()
    await expect.poll(() => admin.locator('.team-header img.team-logo').getAttribute('src')).toMatch(/^\/images\/[A-Za-z0-9_-]{22}\.png$/)
    await admin.getByLabel('Upload a logo').setInputFiles({ name: 'logo.gif', mimeType: 'image/gif', buffer: Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;') })
    await admin.locator('[data-code^=image_]').waitFor()
    await admin.goto(`${t.base}/settings/profile`)
    await admin.getByLabel('Upload an avatar').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: PNG })
    await admin.getByText('Avatar updated.').waitFor()
    await expect.poll(() => admin.locator('button.avatar img').getAttribute('src')).toMatch(/^\/images\//)
    // Teammates see it beside the name.
    await admin.goto(`${t.base}/teams/${slug}`)
    // getAttribute waits for the element itself; the poll's default second was too short on a busy machine.
    await expect.poll(() => admin.locator('li.member', { hasText: `@${alice.username}` }).locator('img.member-avatar').getAttribute('src'), { timeout: 15_000 }).toMatch(/^\/images\//)
    await admin.goto(`${t.base}/settings/profile`)
    await admin.getByRole('button', { name: 'Remove avatar' }).click()
    await admin.getByText('Avatar removed.').waitFor()
    await expect.poll(() => admin.locator('button.avatar img').count()).toBe(0)

    // Someone new opens an emailed invitation, signs up on the way, and is led back to it from onboarding and after confirming.
    const dave = person('dave')
    expect((await alice.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [dave.email], roles: ['developer'] })).status).toBe(201)
    const fresh = await newPage()
    await fresh.goto(await invitationLink(t, dave.email))
    await fresh.getByRole('main').getByRole('link', { name: 'Create an account' }).click()
    await fresh.getByLabel('Email').fill(dave.email)
    await fresh.getByLabel('Username').fill(dave.username)
    await fresh.getByText('Available').waitFor()
    await fresh.getByLabel('Password', { exact: true }).fill(dave.password)
    await fresh.getByLabel('I accept the terms of use').check()
    await fresh.getByRole('button', { name: 'Create account' }).click()
    await fresh.getByRole('button', { name: 'Continue' }).click()
    await fresh.getByText('You came from a team invitation. Confirm your email with the link we just sent').waitFor()
    await fresh.getByRole('link', { name: 'Go back to the invitation' }).click()
    await fresh.getByRole('button', { name: 'Accept invitation' }).click()
    // Not confirmed yet: said plainly; after confirming, the same page accepts.
    await fresh.getByRole('heading', { name: 'Confirm your email first' }).waitFor()
    await fresh.goto(`${t.base}/confirm-email#token=${tokenFrom(await t.smtp.waitFor(dave.email, /Confirm your email/))}`)
    // Confirmed, this browser goes back to the invitation by itself (the link here carries no `next`: it was remembered).
    await expect.poll(() => new URL(fresh.url()).pathname).toBe('/invitations/accept')
    await fresh.getByRole('button', { name: 'Accept invitation' }).click()
    await fresh.getByRole('heading', { name: 'Welcome to Difference Engines' }).waitFor()
  }, BROWSER_FLOW)

  it('discovery: a verified domain (TXT record from the page), discovery with a question, a colleague asks to join, the Admin approves', async () => {
    const dns = await new DnsServer().start()
    onTestFinished(() => dns.stop())
    const t = await listeningApp(dialect, { RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '10000', DNS_SERVERS: dns.address, DNS_TIMEOUT_MS: '1000' })
    const alice = await signedUpUser(t)
    const slug = `acme-${Math.random().toString(36).slice(2, 7)}`
    const domain = `${slug}.test`
    expect((await alice.client.post<TeamSummary>('/api/v1/teams', { name: 'Acme Research', slug })).status).toBe(201)
    expect((await alice.client.put<SeatUsage>(`/api/v1/teams/${slug}/seats`, { seats: 3 })).status).toBe(200)

    const admin = await newPage()
    await signIn(admin, t.base, alice.email, alice.password, `/signin?next=${encodeURIComponent(`/teams/${slug}/settings`)}`)
    const domains = admin.locator('section.domains')
    await domains.getByLabel('Domain').fill(domain)
    await domains.getByRole('button', { name: 'Add domain' }).click()
    const row = domains.locator('li', { hasText: domain })
    await row.getByText('Add this DNS record').waitFor()
    await row.getByRole('button', { name: `Verify ${domain}` }).click()
    await row.getByText('no TXT record was found').waitFor()
    // Publish exactly what the page shows, then verify again.
    const [name, value] = await row.locator('code.record').allTextContents()
    dns.setTxt(name, [value])
    await row.getByRole('button', { name: `Verify ${domain}` }).click()
    await row.getByText(/verified\. People with an address at this domain/).waitFor()
    await row.locator('.pill', { hasText: 'Verified' }).waitFor()
    const discovery = admin.locator('section.discovery')
    await discovery.getByLabel('Let people at our verified domains').check()
    await discovery.getByLabel('Question for people who ask to join').fill('Which lab are you in?')
    await discovery.getByRole('button', { name: 'Save discovery settings' }).click()
    await discovery.getByText('Discovery settings saved.').waitFor()
    await expectAccessible(admin)

    // A colleague with a confirmed address at the domain finds the team and asks to join.
    const colleague = await personAt(t, domain)
    const other = await newPage()
    await signIn(other, t.base, colleague.email, colleague.password, `/signin?next=${encodeURIComponent('/teams')}`)
    await other.getByRole('heading', { name: 'Teams at your company' }).waitFor()
    await other.getByRole('button', { name: 'Ask to join Acme Research' }).click()
    await other.getByLabel('Your answer: Which lab are you in?').fill('Optics')
    await other.getByRole('button', { name: 'Send request' }).click()
    await other.getByText('Your request to join Acme Research was sent.').waitFor()
    await other.getByRole('button', { name: 'Withdraw the request to join Acme Research' }).waitFor()
    await expectAccessible(other)

    // The Admin approves it from the team page; the colleague is a member.
    await admin.getByRole('link', { name: 'Acme Research' }).click()
    const requests = admin.locator('section.join-requests')
    await requests.getByText('Answer: Optics').waitFor()
    await expectAccessible(admin)
    await requests.getByRole('button', { name: `Approve the request of ${colleague.username}` }).click()
    await requests.getByText(`${colleague.username} joined the team.`).waitFor()
    await admin.locator('li.member', { hasText: `@${colleague.username}` }).locator('.pill', { hasText: 'Developer' }).waitFor()
    await other.goto(`${t.base}/teams`)
    await other.getByRole('link', { name: 'Acme Research' }).waitFor()
  }, BROWSER_FLOW)
})
