/**
 * Team discovery end to end, on SQLite and PostgreSQL: domains checked against a real DNS
 * server on loopback, discovery settings, requests to join, approval and denial, and the
 * notices Admins and requesters get (mail through the SMTP catcher, the in-app inbox).
 */
import { describe, expect, it } from 'vitest'
import { loadConfig, ConfigError } from '../../config.ts'
import { DIALECTS } from '../../../test/helpers/databases.ts'
import { errorOf, expectError, expectErrorCode, signedUpUser } from '../../../test/helpers/app.ts'
import { tokenFrom } from '../../../test/helpers/smtp.ts'
import { appWithDns, discoverableTeam, newDomain, personAt, verifiedDomain, type DiscoveryApp } from '../../../test/helpers/discovery.ts'
import { addMember, newSlug, teamWithAdmin, type Person } from '../../../test/helpers/teams.ts'
import type { ApprovedMember, DiscoverableTeams, Discovery, Domain, DomainRemoval, DomainsPage, JoinRequests, MyJoinRequest, MyJoinRequests, VerifyResult } from './schemas.ts'
import type { NotificationPage, PreferencesView } from '../../notifications/schemas.ts'
import type { ActivityPage, Invitations, LeaveResult, SeatUsage, TeamList, TeamPage, TeamSummary } from '../schemas.ts'
import type { AccountView, EmailChangeSent, EmailConfirmed } from '../../accounts/schemas.ts'

async function activity(admin: Person, slug: string) {
  return (await admin.client.get<ActivityPage>(`/api/v1/teams/${slug}/activity`)).body.events as { type: string; details: Record<string, unknown>; actor: { username: string } | null }[]
}

async function inbox(who: Person) {
  return (await who.client.get<NotificationPage>('/api/v1/me/notifications')).body.notifications
}

/** The person's in-app notice of `kind` (notices written at one clock tick have no set order). */
async function notice(who: Person, kind: string) {
  return (await inbox(who)).find((n) => n.kind === kind)
}

async function requestJoin(t: DiscoveryApp, who: Person, slug: string, answer?: string) {
  return who.client.post<MyJoinRequest>('/api/v1/me/join-requests', { team: slug, ...(answer !== undefined ? { answer } : {}) })
}

describe('DNS_SERVERS and DNS_TIMEOUT_MS configuration', () => {
  const base = { NODE_ENV: 'test' }
  it('takes IPv4 and IPv6 servers with or without ports', () => {
    expect(loadConfig({ ...base, DNS_SERVERS: '127.0.0.1:5353, 192.0.2.1,[::1]:53,2001:db8::1' }).dns).toEqual({ servers: ['127.0.0.1:5353', '192.0.2.1', '[::1]:53', '2001:db8::1'], timeoutMs: 5000 })
    expect(loadConfig(base).dns.servers).toEqual([])
  })
  it('stops at start-up on a host name, a bad port or a bad timeout, naming the variable', () => {
    for (const bad of ['dns.example.com', '127.0.0.1:99999', '127.0.0.1:', '[127.0.0.1]:53', '::1:53x']) {
      expect(() => loadConfig({ ...base, DNS_SERVERS: bad }), bad).toThrow(ConfigError)
      expect(() => loadConfig({ ...base, DNS_SERVERS: bad }), bad).toThrow(/DNS_SERVERS/)
    }
    expect(() => loadConfig({ ...base, DNS_TIMEOUT_MS: '10' })).toThrow(/DNS_TIMEOUT_MS/)
  })
})

