import { useCallback, useEffect, useId, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api } from '../../api.ts'
import { useSession } from '../../components/session.tsx'
import { Button, Checkbox, Notice, useAction } from '../../components/ui.tsx'
import { TEAM_ROLES, type TeamPage, type TeamRole } from './model.ts'
import { Section } from './frame.tsx'
import { formatDate, formatDateTime } from '../../dates.ts'
import { focusOnMount, TeamError, TeamLogo } from './widgets.tsx'
import { DISCOVERY_QUESTION_MAX_LENGTH, JOIN_ANSWER_MAX_LENGTH } from '../../../teams/limits.ts'
import type { ApprovedMember, Discovery, DiscoverableTeam, Domain, DomainRemoval, DomainsPage, JoinRequest, VerifyResult } from '../../../teams/discovery/schemas.ts'

/**
 * Teams the person may ask to join (SPEC §7 discovery): teams with discovery on and a verified
 * domain that is their confirmed email's. Nothing is shown when there are none.
 */
export function DiscoverableTeams({ onJoined: _onJoined, compact = false }: { onJoined?: () => void; compact?: boolean }) {
  const { t } = useTranslation()
  const { me } = useSession()
  const [teams, setTeams] = useState<DiscoverableTeam[]>([])
  const load = useCallback(async () => {
    try {
      setTeams((await api<{ teams: DiscoverableTeam[] }>('GET', '/me/discoverable-teams')).teams)
    } catch {
      setTeams([])
    }
  }, [])
  useEffect(() => {
    if (me?.emailConfirmed) void load()
  }, [me?.emailConfirmed, load])
  if (teams.length === 0) return null
  const body = (
    <>
      <p className="hint">{t('teams.discovery.findBody')}</p>
      <ul className="list discoverable">
        {teams.map((team) => <DiscoverableTeamRow key={team.slug} team={team} reload={load} />)}
      </ul>
    </>
  )
  if (compact) return <div className="discoverable-compact"><h2 className="step-heading">{t('teams.discovery.findTitle')}</h2>{body}</div>
  return <Section title={t('teams.discovery.findTitle')}>{body}</Section>
}

function DiscoverableTeamRow({ team, reload }: { team: DiscoverableTeam; reload: () => Promise<void> }) {
  const { t } = useTranslation()
  const [asking, setAsking] = useState(false)
  const [answer, setAnswer] = useState('')
  const [done, setDone] = useState<string | null>(null)
  const id = useId()
  const ask = useAction(async () => {
    await api('POST', '/me/join-requests', { team: team.slug, ...(team.question ? { answer } : {}) })
    setAsking(false)
    setDone(t('teams.discovery.sent', { name: team.name }))
    await reload()
  })
  const withdraw = useAction(async () => {
    await api('DELETE', `/me/join-requests/${team.requestId}`)
    setDone(t('teams.discovery.withdrawn'))
    await reload()
  })
  return (
    <li data-team={team.slug}>
      <TeamLogo name={team.name} url={team.logoUrl} />
      <div className="grow">
        <strong>{team.name}</strong> <span className="hint">/{team.slug} · {t('teams.list.members', { count: team.memberCount })}</span>
        {done ? <Notice tone="success">{done}</Notice> : null}
        {team.requestPending ? <p className="hint">{t('teams.discovery.pending')}</p> : null}
        {asking ? (
          <form onSubmit={(e) => { e.preventDefault(); void ask.run() }} noValidate>
            {team.question ? (
              <div className="field">
                <label htmlFor={`${id}-answer`}>{t('teams.discovery.answer', { question: team.question })}</label>
                <textarea id={`${id}-answer`} name="answer" rows={2} maxLength={JOIN_ANSWER_MAX_LENGTH} value={answer} onChange={(e) => setAnswer(e.target.value)} aria-invalid={ask.error?.body.fields?.answer ? true : undefined} />
              </div>
            ) : null}
            <TeamError error={ask.error} />
            <Button type="submit" busy={ask.busy}>{t('teams.discovery.send')}</Button>{' '}
            <Button type="button" variant="secondary" onClick={() => setAsking(false)}>{t('app.cancel')}</Button>
          </form>
        ) : null}
        <TeamError error={withdraw.error} />
      </div>
      {!asking ? (
        <div className="actions">
          {team.requestPending && team.requestId ? (
            <Button variant="secondary" busy={withdraw.busy} aria-label={t('teams.discovery.withdrawOf', { name: team.name })} onClick={() => { setDone(null); void withdraw.run() }}>{t('teams.discovery.withdraw')}</Button>
          ) : !team.requestPending ? (
            <Button aria-label={t('teams.discovery.askOf', { name: team.name })} onClick={() => { setDone(null); setAsking(true) }}>{t('teams.discovery.ask')}</Button>
          ) : null}
        </div>
      ) : null}
    </li>
  )
}

