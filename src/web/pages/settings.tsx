import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react'
import { GoogleSettingsCard } from './google.tsx'
import { useTranslation } from 'react-i18next'
import { Link, NavLink, Outlet, useNavigate } from 'react-router'
import { api, ApiError, JOB_ROLES, type Account } from '../api.ts'
import { useSession } from '../components/session.tsx'
import { Button, Card, Checkbox, Field, FormError, Notice, PasswordMeter, useAction, UsernameSuggestions } from '../components/ui.tsx'
import { webauthnCreate } from '../webauthn.ts'
import { AvatarCard } from './avatar.tsx'
import { formatDate, formatDateTime } from '../dates.ts'
import type { DeletionCheck, EmailChangeResent, PasswordChanged, PendingEmailChange, PendingEmailChangeAnswer } from '../../accounts/schemas.ts'
import { BIO_MAX_LENGTH } from '../../accounts/limits.ts'
import { PASSKEY_NAME_MAX_LENGTH } from '../../passkeys/limits.ts'
import type { PasskeyOptions, PasskeyView } from '../../passkeys/schemas.ts'
import type { Category, PreferencesView } from '../../notifications/schemas.ts'
import type { SessionView } from '../../sessions/schemas.ts'
import type { RecoveryCodes, TwoFactorEnabled, TwoFactorStatus } from '../../two-factor/schemas.ts'

export function SettingsLayout() {
  const { t } = useTranslation()
  const { me } = useSession()
  useEffect(() => {
    document.title = `${t('settings.title')} · Latchkey`
  }, [t])
  if (!me) return null
  // The "confirm your email" notice is the layout's, above every signed-in page.
  return (
    <div className="settings">
      <h1>{t('settings.title')}</h1>
      <div className="settings-body">
        <nav aria-label={t('settings.title')} className="side-nav">
          <NavLink to="/settings/profile">{t('settings.profile')}</NavLink>
          <NavLink to="/settings/account">{t('settings.account')}</NavLink>
          <NavLink to="/settings/security">{t('settings.security')}</NavLink>
          <NavLink to="/settings/notifications">{t('settings.notifications')}</NavLink>
          <NavLink to="/settings/sessions">{t('settings.sessions')}</NavLink>
          <NavLink to="/settings/apps">{t('oauth.apps.title')}</NavLink>
        </nav>
        <div className="settings-content">
          {/* Keyed by account: switching accounts must not keep the previous person's form state. */}
          <Outlet key={me.id} />
        </div>
      </div>
    </div>
  )
}

/**
 * An empty password field answered on the page, in the page's language, before any request:
 * the same field error the server would give ("Enter your password.").
 */
function requirePassword(password: string, message: string, field = 'password'): void {
  if (password === '') throw new ApiError(0, { code: 'invalid_request', message, fields: { [field]: 'required' } })
}


/**
 * Wraps a sensitive action: when the server answers `reauthentication_required`, asks for the
 * password, re-authenticates, then runs the action again.
 */
function useSensitive<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  const { t } = useTranslation()
  const [pending, setPending] = useState<A | null>(null)
  const [password, setPassword] = useState('')
  const action = useAction(async (...args: A) => {
    try {
      return await fn(...args)
    } catch (err) {
      if (err instanceof ApiError && err.code === 'reauthentication_required') {
        setPending(args)
        return undefined
      }
      throw err
    }
  })
  const reauth = useAction(async () => {
    await api('POST', '/me/reauthenticate', { password })
    const args = pending!
    setPending(null)
    setPassword('')
    await action.run(...args)
  })
  const prompt: ReactNode = pending ? (
    <form className="reauth" onSubmit={(e) => { e.preventDefault(); void reauth.run() }} aria-labelledby="reauth-title">
      <h3 id="reauth-title">{t('security.reauthTitle')}</h3>
      <p>{t('security.reauthBody')}</p>
      <Field label={t('settings.confirmPassword')} type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={reauth.fieldError('password')} autoFocus />
      <FormError error={reauth.error && !reauth.error.body.fields ? reauth.error : null} />
      <Button type="submit" busy={reauth.busy}>{t('security.reauth')}</Button>{' '}
      <Button type="button" variant="secondary" onClick={() => setPending(null)}>{t('app.cancel')}</Button>
    </form>
  ) : null
  return { ...action, prompt }
}

