/**
 * The IT administrator's page (issue 16): `/sso-setup#token=…` opens a set-up link (the token
 * goes once to the server, which answers with an HttpOnly cookie, and leaves the address bar and
 * history), then `/teams/<slug>/sso-setup` shows the team's SSO set-up to the link holder or to
 * an Admin, with step-by-step instructions for the common identity providers.
 */
import { useEffect, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { useNavigate, useParams } from 'react-router'
import { api, ApiError, tokenFromFragment } from '../api.ts'
import { CenteredPage } from '../components/layout.tsx'
import { Notice } from '../components/ui.tsx'
import { formatDateTime } from '../dates.ts'
import { teamErrorMessage } from './teams/model.ts'
import type { SetupSession } from '../../sso/schemas.ts'

const PROVIDERS = ['okta', 'entra', 'google', 'generic'] as const
const STEPS = ['s1', 's2', 's3', 's4'] as const

function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError(0, { code: 'client_error', message: String(err) })
}

function Refused({ error }: { error: ApiError }) {
  const { t } = useTranslation()
  return (
    <CenteredPage title={t('sso.setup.invalidTitle')}>
      <p className="form-error" role="alert" data-code={error.code}>{teamErrorMessage(t, error)}</p>
    </CenteredPage>
  )
}

/** `/sso-setup#token=…`: spends the fragment once, then moves on to the team's set-up page. */
export function OpenSetupLinkPage() {
  const { t } = useTranslation()
  const navigate = useNavigate()
  const [error, setError] = useState<ApiError | null>(null)
  const started = useRef(false)
  useEffect(() => {
    if (started.current) return
    started.current = true
    const token = tokenFromFragment()
    // The token leaves the address bar and history at once (it is never sent in a URL).
    history.replaceState(null, '', window.location.pathname)
    if (!token) {
      setError(new ApiError(404, { code: 'setup_link_invalid', message: 'This set-up link is unknown.' }))
      return
    }
    api<SetupSession>('POST', '/sso-setup/open', { token })
      .then((opened) => navigate(`/teams/${encodeURIComponent(opened.team.slug)}/sso-setup`, { replace: true }))
      .catch((err) => setError(asApiError(err)))
  }, [navigate])
  if (error) return <Refused error={error} />
  return <CenteredPage title={t('sso.setup.opening')}><p role="status">{t('app.loading')}</p></CenteredPage>
}

/** `/teams/<slug>/sso-setup`: the set-up itself, for a link holder or an Admin. */
export function SsoSetupPage() {
  const { t, i18n } = useTranslation()
  const { slug = '' } = useParams()
  const [session, setSession] = useState<SetupSession | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  useEffect(() => {
    api<SetupSession>('GET', `/teams/${encodeURIComponent(slug)}/sso-setup`).then(setSession, (err) => setError(asApiError(err)))
  }, [slug])
  useEffect(() => {
    if (session) document.title = `${t('sso.setup.title', { name: session.team.name })} · Latchkey`
  }, [session, t])
  if (error) return <Refused error={error} />
  if (!session) return <p role="status" className="page">{t('app.loading')}</p>
  const name = session.team.name
  return (
    <div className="page sso-setup">
      <h1>{t('sso.setup.title', { name })}</h1>
      <p>{session.via === 'setup_link' && session.expiresAt ? t('sso.setup.intro', { name, date: formatDateTime(session.expiresAt, i18n.language) }) : t('sso.setup.admin', { name })}</p>
      <Notice>{t('sso.setup.formPending')}</Notice>
      <h2>{t('sso.setup.pick')}</h2>
      {PROVIDERS.map((provider) => (
        <details key={provider} className="card idp-steps">
          <summary>{t(`sso.setup.providers.${provider}.name`)}</summary>
          <ol>{STEPS.map((step) => <li key={step}>{t(`sso.setup.providers.${provider}.${step}`)}</li>)}</ol>
        </details>
      ))}
    </div>
  )
}