/** Team settings for Admins: verified email domains (the TXT record to add, verify) and discovery on/off with a question. */
export function DomainsAndDiscovery({ data }: { data: TeamPage }) {
  const { t, i18n } = useTranslation()
  const [state, setState] = useState<{ domains: Domain[]; discovery: { enabled: boolean; question: string | null } } | null>(null)
  const [domain, setDomain] = useState('')
  const [checks, setChecks] = useState<Record<string, { outcome: string; found: string[] }>>({})
  const [done, setDone] = useState<string | null>(null)
  const [enabled, setEnabled] = useState(false)
  const [question, setQuestion] = useState('')
  const [discoverySaved, setDiscoverySaved] = useState(false)
  const id = useId()
  const base = `/teams/${data.slug}`
  const load = useAction(async () => {
    const res = await api<DomainsPage>('GET', `${base}/domains`)
    setState(res)
    setEnabled(res.discovery.enabled)
    setQuestion(res.discovery.question ?? '')
  })
  useEffect(() => {
    void load.run()
    // eslint-disable-next-line react-hooks/exhaustive-deps -- useAction's run is a new function each render; this loads once per team, as its key changes
  }, [base])
  const add = useAction(async () => {
    await api('POST', `${base}/domains`, { domain: domain.trim() })
    setDomain('')
    await load.run()
  })
  const verify = useAction(async (d: Domain) => {
    const res = await api<VerifyResult>('POST', `${base}/domains/${d.id}/verify`)
    setChecks((prev) => ({ ...prev, [d.id]: res }))
    await load.run()
  })
  const [removing, setRemoving] = useState<string | null>(null)
  const remove = useAction(async (d: Domain) => {
    const res = await api<DomainRemoval>('DELETE', `${base}/domains/${d.id}`)
    setRemoving(null)
    setDone(`${t('teams.domains.removed', { domain: d.domain })}${res.discoveryTurnedOff ? ` ${t('teams.domains.discoveryOff')}` : ''}`)
    await load.run()
  })
  const saveDiscovery = useAction(async () => {
    const res = await api<Discovery>('PUT', `${base}/discovery`, { enabled, question: question.trim() || null })
    setState((prev) => (prev ? { ...prev, discovery: res } : prev))
    setDiscoverySaved(true)
  })
  const anyVerified = state?.domains.some((d) => d.status === 'verified') ?? false
  return (
    <>
      <Section title={t('teams.domains.title')} className="domains">
        <p className="hint">{t('teams.domains.body')}</p>
        <form className="inline-form" onSubmit={(e) => { e.preventDefault(); setDone(null); void add.run() }} noValidate>
          <div className="field">
            <label htmlFor={`${id}-domain`}>{t('teams.domains.add')}</label>
            <input id={`${id}-domain`} name="domain" value={domain} autoCapitalize="none" spellCheck={false} onChange={(e) => setDomain(e.target.value)} aria-describedby={`${id}-domain-hint`} aria-invalid={add.error ? true : undefined} />
            <p className="hint" id={`${id}-domain-hint`}>{t('teams.domains.addHint')}</p>
          </div>
          <TeamError error={add.error} />
          <Button type="submit" busy={add.busy} disabled={!domain.trim()}>{t('teams.domains.addButton')}</Button>
        </form>
        {done ? <Notice tone="success">{done}</Notice> : null}
        <TeamError error={load.error ?? verify.error ?? remove.error} />
        {state === null ? (load.error ? null : <p role="status">{t('app.loading')}</p>) : state.domains.length === 0 ? <p>{t('teams.domains.none')}</p> : (
          <ul className="list domain-list">
            {state.domains.map((d) => {
              const check = checks[d.id]
              return (
                <li key={d.id} data-domain={d.domain}>
                  <div className="grow">
                    <strong>{d.domain}</strong>{' '}
                    <span className={`pill ${d.status === 'verified' ? 'pill-on' : 'pill-off'}`}>{d.status === 'verified' ? t('teams.domains.verified') : t('teams.domains.pending')}</span>
                    {d.verifiedAt ? <p className="hint">{t('teams.domains.verifiedOn', { date: formatDate(d.verifiedAt, i18n.language) })}</p> : null}
                    {d.status === 'pending' ? (
                      <div className="record">
                        <p>{t('teams.domains.record')}</p>
                        <dl className="record-fields">
                          <dt>{t('teams.domains.recordType')}</dt><dd><code>{d.record.type}</code></dd>
                          <dt>{t('teams.domains.recordName')}</dt><dd><code className="record">{d.record.name}</code></dd>
                          <dt>{t('teams.domains.recordValue')}</dt><dd><code className="record">{d.record.value}</code></dd>
                        </dl>
                      </div>
                    ) : null}
                    {check ? (
                      <div role="status" className={`check-outcome outcome-${check.outcome}`}>
                        <p>{t(`teams.domains.outcomes.${check.outcome}`)}</p>
                        {check.found.length ? <p className="hint">{t('teams.domains.found', { values: check.found.join(' · ') })}</p> : null}
                      </div>
                    ) : d.lastCheck && d.status === 'pending' ? (
                      <p className="hint">{t('teams.domains.lastCheck', { date: formatDateTime(d.lastCheck.at, i18n.language), outcome: t(`teams.domains.outcomes.${d.lastCheck.outcome}`) })}</p>
                    ) : null}
                  </div>
                  <div className="actions">
                    {d.status === 'pending' ? <Button busy={verify.busy} aria-label={t('teams.domains.verifyOf', { domain: d.domain })} onClick={() => { setDone(null); void verify.run(d) }}>{t('teams.domains.verify')}</Button> : null}
                    {removing === d.id ? null : <Button variant="danger" aria-label={t('teams.domains.removeOf', { domain: d.domain })} onClick={() => { setDone(null); setRemoving(d.id) }}>{t('teams.domains.remove')}</Button>}
                  </div>
                  {removing === d.id ? (
                    <div className="confirm" role="group" aria-label={t('teams.domains.removeOf', { domain: d.domain })} tabIndex={-1} ref={focusOnMount}>
                      <p>{t('teams.domains.removeConfirm', { domain: d.domain })}</p>
                      <Button variant="danger" busy={remove.busy} onClick={() => void remove.run(d)}>{t('teams.domains.removeYes')}</Button>{' '}
                      <Button variant="secondary" onClick={() => setRemoving(null)}>{t('app.cancel')}</Button>
                    </div>
                  ) : null}
                </li>
              )
            })}
          </ul>
        )}
      </Section>
      <Section title={t('teams.discovery.title')} className="discovery">
        <p className="hint">{t('teams.discovery.body')}</p>
        <form onSubmit={(e) => { e.preventDefault(); setDiscoverySaved(false); void saveDiscovery.run() }} noValidate>
          <Checkbox label={t('teams.discovery.enabled')} name="discoveryEnabled" checked={enabled} onChange={setEnabled} />
          {!anyVerified ? <p className="hint">{t('teams.discovery.needsDomain')}</p> : null}
          <div className="field">
            <label htmlFor={`${id}-question`}>{t('teams.discovery.question')}</label>
            <input id={`${id}-question`} name="discoveryQuestion" maxLength={DISCOVERY_QUESTION_MAX_LENGTH} value={question} onChange={(e) => setQuestion(e.target.value)} aria-describedby={`${id}-question-hint`} />
            <p className="hint" id={`${id}-question-hint`}>{t('teams.discovery.questionHint')}</p>
          </div>
          <TeamError error={saveDiscovery.error} />
          {discoverySaved ? <Notice tone="success">{t('teams.discovery.saved')}</Notice> : null}
          <Button type="submit" busy={saveDiscovery.busy}>{t('teams.discovery.save')}</Button>
        </form>
      </Section>
    </>
  )
}