export function ProfileSettings() {
  const { t } = useTranslation()
  const { me, setMe } = useSession()
  const [form, setForm] = useState(() => ({ displayName: me!.displayName, jobRole: me!.jobRole ?? '', bio: me!.bio, aboutMe: me!.aboutMe, links: me!.links.join('\n'), publicProfile: me!.publicProfile }))
  const [saved, setSaved] = useState(false)
  const save = useAction(async () => {
    const links = form.links.split('\n').map((l) => l.trim()).filter(Boolean)
    setMe(await api<Account>('PATCH', '/me', { ...form, jobRole: form.jobRole || null, links }))
    setSaved(true)
  })
  const profileUrl = `${window.location.origin}/u/${me!.username}`
  return (
    <>
    <AvatarCard />
    <Card title={t('settings.profile')}>
      <form onSubmit={(e) => { e.preventDefault(); setSaved(false); void save.run() }} noValidate>
        <Field label={t('settings.displayName')} name="displayName" value={form.displayName} onChange={(e) => setForm({ ...form, displayName: e.target.value })} error={save.fieldError('displayName')} />
        {/* The job role chosen (or skipped) at onboarding is changed here. */}
        <div className="field">
          <label htmlFor="settings-job-role">{t('onboarding.role')}</label>
          <select id="settings-job-role" name="jobRole" value={form.jobRole} onChange={(e) => setForm({ ...form, jobRole: e.target.value })}>
            <option value="">{t('settings.roleNotSet')}</option>
            {JOB_ROLES.map((r) => <option key={r} value={r}>{t(`onboarding.roles.${r}`)}</option>)}
          </select>
        </div>
        <Field label={t('settings.bio')} name="bio" maxLength={BIO_MAX_LENGTH} value={form.bio} onChange={(e) => setForm({ ...form, bio: e.target.value })} error={save.fieldError('bio')} />
        <Field label={t('settings.aboutMe')} name="aboutMe" multiline value={form.aboutMe} onChange={(e) => setForm({ ...form, aboutMe: e.target.value })} error={save.fieldError('aboutMe')} />
        <Field label={t('settings.links')} name="links" multiline value={form.links} onChange={(e) => setForm({ ...form, links: e.target.value })} error={Object.keys(save.error?.body.fields ?? {}).some((f) => f.startsWith('links')) ? save.error!.message : undefined} />
        <Checkbox label={t('settings.publicProfile')} checked={form.publicProfile} onChange={(v) => setForm({ ...form, publicProfile: v })} />
        {form.publicProfile ? <p className="hint">{t('settings.publicProfileHint', { url: profileUrl })} <a href={`/u/${me!.username}`}>{t('settings.viewProfile')}</a></p> : null}
        <FormError error={save.error && !save.error.body.fields ? save.error : null} />
        {saved ? <Notice tone="success">{t('app.saved')}</Notice> : null}
        <Button type="submit" busy={save.busy}>{t('app.save')}</Button>
      </form>
    </Card>
    </>
  )
}


/**
 * The change of address waiting for its link (GET /me/email/pending), shown whenever the
 * Account page is open, with re-send and cancel: a change that was cancelled (by a password
 * change, say) simply is no longer there, rather than its link failing later unexplained.
 */
