/**
 * Sign in with Google in the web app: the button (shown only when the server offers Google),
 * the page Google's round trip lands on when a step is left (`/signin/google`: pick a username
 * and accept the terms, or link an existing account with its password, or an error), and the
 * Google card in Settings → Security (unlink, set a password).
 */
import { useEffect, useState } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { api, ApiError } from '../api.ts'
import { CenteredPage } from '../components/layout.tsx'
import { useSession } from '../components/session.tsx'
import { Button, Card, Checkbox, Field, FormError, Notice, PasswordMeter, useAction, UsernameSuggestions } from '../components/ui.tsx'
import { formatDate } from '../dates.ts'
import { safeReturnPath } from '../return-to.ts'
import type { Terms } from '../../accounts/schemas.ts'
import type { LinkedIdentities, PendingGoogle, SignedIn, SignInMethods, TwoFactorRequired } from '../../signin/schemas.ts'

let methods: Promise<SignInMethods> | null = null

/** Whether the server offers Google (asked once per page load). */
export function useGoogleOffered(): boolean {
  const [offered, setOffered] = useState(false)
  useEffect(() => {
    methods ??= api<SignInMethods>('GET', '/signin/methods').catch(() => ({ google: false }))
    let live = true
    void methods.then((m) => live && setOffered(m.google))
    return () => {
      live = false
    }
  }, [])
  return offered
}

/**
 * "Sign in with Google" / "Sign up with Google": a plain link (a top-level navigation, so the
 * server can set its cookie and send the browser on to Google), coming back to `next`.
 */
export function GoogleButton({ intent, next, staySignedIn }: { intent: 'signin' | 'signup'; next?: string | null; staySignedIn?: boolean }) {
  const { t } = useTranslation()
  const offered = useGoogleOffered()
  if (!offered) return null
  const query = new URLSearchParams({ intent })
  if (next) query.set('next', next)
  if (staySignedIn) query.set('staySignedIn', 'true')
  return (
    <p className="google">
      <a className="btn btn-secondary btn-google" href={`/api/v1/signin/google/start?${query}`}>
        <span aria-hidden="true" className="google-g">G</span> {intent === 'signup' ? t('google.signUp') : t('google.signIn')}
      </a>
    </p>
  )
}

/** After a Google sign-in that needs a second factor, or a link that does: the sign-in page's second step. */
export function twoFactorPath(res: TwoFactorRequired, next: string | null): string {
  const fragment = new URLSearchParams({ ticket: res.ticket, methods: res.methods.join(',') })
  return `/signin${next ? `?next=${encodeURIComponent(next)}` : ''}#${fragment}`
}

/** The error a Google round trip ended with, in the page's language. */
function googleErrorText(t: (key: string) => string, code: string): string {
  const known = ['google_not_configured', 'google_signin_expired', 'google_signin_failed', 'google_unavailable', 'identity_already_linked', 'account_deactivated', 'too_many_accounts', 'google_workspace_required', 'team_requires_sso']
  return t(`google.errors.${known.includes(code) ? code : 'generic'}`)
}

export function GoogleContinuePage() {
  const { t } = useTranslation()
  const [params] = useSearchParams()
  const error = params.get('error')
  const [pending, setPending] = useState<PendingGoogle | null>(null)
  const [failure, setFailure] = useState<ApiError | null>(null)
  useEffect(() => {
    if (error) return
    api<PendingGoogle>('GET', '/signin/google/pending').then(setPending, (err: unknown) => setFailure(err instanceof ApiError ? err : null))
  }, [error])

  const code = error ?? failure?.code
  if (code) {
    return (
      <CenteredPage title={t('google.errorTitle')}>
        <p role="alert">{googleErrorText(t, code)}</p>
        <p><Link className="btn btn-primary" to="/signin">{t('google.backToSignIn')}</Link></p>
      </CenteredPage>
    )
  }
  if (!pending) return <CenteredPage title={t('google.title')}><p role="status">{t('app.loading')}</p></CenteredPage>
  return pending.step === 'signup' ? <GoogleSignUp pending={pending} /> : <GoogleLink pending={pending} />
}

function useFinish(next: string | null) {
  const navigate = useNavigate()
  const { refresh } = useSession()
  return async (res: SignedIn | TwoFactorRequired, fallback: string) => {
    if ('twoFactorRequired' in res) {
      void navigate(twoFactorPath(res, next))
      return
    }
    await refresh()
    void navigate(safeReturnPath(next) ?? fallback)
  }
}

function GoogleSignUp({ pending, instead = false }: { pending: PendingGoogle; instead?: boolean }) {
  const { t } = useTranslation()
  const [username, setUsername] = useState(pending.suggestedUsernames[0] ?? '')
  const [acceptTerms, setAcceptTerms] = useState(false)
  const [terms, setTerms] = useState<Terms | null>(null)
  useEffect(() => {
    api<Terms>('GET', '/terms').then(setTerms, () => setTerms(null))
  }, [])
  const finish = useFinish(pending.next)
  const action = useAction(async () => {
    const res = await api<SignedIn | TwoFactorRequired>('POST', '/signin/google/signup', { username, acceptTerms, locale: localStorage.getItem('latchkey.language') ?? undefined })
    await finish(res, pending.next ? `/onboarding?next=${encodeURIComponent(pending.next)}` : '/onboarding')
  })
  const suggestions = (action.error?.body as { suggestions?: string[] } | undefined)?.suggestions ?? []
  const form = (
    <form onSubmit={(e) => { e.preventDefault(); void action.run() }} noValidate>
      {instead ? null : <p>{t(pending.emailVerified ? 'google.signUpIntro' : 'google.signUpUnverified', { email: pending.email })}</p>}
      <Field label={t('signup.username')} name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} error={action.fieldError('username')} hint={t('signup.usernameHint')} />
      <UsernameSuggestions suggestions={suggestions} onPick={setUsername} />
      <Checkbox label={terms?.termsUrl ? <Trans i18nKey="signup.termsLinked" components={{ doc: <a href={terms.termsUrl} target="_blank" rel="noopener noreferrer" /> }} /> : t('signup.terms')} name="acceptTerms" checked={acceptTerms} onChange={setAcceptTerms} />
      {action.fieldError('acceptTerms') ? <p className="field-error">{action.error?.message}</p> : null}
      <FormError error={action.error && !action.error.body.fields ? action.error : null} />
      <Button type="submit" busy={action.busy}>{t('google.createAccount')}</Button>
    </form>
  )
  if (instead) return form
  return <CenteredPage title={t('google.signUpTitle')}>{form}</CenteredPage>
}

