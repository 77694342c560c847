/**
 * The app sign-in page (/app-signin/:uid): where the desktop app, the CLI (code or device
 * flow) or a third-party app sends the browser. Signed in: "Continue as …" (with the scopes to
 * allow for a third-party app). Signed out: the usual sign-in form, which comes back here.
 * Always: "Skip and go back to the app". After 5 minutes the request has expired.
 */
import { useCallback, useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useParams, useSearchParams } from 'react-router'
import { api, ApiError } from '../api.ts'
import { CenteredPage } from '../components/layout.tsx'
import { useSession } from '../components/session.tsx'
import { Button, FormError, Notice, useAction } from '../components/ui.tsx'
import { SignInPage } from './auth.tsx'
import { formatDateTime } from '../dates.ts'
import type { InteractionAborted, InteractionDone, InteractionView, SignedOutDevice } from '../../oauth/schemas.ts'


/** Leaves the page for the provider, which hands the app its answer (code or error). */
function goTo(url: string) {
  window.location.assign(url)
}

export function AppSignInPage() {
  const { uid = '' } = useParams()
  const { t, i18n } = useTranslation()
  const { me, loading } = useSession()
  const [params, setParams] = useSearchParams()
  const [view, setView] = useState<InteractionView | null>(null)
  const [failure, setFailure] = useState<ApiError | null>(null)
  const [signedOut, setSignedOut] = useState<{ devices: SignedOutDevice[]; returnTo: string } | null>(null)
  const [leaving, setLeaving] = useState(false)
  const here = `/app-signin/${encodeURIComponent(uid)}`

  const load = useCallback(async () => {
    try {
      setView(await api<InteractionView>('GET', `/oauth/interactions/${encodeURIComponent(uid)}`))
      setFailure(null)
    } catch (err) {
      setFailure(err instanceof ApiError ? err : new ApiError(0, { code: 'client_error', message: String(err) }))
    }
  }, [uid])

  useEffect(() => {
    if (!loading) void load()
  }, [loading, me?.id, load])

  // The sign-in form below returns to `next` once done: make that this page.
  useEffect(() => {
    if (!loading && !me && params.get('next') !== here) setParams({ next: here }, { replace: true })
  }, [loading, me, params, here, setParams])

  const complete = useAction(async () => {
    try {
      const res = await api<InteractionDone>('POST', `/oauth/interactions/${encodeURIComponent(uid)}/complete`, view?.consentRequired ? { consent: true } : {})
      if (res.signedOut.length) setSignedOut({ devices: res.signedOut, returnTo: res.returnTo })
      else {
        setLeaving(true)
        goTo(res.returnTo)
      }
    } catch (err) {
      if (err instanceof ApiError && err.code === 'oauth_request_expired' && typeof (err.body as { returnTo?: string }).returnTo === 'string') {
        setView((v) => (v ? { ...v, status: 'expired', returnTo: (err.body as { returnTo?: string }).returnTo } : v))
        return
      }
      throw err
    }
  })
  const skip = useAction(async () => {
    const res = await api<InteractionAborted>('POST', `/oauth/interactions/${encodeURIComponent(uid)}/abort`, {})
    setLeaving(true)
    goTo(res.returnTo)
  })

  if (failure) {
    return (
      <CenteredPage title={t('oauth.invalidTitle')}>
        <p role="alert">{failure.message}</p>
      </CenteredPage>
    )
  }
  if (loading || !view) return <p role="status" className="page">{t('app.loading')}</p>
  const app = view.client.name

  if (view.status === 'expired') {
    return (
      <CenteredPage title={t('oauth.title', { app })}>
        <p role="alert"><strong>{t('oauth.expired')}</strong></p>
        {view.returnTo ? <Button onClick={() => goTo(view.returnTo!)}>{t('oauth.backToApp')}</Button> : null}
      </CenteredPage>
    )
  }
  if (leaving) return <p role="status" className="page">{t('oauth.redirecting')}</p>
  if (signedOut) {
    return (
      <CenteredPage title={t('oauth.title', { app })}>
        {signedOut.devices.map((d) => (
          <Notice key={d.sessionId} tone="warning">{t('oauth.signedOutDevice', { name: d.deviceName, date: formatDateTime(d.createdAt, i18n.language) })}</Notice>
        ))}
        <Button onClick={() => { setLeaving(true); goTo(signedOut.returnTo) }}>{t('oauth.continueToApp')}</Button>
      </CenteredPage>
    )
  }

  const about = (
    <>
      <p>{t('oauth.intro', { app })}</p>
      {view.deviceName ? <p><strong>{t('oauth.device', { name: view.deviceName })}</strong></p> : null}
      {view.flow === 'device' ? <Notice tone="warning">{t('oauth.deviceFlow')}</Notice> : null}
    </>
  )
  const skipButton = (
    <p className="aside">
      <Button variant="link" type="button" busy={skip.busy} onClick={() => void skip.run()}>{t('oauth.skip')}</Button>
      <FormError error={skip.error} />
    </p>
  )

  if (!me) {
    return (
      <>
        <div className="centered">
          <section className="card" aria-label={t('oauth.title', { app })}>
            <h2>{t('oauth.title', { app })}</h2>
            {about}
            <p>{t('oauth.signInFirst')}</p>
            {skipButton}
          </section>
        </div>
        <SignInPage />
      </>
    )
  }

  const name = me.displayName || me.username
  return (
    <CenteredPage title={t('oauth.title', { app })}>
      {about}
      <p className="hint">{t('oauth.signedInAs', { name: me.username, email: me.email })}</p>
      {view.consentRequired ? (
        <>
          <p><strong>{t('oauth.consentTitle', { app })}</strong></p>
          <ul>
            {view.scopes.map((s) => <li key={s}>{t(`oauth.scopes.${s}`, { defaultValue: s })}</li>)}
          </ul>
          <Notice tone="warning">{t('oauth.consentNote', { app })}</Notice>
        </>
      ) : null}
      <FormError error={complete.error} />
      <Button busy={complete.busy} onClick={() => void complete.run()}>
        {view.consentRequired ? t('oauth.allow') : t('oauth.continueAs', { name })}
      </Button>
      <p className="aside">
        <Link to={`/signin?add=1&next=${encodeURIComponent(here)}`}>{t('oauth.otherAccount')}</Link>
      </p>
      {skipButton}
    </CenteredPage>
  )
}
