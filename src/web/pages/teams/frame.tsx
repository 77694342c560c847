/**
 * What every page of one team shares: loading the team (following a renamed team to its new
 * URL), its header with the tabs the person's roles open, the page for a team that cannot be
 * shown, and the titled section the pages are made of.
 */
import { useCallback, useEffect, useId, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate } from 'react-router'
import { api, ApiError } from '../../api.ts'
import { can, type TeamPage } from './model.ts'
import { RolePills, TeamError, TeamLogo } from './widgets.tsx'

export function useTeam(slug: string) {
  const [data, setData] = useState<TeamPage | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  const navigate = useNavigate()
  const load = useCallback(async () => {
    try {
      setData(await api<TeamPage>('GET', `/teams/${encodeURIComponent(slug)}`))
      setError(null)
    } catch (err) {
      // An old URL of the member's team (team_moved names the new one): go there.
      const moved = err instanceof ApiError && err.code === 'team_moved' ? (err.body as { slug?: string }).slug : undefined
      if (moved) {
        void navigate(window.location.pathname.replace(`/teams/${slug}`, `/teams/${moved}`), { replace: true })
        return
      }
      setError(err instanceof ApiError ? err : new ApiError(0, { code: 'client_error', message: String(err) }))
    }
  }, [slug, navigate])
  useEffect(() => {
    setData(null)
    void load()
  }, [load])
  return { data, error, load }
}

/** Section with a heading tied to it (a named region for screen readers). */
export function Section({ title, children, className = '' }: { title: string; children: ReactNode; className?: string }) {
  const id = useId()
  return (
    <section className={`card ${className}`} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  )
}

export function TeamMissing({ error }: { error: ApiError }) {
  const { t } = useTranslation()
  return (
    <div className="page teams">
      <h1>{error.status === 404 ? t('errors.notFoundTitle') : t('errors.generic')}</h1>
      <div className="card">
        {error.status === 404 ? <p>{t('teams.team.notFound')}</p> : <TeamError error={error} />}
        <Link to="/teams">{t('teams.team.backToTeams')}</Link>
      </div>
    </div>
  )
}

export function TeamHeader({ data, current }: { data: Pick<TeamPage, 'slug' | 'name' | 'myRoles' | 'logoUrl'>; current: 'team' | 'settings' | 'activity' }) {
  const { t } = useTranslation()
  const links = [
    { key: 'team', to: `/teams/${data.slug}`, label: data.name, show: true },
    { key: 'settings', to: `/teams/${data.slug}/settings`, label: t('teams.team.settings'), show: can(data.myRoles, 'change_settings') || can(data.myRoles, 'edit_public_profile') },
    { key: 'activity', to: `/teams/${data.slug}/activity`, label: t('teams.team.activity'), show: can(data.myRoles, 'read_activity') },
  ].filter((l) => l.show)
  return (
    <header className="team-header">
      <p className="hint"><Link to="/teams">{t('teams.team.backToTeams')}</Link></p>
      <div className="team-title">
        <TeamLogo name={data.name} url={data.logoUrl} size={48} />
        <div>
          <h1>{current === 'team' ? data.name : current === 'settings' ? t('teams.settings.title') : t('teams.activity.title')}</h1>
          <p className="hint">/{data.slug} · {t('teams.team.yourRoles', { roles: '' })}<RolePills roles={data.myRoles} /></p>
        </div>
      </div>
      {links.length > 1 ? (
        <nav className="team-tabs" aria-label={data.name}>
          {links.map((l) => <Link key={l.key} to={l.to} aria-current={l.key === current ? 'page' : undefined}>{l.label}</Link>)}
        </nav>
      ) : null}
    </header>
  )
}
