/**
 * The places a new person tripped over (issue: a fresh walk through the product), in real
 * Chromium on SQLite and PostgreSQL: the public profile's Markdown and avatar, onboarding's skip
 * and the job role in Settings, clickable username suggestions, dates in the reader's locale,
 * and the team pages' seat numbers, warnings and confirmations.
 */
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { BROWSER_FLOW, chromiumForFile } from './helpers/browser.ts'
import { DIALECTS } from './helpers/databases.ts'
import { person, signedUpUser } from './helpers/app.ts'
import { listeningApp } from './helpers/web.ts'
import { addMember } from './helpers/teams.ts'
import type { AccountView, AvatarSet } from '../src/accounts/schemas.ts'
import type { SeatUsage, TeamSummary } from '../src/teams/schemas.ts'
import type { Domain } from '../src/teams/discovery/schemas.ts'

const { newPage } = chromiumForFile({ screenshotLabel: 'newcomer' })

/** A 2×2 PNG: re-encoded by the server into the 256×256 avatar. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAEUlEQVR4nGM4oaHxH4QZYAwASgQIXRyHR0QAAAAASUVORK5CYII=', 'base64')

const HOSTILE_ABOUT_ME = [
  '# Hello',
  '',
  'I build **APIs** and *tests*. [My site](https://example.com/ada) · [click](javascript:window.__pwned=1)',
  '',
  '<script>window.__pwned = 2</script>',
  '<img src="x" onerror="window.__pwned = 3">',
  '',
  '- one',
  '- two',
].join('\n')

async function signIn(page: Page, base: string, login: string, password: string, next = '/settings') {
  await page.goto(`${base}/signin?next=${encodeURIComponent(next)}`)
  await page.getByLabel('Email or username').fill(login)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await expect.poll(() => new URL(page.url()).pathname).toBe(next.split('?')[0])
}

describe.each(DIALECTS)('what a newcomer meets, in Chromium on %s', (dialect) => {
  it('the public profile renders about-me as sanitised Markdown and shows the avatar; dates follow the reader\'s locale', async () => {
    const t = await listeningApp(dialect)
    const ada = await signedUpUser(t)
    expect((await ada.client.patch<AccountView>('/api/v1/me', { displayName: 'Ada Lovelace', aboutMe: HOSTILE_ABOUT_ME, publicProfile: true })).status).toBe(200)
    const avatar = await ada.client.put<AvatarSet>('/api/v1/me/avatar', { image: PNG.toString('base64') })
    expect(avatar.status, JSON.stringify(avatar.body)).toBe(200)

    const page = await newPage({ locale: 'en-GB' })
    await page.goto(`${t.base}/u/${ada.username}`)
    const about = page.locator('.about')
    await about.getByRole('heading', { name: 'Hello', level: 2 }).waitFor()
    expect(await about.locator('strong').innerText()).toBe('APIs')
    expect(await about.locator('em').innerText()).toBe('tests')
    expect(await about.locator('li').allInnerTexts()).toEqual(['one', 'two'])
    const site = about.getByRole('link', { name: 'My site' })
    expect(await site.getAttribute('href')).toBe('https://example.com/ada')
    expect(await site.getAttribute('rel')).toContain('nofollow')
    expect(await site.getAttribute('rel')).toContain('noopener')
    // The javascript: link keeps its words and loses the link; raw HTML is shown as typed.
    expect(await about.getByRole('link', { name: 'click' }).count()).toBe(0)
    await about.getByText('<script>window.__pwned = 2</script>').waitFor()
    expect(await about.locator('script, img').count()).toBe(0)
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined()

    // The avatar the API returns, loaded and decoded (256×256 after re-encoding).
    const img = page.getByRole('img', { name: 'Avatar of Ada Lovelace' })
    expect(await img.getAttribute('src')).toBe(avatar.body.avatarUrl)
    await expect.poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(256)

    // One date format in the reader's locale: en-GB day-month order; Chinese in the Chinese app.
    await page.getByText('Member since 1 Jun 2026').waitFor()
    const zh = await newPage({ locale: 'zh-CN' })
    await zh.goto(`${t.base}/u/${ada.username}`)
    await zh.getByText('加入于 2026年6月1日').waitFor()
  }, BROWSER_FLOW)

  it('onboarding: "Skip for now" still offers the team step; the job role is changed later in Settings; taken usernames offer clickable names', async () => {
    const t = await listeningApp(dialect)
    const taken = await signedUpUser(t)
    const who = person('newcomer')
    const page = await newPage()
    await page.goto(`${t.base}/signup`)
    await page.getByLabel('Email').fill(who.email)
    await page.getByLabel('Username').fill(taken.username)
    // The suggestions are buttons that fill the field, which is then free.
    const suggestion = page.locator('.username-suggestions button').first()
    await suggestion.waitFor()
    const picked = await suggestion.innerText()
    expect(await suggestion.getAttribute('aria-label')).toBe(`Use ${picked}`)
    await suggestion.click()
    expect(await page.getByLabel('Username').inputValue()).toBe(picked)
    await page.getByText('Available').waitFor()
    await page.getByLabel('Password', { exact: true }).fill(who.password)
    await page.getByLabel('I accept the terms of use').check()
    await page.getByRole('button', { name: 'Create account' }).click()

    await page.getByRole('heading', { name: 'Tell us about you' }).waitFor()
    await page.getByText('You can change it later in Settings → Profile.').waitFor()
    await page.getByRole('button', { name: 'Skip for now' }).click()
    await page.getByRole('heading', { name: 'Join or create a team' }).waitFor()
    await page.getByRole('button', { name: 'Create team' }).waitFor()

    await page.goto(`${t.base}/settings/profile`)
    const role = page.getByLabel('Your role')
    expect(await role.inputValue()).toBe('')
    await role.selectOption('qa')
    await page.getByRole('button', { name: 'Save' }).first().click()
    await page.getByText('Saved.').waitFor()
    await page.reload()
    await expect.poll(() => page.getByLabel('Your role').inputValue()).toBe('qa')
  }, BROWSER_FLOW)

  it('team pages: the seat error counts the request apart, a link without a free seat warns, revoking and removing a domain ask first, the signed-out join page names the team, renamed people show their current name', async () => {
    const t = await listeningApp(dialect, { RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '10000' })
    const alice = await signedUpUser(t)
    const slug = `newcomer-${Math.random().toString(36).slice(2, 7)}`
    expect((await alice.client.post<TeamSummary>('/api/v1/teams', { name: 'Jacquard Looms', slug })).status).toBe(201)
    expect((await alice.client.put<SeatUsage>(`/api/v1/teams/${slug}/seats`, { seats: 1 })).status).toBe(200)
    const dev = await addMember(t, alice, slug, ['developer'])
    expect((await alice.client.post<Domain>(`/api/v1/teams/${slug}/domains`, { domain: `${slug}.example` })).status).toBe(201)

    const admin = await newPage()
    await signIn(admin, t.base, alice.email, alice.password, `/teams/${slug}`)

    // Two addresses into a full team with no pending invitation: nothing is "held" by them.
    const invite = admin.locator('section.invite')
    await invite.getByLabel('Email addresses').fill('one@example.org, two@example.org')
    await invite.getByRole('button', { name: 'Send invitations', exact: true }).click()
    await invite.getByText('Not enough free seats: this needs 2, and 0 of 1 are free (1 in use by members, 0 held by pending invitations).', { exact: false }).waitFor()

    // A link made with no free seat says nobody can use it yet, on creation and in the list.
    const links = admin.locator('section.invite-links')
    await links.getByRole('button', { name: 'Create invite link' }).click()
    await links.getByText('Nobody can join with this link now: no paid seat is free. Add seats on this page, or free one.').waitFor()
    await links.locator('li.invite-link .no-free-seat').waitFor()
    const url = await links.getByRole('textbox', { name: 'Invite link' }).inputValue()

    // Signed out, the link's page names the team and its roles before anyone signs in.
    const visitor = await newPage()
    await visitor.goto(url)
    await visitor.getByRole('heading', { name: 'Join Jacquard Looms' }).waitFor()
    await visitor.getByText('You will join as Developer.').waitFor()
    await visitor.getByRole('main').getByRole('link', { name: 'Sign in' }).waitFor()

    // Revoking asks first.
    await links.getByRole('button', { name: /^Revoke the invite link/ }).click()
    await links.getByRole('button', { name: 'Cancel' }).click()
    await links.locator('.pill', { hasText: 'Active' }).waitFor()
    await links.getByRole('button', { name: /^Revoke the invite link/ }).click()
    await links.getByRole('button', { name: 'Revoke link' }).click()
    await links.locator('.pill', { hasText: 'Revoked' }).waitFor()

    // Removing a domain asks first.
    await admin.goto(`${t.base}/teams/${slug}/settings`)
    const domains = admin.locator('section.domains')
    await domains.getByRole('button', { name: `Remove ${slug}.example` }).click()
    await domains.getByText(`Remove ${slug}.example? People with an address there will no longer find the team.`, { exact: false }).waitFor()
    await domains.getByRole('button', { name: 'Cancel' }).click()
    await domains.getByText(`${slug}.example`, { exact: true }).waitFor()
    await domains.getByRole('button', { name: `Remove ${slug}.example` }).click()
    await domains.getByRole('button', { name: 'Remove domain' }).click()
    await domains.getByText(`${slug}.example was removed.`).waitFor()

    // After a rename the activity log names the member as they are now, and as they were.
    expect((await dev.client.patch<AccountView>('/api/v1/me', { username: `${dev.username}-now` })).status).toBe(200)
    await admin.goto(`${t.base}/teams/${slug}/activity`)
    await admin.getByText(`${dev.username}-now (then ${dev.username}) joined`).waitFor()
  }, BROWSER_FLOW)
})
