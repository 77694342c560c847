/**
 * A team's URL and public profile (src/teams/profile/routes.ts): the live slug check used by
 * the create form and the settings field, the settings sections (URL for Admins, public profile
 * for Admins and Community Managers), the public team page /t/<slug>, and the invitation
 * preview on /invitations/accept.
 */
import { useEffect, useId, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useParams } from 'react-router'
import { api, ApiError } from '../../api.ts'
import { CenteredPage } from '../../components/layout.tsx'
import { Button, Checkbox, Field, Notice, useAction } from '../../components/ui.tsx'
import { can, roleList, slugProblem, type TeamPage } from './model.ts'
import { Section } from './frame.tsx'
import { TeamError, TeamLogo } from './widgets.tsx'
import type { InvitationPreview, Profile, PublicTeam, SlugAvailability, SlugChange } from '../../../teams/profile/schemas.ts'
import { DESCRIPTION_MAX_LENGTH } from '../../../teams/limits.ts'
import './teams.css'

export interface SlugCheck {
  state: 'idle' | 'checking' | 'available' | 'taken' | 'reserved' | 'invalid' | 'error'
  suggestions: string[]
}

/**
 * Asks the server whether `slug` is free, 300 ms after the last keystroke, once the local rules
 * pass (see model.ts slugProblem). `unchanged` (the team's own URL) is not asked about.
 */