function GoogleLink({ pending }: { pending: PendingGoogle }) {
  const { t } = useTranslation()
  const [password, setPassword] = useState('')
  const finish = useFinish(pending.next)
  const action = useAction(async () => {
    const res = await api<SignedIn | TwoFactorRequired>('POST', '/signin/google/link', { password })
    await finish(res, '/settings/profile')
  })
  return (
    <CenteredPage title={t('google.linkTitle')}>
      <p>{t('google.linkIntro', { email: pending.email })}</p>
      <form onSubmit={(e) => { e.preventDefault(); void action.run() }} noValidate>
        <Field label={t('signin.password')} type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} error={action.fieldError('password')} />
        <FormError error={action.error && !action.error.body.fields ? action.error : null} />
        <Button type="submit" busy={action.busy}>{t('google.link')}</Button>
      </form>
      <p className="aside"><Link to="/trouble-signing-in">{t('signin.trouble')}</Link></p>
      {pending.canCreateAccount ? (
        <section className="google-instead" aria-labelledby="google-instead">
          <h2 id="google-instead">{t('google.insteadTitle')}</h2>
          <p>{t('google.insteadBody', { email: pending.email })}</p>
          <GoogleSignUp pending={pending} instead />
        </section>
      ) : null}
    </CenteredPage>
  )
}

/**
 * Settings → Security: the linked Google account, unlink (only with another way in), and a
 * first password for an account made with Google. Both need a recent sign-in; an account
 * without a password confirms it is them by signing in with Google again.
 */
export function GoogleSettingsCard() {
  const { t, i18n } = useTranslation()
  const [state, setState] = useState<LinkedIdentities | null>(null)
  const [newPassword, setNewPassword] = useState('')
  const [done, setDone] = useState(false)
  const [reauth, setReauth] = useState(false)
  const load = async () => setState(await api<LinkedIdentities>('GET', '/me/identities'))
  useEffect(() => {
    void load()
  }, [])
  const recent = async (fn: () => Promise<void>) => {
    try {
      setReauth(false)
      await fn()
    } catch (err) {
      if (err instanceof ApiError && err.code === 'reauthentication_required') setReauth(true)
      else throw err
    }
  }
  const unlink = useAction((id: string) => recent(async () => {
    await api('DELETE', `/me/identities/${id}`)
    await load()
  }))
  const setPassword = useAction(() => recent(async () => {
    await api('POST', '/me/password/set', { newPassword })
    setNewPassword('')
    setDone(true)
    await load()
  }))
  if (!state || (state.identities.length === 0 && state.hasPassword)) return null
  return (
    <Card title={t('google.settingsTitle')}>
      {state.identities.length === 0 ? <p>{t('google.notLinked')}</p> : (
        <ul className="list">
          {state.identities.map((identity) => (
            <li key={identity.id}>
              <div><strong>{identity.email}</strong><br /><span className="hint">{t('google.linkedOn', { date: formatDate(identity.createdAt, i18n.language) })}</span></div>
              {state.canUnlink ? <Button variant="secondary" busy={unlink.busy} onClick={() => void unlink.run(identity.id)} aria-label={`${t('google.unlink')} ${identity.email}`}>{t('google.unlink')}</Button> : null}
            </li>
          ))}
        </ul>
      )}
      {state.identities.length > 0 && !state.canUnlink ? <Notice>{t('google.onlyWayIn')}</Notice> : null}
      <FormError error={unlink.error} />
      {done ? <Notice tone="success">{t('google.passwordSet')}</Notice> : null}
      {state.hasPassword ? null : (
        <form onSubmit={(e) => { e.preventDefault(); setDone(false); void setPassword.run() }} noValidate>
          <h3>{t('google.setPasswordTitle')}</h3>
          <p className="hint">{t('google.setPasswordBody')}</p>
          <Field label={t('settings.newPassword')} type="password" name="setPassword" autoComplete="new-password" value={newPassword} onChange={(e) => setNewPassword(e.target.value)} error={setPassword.fieldError('newPassword')} />
          <PasswordMeter password={newPassword} />
          <FormError error={setPassword.error && !setPassword.error.body.fields ? setPassword.error : null} />
          <Button type="submit" busy={setPassword.busy}>{t('google.setPassword')}</Button>
        </form>
      )}
      {reauth ? (
        <div className="reauth" role="alert">
          <p>{t('google.reauth')}</p>
          <GoogleButton intent="signin" next="/settings/security" />
        </div>
      ) : null}
    </Card>
  )
}
