import { useCallback, useEffect, useId, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useParams } from 'react-router'
import { api, ApiError } from '../../api.ts'
import { CenteredPage } from '../../components/layout.tsx'
import { useSession } from '../../components/session.tsx'
import { Button, Notice, useAction } from '../../components/ui.tsx'
import { can, roleList, TEAM_ROLES, type TeamPage, type TeamRole } from './model.ts'
import { Section } from './frame.tsx'
import { formatDate } from '../../dates.ts'
import { focusOnMount, RolePills, TeamError, TeamLogo } from './widgets.tsx'
import type { InviteLink, InviteLinkPreview, NewInviteLink } from '../../../teams/invitations/schemas.ts'
import { signUpFromInvitation } from '../../return-to.ts'
import './teams.css'

/** Invite links of the team page: create (roles), list with creator, dates and uses, revoke. */
export function InviteLinksSection({ data, reload }: { data: TeamPage; reload: () => Promise<void> }) {
  const { t, i18n } = useTranslation()
  const { me } = useSession()
  const admin = can(data.myRoles, 'invite_any_role')
  const [links, setLinks] = useState<InviteLink[] | null>(null)
  const [roles, setRoles] = useState<TeamRole[]>(['developer'])
  const [fresh, setFresh] = useState<{ url: string; noFreeSeat: boolean } | null>(null)
  const [revoking, setRevoking] = useState<string | null>(null)
  const [copied, setCopied] = useState(false)
  async function copy(url: string) {
    await navigator.clipboard?.writeText(url).catch(() => {})
    setCopied(true)
  }
  const [done, setDone] = useState<string | null>(null)
  const id = useId()
  const load = useAction(async () => setLinks((await api<{ links: InviteLink[] }>('GET', `/teams/${data.slug}/invite-links`)).links))
  useEffect(() => {
    void load.run()
    // eslint-disable-next-line react-hooks/exhaustive-deps -- useAction's run is a new function each render; this loads once per team, and again when its free seats change (noFreeSeat)
  }, [data.slug, data.seats.available])
  const create = useAction(async () => {
    const link = await api<NewInviteLink>('POST', `/teams/${data.slug}/invite-links`, { roles: admin ? roles : ['developer'] })
    setFresh({ url: link.url, noFreeSeat: link.noFreeSeat })
    setCopied(false)
    await load.run()
  })
  const revoke = useAction(async (link: InviteLink) => {
    await api('DELETE', `/teams/${data.slug}/invite-links/${link.id}`)
    setRevoking(null)
    setDone(t('teams.links.revoked'))
    await load.run()
    await reload()
  })
  const date = (iso: string) => formatDate(iso, i18n.language)
  return (
    <Section title={t('teams.links.title')} className="invite-links">
      <p className="hint">{t('teams.links.body')}</p>
      <form onSubmit={(e) => { e.preventDefault(); setDone(null); if (roles.length || !admin) void create.run() }} noValidate>
        {admin ? (
          <fieldset>
            <legend>{t('teams.links.roles')}</legend>
            {TEAM_ROLES.map((role) => (
              <div className="checkbox" key={role}>
                <input id={`${id}-${role}`} type="checkbox" name={`link-role-${role}`} checked={roles.includes(role)} onChange={(e) => setRoles(e.target.checked ? TEAM_ROLES.filter((r) => r === role || roles.includes(r)) : roles.filter((r) => r !== role))} />
                <label htmlFor={`${id}-${role}`}>{t(`teams.roles.${role}`)}</label>
              </div>
            ))}
            {roles.length === 0 ? <p className="field-error">{t('teams.members.atLeastOne')}</p> : null}
          </fieldset>
        ) : <p className="hint">{t('teams.links.developerOnly')}</p>}
        <TeamError error={create.error} />
        <Button type="submit" busy={create.busy} disabled={admin && roles.length === 0}>{t('teams.links.create')}</Button>
      </form>
      {fresh ? (
        <Notice tone="success">
          <p className="notice-title">{t('teams.links.created')}</p>
          <div className="copy-row">
            <label className="visually-hidden" htmlFor={`${id}-url`}>{t('teams.links.url')}</label>
            <input id={`${id}-url`} name="inviteLinkUrl" readOnly value={fresh.url} onFocus={(e) => e.target.select()} />
            <Button type="button" variant="secondary" onClick={() => void copy(fresh.url)}>{t('teams.links.copy')}</Button>
          </div>
          {copied ? <p className="hint">{t('teams.links.copied')}</p> : null}
        </Notice>
      ) : null}
      {fresh?.noFreeSeat ? (
        <Notice tone="warning"><span className="no-free-seat">{t('teams.links.noFreeSeat')} {t(can(data.myRoles, 'change_seats') ? 'teams.links.noFreeSeatAdd' : 'teams.seats.whoAdds')}</span></Notice>
      ) : null}
      {done ? <Notice tone="success">{done}</Notice> : null}
      <TeamError error={load.error ?? revoke.error} />
      {links === null ? (load.error ? null : <p role="status">{t('app.loading')}</p>) : links.length === 0 ? <p>{t('teams.links.none')}</p> : (
        <ul className="list">
          {links.map((link) => (
            <li key={link.id} className={`invite-link state-${link.state}`}>
              <div className="grow">
                <RolePills roles={link.roles} /> <span className={`pill ${link.state === 'active' ? 'pill-on' : 'pill-off'}`}>{t(`teams.links.states.${link.state}`)}</span>
                <p className="hint">{t('teams.links.meta', { name: link.createdBy ?? '—', created: date(link.createdAt), expires: date(link.expiresAt) })}</p>
                <p className="hint">{t('teams.links.uses', { uses: link.uses, max: link.maxUses })}</p>
                {link.noFreeSeat ? <p className="field-error no-free-seat">{t('teams.links.noFreeSeat')}</p> : null}
              </div>
              {link.state === 'active' && (admin || link.createdBy === me?.username) && revoking !== link.id ? (
                <div className="actions">
                  <Button variant="danger" aria-label={t('teams.links.revokeOf', { created: date(link.createdAt) })} onClick={() => setRevoking(link.id)}>{t('teams.links.revoke')}</Button>
                </div>
              ) : null}
              {revoking === link.id ? (
                <div className="confirm" role="group" aria-label={t('teams.links.revokeOf', { created: date(link.createdAt) })} tabIndex={-1} ref={focusOnMount}>
                  <p>{t('teams.links.revokeConfirm')}</p>
                  <Button variant="danger" busy={revoke.busy} onClick={() => void revoke.run(link)}>{t('teams.links.revokeYes')}</Button>{' '}
                  <Button variant="secondary" onClick={() => setRevoking(null)}>{t('app.cancel')}</Button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </Section>
  )
}

/** The page an invite link opens (/join/<token>). */
export function JoinPage() {
  const { t, i18n } = useTranslation()
  const { token = '' } = useParams()
  const { me, loading } = useSession()
  const [preview, setPreview] = useState<InviteLinkPreview | null>(null)
  const [problem, setProblem] = useState<ApiError | null>(null)
  const [joined, setJoined] = useState<{ slug: string; name: string; roles: TeamRole[] } | null>(null)
  // Only the latest preview may set the state: it is read again when the session changes (say,
  // the address was just confirmed), and an older, slower answer must not put back its state.
  const latest = useRef(0)
  const open = useCallback(async () => {
    const mine = ++latest.current
    try {
      const answer = await api<InviteLinkPreview>('GET', `/invite-links/${encodeURIComponent(token)}`)
      if (mine === latest.current) setPreview(answer)
    } catch (err) {
      if (mine === latest.current) setProblem(err instanceof ApiError ? err : new ApiError(0, { code: 'client_error', message: String(err) }))
    }
  }, [token])
  // Signed in or not: a signed-out visitor sees which team the link joins, as on the emailed invitation's page.
  useEffect(() => {
    if (!loading) void open()
  }, [me, loading, open])
  const join = useAction(async () => setJoined(await api('POST', `/invite-links/${encodeURIComponent(token)}/join`, {})))
  const refusal = join.error?.code === 'invite_link_invalid' ? join.error : problem
  if (loading) return <CenteredPage title={t('teams.accept.title')}><p role="status">{t('app.loading')}</p></CenteredPage>
  if (!me && !problem) {
    return (
      <CenteredPage title={preview ? t('teams.join.title', { name: preview.team.name }) : t('teams.accept.title')}>
        {preview ? (
          <>
            <div className="team-title"><TeamLogo name={preview.team.name} url={preview.team.logoUrl} size={56} /><span className="hint">/{preview.team.slug}</span></div>
            <p>{t('teams.join.roles', { roles: roleList(t, preview.roles) })}</p>
          </>
        ) : null}
        <p>{t('teams.join.signIn')}</p>
        <Link className="btn btn-primary" to={`/signin?next=${encodeURIComponent(`/join/${token}`)}`}>{t('teams.accept.signIn')}</Link>{' '}
        <Link className="btn btn-secondary" to={signUpFromInvitation(`/join/${token}`)}>{t('teams.accept.signUp')}</Link>
      </CenteredPage>
    )
  }
  if (joined) {
    return (
      <CenteredPage title={t('teams.join.joined', { name: joined.name })}>
        <Notice tone="success">{t('teams.join.joinedBody', { roles: roleList(t, joined.roles) })}</Notice>
        <Link className="btn btn-primary" to={`/teams/${joined.slug}`}>{t('teams.accept.openTeam')}</Link>
      </CenteredPage>
    )
  }
  if (refusal) {
    const body = refusal.body as { reason?: string; teamName?: string }
    const reason = refusal.code === 'invite_link_invalid' && body.reason && ['unknown', 'expired', 'revoked', 'used_up'].includes(body.reason) ? body.reason : null
    return (
      <CenteredPage title={reason ? t(`teams.join.invalid.${reason}`) : t('errors.generic')}>
        {reason ? <p data-code={refusal.code}>{body.teamName ? t('teams.join.invalidBodyTeam', { name: body.teamName }) : t('teams.join.invalidBody')}</p> : <TeamError error={refusal} />}
        <Link className="btn btn-primary" to="/teams">{t('teams.accept.goTeams')}</Link>
      </CenteredPage>
    )
  }
  if (!preview || !me) return <CenteredPage title={t('teams.accept.title')}><p role="status">{t('app.loading')}</p></CenteredPage>
  return (
    <CenteredPage title={t('teams.join.title', { name: preview.team.name })}>
      <div className="team-title"><TeamLogo name={preview.team.name} url={preview.team.logoUrl} size={56} /><span className="hint">/{preview.team.slug}</span></div>
      <p>{t('teams.join.roles', { roles: roleList(t, preview.roles) })}</p>
      <p className="hint">{t('teams.join.expires', { date: formatDate(preview.expiresAt, i18n.language), count: preview.usesLeft })}</p>
      <p>{t('teams.accept.signedInAs', { name: me.displayName || me.username, email: me.email })}</p>
      {preview.alreadyMember ? (
        <>
          <Notice>{t('teams.join.already')}</Notice>
          <Link className="btn btn-primary" to={`/teams/${preview.team.slug}`}>{t('teams.accept.openTeam')}</Link>
        </>
      ) : (
        <>
          {!preview.emailConfirmed ? <Notice tone="warning">{t('teams.join.unconfirmed')}</Notice> : null}
          <TeamError error={join.error} />
          <Button busy={join.busy} disabled={!preview.emailConfirmed} onClick={() => void join.run()}>{t('teams.join.button')}</Button>
        </>
      )}
    </CenteredPage>
  )
}