export function useSlugAvailability(slug: string, unchanged?: string): SlugCheck {
  const [check, setCheck] = useState<SlugCheck>({ state: 'idle', suggestions: [] })
  useEffect(() => {
    if (!slug || slug === unchanged || slugProblem(slug)) {
      setCheck({ state: 'idle', suggestions: [] })
      return
    }
    let live = true
    setCheck({ state: 'checking', suggestions: [] })
    const timer = setTimeout(() => {
      api<SlugAvailability>('GET', `/team-slugs/${encodeURIComponent(slug)}`).then(
        (res) => live && setCheck({ state: res.available ? 'available' : res.reason ?? 'invalid', suggestions: res.suggestions }),
        () => live && setCheck({ state: 'error', suggestions: [] }),
      )
    }, 300)
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [slug, unchanged])
  return check
}

/** The words for a live check: a hint when free or pending, an error when not (with suggestions). */
export function slugCheckText(t: ReturnType<typeof useTranslation>['t'], check: SlugCheck): { hint?: string; error?: string } {
  switch (check.state) {
    case 'checking': return { hint: t('teams.slugCheck.checking') }
    case 'available': return { hint: t('teams.slugCheck.available') }
    case 'taken': return { error: check.suggestions.length ? t('teams.slugCheck.takenTry', { suggestions: check.suggestions.join(t('teams.listSeparator')) }) : t('teams.slugCheck.taken') }
    case 'reserved': return { error: t('teams.create.slugProblems.reserved') }
    case 'invalid': return { error: t('teams.create.slugProblems.invalid_characters') }
    default: return {}
  }
}

// ---------------------------------------------------------------- settings

/** Team settings: change the URL (Admins). The old URL keeps pointing members here for 90 days. */
export function TeamUrlSection({ data }: { data: TeamPage }) {
  const { t } = useTranslation()
  const navigate = useNavigate()
  const admin = can(data.myRoles, 'change_settings')
  const [slug, setSlug] = useState(data.slug)
  const check = useSlugAvailability(slug, data.slug)
  const problem = slug ? slugProblem(slug) : 'too_short'
  const save = useAction(async () => {
    const res = await api<SlugChange>('PUT', `/teams/${encodeURIComponent(data.slug)}/slug`, { slug })
    void navigate(`/teams/${res.slug}/settings`, { replace: true, state: { notice: t('teams.url.changed', { url: `/teams/${res.slug}` }) } })
  })
  const live = slugCheckText(t, check)
  const serverError = save.error?.body.fields?.slug ? (save.error.code === 'team_slug_taken' ? t('teams.slugCheck.taken') : t('teams.create.slugProblems.invalid_characters')) : undefined
  const blocked = !!problem || slug === data.slug || ['taken', 'reserved', 'invalid', 'checking'].includes(check.state)
  return (
    <Section title={t('teams.url.title')}>
      <form onSubmit={(e) => { e.preventDefault(); if (!blocked) void save.run() }} noValidate>
        <Field
          label={t('teams.settings.slug')} name="teamSlug" value={slug} disabled={!admin} autoCapitalize="none" spellCheck={false}
          onChange={(e) => setSlug(e.target.value.trim())}
          error={serverError ?? (slug !== data.slug && problem ? t(`teams.create.slugProblems.${problem}`) : live.error)}
          hint={<>{live.hint ? <>{live.hint} </> : null}{t('teams.url.hint', { days: 90 })}</>}
        />
        <TeamError error={save.error && !save.error.body.fields ? save.error : null} />
        {admin ? <Button type="submit" busy={save.busy} disabled={blocked}>{t('teams.url.save')}</Button> : null}
      </form>
    </Section>
  )
}

/** Team settings: the public profile (Admins and Community Managers edit; other members read). */
export function PublicProfileSection({ data }: { data: TeamPage }) {
  const { t } = useTranslation()
  const editor = can(data.myRoles, 'edit_public_profile')
  const [profile, setProfile] = useState<Profile | null>(null)
  const [description, setDescription] = useState('')
  const [website, setWebsite] = useState('')
  const [isPublic, setPublic] = useState(false)
  const [saved, setSaved] = useState(false)
  const statusId = useId()
  const apply = (p: Profile) => {
    setProfile(p)
    setDescription(p.description)
    setWebsite(p.website ?? '')
    setPublic(p.public)
  }
  const load = useAction(async () => apply(await api<Profile>('GET', `/teams/${encodeURIComponent(data.slug)}/profile`)))
  useEffect(() => {
    void load.run()
    // eslint-disable-next-line react-hooks/exhaustive-deps -- useAction's run is a new function each render; this loads once per team, as its key changes
  }, [data.slug])
  const save = useAction(async () => {
    apply(await api<Profile>('PUT', `/teams/${encodeURIComponent(data.slug)}/profile`, { description, website, public: isPublic }))
    setSaved(true)
  })
  const length = [...description.trim()].length
  const websiteProblem = website.trim() && !/^https:\/\//i.test(website.trim()) ? t('teams.profile.httpsOnly') : undefined
  const fieldError = (field: string) => (save.error?.body.fields?.[field] ? save.error.message : undefined)
  return (
    <Section title={t('teams.profile.title')}>
      <p className="hint">{t('teams.profile.body')}</p>
      {!editor ? <Notice tone="warning">{t('teams.profile.editorsOnly')}</Notice> : null}
      {profile === null ? <TeamError error={load.error} /> : (
        <form onSubmit={(e) => { e.preventDefault(); setSaved(false); if (length <= DESCRIPTION_MAX_LENGTH && !websiteProblem) void save.run() }} noValidate>
          <fieldset disabled={!editor} className="plain">
            <Field
              label={t('teams.profile.description')} name="description" multiline value={description} onChange={(e) => setDescription(e.target.value)}
              hint={t('teams.profile.descriptionHint', { count: length, max: DESCRIPTION_MAX_LENGTH })}
              error={fieldError('description') ?? (length > DESCRIPTION_MAX_LENGTH ? t('teams.profile.tooLong', { max: DESCRIPTION_MAX_LENGTH }) : undefined)}
            />
            <Field label={t('teams.profile.website')} name="website" type="text" inputMode="url" autoComplete="url" placeholder="https://" value={website} onChange={(e) => setWebsite(e.target.value)} hint={t('teams.profile.websiteHint')} error={fieldError('website') ?? websiteProblem} />
            <Checkbox name="public" label={t('teams.profile.public')} checked={isPublic} onChange={setPublic} />
          </fieldset>
          <p className="hint" id={statusId}>
            {profile.public ? <>{t('teams.profile.isPublic')} <Link to={`/t/${data.slug}`}>{`${window.location.origin}/t/${data.slug}`}</Link></> : t('teams.profile.isPrivate')}
          </p>
          <TeamError error={save.error && !save.error.body.fields ? save.error : null} />
          {saved ? <Notice tone="success">{t('teams.profile.saved')}</Notice> : null}
          {editor ? <Button type="submit" busy={save.busy}>{t('teams.profile.save')}</Button> : null}
        </form>
      )}
    </Section>
  )
}

// ---------------------------------------------------------------- public page

/** /t/<slug>: anyone, signed in or not; only teams that made their profile public. */
export function PublicTeamPage() {
  const { t } = useTranslation()
  const { slug = '' } = useParams()
  const navigate = useNavigate()
  const [team, setTeam] = useState<PublicTeam | null | 'missing'>(null)
  useEffect(() => {
    setTeam(null)
    api<PublicTeam>('GET', `/public/teams/${encodeURIComponent(slug)}`).then((res) => {
      // An old URL: show the team under its current one.
      if (res.slug !== slug) void navigate(`/t/${res.slug}`, { replace: true })
      setTeam(res)
    }, () => setTeam('missing'))
  }, [slug, navigate])
  useEffect(() => {
    document.title = `${team && team !== 'missing' ? team.name : t('teams.publicPage.title')} · Latchkey`
  }, [team, t])
  if (team === null) return <CenteredPage title={t('teams.publicPage.title')}><p role="status">{t('app.loading')}</p></CenteredPage>
  if (team === 'missing') return <CenteredPage title={t('errors.notFoundTitle')}><p>{t('teams.publicPage.notFound')}</p></CenteredPage>
  return (
    <CenteredPage title={team.name}>
      <div className="public-team">
        <TeamLogo name={team.name} url={team.logoUrl} size={96} />
        <p className="hint">/t/{team.slug} · {t('teams.list.members', { count: team.memberCount })}</p>
        {/* Plain text: React escapes it; line breaks are kept by CSS. */}
        {team.description ? <p className="team-description">{team.description}</p> : null}
        {team.website ? <p><a href={team.website} rel="nofollow noopener noreferrer ugc">{team.website.replace(/^https:\/\//, '').replace(/\/$/, '')}</a></p> : null}
      </div>
    </CenteredPage>
  )
}

// ---------------------------------------------------------------- invitation preview

/** Loads the preview once for a token; `error` is the server's refusal (the invitation is closed). */
export function useInvitationPreview(token: string | null, signedIn: boolean) {
  const [preview, setPreview] = useState<InvitationPreview | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  useEffect(() => {
    if (!token) return
    let live = true
    api<InvitationPreview>('POST', '/invitations/preview', { token }).then(
      (res) => live && (setPreview(res), setError(null)),
      (err) => live && setError(err instanceof ApiError ? err : null),
    )
    return () => {
      live = false
    }
  }, [token, signedIn])
  return { preview, error }
}

export function InvitationPreviewCard({ preview }: { preview: InvitationPreview }) {
  const { t } = useTranslation()
  return (
    <div className="invitation-preview">
      <TeamLogo name={preview.team.name} url={preview.team.logoUrl} size={64} />
      <div>
        <p><strong>{preview.inviter ? t('teams.invitePreview.by', { inviter: preview.inviter, team: preview.team.name }) : t('teams.invitePreview.team', { team: preview.team.name })}</strong></p>
        <p className="hint">{t('teams.invitePreview.roles', { roles: roleList(t, preview.roles) })}</p>
      </div>
    </div>
  )
}
