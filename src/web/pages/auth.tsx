import 'altcha'
import 'altcha/i18n/zh-cn'
import { useCallback, useEffect, useRef, useState } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { api, ApiError, JOB_ROLES, tokenFromFragment, type Account } from '../api.ts'
import { CenteredPage } from '../components/layout.tsx'
import { useSession } from '../components/session.tsx'
import { Button, Checkbox, Field, FormError, Notice, PasswordMeter, useAction, UsernameSuggestions } from '../components/ui.tsx'
import { webauthnGet } from '../webauthn.ts'
import { OnboardingTeamsStep } from './teams/onboarding.tsx'
import type { ConfirmationSent, Terms, UsernameAvailability } from '../../accounts/schemas.ts'
import type { PasskeyOptions } from '../../passkeys/schemas.ts'
import type { SignedIn, SignedInWithNewTwoFactor, TwoFactorRequired } from '../../signin/schemas.ts'
import type { TwoFactorSetup } from '../../two-factor/schemas.ts'
import { InvitationWaitingNotice } from './teams/pending.tsx'
import { afterConfirm, rememberAfterConfirm, safeReturnPath } from '../return-to.ts'
import { GoogleButton } from './google.tsx'

export function SignUpPage() {
  const { t } = useTranslation()
  const [params] = useSearchParams()
  // From an invitation: the page to come back to once the email is confirmed, and the invited address.
  const next = safeReturnPath(params.get('next'))
  const [form, setForm] = useState({ email: params.get('email') ?? '', username: '', password: '', acceptTerms: false })
  const [availability, setAvailability] = useState<{ state: 'idle' | 'checking' | 'available' | 'taken' | 'invalid'; text?: string; suggestions?: string[] }>({ state: 'idle' })
  const [sentTo, setSentTo] = useState<string | null>(null)
  // Where the operator publishes the terms (TERMS_URL, PRIVACY_URL); unset, the words are plain text.
  // (The translations mark the linked words <doc>: Trans parses <link> as HTML's void element.)
  const [terms, setTerms] = useState<Terms | null>(null)
  useEffect(() => {
    api<Terms>('GET', '/terms').then(setTerms, () => setTerms(null))
  }, [])
  const navigate = useNavigate()
  const { refresh } = useSession()
  const action = useAction(async () => {
    const res = await api<ConfirmationSent>('POST', '/signup', { ...form, locale: localStorage.getItem('latchkey.language') ?? undefined, ...(next ? { next } : {}) })
    setSentTo(res.email)
    rememberAfterConfirm(next)
    // An unconfirmed account may sign in (SPEC §2); onboarding shows the confirm banner.
    try {
      await api('POST', '/signin', { login: form.email, password: form.password, staySignedIn: false })
      await refresh()
      void navigate(next ? `/onboarding?next=${encodeURIComponent(next)}` : '/onboarding')
    } catch {
      /* the address already had an account: stay on the "check your inbox" screen */
    }
  })

  useEffect(() => {
    if (form.username.length < 3) return setAvailability({ state: 'idle' })
    setAvailability({ state: 'checking' })
    const timer = setTimeout(async () => {
      try {
        const res = await api<UsernameAvailability>('GET', `/usernames/${encodeURIComponent(form.username)}`)
        if (res.available) setAvailability({ state: 'available', text: t('signup.available') })
        else if (res.reason === 'taken') setAvailability({ state: 'taken', text: t('signup.taken'), suggestions: res.suggestions })
        else setAvailability({ state: 'invalid', text: res.message })
      } catch {
        setAvailability({ state: 'idle' })
      }
    }, 300)
    return () => clearTimeout(timer)
  }, [form.username, t])

  if (sentTo) {
    return (
      <CenteredPage title={t('signup.sent')}>
        <p>{t('signup.sentBody', { email: sentTo })}</p>
        <Link to="/signin">{t('nav.signIn')}</Link>
      </CenteredPage>
    )
  }
  const set = (key: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [key]: e.target.value })
  return (
    <CenteredPage title={t('signup.title')}>
      <form onSubmit={(e) => { e.preventDefault(); void action.run() }} noValidate>
        <Field label={t('signup.email')} type="email" name="email" autoComplete="email" required value={form.email} onChange={set('email')} error={action.fieldError('email')} />
        <Field
          label={t('signup.username')} name="username" autoComplete="username" required value={form.username} onChange={set('username')}
          error={action.fieldError('username') ?? (availability.state === 'taken' || availability.state === 'invalid' ? availability.text : undefined)}
          hint={availability.state === 'available' ? <span className="ok">✓ {availability.text}</span> : availability.state === 'checking' ? t('signup.checking') : t('signup.usernameHint')}
        />
        {availability.state === 'taken' ? <UsernameSuggestions suggestions={availability.suggestions ?? []} onPick={(username) => setForm({ ...form, username })} /> : null}
        <Field label={t('signup.password')} type="password" name="password" autoComplete="new-password" required value={form.password} onChange={set('password')} error={action.fieldError('password')} />
        <PasswordMeter password={form.password} />
        <Checkbox label={terms?.termsUrl ? <Trans i18nKey="signup.termsLinked" components={{ doc: <a href={terms.termsUrl} target="_blank" rel="noopener noreferrer" /> }} /> : t('signup.terms')} name="acceptTerms" checked={form.acceptTerms} onChange={(v) => setForm({ ...form, acceptTerms: v })} />
        {terms?.privacyUrl ? <p className="hint"><Trans i18nKey="signup.privacy" components={{ doc: <a href={terms.privacyUrl} target="_blank" rel="noopener noreferrer" /> }} /></p> : null}
        {action.fieldError('acceptTerms') ? <p className="field-error">{action.error?.message}</p> : null}
        <FormError error={action.error && !action.error.body.fields ? action.error : null} />
        <Button type="submit" busy={action.busy}>{t('signup.submit')}</Button>
      </form>
      <GoogleButton intent="signup" next={next} />
      <p className="aside">{t('signup.haveAccount')} <Link to={next ? `/signin?next=${encodeURIComponent(next)}` : '/signin'}>{t('nav.signIn')}</Link></p>
    </CenteredPage>
  )
}

