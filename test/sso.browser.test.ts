/**
 * The Enterprise sign-in controls and IT set-up links in real Chromium, on SQLite and PostgreSQL:
 * an Admin changes the controls on the team settings page, creates a set-up link and copies it;
 * the IT administrator (signed out, another browser) opens it and sees only that team's set-up
 * instructions, with the token gone from the address bar; a revoked link then says so.
 */
import { AxeBuilder } from '@axe-core/playwright'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { DIALECTS } from './helpers/databases.ts'
import { BROWSER_FLOW, chromiumForFile } from './helpers/browser.ts'
import { signedUpUser } from './helpers/app.ts'
import { listeningApp } from './helpers/web.ts'
import { newId } from '../src/crypto.ts'
import type { SigninPolicy } from '../src/sso/schemas.ts'

const { newPage } = chromiumForFile({ viewport: { width: 1100, height: 900 }, screenshotLabel: 'sso', textOf: 'main' })

async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze()
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  expect(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([])
}

describe.each(DIALECTS)('Enterprise sign-in controls in Chromium on %s', (dialect) => {
  it('an Admin sets the controls and hands out a set-up link that opens only the team\'s SSO set-up', async () => {
    const t = await listeningApp(dialect, { RATE_LIMIT_SIGNIN_PER_IP_PER_MINUTE: '10000' })
    const alice = await signedUpUser(t)
    const slug = `engines-${Math.random().toString(36).slice(2, 7)}`
    expect((await alice.client.post('/api/v1/teams', { name: 'Analytical Engines', slug })).status).toBe(201)

    const admin = await newPage()
    await admin.goto(`${t.base}/signin?next=${encodeURIComponent(`/teams/${slug}/settings`)}`)
    await admin.getByLabel('Email or username').fill(alice.email)
    await admin.getByLabel('Password', { exact: true }).fill(alice.password)
    await admin.getByRole('button', { name: 'Sign in', exact: true }).click()
    await admin.getByRole('heading', { name: 'Enterprise sign-in' }).waitFor()

    // Without an enabled SSO connection, "members must use SSO" cannot be switched on.
    const passwordOff = admin.getByLabel('Turn off password sign-in for members')
    expect(await passwordOff.isDisabled()).toBe(true)
    await admin.getByText(/Needs an enabled SSO connection/).first().waitFor()

    await admin.getByLabel('Automatically add new users (JIT)').check()
    await admin.getByLabel('Require two-factor authentication for password sign-in').check()
    await admin.getByLabel('Maximum session length (minutes)').fill('60')
    await admin.getByRole('button', { name: 'Save sign-in settings' }).click()
    await admin.getByText('Sign-in settings saved.').waitFor()
    expect((await alice.client.get<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`)).body).toMatchObject({ jitEnabled: true, requireTwoFactor: true, maxSessionMinutes: 60 })

    // With a connection, the switch works, and the page warns that members will be signed out.
    const team = await t.app.ctx.db.selectFrom('teams').select('id').where('slug', '=', slug).executeTakeFirstOrThrow()
    const now = t.clock.now()
    await t.app.ctx.db.insertInto('sso_connections').values({ id: newId(), team_id: team.id, protocol: 'saml', name: 'Okta', enabled: 1, idp_initiated: 0, idp_entity_id: `https://idp.example/${slug}`, idp_sso_url: 'https://idp.example/sso', idp_certificates: null, oidc_issuer: null, oidc_client_id: null, oidc_client_secret: null, tested_at: null, created_by: null, created_at: now, updated_at: now }).execute()
    await admin.reload()
    await passwordOff.check()
    await admin.getByText(/signs members out everywhere/).waitFor()
    await admin.getByRole('button', { name: 'Save sign-in settings' }).click()
    await admin.getByText('Sign-in settings saved.').waitFor()
    expect((await alice.client.get<SigninPolicy>(`/api/v1/teams/${slug}/signin-policy`)).body.passwordSigninDisabled).toBe(true)
    await expectAccessible(admin)

    // The set-up link: shown once, with the token in the fragment only.
    await admin.getByRole('button', { name: 'Create a set-up link' }).click()
    await admin.getByText('Set-up link created.', { exact: false }).waitFor()
    const url = await admin.locator('input[name="setupLinkUrl"]').inputValue()
    expect(url).toMatch(new RegExp(`^${t.base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/sso-setup#token=[A-Za-z0-9_-]{43}$`))
    await admin.getByText(/^Active$/).waitFor()

    // The IT administrator, signed out in another browser.
    const it = await newPage()
    await it.goto(url)
    await it.getByRole('heading', { name: 'Set up single sign-on for Analytical Engines' }).waitFor()
    expect(it.url()).toBe(`${t.base}/teams/${slug}/sso-setup`)
    await it.getByText('Okta', { exact: true }).click()
    await it.getByText(/Applications → Create App Integration/).waitFor()
    await it.getByText('Microsoft Entra ID', { exact: true }).waitFor()
    await it.getByText('Google Workspace', { exact: true }).waitFor()
    await expectAccessible(it)

    // Revoked: the holder's next visit says so.
    await admin.getByRole('button', { name: /^Revoke the set-up link created/ }).click()
    await admin.getByRole('button', { name: 'Yes, revoke' }).click()
    await admin.getByText('The set-up link was revoked.').waitFor()
    await it.reload()
    await it.getByRole('heading', { name: 'This set-up link does not work' }).waitFor()
    await it.getByText(/was revoked/).waitFor()
  }, BROWSER_FLOW)
})