function usePendingEmailChange() {
  const { t, i18n } = useTranslation()
  const [pending, setPending] = useState<PendingEmailChange | null>(null)
  const [done, setDone] = useState<{ kind: 'resent' | 'cancelled'; email: string } | null>(null)
  // Only the latest read may set the state: the read made when the page opens can answer after
  // the one a change makes (a slow server), and would put back the state from before the change.
  const latest = useRef(0)
  const reload = useCallback(async () => {
    const mine = ++latest.current
    const answer = await api<PendingEmailChangeAnswer>('GET', '/me/email/pending')
    if (mine === latest.current) setPending(answer.pending)
  }, [])
  useEffect(() => {
    reload().catch(() => {})
  }, [reload])
  const resend = useAction(async (change: PendingEmailChange) => {
    setDone(null)
    const resent = await api<EmailChangeResent>('POST', '/me/email/pending/resend', {})
    latest.current += 1
    setPending(resent.pending)
    setDone({ kind: 'resent', email: change.email })
  })
  const cancel = useAction(async (change: PendingEmailChange) => {
    setDone(null)
    await api('DELETE', '/me/email/pending')
    latest.current += 1
    setPending(null)
    setDone({ kind: 'cancelled', email: change.email })
  })
  const view: ReactNode = (
    <>
      {pending ? (
        <div className="pending-email" data-testid="pending-email">
          <Notice>{t('settings.emailWaiting', { email: pending.email, sent: formatDateTime(pending.requestedAt, i18n.language), expires: formatDateTime(pending.expiresAt, i18n.language) })}</Notice>
          <Button variant="secondary" busy={resend.busy} onClick={() => void resend.run(pending)}>{t('settings.emailResend')}</Button>{' '}
          <Button variant="secondary" busy={cancel.busy} onClick={() => void cancel.run(pending)}>{t('settings.emailCancel')}</Button>
        </div>
      ) : null}
      {done ? <Notice tone="success">{t(done.kind === 'resent' ? 'settings.emailResent' : 'settings.emailCancelled', { email: done.email })}</Notice> : null}
      <FormError error={resend.error ?? cancel.error} />
    </>
  )
  return { view, reload: async () => { setDone(null); await reload() } }
}