/** Admins on the team page: requests to join from discovery, approved with chosen roles or denied. */
export function JoinRequestsSection({ data, reload }: { data: TeamPage; reload: () => Promise<void> }) {
  const { t, i18n } = useTranslation()
  const [requests, setRequests] = useState<JoinRequest[] | null>(null)
  const [roles, setRoles] = useState<Record<string, TeamRole[]>>({})
  const [done, setDone] = useState<string | null>(null)
  const id = useId()
  const load = useAction(async () => setRequests((await api<{ requests: JoinRequest[] }>('GET', `/teams/${data.slug}/join-requests`)).requests))
  useEffect(() => {
    void load.run()
    // eslint-disable-next-line react-hooks/exhaustive-deps -- useAction's run is a new function each render; this loads once per team, as its key changes
  }, [data.slug])
  const approve = useAction(async (r: JoinRequest) => {
    const member = await api<ApprovedMember>('POST', `/teams/${data.slug}/join-requests/${r.id}/approve`, { roles: roles[r.id] ?? ['developer'] })
    setDone(t('teams.requests.approved', { name: member.displayName || member.username }))
    await load.run()
    await reload()
  })
  const deny = useAction(async (r: JoinRequest) => {
    await api('POST', `/teams/${data.slug}/join-requests/${r.id}/deny`)
    setDone(t('teams.requests.denied', { name: r.displayName || r.username }))
    await load.run()
  })
  if (requests !== null && requests.length === 0 && !done) return null
  return (
    <Section title={t('teams.requests.title')} className="join-requests">
      {done ? <Notice tone="success">{done}</Notice> : null}
      <TeamError error={load.error ?? approve.error ?? deny.error} />
      {requests === null ? (load.error ? null : <p role="status">{t('app.loading')}</p>) : requests.length === 0 ? <p>{t('teams.requests.none')}</p> : (
        <ul className="list">
          {requests.map((r) => {
            const name = r.displayName || r.username
            const chosen = roles[r.id] ?? ['developer']
            return (
              <li key={r.id} data-username={r.username} className="member">
                <div className="member-main">
                  <div className="grow">
                    <strong>{name}</strong> <span className="hint">@{r.username} · {r.email}</span>
                    <p className="hint">{t('teams.requests.asked', { date: formatDate(r.createdAt, i18n.language) })}</p>
                    {r.question ? <p className="hint">{t('teams.requests.question', { question: r.question })}</p> : null}
                    {r.answer ? <p>{t('teams.requests.answer', { answer: r.answer })}</p> : null}
                  </div>
                  <div className="actions">
                    <Button busy={approve.busy} disabled={chosen.length === 0} aria-label={t('teams.requests.approveOf', { name })} onClick={() => { setDone(null); void approve.run(r) }}>{t('teams.requests.approve')}</Button>
                    <Button variant="secondary" busy={deny.busy} aria-label={t('teams.requests.denyOf', { name })} onClick={() => { setDone(null); void deny.run(r) }}>{t('teams.requests.deny')}</Button>
                  </div>
                </div>
                <fieldset className="compact-roles">
                  <legend>{t('teams.requests.roles')}</legend>
                  {TEAM_ROLES.map((role) => (
                    <div className="checkbox" key={role}>
                      <input id={`${id}-${r.id}-${role}`} type="checkbox" checked={chosen.includes(role)} onChange={(e) => setRoles({ ...roles, [r.id]: e.target.checked ? TEAM_ROLES.filter((x) => x === role || chosen.includes(x)) : chosen.filter((x) => x !== role) })} />
                      <label htmlFor={`${id}-${r.id}-${role}`}>{t(`teams.roles.${role}`)}</label>
                    </div>
                  ))}
                </fieldset>
              </li>
            )
          })}
        </ul>
      )}
    </Section>
  )
}