describe.each(DIALECTS)('team discovery on %s', (dialect) => {
  describe('domains', () => {
    it('normalises a domain (case, trailing dot, IDN to punycode) and shows the TXT record to publish', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const res = await admin.client.post<Domain>(`/api/v1/teams/${slug}/domains`, { domain: '  Bücher.Example-Corp.TEST. ' })
      expect(res.status).toBe(201)
      expect(res.body).toMatchObject({ domain: 'xn--bcher-kva.example-corp.test', status: 'pending', verifiedAt: null, lastCheck: null })
      expect(res.body.record.type).toBe('TXT')
      expect(res.body.record.name).toBe('_latchkey-challenge.xn--bcher-kva.example-corp.test')
      expect(res.body.record.value).toMatch(/^latchkey-verification=[A-Za-z0-9_-]{43}$/)
      const list = (await admin.client.get<DomainsPage>(`/api/v1/teams/${slug}/domains`)).body
      expect(list).toEqual({ domains: [res.body], discovery: { enabled: false, question: null } })
      expect((await activity(admin, slug))[0]).toMatchObject({ type: 'domain.added', actor: { username: admin.username }, details: { domain: 'xn--bcher-kva.example-corp.test' } })
    })

    it('refuses public webmail domains, things that are not domains, and the same domain twice', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      for (const webmail of ['gmail.com', 'Outlook.com', 'qq.com']) {
        const res = await admin.client.post<Domain>(`/api/v1/teams/${slug}/domains`, { domain: webmail })
        expect(res.status, webmail).toBe(400)
        expect(errorOf(res)).toMatchObject({ code: 'domain_public_webmail', fields: { domain: 'public_webmail' } })
        expect(errorOf(res).message).toMatch(/public email provider/)
      }
      for (const bad of ['localhost', 'ada@acme.test', 'https://acme.test', 'acme.test/path', '-acme.test', 'acme..test', 'acme.123', 'a b.test', `${'a'.repeat(64)}.test`]) {
        const res = await admin.client.post<Domain>(`/api/v1/teams/${slug}/domains`, { domain: bad })
        expect(res.status, bad).toBe(400)
        expect(errorOf(res).code, bad).toBe('domain_invalid')
      }
      expectErrorCode(await admin.client.post<Domain>(`/api/v1/teams/${slug}/domains`, { domain: '' }), 'invalid_request')
      expect((await admin.client.post<Domain>(`/api/v1/teams/${slug}/domains`, { domain: 'acme.test' })).status).toBe(201)
      const twice = await admin.client.post<Domain>(`/api/v1/teams/${slug}/domains`, { domain: 'ACME.test' })
      expectError(twice, 409, 'domain_already_added')
    })

    it('checks the TXT record on a real DNS server: not found, wrong value, DNS error, then verified', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const domain = newDomain()
      const added = (await admin.client.post<Domain>(`/api/v1/teams/${slug}/domains`, { domain })).body
      const verify = () => admin.client.post<VerifyResult>(`/api/v1/teams/${slug}/domains/${added.id}/verify`)

      const missing = await verify()
      expect(missing.status).toBe(200)
      expect(missing.body).toMatchObject({ outcome: 'record_not_found', found: [], domain: { status: 'pending', lastCheck: { outcome: 'record_not_found' } } })
      expect(missing.body.message).toContain(added.record.name)
      expect(t.dns.queries).toContain(added.record.name)

      t.dns.setTxt(added.record.name, ['v=spf1 -all', 'latchkey-verification=not-the-token'])
      const wrong = await verify()
      expect(wrong.body).toMatchObject({ outcome: 'wrong_value', found: ['v=spf1 -all', 'latchkey-verification=not-the-token'], domain: { status: 'pending' } })

      t.dns.failWith('SERVFAIL')
      const failed = await verify()
      expect(failed.status).toBe(200)
      expect(failed.body).toMatchObject({ outcome: 'dns_error', domain: { status: 'pending', lastCheck: { outcome: 'dns_error' } } })
      expect(failed.body.message).toMatch(/DNS lookup failed \(ESERVFAIL\)/)

      // A name server that does not answer at all: a timeout is a DNS error too, not a hang.
      t.dns.failWith('silence')
      expect((await verify()).body.outcome).toBe('dns_error')
      t.dns.failWith(null)

      // Long values come in several strings of a TXT record; they join into one.
      const value: string = added.record.value
      t.dns.setTxt(added.record.name, ['something else', [value.slice(0, 20), value.slice(20)]])
      const ok = await verify()
      expect(ok.body).toMatchObject({ outcome: 'verified', found: [], domain: { status: 'verified', lastCheck: { outcome: 'verified' } } })
      expect(ok.body.domain.verifiedAt).not.toBeNull()
      const log = await activity(admin, slug)
      expect(log[0]).toMatchObject({ type: 'domain.verified', details: { domain } })
      expect(log.filter((e) => e.type === 'domain.verified')).toHaveLength(1)

      // Verified stays verified when a later check fails; the last check is shown.
      t.dns.remove(added.record.name)
      const later = await verify()
      expect(later.body).toMatchObject({ outcome: 'record_not_found', domain: { status: 'verified', lastCheck: { outcome: 'record_not_found' } } })
    })

    it('lets only one team verify a domain', async () => {
      const t = await appWithDns(dialect)
      const a = await teamWithAdmin(t)
      const b = await teamWithAdmin(t)
      const domain = newDomain()
      // Both claim it while it is pending; the record of each is different.
      const claimB = (await b.admin.client.post<Domain>(`/api/v1/teams/${b.slug}/domains`, { domain })).body
      await verifiedDomain(t, a.admin, a.slug, domain)
      expect(claimB.record.value).not.toBe((await a.admin.client.get<DomainsPage>(`/api/v1/teams/${a.slug}/domains`)).body.domains[0].record.value)
      t.dns.setTxt(claimB.record.name, [claimB.record.value])
      const late = await b.admin.client.post<VerifyResult>(`/api/v1/teams/${b.slug}/domains/${claimB.id}/verify`)
      expectError(late, 409, 'domain_taken')
      expect(JSON.stringify(late.body)).not.toContain(a.slug)
      const again = await b.admin.client.post<Domain>(`/api/v1/teams/${b.slug}/domains`, { domain: domain.toUpperCase() })
      expectErrorCode(again, 'domain_already_added')
      const c = await teamWithAdmin(t)
      const third = await c.admin.client.post<Domain>(`/api/v1/teams/${c.slug}/domains`, { domain })
      expect(third.status).toBe(409)
      expect(errorOf(third)).toMatchObject({ code: 'domain_taken', fields: { domain: 'taken' } })
    })

    it('rate-limits DNS checks per team', async () => {
      const t = await appWithDns(dialect, { RATE_LIMIT_DOMAIN_CHECKS_PER_TEAM_PER_HOUR: '2' })
      const { admin, slug } = await teamWithAdmin(t)
      const added = (await admin.client.post<Domain>(`/api/v1/teams/${slug}/domains`, { domain: newDomain() })).body
      for (let i = 0; i < 2; i++) expect((await admin.client.post<VerifyResult>(`/api/v1/teams/${slug}/domains/${added.id}/verify`)).status).toBe(200)
      const third = await admin.client.post<VerifyResult>(`/api/v1/teams/${slug}/domains/${added.id}/verify`)
      expectError(third, 429, 'too_many_requests')
    })

    it('removes a domain; without a verified one left, discovery turns off', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain, domainId } = await discoverableTeam(t)
      const visitor = await personAt(t, domain)
      expect((await visitor.client.get<DiscoverableTeams>('/api/v1/me/discoverable-teams')).body.teams).toHaveLength(1)
      const other = (await admin.client.post<Domain>(`/api/v1/teams/${slug}/domains`, { domain: newDomain() })).body
      expect((await admin.client.delete<DomainRemoval>(`/api/v1/teams/${slug}/domains/${other.id}`)).body).toEqual({ discoveryTurnedOff: false })
      const res = await admin.client.delete<DomainRemoval>(`/api/v1/teams/${slug}/domains/${domainId}`)
      expect(res.body).toEqual({ discoveryTurnedOff: true })
      expect((await admin.client.get<DomainsPage>(`/api/v1/teams/${slug}/domains`)).body).toEqual({ domains: [], discovery: { enabled: false, question: null } })
      expect((await visitor.client.get<DiscoverableTeams>('/api/v1/me/discoverable-teams')).body.teams).toEqual([])
      const log = await activity(admin, slug)
      expect(log.slice(0, 2).map((e) => e.type)).toEqual(['discovery.changed', 'domain.removed'])
      expect(log[0].details).toMatchObject({ enabled: false, reason: 'no_verified_domain' })
      expect((await admin.client.delete<DomainRemoval>(`/api/v1/teams/${slug}/domains/${domainId}`)).status).toBe(404)
      // The domain is free for another team now.
      const b = await teamWithAdmin(t)
      expect((await b.admin.client.post<Domain>(`/api/v1/teams/${b.slug}/domains`, { domain })).status).toBe(201)
    })
  })

  describe('discovery settings', () => {
    it('needs a verified domain to turn on, takes a question of at most 200 characters, and logs changes', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug } = await teamWithAdmin(t)
      const early = await admin.client.put<Discovery>(`/api/v1/teams/${slug}/discovery`, { enabled: true })
      expectError(early, 409, 'domain_not_verified')
      await admin.client.post<Domain>(`/api/v1/teams/${slug}/domains`, { domain: newDomain() })
      expectErrorCode(await admin.client.put<Discovery>(`/api/v1/teams/${slug}/discovery`, { enabled: true }), 'domain_not_verified')
      await verifiedDomain(t, admin, slug, newDomain())

      const tooLong = await admin.client.put<Discovery>(`/api/v1/teams/${slug}/discovery`, { enabled: true, question: 'x'.repeat(201) })
      expect(errorOf(tooLong)).toMatchObject({ code: 'invalid_request', fields: { question: 'too_long' } })
      expect(errorOf(await admin.client.put<Discovery>(`/api/v1/teams/${slug}/discovery`, { enabled: true, question: 'line\nbreak' })).fields).toEqual({ question: 'invalid' })
      // 200 characters, counted as people count them (not UTF-16 units).
      const question = '你'.repeat(199) + '?'
      expect((await admin.client.put<Discovery>(`/api/v1/teams/${slug}/discovery`, { enabled: true, question })).body).toEqual({ enabled: true, question })
      // Omitted keeps the question; null removes it.
      expect((await admin.client.put<Discovery>(`/api/v1/teams/${slug}/discovery`, { enabled: false })).body).toEqual({ enabled: false, question })
      expect((await admin.client.put<Discovery>(`/api/v1/teams/${slug}/discovery`, { enabled: true, question: null })).body).toEqual({ enabled: true, question: null })
      expect((await admin.client.put<Discovery>(`/api/v1/teams/${slug}/discovery`, { enabled: true, question: '  ' })).body).toEqual({ enabled: true, question: null })
      const changes = (await activity(admin, slug)).filter((e) => e.type === 'discovery.changed')
      expect(changes.map((e) => e.details.enabled)).toEqual([true, false, true])
      expectErrorCode(await admin.client.put<Discovery>(`/api/v1/teams/${slug}/discovery`, { enabled: 'yes' }), 'invalid_request')
    })
  })

  describe('finding a team', () => {
    it('shows the team to confirmed people at the verified domain who are not in it, and to no one else', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain } = await discoverableTeam(t, { seats: 3, question: 'Which office are you in?' })
      const colleague = await personAt(t, domain)
      const list = (await colleague.client.get<DiscoverableTeams>('/api/v1/me/discoverable-teams')).body.teams
      expect(list).toEqual([{ slug, name: `Team ${slug}`, logoUrl: null, memberCount: 1, question: 'Which office are you in?', requestPending: false, requestId: null }])

      const unconfirmed = await personAt(t, domain, { confirm: false })
      expect((await unconfirmed.client.get<DiscoverableTeams>('/api/v1/me/discoverable-teams')).body.teams).toEqual([])
      const elsewhere = await personAt(t, newDomain())
      expect((await elsewhere.client.get<DiscoverableTeams>('/api/v1/me/discoverable-teams')).body.teams).toEqual([])
      // A subdomain address is not the verified domain.
      const sub = await personAt(t, `eng.${domain}`)
      expect((await sub.client.get<DiscoverableTeams>('/api/v1/me/discoverable-teams')).body.teams).toEqual([])
      // A member of the team does not see it.
      const member = await personAt(t, domain)
      await addMember(t, admin, slug, ['developer'], member)
      expect((await member.client.get<DiscoverableTeams>('/api/v1/me/discoverable-teams')).body.teams).toEqual([])
      // Discovery off: gone.
      await admin.client.put<Discovery>(`/api/v1/teams/${slug}/discovery`, { enabled: false })
      expect((await colleague.client.get<DiscoverableTeams>('/api/v1/me/discoverable-teams')).body.teams).toEqual([])
      expect((await t.client().get<DiscoverableTeams>('/api/v1/me/discoverable-teams')).status).toBe(401)
    })
  })

  describe('asking to join', () => {
    it('sends a request with the answer, notifies every Admin by email and in-app, and allows one pending request', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain } = await discoverableTeam(t, { seats: 3, question: 'Which office are you in?' })
      const secondAdmin = await addMember(t, admin, slug, ['admin'])
      const dev = await addMember(t, admin, slug, ['developer'])
      const ada = await personAt(t, domain)

      const unanswered = await requestJoin(t, ada, slug)
      expect(unanswered.status).toBe(400)
      expect(errorOf(unanswered)).toMatchObject({ code: 'invalid_request', fields: { answer: 'required' } })
      const res = await requestJoin(t, ada, slug, '  Berlin  ')
      expect(res.status).toBe(201)
      expect(res.body).toMatchObject({ team: { slug, name: `Team ${slug}` }, status: 'pending' })

      for (const a of [admin, secondAdmin]) {
        const mail = await t.smtp.waitFor(a.email, /asks to join/)
        expect(mail.text).toContain(ada.email)
        expect(mail.text).toContain('Question: Which office are you in?')
        expect(mail.text).toContain('Answer: Berlin')
        expect(mail.text).toContain(`http://latchkey.test/teams/${slug}`)
        expect(await notice(a, 'team_join_requested')).toMatchObject({ category: 'team', title: `${ada.username} asks to join "Team ${slug}"` })
      }
      // Developers are not Admins: no notice.
      expect(t.smtp.messagesTo(dev.email).filter((m) => /asks to join/.test(m.subject))).toEqual([])
      expect((await inbox(dev)).filter((n) => n.kind === 'team_join_requested')).toEqual([])

      const twice = await requestJoin(t, ada, slug, 'Berlin')
      expect(twice.status).toBe(409)
      expect(errorOf(twice)).toMatchObject({ code: 'join_request_pending', requestId: res.body.id })
      expect((await ada.client.get<DiscoverableTeams>('/api/v1/me/discoverable-teams')).body.teams[0]).toMatchObject({ requestPending: true, requestId: res.body.id })
      expect((await ada.client.get<MyJoinRequests>('/api/v1/me/join-requests')).body.requests).toEqual([res.body])

      const list = (await admin.client.get<JoinRequests>(`/api/v1/teams/${slug}/join-requests`)).body.requests
      expect(list).toEqual([expect.objectContaining({ id: res.body.id, accountId: ada.accountId, username: ada.username, email: ada.email, question: 'Which office are you in?', answer: 'Berlin' })])
      expect((await activity(admin, slug))[0]).toMatchObject({ type: 'join_request.created', actor: { username: ada.username } })
    })

    it('writes to each Admin in their language and as their "team" preferences allow', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain } = await discoverableTeam(t, { seats: 3 })
      const zh = await addMember(t, admin, slug, ['admin'])
      await zh.client.patch<AccountView>('/api/v1/me', { locale: 'zh-CN' })
      const quiet = await addMember(t, admin, slug, ['admin'])
      expect((await admin.client.put<PreferencesView>('/api/v1/me/notification-preferences', { preferences: { team: { email: false } } })).status).toBe(200)
      expect((await quiet.client.put<PreferencesView>('/api/v1/me/notification-preferences', { preferences: { team: { inApp: false } } })).status).toBe(200)
      const ada = await personAt(t, domain)
      expect((await requestJoin(t, ada, slug)).status).toBe(201)

      const zhMail = await t.smtp.waitFor(zh.email, /申请加入团队/)
      expect(zhMail.text).toContain(ada.email)
      expect((await inbox(zh)).find((n) => n.kind === 'team_join_requested')).toMatchObject({ category: 'team', title: `${ada.username} 申请加入团队「Team ${slug}」` })
      await t.smtp.waitFor(quiet.email, /asks to join/)
      expect((await inbox(quiet)).filter((n) => n.kind === 'team_join_requested')).toEqual([])
      expect((await inbox(admin)).filter((n) => n.kind === 'team_join_requested')).toHaveLength(1)
      // Every other notice has arrived by now; the Admin who turned team email off got none.
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(t.smtp.messagesTo(admin.email).filter((m) => /asks to join/.test(m.subject))).toEqual([])
    })

    it('answers 404 alike for an unknown team and one not discoverable to the person, and 409 to a member', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain } = await discoverableTeam(t, { seats: 2 })
      const hidden = await teamWithAdmin(t)
      const stranger = await personAt(t, newDomain())
      const unknown = await requestJoin(t, stranger, 'no-such-team')
      const notMine = await requestJoin(t, stranger, slug)
      const notDiscoverable = await requestJoin(t, stranger, hidden.slug)
      for (const res of [unknown, notMine, notDiscoverable]) expect(res.status).toBe(404)
      expect(notMine.body).toEqual(unknown.body)
      expect(notDiscoverable.body).toEqual(unknown.body)
      const member = await personAt(t, domain)
      await addMember(t, admin, slug, ['developer'], member)
      expectErrorCode(await requestJoin(t, member, slug), 'already_team_member')
      const unconfirmed = await personAt(t, domain, { confirm: false })
      expectErrorCode(await requestJoin(t, unconfirmed, slug), 'email_not_confirmed')
      expect((await t.client().post<MyJoinRequest>('/api/v1/me/join-requests', { team: slug })).status).toBe(401)
      expectErrorCode(await stranger.client.post<MyJoinRequest>('/api/v1/me/join-requests', { team: slug, extra: 1 }), 'invalid_request')
    })

    it('rate-limits requests per person', async () => {
      const t = await appWithDns(dialect, { RATE_LIMIT_JOIN_REQUESTS_PER_ACCOUNT_PER_HOUR: '2' })
      const { slug, domain } = await discoverableTeam(t)
      const ada = await personAt(t, domain)
      expect((await requestJoin(t, ada, 'nope-1')).status).toBe(404)
      expect((await requestJoin(t, ada, slug)).status).toBe(201)
      const third = await requestJoin(t, ada, slug)
      expectError(third, 429, 'too_many_requests')
    })

    it('lets the person withdraw a pending request', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain } = await discoverableTeam(t)
      const ada = await personAt(t, domain)
      const id = (await requestJoin(t, ada, slug)).body.id
      const bob = await personAt(t, domain)
      expect((await bob.client.delete(`/api/v1/me/join-requests/${id}`)).status).toBe(404)
      expect((await ada.client.delete(`/api/v1/me/join-requests/${id}`)).status).toBe(204)
      expect((await activity(admin, slug))[0]).toMatchObject({ type: 'join_request.withdrawn', actor: { username: ada.username }, details: { requestId: id } })
      expect((await ada.client.delete(`/api/v1/me/join-requests/${id}`)).status).toBe(404)
      expect((await admin.client.get<JoinRequests>(`/api/v1/teams/${slug}/join-requests`)).body.requests).toEqual([])
      expect((await ada.client.get<DiscoverableTeams>('/api/v1/me/discoverable-teams')).body.teams[0].requestPending).toBe(false)
      expect((await requestJoin(t, ada, slug)).status).toBe(201)
    })

    it('cancels pending requests when the person changes email away from the domain, but keeps memberships', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain } = await discoverableTeam(t, { seats: 3 })
      const ada = await personAt(t, domain)
      const joined = (await requestJoin(t, ada, slug)).body.id
      expect((await admin.client.post<ApprovedMember>(`/api/v1/teams/${slug}/join-requests/${joined}/approve`)).status).toBe(200)
      const bob = await personAt(t, domain)
      const pending = (await requestJoin(t, bob, slug)).body.id
      // Asking to change is not changing: until the new address is confirmed, the request stays.
      const newEmails = new Map<Person, string>()
      for (const who of [ada, bob]) {
        const newEmail = `${who.username}@${newDomain('elsewhere')}`
        newEmails.set(who, newEmail)
        expect((await who.client.post<EmailChangeSent>('/api/v1/me/email', { email: newEmail, password: who.password })).status).toBe(202)
      }
      expect((await admin.client.get<JoinRequests>(`/api/v1/teams/${slug}/join-requests`)).body.requests).toHaveLength(1)
      for (const who of [ada, bob]) {
        const mail = await t.smtp.waitFor(newEmails.get(who)!, /Confirm your new email/)
        expect((await who.client.post<EmailConfirmed>('/api/v1/email/confirm', { token: tokenFrom(mail) })).status).toBe(200)
      }
      expect((await admin.client.get<JoinRequests>(`/api/v1/teams/${slug}/join-requests`)).body.requests).toEqual([])
      expect((await bob.client.get<MyJoinRequests>('/api/v1/me/join-requests')).body.requests).toEqual([])
      expect((await admin.client.post<ApprovedMember>(`/api/v1/teams/${slug}/join-requests/${pending}/approve`)).status).toBe(404)
      // The team is no longer discoverable to Bob; Ada is still a member.
      expect((await bob.client.get<DiscoverableTeams>('/api/v1/me/discoverable-teams')).body.teams).toEqual([])
      expect((await ada.client.get<TeamList>('/api/v1/teams')).body.teams.map((x: { slug: string }) => x.slug)).toEqual([slug])
    })
  })

  describe('deciding', () => {
    it('approves as Developer by default: the person joins, is told, and the log shows it', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain } = await discoverableTeam(t, { seats: 2 })
      const ada = await personAt(t, domain)
      const id = (await requestJoin(t, ada, slug)).body.id
      // No body at all (as a script might send it) means the default roles.
      const res = await admin.client.request<ApprovedMember>('POST', `/api/v1/teams/${slug}/join-requests/${id}/approve`)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(res.body).toMatchObject({ accountId: ada.accountId, username: ada.username, roles: ['developer'], supportMember: false })
      expect((await ada.client.get<TeamList>('/api/v1/teams')).body.teams).toEqual([expect.objectContaining({ slug, roles: ['developer'] })])
      const mail = await t.smtp.waitFor(ada.email, /You joined the team/)
      expect(mail.text).toContain('Your role: Developer')
      expect(await notice(ada, 'team_join_approved')).toMatchObject({ category: 'team', title: `You joined the team "Team ${slug}"` })
      expect((await admin.client.get<JoinRequests>(`/api/v1/teams/${slug}/join-requests`)).body.requests).toEqual([])
      const log = await activity(admin, slug)
      expect(log.slice(0, 2).map((e) => e.type).sort()).toEqual(['join_request.approved', 'member.joined'])
      expect(log.find((e) => e.type === 'member.joined')).toMatchObject({ actor: { username: ada.username }, details: { accountId: ada.accountId, roles: ['developer'], approvedBy: admin.username } })
      // Decided once: a second decision finds nothing.
      expect((await admin.client.post<ApprovedMember>(`/api/v1/teams/${slug}/join-requests/${id}/approve`)).status).toBe(404)
      expect((await admin.client.post(`/api/v1/teams/${slug}/join-requests/${id}/deny`)).status).toBe(404)
    })

    it('approves with chosen roles, and refuses when no seat is free until seats are added', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain } = await discoverableTeam(t, { seats: 1 })
      await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['held@elsewhere.test'], roles: ['developer'] })
      const ada = await personAt(t, domain)
      const bob = await personAt(t, domain)
      const adaRequest = (await requestJoin(t, ada, slug)).body.id
      const bobRequest = (await requestJoin(t, bob, slug)).body.id
      // The one seat is held by the pending invitation.
      const full = await admin.client.post<ApprovedMember>(`/api/v1/teams/${slug}/join-requests/${adaRequest}/approve`, { roles: ['developer'] })
      expectError(full, 409, 'no_seats_available')
      expect((await admin.client.get<JoinRequests>(`/api/v1/teams/${slug}/join-requests`)).body.requests).toHaveLength(2)
      // A support member (Billing only) takes no seat.
      expect((await admin.client.post<ApprovedMember>(`/api/v1/teams/${slug}/join-requests/${bobRequest}/approve`, { roles: ['billing'] })).body).toMatchObject({ roles: ['billing'], supportMember: true })
      await admin.client.put<SeatUsage>(`/api/v1/teams/${slug}/seats`, { seats: 2 })
      const ok = await admin.client.post<ApprovedMember>(`/api/v1/teams/${slug}/join-requests/${adaRequest}/approve`, { roles: ['developer', 'community_manager'] })
      expect(ok.body).toMatchObject({ roles: ['developer', 'community_manager'] })
      expectErrorCode(await admin.client.post<ApprovedMember>(`/api/v1/teams/${slug}/join-requests/${adaRequest}/approve`, { roles: [] }), 'invalid_request')
    })

    it('refuses a person who is already in 10 teams, saying so', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain } = await discoverableTeam(t, { seats: 2 })
      const ada = await personAt(t, domain)
      const id = (await requestJoin(t, ada, slug)).body.id
      for (let i = 0; i < 10; i++) expect((await ada.client.post<TeamSummary>('/api/v1/teams', { name: `Mine ${i}`, slug: newSlug('mine') })).status).toBe(201)
      const res = await admin.client.post<ApprovedMember>(`/api/v1/teams/${slug}/join-requests/${id}/approve`)
      expectError(res, 409, 'team_limit_reached')
      expect(errorOf(res).message).toContain(`${ada.username} already belongs to 10 teams`)
      // And a person in 10 teams cannot ask.
      const other = await discoverableTeam(t)
      const bob = await personAt(t, other.domain)
      for (let i = 0; i < 10; i++) await bob.client.post<TeamSummary>('/api/v1/teams', { name: `Bob ${i}`, slug: newSlug('bob') })
      expectErrorCode(await requestJoin(t, bob, other.slug), 'team_limit_reached')
    })

    it('denies: the person is told neutrally, and may ask again', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain } = await discoverableTeam(t)
      const ada = await personAt(t, domain)
      await ada.client.patch<AccountView>('/api/v1/me', { locale: 'zh-CN' })
      const id = (await requestJoin(t, ada, slug)).body.id
      expect((await admin.client.post(`/api/v1/teams/${slug}/join-requests/${id}/deny`)).status).toBe(204)
      const mail = await t.smtp.waitFor(ada.email, /加入「/)
      expect(mail.text).toContain('没有接受你这次的加入申请')
      expect(mail.text).not.toContain(admin.username)
      expect(await notice(ada, 'team_join_denied')).toMatchObject({ category: 'team', title: `关于你加入「Team ${slug}」的申请` })
      expect((await ada.client.get<TeamList>('/api/v1/teams')).body.teams).toEqual([])
      expect((await activity(admin, slug))[0]).toMatchObject({ type: 'join_request.denied', details: { accountId: ada.accountId } })
      expect((await requestJoin(t, ada, slug)).status).toBe(201)
    })

    it('closes the request of someone who joined another way meanwhile', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain } = await discoverableTeam(t, { seats: 3 })
      const ada = await personAt(t, domain)
      const id = (await requestJoin(t, ada, slug)).body.id
      await addMember(t, admin, slug, ['developer'], ada)
      expect((await admin.client.get<JoinRequests>(`/api/v1/teams/${slug}/join-requests`)).body.requests).toEqual([])
      const res = await admin.client.post<ApprovedMember>(`/api/v1/teams/${slug}/join-requests/${id}/approve`)
      expectError(res, 409, 'already_team_member')
      expect((await admin.client.post<ApprovedMember>(`/api/v1/teams/${slug}/join-requests/${id}/approve`)).status).toBe(404)
    })

    it('lets only one of two Admins deciding at once win', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain } = await discoverableTeam(t, { seats: 3 })
      const other = await addMember(t, admin, slug, ['admin'])
      const ada = await personAt(t, domain)
      const id = (await requestJoin(t, ada, slug)).body.id
      const [approve, deny] = await Promise.all([
        admin.client.post<ApprovedMember>(`/api/v1/teams/${slug}/join-requests/${id}/approve`),
        other.client.post(`/api/v1/teams/${slug}/join-requests/${id}/deny`),
      ])
      const approved = approve.status === 200
      expect([approve.status, deny.status], JSON.stringify([approve.body, deny.body])).toEqual(approved ? [200, 404] : [404, 204])
      expect((await ada.client.get<TeamList>('/api/v1/teams')).body.teams).toHaveLength(approved ? 1 : 0)
      expect(await t.app.ctx.db.selectFrom('team_join_requests').select('status').where('id', '=', id).executeTakeFirstOrThrow()).toEqual({ status: approved ? 'approved' : 'denied' })
    })
  })

  describe('at the same moment', () => {
    it('lets one of two teams verifying one domain at once win', async () => {
      const t = await appWithDns(dialect)
      const a = await teamWithAdmin(t)
      const b = await teamWithAdmin(t)
      const domain = newDomain()
      const claims: { id: string; record: { name: string; value: string } }[] = []
      for (const team of [a, b]) {
        const claim = (await team.admin.client.post<Domain>(`/api/v1/teams/${team.slug}/domains`, { domain })).body
        claims.push(claim)
      }
      // Both records are published: each team proved control, only one can have the domain.
      t.dns.setTxt(claims[0].record.name, claims.map((c) => c.record.value))
      const results = await Promise.all([a, b].map((team, i) => team.admin.client.post<VerifyResult>(`/api/v1/teams/${team.slug}/domains/${claims[i].id}/verify`)))
      const winners = results.filter((r) => r.status === 200 && r.body.outcome === 'verified')
      const losers = results.filter((r) => r.status === 409)
      expect(winners, JSON.stringify(results.map((r) => r.body))).toHaveLength(1)
      expectErrorCode(losers[0], 'domain_taken')
      const verified = await t.app.ctx.db.selectFrom('team_domains').select('team_id').where('domain', '=', domain).where('status', '=', 'verified').execute()
      expect(verified).toHaveLength(1)
    })

    it('keeps one pending request when a person asks twice at once', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain } = await discoverableTeam(t)
      const ada = await personAt(t, domain)
      const results = await Promise.all([requestJoin(t, ada, slug), requestJoin(t, ada, slug), requestJoin(t, ada, slug)])
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409])
      for (const r of results.filter((x) => x.status === 409)) expectErrorCode(r, 'join_request_pending')
      expect((await admin.client.get<JoinRequests>(`/api/v1/teams/${slug}/join-requests`)).body.requests).toHaveLength(1)
    })

    it('never lets approvals in parallel exceed the seats', async () => {
      const t = await appWithDns(dialect)
      const { admin, slug, domain } = await discoverableTeam(t, { seats: 2 })
      const people = [await personAt(t, domain), await personAt(t, domain), await personAt(t, domain), await personAt(t, domain)]
      const ids: string[] = []
      for (const who of people) ids.push((await requestJoin(t, who, slug)).body.id)
      // A new request arrives while the approvals run: it waits for them, it does not deadlock.
      const latecomer = await personAt(t, domain)
      const [late, ...results] = await Promise.all([requestJoin(t, latecomer, slug), ...ids.map((id) => admin.client.post<ApprovedMember>(`/api/v1/teams/${slug}/join-requests/${id}/approve`))])
      expect(late.status, JSON.stringify(late.body)).toBe(201)
      expect(results.map((r) => r.status).sort(), JSON.stringify(results.map((r) => r.body))).toEqual([200, 200, 409, 409])
      for (const r of results.filter((x) => x.status === 409)) expectErrorCode(r, 'no_seats_available')
      const page = (await admin.client.get<TeamPage>(`/api/v1/teams/${slug}`)).body
      expect(page.members).toHaveLength(3)
      expect(page.seats).toMatchObject({ bought: 2, takenByMembers: 2, available: 0 })
      expect((await admin.client.get<JoinRequests>(`/api/v1/teams/${slug}/join-requests`)).body.requests).toHaveLength(3)
    })
  })

  it('answers bad input with a 4xx and a stable code, never a 500', async () => {
    const t = await appWithDns(dialect)
    const { admin, slug, domain } = await discoverableTeam(t)
    const ada = await personAt(t, domain)
    const id = (await requestJoin(t, ada, slug)).body.id
    const bad: [string, string, unknown][] = [
      ['POST', `/api/v1/teams/${slug}/domains`, { domain: 'a'.repeat(300) }],
      ['POST', `/api/v1/teams/${slug}/domains`, { domain: 42 }],
      ['POST', `/api/v1/teams/${slug}/domains`, {}],
      ['POST', `/api/v1/teams/${slug}/domains`, { domain: 'acme.test', extra: true }],
      ['POST', `/api/v1/teams/${slug}/domains`, { domain: 'xn--.test' }],
      ['POST', `/api/v1/teams/${slug}/domains`, { domain: '\u0000.test' }],
      ['PUT', `/api/v1/teams/${slug}/discovery`, { question: 'no switch' }],
      ['PUT', `/api/v1/teams/${slug}/discovery`, { enabled: true, question: 7 }],
      ['POST', `/api/v1/teams/${slug}/join-requests/${id}/approve`, { roles: ['owner'] }],
      ['POST', `/api/v1/teams/${slug}/join-requests/${id}/approve`, { roles: ['developer', 'developer'] }],
      ['POST', `/api/v1/teams/${slug}/join-requests/${'x'.repeat(65)}/deny`, {}],
      ['POST', `/api/v1/teams/${slug}/domains/${'x'.repeat(65)}/verify`, {}],
      ['POST', '/api/v1/me/join-requests', { team: slug, answer: 'x'.repeat(5000) }],
      ['POST', '/api/v1/me/join-requests', { team: '' }],
      ['POST', '/api/v1/me/join-requests', 'not json'],
    ]
    for (const [method, url, body] of bad) {
      const client = url.startsWith('/api/v1/me/') ? ada.client : admin.client
      const res = await client.request(method, url, body)
      expect(res.status, `${method} ${url} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400)
      expect(res.status, `${method} ${url} ${JSON.stringify(body)}`).toBeLessThan(500)
      expect(errorOf(res).code, JSON.stringify(res.body)).toMatch(/^(invalid_request|invalid_json|domain_invalid)$/)
    }
    // Nothing changed.
    expect((await admin.client.get<DomainsPage>(`/api/v1/teams/${slug}/domains`)).body.domains).toHaveLength(1)
    expect((await admin.client.get<JoinRequests>(`/api/v1/teams/${slug}/join-requests`)).body.requests.map((r: { id: string }) => r.id)).toEqual([id])
  })

  it('gives an invitee who has an account an in-app notice of the invitation, as their preferences allow', async () => {
    const t = await appWithDns(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 4 })
    const ada = await signedUpUser(t)
    const quiet = await signedUpUser(t)
    await quiet.client.put<PreferencesView>('/api/v1/me/notification-preferences', { preferences: { team: { inApp: false } } })
    const unconfirmed = await personAt(t, newDomain(), { confirm: false })
    expect((await admin.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: [ada.email, quiet.email, unconfirmed.email], roles: ['developer'] })).status).toBe(201)
    const notice = (await inbox(ada)).find((n) => n.kind === 'team_invitation_notice')
    expect(notice).toMatchObject({ category: 'team', title: `${admin.username} invited you to the team "Team ${slug}"` })
    expect(notice!.body).toContain('as Developer')
    // The notice carries no link: the token stays in the email.
    expect(notice!.body).not.toMatch(/token|http/)
    expect((await inbox(quiet)).filter((n) => n.kind === 'team_invitation_notice')).toEqual([])
    expect((await inbox(unconfirmed)).filter((n) => n.kind === 'team_invitation_notice')).toEqual([])
    // In-app only: the one email is the invitation itself.
    await t.smtp.waitFor(ada.email, /on Latchkey/)
    expect(t.smtp.messagesTo(ada.email).filter((m) => /invited you/.test(m.subject)).map((m) => m.subject)).toEqual([`${admin.username} invited you to the team "Team ${slug}" on Latchkey`])
  })

  it('tells Admins of a Developer\'s suggestion in-app too, as their preferences allow', async () => {
    const t = await appWithDns(dialect)
    const { admin, slug } = await teamWithAdmin(t, { seats: 3 })
    const dev = await addMember(t, admin, slug, ['developer'])
    const quiet = await addMember(t, admin, slug, ['admin'])
    await quiet.client.put<PreferencesView>('/api/v1/me/notification-preferences', { preferences: { team: { inApp: false, email: false } } })
    expect((await dev.client.post<Invitations>(`/api/v1/teams/${slug}/invitations`, { emails: ['boss@elsewhere.test'], roles: ['billing'] })).body.suggestions).toHaveLength(1)
    expect(await notice(admin, 'team_invitation_suggested')).toMatchObject({ category: 'team', title: `An invitation to "Team ${slug}" waits for your approval` })
    await t.smtp.waitFor(admin.email, /waits for your approval/)
    expect(await notice(quiet, 'team_invitation_suggested')).toBeUndefined()
    expect(t.smtp.messagesTo(quiet.email).filter((m) => /waits for your approval/.test(m.subject))).toEqual([])
  })

  it('frees a verified domain when its team is deleted with its last member', async () => {
    const t = await appWithDns(dialect)
    const { admin, slug, domain } = await discoverableTeam(t)
    const ada = await personAt(t, domain)
    expect((await requestJoin(t, ada, slug)).status).toBe(201)
    expect((await admin.client.post<LeaveResult>(`/api/v1/teams/${slug}/leave`)).body).toEqual({ teamDeleted: true })
    expect((await ada.client.get<DiscoverableTeams>('/api/v1/me/discoverable-teams')).body.teams).toEqual([])
    expect((await ada.client.get<MyJoinRequests>('/api/v1/me/join-requests')).body.requests).toEqual([])
    const next = await teamWithAdmin(t)
    await verifiedDomain(t, next.admin, next.slug, domain)
  })
})