/** The teams a sign-in refusal names (`teams: [{slug, name}]`), as one list. */
function teamNames(error: ApiError): string {
  const teams = Array.isArray(error.body.teams) ? (error.body.teams as { name?: unknown }[]) : []
  return teams.map((team) => String(team.name ?? '')).filter(Boolean).join(', ')
}

type TwoFactorState = Pick<TwoFactorRequired, 'ticket' | 'methods'> | null

export function SignInPage() {
  const { t } = useTranslation()
  const [params] = useSearchParams()
  const adding = params.get('add') === '1'
  const [form, setForm] = useState({ login: '', password: '', staySignedIn: false })
  // After Google, for an account with two-factor authentication: the ticket arrives in the
  // fragment (never sent to a server, then cleared from the address bar).
  const [twoFactor, setTwoFactor] = useState<TwoFactorState>(() => {
    const fragment = new URLSearchParams(window.location.hash.slice(1))
    const ticket = fragment.get('ticket')
    if (!ticket) return null
    history.replaceState(null, '', window.location.pathname + window.location.search)
    return { ticket, methods: (fragment.get('methods') ?? 'totp,recovery_code').split(',') }
  })
  const [mode, setMode] = useState<'code' | 'recovery'>('code')
  const [code, setCode] = useState('')
  const navigate = useNavigate()
  const { refresh } = useSession()

  async function finish() {
    await refresh()
    // Only a path on this site: never an absolute or protocol-relative URL.
    void navigate(safeReturnPath(params.get('next')) ?? '/settings/profile')
  }
  // A team requires 2FA and the account has none: set it up here with the ticket, then sign in.
  const [teamSetup, setTeamSetup] = useState<{ ticket: string; teams: string } | null>(null)
  const [setupKey, setSetupKey] = useState<TwoFactorSetup | null>(null)
  const [setupCodes, setSetupCodes] = useState<string[] | null>(null)
  const password = useAction(async () => {
    try {
      const res = await api<SignedIn | TwoFactorRequired>('POST', '/signin', form)
      if ('twoFactorRequired' in res) setTwoFactor({ ticket: res.ticket, methods: res.methods })
      else await finish()
    } catch (err) {
      if (err instanceof ApiError && err.code === 'team_requires_two_factor' && typeof err.body.setupTicket === 'string') {
        setTeamSetup({ ticket: err.body.setupTicket, teams: teamNames(err) })
        setCode('')
        return
      }
      throw err
    }
  })
  const startSetup = useAction(async () => setSetupKey(await api<TwoFactorSetup>('POST', '/signin/two-factor-setup', { ticket: teamSetup!.ticket })))
  const confirmSetup = useAction(async () => {
    const res = await api<SignedInWithNewTwoFactor>('POST', '/signin/two-factor-setup/confirm', { ticket: teamSetup!.ticket, code })
    setSetupCodes(res.recoveryCodes)
  })
  const second = useAction(async () => {
    await api('POST', '/signin/two-factor', { ticket: twoFactor!.ticket, ...(mode === 'code' ? { code } : { recoveryCode: code }) })
    await finish()
  })
  const passkey = useAction(async (ticket?: string) => {
    const start = await api<PasskeyOptions>('POST', '/signin/passkey/options', ticket ? { ticket } : {})
    const response = await webauthnGet(start.options)
    if (ticket) await api('POST', '/signin/two-factor', { ticket, passkey: { challengeId: start.challengeId, response } })
    else await api('POST', '/signin/passkey', { challengeId: start.challengeId, response, staySignedIn: form.staySignedIn })
    await finish()
  })
  useEffect(() => {
    const code = password.error?.code
    if (code === 'account_deactivated') void navigate('/account-deactivated')
  }, [password.error, navigate])

  if (teamSetup) {
    if (setupCodes) {
      const download = URL.createObjectURL(new Blob([`Latchkey recovery codes\n\n${setupCodes.join('\n')}\n`], { type: 'text/plain' }))
      return (
        <CenteredPage title={t('security.codesTitle')}>
          <p>{t('security.codesBody')}</p>
          <ul className="codes">{setupCodes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
          <a className="btn btn-secondary" href={download} download="latchkey-recovery-codes.txt">{t('security.download')}</a>{' '}
          <Button onClick={() => void finish()}>{t('sso.signin.continue')}</Button>
        </CenteredPage>
      )
    }
    return (
      <CenteredPage title={t('sso.signin.requiresTwoFactorTitle')}>
        <p>{t('sso.signin.requiresTwoFactorBody', { teams: teamSetup.teams })}</p>
        {setupKey ? (
          <form onSubmit={(e) => { e.preventDefault(); void confirmSetup.run() }} noValidate>
            <p>{t('security.scan')}</p>
            <img src={setupKey.qrCode} alt="QR code" width={200} height={200} />
            <p>{t('security.secret')}: <code className="secret">{setupKey.secret}</code></p>
            <Field label={t('signin.code')} hint={t('signin.codeHint')} name="code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={code} onChange={(e) => setCode(e.target.value.trim())} error={confirmSetup.fieldError('code')} autoFocus />
            <FormError error={confirmSetup.error && !confirmSetup.error.body.fields ? confirmSetup.error : null} />
            <Button type="submit" busy={confirmSetup.busy}>{t('sso.signin.finish')}</Button>
          </form>
        ) : (
          <>
            <FormError error={startSetup.error} />
            <Button busy={startSetup.busy} onClick={() => void startSetup.run()}>{t('sso.signin.start')}</Button>
          </>
        )}
      </CenteredPage>
    )
  }
  if (twoFactor) {
    return (
      <CenteredPage title={t('signin.twoFactorTitle')}>
        <form onSubmit={(e) => { e.preventDefault(); void second.run() }} noValidate>
          {mode === 'code' ? (
            <Field label={t('signin.code')} hint={t('signin.codeHint')} name="code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={code} onChange={(e) => setCode(e.target.value.trim())} error={second.fieldError('code')} autoFocus />
          ) : (
            <Field label={t('signin.recoveryCode')} name="recoveryCode" autoComplete="off" value={code} onChange={(e) => setCode(e.target.value)} error={second.fieldError('recoveryCode')} autoFocus />
          )}
          <FormError error={second.error && !second.error.body.fields ? second.error : null} />
          <Button type="submit" busy={second.busy}>{t('signin.verify')}</Button>
        </form>
        <p className="aside">
          <Button variant="link" type="button" onClick={() => { setMode(mode === 'code' ? 'recovery' : 'code'); setCode('') }}>
            {mode === 'code' ? t('signin.useRecovery') : t('signin.useCode')}
          </Button>
          {twoFactor.methods.includes('passkey') ? (
            <Button variant="link" type="button" onClick={() => void passkey.run(twoFactor.ticket)}>{t('signin.usePasskey')}</Button>
          ) : null}
        </p>
        <FormError error={passkey.error} />
      </CenteredPage>
    )
  }
  return (
    <CenteredPage title={adding ? t('signin.addAccountTitle') : t('signin.title')}>
      <form onSubmit={(e) => { e.preventDefault(); void password.run() }} noValidate>
        <Field label={t('signin.login')} name="login" autoComplete="username webauthn" required value={form.login} onChange={(e) => setForm({ ...form, login: e.target.value })} />
        <Field label={t('signin.password')} type="password" name="password" autoComplete="current-password" required value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />
        <Checkbox label={t('signin.stay')} name="staySignedIn" checked={form.staySignedIn} onChange={(v) => setForm({ ...form, staySignedIn: v })} />
        {password.error?.code === 'team_requires_sso'
          ? <p className="form-error" role="alert" data-code="team_requires_sso">{t('sso.signin.requiresSso', { teams: teamNames(password.error) })}</p>
          : <FormError error={password.error} />}
        <Button type="submit" busy={password.busy}>{t('signin.submit')}</Button>
      </form>
      <Button variant="secondary" type="button" busy={passkey.busy} onClick={() => void passkey.run()}>{t('signin.passkey')}</Button>
      <FormError error={passkey.error} />
      <GoogleButton intent="signin" next={safeReturnPath(params.get('next'))} staySignedIn={form.staySignedIn} />
      <p className="aside">
        <Link to="/trouble-signing-in">{t('signin.trouble')}</Link> · {t('signin.noAccount')} <Link to="/signup">{t('nav.signUp')}</Link>
      </p>
    </CenteredPage>
  )
}

/**
 * Spends the single-use token an emailed link carries in its fragment, once, and clears it
 * from the address bar (and so from history). A bad or spent link goes to the link-invalid page.
 */
function useEmailedLink(endpoint: string, onDone: () => unknown): boolean {
  const navigate = useNavigate()
  const [done, setDone] = useState(false)
  const started = useRef(false)
  useEffect(() => {
    if (started.current) return
    started.current = true
    const token = tokenFromFragment()
    history.replaceState(null, '', window.location.pathname)
    if (!token) {
      void navigate('/link-invalid', { replace: true })
      return
    }
    api('POST', endpoint, { token })
      .then(async () => {
        setDone(true)
        await onDone()
      })
      .catch(() => navigate('/link-invalid', { replace: true }))
  }, [endpoint, navigate, onDone])
  return done
}

export function ConfirmEmailPage() {
  const { t } = useTranslation()
  const { refresh } = useSession()
  const navigate = useNavigate()
  // Read before the link's fragment leaves the address bar: where the person came from (an
  // invitation), from the link itself or, for a link without it, from this browser.
  const [next] = useState(() => safeReturnPath(new URLSearchParams(window.location.hash.slice(1)).get('next')) ?? afterConfirm())
  const onConfirmed = useCallback(async () => {
    await refresh()
    if (!next) return
    rememberAfterConfirm(null)
    void navigate(next, { replace: true })
  }, [refresh, next, navigate])
  const done = useEmailedLink('/email/confirm', onConfirmed)
  return (
    <CenteredPage title={t('confirm.title')}>
      {done ? (
        <>
          <Notice tone="success">{t('confirm.done')}</Notice>
          <Link className="btn btn-primary" to="/settings/profile">{t('confirm.continue')}</Link>
        </>
      ) : (
        <p role="status">{t('confirm.confirming')}</p>
      )}
    </CenteredPage>
  )
}

export function OnboardingPage() {
  const { t } = useTranslation()
  const { me, setMe } = useSession()
  const [step, setStep] = useState<'profile' | 'teams'>('profile')
  const [form, setForm] = useState({ displayName: me?.displayName ?? '', jobRole: me?.jobRole ?? 'developer' })
  const save = useAction(async () => {
    setMe(await api<Account>('PATCH', '/me', form))
    setStep('teams')
  })
  if (step === 'teams') {
    return <OnboardingTeamsStep />
  }
  return (
    <CenteredPage title={t('onboarding.title')}>
      <InvitationWaitingNotice />
      <form onSubmit={(e) => { e.preventDefault(); void save.run() }} noValidate>
        <Field label={t('onboarding.name')} name="displayName" autoComplete="name" value={form.displayName} onChange={(e) => setForm({ ...form, displayName: e.target.value })} error={save.fieldError('displayName')} />
        <div className="field">
          <label htmlFor="job-role">{t('onboarding.role')}</label>
          <select id="job-role" value={form.jobRole} onChange={(e) => setForm({ ...form, jobRole: e.target.value })} aria-describedby="job-role-hint">
            {JOB_ROLES.map((r) => (
              <option key={r} value={r}>{t(`onboarding.roles.${r}`)}</option>
            ))}
          </select>
          <p className="hint" id="job-role-hint">{t('onboarding.roleLater')}</p>
        </div>
        <FormError error={save.error} />
        <Button type="submit" busy={save.busy}>{t('onboarding.next')}</Button>
      </form>
      {/* Skipping the profile step still shows the team step (joining or creating a team is the part people come for). */}
      <p className="aside"><Button variant="link" type="button" onClick={() => setStep('teams')}>{t('onboarding.skip')}</Button></p>
    </CenteredPage>
  )
}

interface AltchaElement extends HTMLElement {
  configure?(options: Record<string, unknown>): void
}

export function TroublePage() {
  const { t, i18n } = useTranslation()
  const [email, setEmail] = useState('')
  const [captcha, setCaptcha] = useState<string | null>(null)
  const [sent, setSent] = useState(false)
  const widget = useRef<AltchaElement>(null)
  useEffect(() => {
    const el = widget.current
    if (!el) return
    const onState = (e: Event) => {
      const detail = (e as CustomEvent<{ state: string; payload?: string }>).detail
      setCaptcha(detail.state === 'verified' ? (detail.payload ?? null) : null)
    }
    el.addEventListener('statechange', onState)
    return () => el.removeEventListener('statechange', onState)
  }, [sent])
  const action = useAction(async () => {
    if (!captcha) throw new ApiError(400, { code: 'captcha_failed', message: t('trouble.captcha'), fields: { captcha: 'required' } })
    await api('POST', '/recovery', { email, captcha })
    setSent(true)
  })
  if (sent) {
    return (
      <CenteredPage title={t('trouble.title')}>
        <Notice tone="success">{t('trouble.sent')}</Notice>
        <Link to="/signin">{t('nav.signIn')}</Link>
      </CenteredPage>
    )
  }
  return (
    <CenteredPage title={t('trouble.title')}>
      <p>{t('trouble.body')}</p>
      <form onSubmit={(e) => { e.preventDefault(); void action.run() }} noValidate>
        <Field label={t('trouble.email')} type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={action.fieldError('email')} />
        <div className="field">
          <span className="label-like" id="captcha-label">{t('trouble.captcha')}</span>
          <altcha-widget ref={widget} challenge="/api/v1/captcha" language={i18n.language === 'zh-CN' ? 'zh-cn' : 'en'} aria-labelledby="captcha-label" />
          {action.fieldError('captcha') ? <p className="field-error">{action.error?.message}</p> : null}
        </div>
        <FormError error={action.error && !action.error.body.fields ? action.error : null} />
        <Button type="submit" busy={action.busy}>{t('trouble.submit')}</Button>
      </form>
    </CenteredPage>
  )
}

export function ResetPasswordPage() {
  const { t } = useTranslation()
  const navigate = useNavigate()
  const [token] = useState(() => tokenFromFragment())
  const [password, setPassword] = useState('')
  const [done, setDone] = useState(false)
  useEffect(() => {
    history.replaceState(null, '', window.location.pathname)
    if (!token) void navigate('/link-invalid', { replace: true })
  }, [token, navigate])
  const action = useAction(async () => {
    try {
      await api('POST', '/password/reset', { token, password })
      setDone(true)
    } catch (err) {
      if (err instanceof ApiError && err.code === 'token_invalid') void navigate('/link-invalid', { replace: true })
      throw err
    }
  })
  return (
    <CenteredPage title={t('reset.title')}>
      {done ? (
        <>
          <Notice tone="success">{t('reset.done')}</Notice>
          <Link className="btn btn-primary" to="/signin">{t('nav.signIn')}</Link>
        </>
      ) : (
        <form onSubmit={(e) => { e.preventDefault(); void action.run() }} noValidate>
          <Field label={t('reset.password')} type="password" name="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} error={action.fieldError('password')} />
          <PasswordMeter password={password} />
          <FormError error={action.error && !action.error.body.fields ? action.error : null} />
          <Button type="submit" busy={action.busy}>{t('reset.submit')}</Button>
        </form>
      )}
    </CenteredPage>
  )
}

const nothing = () => {}

export function DisavowPage() {
  const { t } = useTranslation()
  const done = useEmailedLink('/signin/disavow', nothing)
  return (
    <CenteredPage title={t('disavow.title')}>
      {done ? <Notice tone="success">{t('disavow.done')}</Notice> : <p role="status">{t('disavow.working')}</p>}
    </CenteredPage>
  )
}
