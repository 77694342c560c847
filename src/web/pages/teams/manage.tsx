import { useEffect, useId, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { useLocation, useParams } from 'react-router'
import { api } from '../../api.ts'
import { Button, Notice, useAction } from '../../components/ui.tsx'
import { can, roleList, type ActivityEvent, type TeamPage, type TeamRole } from './model.ts'
import { Section, TeamHeader, TeamMissing, useTeam } from './frame.tsx'
import { formatDateTime } from '../../dates.ts'
import { TeamError, TeamLogo } from './widgets.tsx'
import { ImageUpload } from './images.tsx'
import { DomainsAndDiscovery } from './discovery.tsx'
import { EnterpriseSigninSection, SetupLinksSection } from './enterprise.tsx'
import { PublicProfileSection, TeamUrlSection } from './profile.tsx'
import { LOGO_MAX_BYTES } from '../../../images/limits.ts'
import { TEAM_NAME_MAX_LENGTH } from '../../../teams/limits.ts'
import type { ActivityPage, TeamRef } from '../../../teams/schemas.ts'
import './teams.css'

export function TeamSettingsPage() {
  const { t } = useTranslation()
  const { slug = '' } = useParams()
  const { data, error, load } = useTeam(slug)
  const notice = (useLocation().state as { notice?: string } | null)?.notice
  useEffect(() => {
    document.title = `${t('teams.settings.title')} · Latchkey`
  }, [t])
  if (error && !data) return <TeamMissing error={error} />
  if (!data) return <p role="status" className="page">{t('teams.team.loading')}</p>
  const admin = can(data.myRoles, 'change_settings')
  return (
    <div className="page teams">
      <TeamHeader data={data} current="settings" />
      {!admin ? <Notice tone="warning">{t('teams.settings.adminsOnly')}</Notice> : null}
      {notice ? <Notice tone="success">{notice}</Notice> : null}
      <RenameSection slug={data.slug} name={data.name} disabled={!admin} reload={load} />
      <TeamUrlSection key={data.slug} data={data} />
      <PublicProfileSection data={data} />
      <LogoSection data={data} reload={load} />
      {admin ? <DomainsAndDiscovery data={data} /> : null}
      {can(data.myRoles, 'manage_sso') ? <EnterpriseSigninSection data={data} /> : null}
      {can(data.myRoles, 'manage_sso') ? <SetupLinksSection data={data} /> : null}
    </div>
  )
}

function LogoSection({ data, reload }: { data: TeamPage; reload: () => Promise<void> }) {
  const { t } = useTranslation()
  return (
    <Section title={t('teams.logo.title')}>
      <ImageUpload
        label={t('teams.logo.file')} endpoint={`/teams/${data.slug}/logo`} field="logoUrl" maxBytes={LOGO_MAX_BYTES} disabled={!can(data.myRoles, 'change_settings')} hasImage={!!data.logoUrl}
        preview={<><TeamLogo name={data.name} url={data.logoUrl} size={96} /><span className="hint">{data.logoUrl ? t('teams.logo.current') : t('teams.logo.none')}</span></>}
        removeLabel={t('teams.logo.remove')} savedText={t('teams.logo.saved')} removedText={t('teams.logo.removed')} onChange={reload}
      />
    </Section>
  )
}

function RenameSection({ slug, name: current, disabled, reload }: { slug: string; name: string; disabled: boolean; reload: () => Promise<void> }) {
  const { t } = useTranslation()
  const [name, setName] = useState(current)
  const [done, setDone] = useState<string | null>(null)
  const id = useId()
  const rename = useAction(async () => {
    const res = await api<TeamRef>('PATCH', `/teams/${slug}`, { name })
    setDone(t('teams.settings.renamed', { name: res.name }))
    await reload()
  })
  return (
    <Section title={t('teams.settings.rename')}>
      <form onSubmit={(e) => { e.preventDefault(); setDone(null); void rename.run() }} noValidate>
        <div className="field">
          <label htmlFor={`${id}-name`}>{t('teams.settings.name')}</label>
          <input id={`${id}-name`} name="teamName" value={name} maxLength={TEAM_NAME_MAX_LENGTH * 2} disabled={disabled} onChange={(e) => setName(e.target.value)} aria-invalid={rename.error?.body.fields?.name ? true : undefined} />
        </div>
        <TeamError error={rename.error} />
        {done ? <Notice tone="success">{done}</Notice> : null}
        {disabled ? null : <Button type="submit" busy={rename.busy}>{t('teams.settings.rename')}</Button>}
      </form>
    </Section>
  )
}

/** The current name, and the one the log recorded when the person has been renamed since. */
function nameWithFormer(t: ReturnType<typeof useTranslation>['t'], username: string, former: unknown): string {
  return typeof former === 'string' && former !== username ? t('teams.activity.renamed', { name: username, former }) : username
}

function describeEvent(t: ReturnType<typeof useTranslation>['t'], event: ActivityEvent): string {
  const d = event.details
  const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '')
  const roles = Array.isArray(d.to) && event.type === 'member.roles_changed' ? roleList(t, d.to as TeamRole[]) : ''
  const key = `teams.activity.types.${event.type}`
  const text = t(key, { email: str(d.email), username: nameWithFormer(t, str(d.username), d.formerUsername), from: str(d.from), to: str(d.to), roles, domain: str(d.domain), name: str(d.name) })
  return text === key ? event.type : text
}

export function TeamActivityPage() {
  const { t, i18n } = useTranslation()
  const { slug = '' } = useParams()
  const { data, error } = useTeam(slug)
  const [events, setEvents] = useState<ActivityEvent[] | null>(null)
  const [cursor, setCursor] = useState<string | null>(null)
  const more = useAction(async (after?: string) => {
    const page = await api<ActivityPage>('GET', `/teams/${encodeURIComponent(slug)}/activity?limit=25${after ? `&cursor=${encodeURIComponent(after)}` : ''}`)
    setEvents((prev) => (after && prev ? [...prev, ...page.events] : page.events))
    setCursor(page.nextCursor)
  })
  useEffect(() => {
    document.title = `${t('teams.activity.title')} · Latchkey`
  }, [t])
  useEffect(() => {
    void more.run()
    // eslint-disable-next-line react-hooks/exhaustive-deps -- useAction's run is a new function each render; this loads once per team, as its key changes
  }, [slug])
  if (error && !data) return <TeamMissing error={error} />
  if (!data) return <p role="status" className="page">{t('teams.team.loading')}</p>
  return (
    <div className="page teams">
      <TeamHeader data={data} current="activity" />
      <Section title={t('teams.activity.title')} className="activity">
        <TeamError error={more.error} />
        {events === null ? (more.error ? null : <p role="status">{t('app.loading')}</p>) : events.length === 0 ? <p>{t('teams.activity.none')}</p> : (
          <ol className="list activity-list">
            {events.map((e) => (
              <li key={e.id}>
                <div className="grow">
                  <strong>{describeEvent(t, e)}</strong>
                  <p className="hint">
                    <time dateTime={e.at}>{formatDateTime(e.at, i18n.language)}</time>
                    {' · '}{t('teams.activity.by', { actor: e.actor ? nameWithFormer(t, e.actor.username, e.actor.formerUsername) : t('teams.activity.system') })}
                    {e.ip ? ` · ${t('teams.activity.from', { ip: e.ip })}` : ''}
                  </p>
                </div>
              </li>
            ))}
          </ol>
        )}
        {cursor ? <Button variant="secondary" busy={more.busy} onClick={() => void more.run(cursor)}>{t('teams.activity.more')}</Button> : null}
      </Section>
    </div>
  )
}