export function AccountSettings() {
  const { t } = useTranslation()
  const { me, setMe, refresh } = useSession()
  const navigate = useNavigate()
  const [username, setUsername] = useState(me!.username)
  const [email, setEmail] = useState({ email: '', password: '' })
  const [passwords, setPasswords] = useState({ currentPassword: '', newPassword: '' })
  const [passwordDone, setPasswordDone] = useState(false)
  const [deletePassword, setDeletePassword] = useState('')
  // Asked before any password: a person in a team is told which to leave instead of typing one.
  const [deletion, setDeletion] = useState<DeletionCheck | null>(null)
  useEffect(() => {
    let live = true
    api<DeletionCheck>('GET', '/me/deletion').then((d) => { if (live) setDeletion(d) }, () => { if (live) setDeletion({ allowed: true, blockedBy: null }) })
    return () => { live = false }
  }, [])
  const [usernameSaved, setUsernameSaved] = useState(false)
  const rename = useAction(async () => {
    setMe(await api<Account>('PATCH', '/me', { username }))
    setUsernameSaved(true)
  })
  const pendingEmail = usePendingEmailChange()
  const [cancelledByPassword, setCancelledByPassword] = useState<string | null>(null)
  const changeEmail = useSensitive(async () => {
    requirePassword(email.password, t('settings.enterPassword'))
    await api('POST', '/me/email', email)
    setEmail({ email: '', password: '' })
    setCancelledByPassword(null)
    await pendingEmail.reload()
  })
  const changePassword = useSensitive(async () => {
    requirePassword(passwords.currentPassword, t('settings.enterPassword'), 'currentPassword')
    const res = await api<PasswordChanged>('POST', '/me/password', passwords)
    setPasswords({ currentPassword: '', newPassword: '' })
    setPasswordDone(true)
    setCancelledByPassword(res.cancelledEmailChange)
    await pendingEmail.reload()
  })
  // The password typed here is the confirmation the server asks for: it is asked once.
  const remove = useAction(async () => {
    requirePassword(deletePassword, t('settings.enterPassword'))
    try {
      await api('DELETE', '/me', { password: deletePassword })
    } catch (err) {
      // Joined a team since the page loaded: show the list instead of an error under the password.
      if (err instanceof ApiError && err.code === 'team_membership_blocks_deletion') {
        setDeletion({ allowed: false, blockedBy: { code: err.code, message: err.message, teams: (err.body as Record<string, unknown>).teams as NonNullable<DeletionCheck['blockedBy']>['teams'] } })
        return
      }
      throw err
    }
    // Gone for good: to /signin before the session state says so (as signing out does). Refreshed
    // first, this page would be left signed out and send the person to /signin?next=<this page>.
    await navigate('/signin', { replace: true })
    await refresh()
  })
  return (
    <>
      <Card title={t('settings.changeUsername')}>
        <form onSubmit={(e) => { e.preventDefault(); setUsernameSaved(false); void rename.run() }} noValidate>
          <Field label={t('settings.username')} name="username" value={username} onChange={(e) => setUsername(e.target.value)} error={rename.error ? rename.error.message : undefined} />
          {rename.error?.body.suggestions?.length ? <UsernameSuggestions suggestions={rename.error.body.suggestions} onPick={setUsername} /> : null}
          {usernameSaved ? <Notice tone="success">{t('app.saved')}</Notice> : null}
          <Button type="submit" busy={rename.busy}>{t('app.save')}</Button>
        </form>
      </Card>
      <Card title={t('settings.changeEmail')}>
        <p>{t('settings.email')}: <strong>{me!.email}</strong></p>
        {pendingEmail.view}
        <form onSubmit={(e) => { e.preventDefault(); void changeEmail.run() }} noValidate>
          <Field label={t('settings.newEmail')} type="email" name="newEmail" autoComplete="email" value={email.email} onChange={(e) => setEmail({ ...email, email: e.target.value })} error={changeEmail.fieldError('email')} />
          <Field label={t('settings.confirmPassword')} type="password" name="emailPassword" autoComplete="current-password" value={email.password} onChange={(e) => setEmail({ ...email, password: e.target.value })} error={changeEmail.fieldError('password')} />
          <FormError error={changeEmail.error && !changeEmail.error.body.fields ? changeEmail.error : null} />
          <Button type="submit" busy={changeEmail.busy}>{t('settings.changeEmail')}</Button>
        </form>
        {changeEmail.prompt}
      </Card>
      <Card title={t('settings.changePassword')}>
        {passwordDone ? <Notice tone="success">{t('settings.passwordChanged')}</Notice> : null}
        {cancelledByPassword ? <Notice tone="warning">{t('settings.passwordCancelledEmail', { email: cancelledByPassword })}</Notice> : null}
        <form onSubmit={(e) => { e.preventDefault(); setPasswordDone(false); void changePassword.run() }} noValidate>
          <Field label={t('settings.currentPassword')} type="password" name="currentPassword" autoComplete="current-password" value={passwords.currentPassword} onChange={(e) => setPasswords({ ...passwords, currentPassword: e.target.value })} error={changePassword.fieldError('currentPassword')} />
          <Field label={t('settings.newPassword')} type="password" name="newPassword" autoComplete="new-password" value={passwords.newPassword} onChange={(e) => setPasswords({ ...passwords, newPassword: e.target.value })} error={changePassword.fieldError('newPassword')} />
          <PasswordMeter password={passwords.newPassword} />
          <FormError error={changePassword.error && !changePassword.error.body.fields ? changePassword.error : null} />
          <Button type="submit" busy={changePassword.busy}>{t('settings.changePassword')}</Button>
        </form>
        {changePassword.prompt}
      </Card>
      <Card title={t('settings.deleteTitle')}>
        <p>{t('settings.deleteBody')}</p>
        {deletion === null ? <p role="status">{t('app.loading')}</p> : deletion.blockedBy ? (
          <Notice tone="warning">
            {deletion.blockedBy.teams ? (
              <>
                {t('settings.deleteBlocked')}
                <ul className="delete-blockers">
                  {deletion.blockedBy.teams.map((team) => <li key={team.slug}><Link to={`/teams/${team.slug}`}>{team.name}</Link></li>)}
                </ul>
              </>
            ) : deletion.blockedBy.message}
          </Notice>
        ) : (
          <form onSubmit={(e) => { e.preventDefault(); void remove.run() }} noValidate>
            <Field label={t('settings.confirmPassword')} type="password" name="deletePassword" autoComplete="current-password" value={deletePassword} onChange={(e) => setDeletePassword(e.target.value)} error={remove.fieldError('password')} />
            <FormError error={remove.error && !remove.error.body.fields ? remove.error : null} />
            <Button type="submit" variant="danger" busy={remove.busy}>{t('settings.deleteConfirm')}</Button>
          </form>
        )}
      </Card>
    </>
  )
}


