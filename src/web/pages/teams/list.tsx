import { useEffect, useId, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useLocation } from 'react-router'
import { api } from '../../api.ts'
import { useSession } from '../../components/session.tsx'
import { Button, Card, Field, Notice, useAction } from '../../components/ui.tsx'
import { roleList, slugFromName, slugProblem, TEAM_NAME_MAX_LENGTH, teamErrorMessage, type TeamSummary } from './model.ts'
import { DiscoverableTeams } from './discovery.tsx'
import { slugCheckText, useSlugAvailability } from './profile.tsx'
import { MAX_TEAMS_PER_PERSON } from '../../../teams/limits.ts'
import { TeamError, TeamLogo } from './widgets.tsx'
import { PendingInvitations } from './pending.tsx'
import './teams.css'

/**
 * Name and URL with live checks: the URL follows the name until the person edits it, and the
 * same rules as the server (src/teams/profile/slugs.ts) are shown as they type, then the server says
 * whether it is free (GET /team-slugs/:slug, with suggestions when taken).
 */
export function CreateTeamForm({ onCreated }: { onCreated: (team: TeamSummary) => void }) {
  const { t } = useTranslation()
  const { me } = useSession()
  const [name, setName] = useState('')
  const [slug, setSlug] = useState('')
  const [slugEdited, setSlugEdited] = useState(false)
  const create = useAction(async () => onCreated(await api<TeamSummary>('POST', '/teams', { name, slug })))
  const problem = slug ? slugProblem(slug) : null
  const live = slugCheckText(t, useSlugAvailability(slug))
  const nameLength = [...name.trim()].length
  const serverField = (field: string) => (create.error?.body.fields?.[field] ? teamErrorMessage(t, create.error) : undefined)
  const disabled = !me?.emailConfirmed
  return (
    <form onSubmit={(e) => { e.preventDefault(); if (!problem && nameLength > 0 && nameLength <= TEAM_NAME_MAX_LENGTH) void create.run() }} noValidate aria-label={t('teams.create.title')}>
      {disabled ? <Notice tone="warning">{t('teams.create.needsConfirmed')}</Notice> : null}
      <Field
        label={t('teams.create.name')} name="teamName" required value={name} disabled={disabled} autoComplete="organization"
        onChange={(e) => { setName(e.target.value); if (!slugEdited) setSlug(slugFromName(e.target.value)) }}
        hint={t('teams.create.nameHint')}
        error={serverField('name') ?? (nameLength > TEAM_NAME_MAX_LENGTH ? t('teams.create.nameTooLong', { count: nameLength }) : undefined)}
      />
      <Field
        label={t('teams.create.slug')} name="teamSlug" required value={slug} disabled={disabled} autoCapitalize="none" spellCheck={false}
        onChange={(e) => { setSlug(e.target.value.trim()); setSlugEdited(true) }}
        error={serverField('slug') ?? (problem ? t(`teams.create.slugProblems.${problem}`) : live.error)}
        hint={slug && !problem && !live.error ? <span className="ok">{live.hint ? `${live.hint} ` : ''}✓ {t('teams.create.preview', { url: `${window.location.origin}/teams/${slug}` })}</span> : t('teams.create.slugHint')}
      />
      <TeamError error={create.error && !create.error.body.fields ? create.error : null} />
      <Button type="submit" busy={create.busy} disabled={disabled || !name.trim() || !slug || !!problem}>{t('teams.create.submit')}</Button>
    </form>
  )
}

export function TeamsPage() {
  const { t } = useTranslation()
  const [teams, setTeams] = useState<TeamSummary[] | null>(null)
  const [created, setCreated] = useState<TeamSummary | null>(null)
  const headingId = useId()
  const notice = (useLocation().state as { notice?: string } | null)?.notice
  const load = async () => setTeams((await api<{ teams: TeamSummary[] }>('GET', '/teams')).teams)
  useEffect(() => {
    document.title = `${t('teams.list.title')} · Latchkey`
  }, [t])
  useEffect(() => {
    void load()
  }, [])
  return (
    <div className="page teams">
      <h1>{t('teams.list.title')}</h1>
      {notice ? <Notice tone="success">{notice}</Notice> : null}
      <PendingInvitations onJoined={() => void load()} />
      <section className="card" aria-labelledby={headingId}>
        <h2 id={headingId}>{t('teams.list.mine')}</h2>
        {teams === null ? <p role="status">{t('app.loading')}</p> : teams.length === 0 ? <p>{t('teams.list.none')}</p> : (
          <ul className="list team-list">
            {teams.map((team) => (
              <li key={team.slug}>
                <TeamLogo name={team.name} url={team.logoUrl} />
                <div className="grow">
                  <Link to={`/teams/${team.slug}`} className="team-name">{team.name}</Link>
                  <span className="hint"> /{team.slug} · {t('teams.list.members', { count: team.memberCount })}</span>
                  <p className="hint">{t('teams.list.yourRoles', { roles: roleList(t, team.roles) })}</p>
                </div>
              </li>
            ))}
          </ul>
        )}
        {teams && teams.length >= MAX_TEAMS_PER_PERSON ? <p className="hint">{t('teams.list.limit')}</p> : null}
      </section>
      <DiscoverableTeams onJoined={() => void load()} />
      <Card title={t('teams.create.title')}>
        {created ? <Notice tone="success">{t('teams.onboarding.created', { name: created.name })} <Link to={`/teams/${created.slug}`}>{t('teams.onboarding.openTeam')}</Link></Notice> : null}
        <CreateTeamForm key={created?.slug ?? ''} onCreated={(team) => { setCreated(team); void load() }} />
      </Card>
    </div>
  )
}