export function SecuritySettings() {
  const { t, i18n } = useTranslation()
  const [status, setStatus] = useState<{ enabled: boolean; recoveryCodesRemaining: number; setupPending: boolean } | null>(null)
  const [setup, setSetup] = useState<{ secret: string; qrCode: string } | null>(null)
  const [password, setPassword] = useState('')
  const [code, setCode] = useState('')
  const [codes, setCodes] = useState<string[] | null>(null)
  const [passkeys, setPasskeys] = useState<PasskeyView[]>([])
  const [name, setName] = useState('')
  const load = async () => {
    const loaded = await api<TwoFactorStatus>('GET', '/me/two-factor')
    setStatus(loaded)
    setPasskeys((await api<{ passkeys: PasskeyView[] }>('GET', '/me/passkeys')).passkeys)
    return loaded
  }
  // A set-up started before a reload: its key (already in the person's app) is shown again.
  const resume = useSensitive(async () => setSetup(await api('GET', '/me/two-factor/setup')))
  useEffect(() => {
    void load().then((loaded) => { if (loaded.setupPending) void resume.run() })
    // Once, on opening the page.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])
  const begin = useSensitive(async () => {
    requirePassword(password, t('settings.enterPassword'))
    setSetup(await api('POST', '/me/two-factor', { password }))
    setPassword('')
  })
  const confirm = useSensitive(async () => {
    if (code === '') throw new ApiError(0, { code: 'invalid_request', message: t('security.enterCode'), fields: { code: 'required' } })
    // The server ends every other session and gives this browser a fresh one: no sign-in again.
    const res = await api<TwoFactorEnabled>('POST', '/me/two-factor/confirm', { code })
    setCodes(res.recoveryCodes)
    setSetup(null)
    setCode('')
    await load()
  })
  const cancel = useAction(async () => {
    await api('DELETE', '/me/two-factor/setup')
    setSetup(null)
    setCode('')
    await load()
  })
  const disable = useSensitive(async () => {
    requirePassword(password, t('settings.enterPassword'))
    await api('DELETE', '/me/two-factor', { password })
    setPassword('')
    await load()
  })
  const regenerate = useSensitive(async () => {
    requirePassword(password, t('settings.enterPassword'))
    setCodes((await api<RecoveryCodes>('POST', '/me/two-factor/recovery-codes', { password })).recoveryCodes)
    setPassword('')
    await load()
  })
  const addPasskey = useSensitive(async () => {
    const start = await api<PasskeyOptions>('POST', '/me/passkeys/options')
    const response = await webauthnCreate(start.options)
    await api('POST', '/me/passkeys', { challengeId: start.challengeId, name: name || undefined, response })
    setName('')
    await load()
  })
  const removePasskey = useSensitive(async (id: string) => {
    await api('DELETE', `/me/passkeys/${id}`)
    await load()
  })
  const date = (iso: string) => formatDate(iso, i18n.language)

  if (codes) {
    const download = URL.createObjectURL(new Blob([`Latchkey recovery codes\n\n${codes.join('\n')}\n`], { type: 'text/plain' }))
    return (
      <Card title={t('security.codesTitle')}>
        <p>{t('security.codesBody')}</p>
        {status?.enabled ? <Notice tone="success">{t('security.codesSignedOut')}</Notice> : null}
        <ul className="codes">{codes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
        <a className="btn btn-secondary" href={download} download="latchkey-recovery-codes.txt">{t('security.download')}</a>{' '}
        <Button onClick={() => setCodes(null)}>{t('security.done')}</Button>
      </Card>
    )
  }
  return (
    <>
      <Card title={t('security.twoFactor')}>
        {status === null ? <p role="status">{t('app.loading')}</p> : (
          <p>
            <span className={`pill ${status.enabled ? 'pill-on' : 'pill-off'}`}>{status.enabled ? t('security.on') : t('security.off')}</span>
            {status.enabled ? ` ${t('security.codesLeft', { count: status.recoveryCodesRemaining })}` : null}
          </p>
        )}
        {setup ? (
          <form onSubmit={(e) => { e.preventDefault(); void confirm.run() }} noValidate>
            <p>{t('security.scan')}</p>
            <img src={setup.qrCode} alt="QR code" width={200} height={200} />
            <p>{t('security.secret')}: <code className="secret">{setup.secret}</code></p>
            <Field label={t('signin.code')} name="code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={code} onChange={(e) => setCode(e.target.value.trim())} error={confirm.fieldError('code')} />
            <FormError error={[confirm.error, cancel.error].find((e) => e && !e.body.fields) ?? null} />
            <Button type="submit" busy={confirm.busy}>{t('security.confirm')}</Button>{' '}
            <Button type="button" variant="secondary" busy={cancel.busy} onClick={() => void cancel.run()}>{t('security.cancelSetup')}</Button>
            {confirm.prompt}
          </form>
        ) : status ? (
          <form onSubmit={(e) => { e.preventDefault(); void (status.enabled ? disable.run() : begin.run()) }} noValidate>
            <Field label={t('settings.confirmPassword')} type="password" name="twoFactorPassword" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={(begin.fieldError('password') ?? disable.fieldError('password')) || regenerate.fieldError('password')} />
            <FormError error={[begin.error, disable.error, regenerate.error].find((e) => e && !e.body.fields) ?? null} />
            <Button type="submit" variant={status.enabled ? 'danger' : 'primary'} busy={begin.busy || disable.busy}>{status.enabled ? t('security.disable') : t('security.enable')}</Button>{' '}
            {status.enabled ? <Button type="button" variant="secondary" busy={regenerate.busy} onClick={() => void regenerate.run()}>{t('security.regenerate')}</Button> : null}
            {begin.prompt}{disable.prompt}{regenerate.prompt}
          </form>
        ) : null}
        {/* Outside the forms above: a reload's "confirm it is you" before the pending key is shown. */}
        {setup ? null : resume.prompt}
      </Card>
      <GoogleSettingsCard />
      <Card title={t('security.passkeys')}>
        {passkeys.length === 0 ? <p>{t('security.noPasskeys')}</p> : (
          <ul className="list">
            {passkeys.map((p) => (
              <li key={p.id}>
                <div><strong>{p.name}</strong><br /><span className="hint">{t('security.created', { date: date(p.createdAt) })} · {p.lastUsedAt ? t('security.lastUsed', { date: date(p.lastUsedAt) }) : t('security.never')}</span></div>
                <Button variant="secondary" onClick={() => void removePasskey.run(p.id)} aria-label={`${t('security.remove')} ${p.name}`}>{t('security.remove')}</Button>
              </li>
            ))}
          </ul>
        )}
        {removePasskey.prompt}
        <form onSubmit={(e) => { e.preventDefault(); void addPasskey.run() }} noValidate>
          <Field label={t('security.passkeyName')} name="passkeyName" maxLength={PASSKEY_NAME_MAX_LENGTH} value={name} onChange={(e) => setName(e.target.value)} />
          <FormError error={addPasskey.error ?? removePasskey.error} />
          <Button type="submit" busy={addPasskey.busy}>{t('security.addPasskey')}</Button>
          {addPasskey.prompt}
        </form>
      </Card>
    </>
  )
}


/**
 * The categories something sends today: security notices (sessions, password, 2FA) and team
 * notices (invitations, join requests). The API keeps the whole grid of SPEC §6 (usage,
 * monitors, comments, billing too) so preferences set now hold when those features arrive,
 * but a switch for mail that never comes would promise what does not exist yet.
 */
const CATEGORIES_IN_USE = new Set(['security', 'team'])

export function NotificationSettings() {
  const { t } = useTranslation()
  const [data, setData] = useState<PreferencesView | null>(null)
  const save = useAction(async (category: string, channel: 'email' | 'inApp', on: boolean) => {
    setData(await api<PreferencesView>('PUT', '/me/notification-preferences', { preferences: { [category]: { [channel]: on } } }))
  })
  useEffect(() => {
    void api<PreferencesView>('GET', '/me/notification-preferences').then(setData)
  }, [])
  return (
    <Card title={t('notifications.title')}>
      <p className="hint">{t('notifications.always')}</p>
      {data === null ? <p role="status">{t('app.loading')}</p> : (
        <table className="grid">
          <thead>
            <tr><th scope="col">{t('notifications.category')}</th><th scope="col">{t('notifications.email')}</th><th scope="col">{t('notifications.inApp')}</th></tr>
          </thead>
          <tbody>
            {data.categories.filter((c) => CATEGORIES_IN_USE.has(c)).map((c) => (
              <tr key={c}>
                <th scope="row">{t(`notifications.categories.${c}`)}</th>
                {(['email', 'inApp'] as const).map((channel) => (
                  <td key={channel}>
                    <input type="checkbox" aria-label={`${t(`notifications.categories.${c}`)}: ${t(`notifications.${channel}`)}`} checked={data.preferences[c as Category][channel]} onChange={(e) => void save.run(c, channel, e.target.checked)} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <FormError error={save.error} />
    </Card>
  )
}


export function SessionSettings() {
  const { t, i18n } = useTranslation()
  const [sessions, setSessions] = useState<SessionView[] | null>(null)
  // This device first, then the most recently active.
  const load = async () => setSessions((await api<{ sessions: SessionView[] }>('GET', '/me/sessions')).sessions.sort((a, b) => Number(b.current) - Number(a.current)))
  useEffect(() => {
    void load()
  }, [])
  const revoke = useAction(async (id?: string) => {
    await api('DELETE', id ? `/me/sessions/${id}` : '/me/sessions?keepCurrent=true')
    await load()
  })
  const when = (iso: string) => formatDateTime(iso, i18n.language)
  return (
    <Card title={t('sessions.title')}>
      {sessions === null ? <p role="status">{t('app.loading')}</p> : (
        <ul className="list">
          {sessions.map((s) => (
            <li key={s.id}>
              <div>
                <strong>{s.deviceName ? `${s.deviceName} (${s.browser})` : `${s.browser} · ${s.os}`}</strong> {s.current ? <span className="pill pill-on">{t('sessions.current')}</span> : null}
                <br />
                <span className="hint">{t('sessions.ip', { ip: s.ip })} · {t('sessions.lastActive', { date: when(s.lastActiveAt) })} · {t('sessions.created', { date: when(s.createdAt) })}</span>
              </div>
              {s.current ? null : <Button variant="secondary" onClick={() => void revoke.run(s.id)} aria-label={`${t('sessions.revoke')}: ${s.browser} · ${s.os}`}>{t('sessions.revoke')}</Button>}
            </li>
          ))}
        </ul>
      )}
      <FormError error={revoke.error} />
      {sessions && sessions.length > 1 ? <Button variant="danger" busy={revoke.busy} onClick={() => void revoke.run()}>{t('sessions.revokeAll')}</Button> : null}
    </Card>
  )
}
