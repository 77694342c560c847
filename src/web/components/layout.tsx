import { useEffect, useRef, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, NavLink, Outlet, useNavigate } from 'react-router'
import { api, ApiError } from '../api.ts'
import { LANGUAGES, rememberLanguage } from '../i18n.ts'
import { afterConfirm, rememberAfterConfirm } from '../return-to.ts'
import { useSession } from './session.tsx'
import { Button, FormError, Notice, useAction } from './ui.tsx'

function LanguagePicker() {
  const { t, i18n } = useTranslation()
  const { me, setMe } = useSession()
  async function choose(code: 'en' | 'zh-CN') {
    rememberLanguage(code)
    // Saved on the account so emails and other browsers follow.
    if (me) setMe(await api('PATCH', '/me', { locale: code }))
  }
  return (
    <label className="language">
      <span className="visually-hidden">{t('app.language')}</span>
      <select
        value={i18n.language}
        onChange={(e) => void choose(e.target.value as 'en' | 'zh-CN')}
      >
        {LANGUAGES.map((l) => (
          <option key={l.code} value={l.code}>{l.label}</option>
        ))}
      </select>
    </label>
  )
}

function AccountMenu() {
  const { t } = useTranslation()
  const { me, accounts, refresh } = useSession()
  const [open, setOpen] = useState(false)
  const navigate = useNavigate()
  const menuRef = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (!open) return
    const close = (e: KeyboardEvent | MouseEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !menuRef.current?.contains(e.target as Node)) setOpen(false)
    }
    document.addEventListener('keydown', close)
    document.addEventListener('mousedown', close)
    return () => {
      document.removeEventListener('keydown', close)
      document.removeEventListener('mousedown', close)
    }
  }, [open])
  async function switchTo(accountId: string) {
    await api('POST', '/browser/accounts/switch', { accountId })
    setOpen(false)
    await refresh()
    await navigate('/settings/profile')
  }
  async function signOut() {
    const othersStay = accounts.some((a) => !a.active)
    await api('POST', '/signout')
    setOpen(false)
    // Signed out for good: go to /signin before the session state says so. Refreshed first, this
    // menu would unmount (its navigate then does nothing) and the page being left would send the
    // person to /signin?next=<that page>, as if they had been thrown out of it.
    if (!othersStay) await navigate('/signin', { replace: true })
    const next = await refresh()
    if (next) await navigate('/settings/profile')
  }
  if (!me) return null
  const initial = (me.displayName || me.username).slice(0, 1).toUpperCase()
  return (
    <div className="account-menu" ref={menuRef}>
      <button className="avatar" aria-haspopup="true" aria-expanded={open} aria-label={t('nav.accountMenu')} onClick={() => setOpen(!open)}>
        {me.avatarUrl ? <img src={me.avatarUrl} alt="" width={36} height={36} /> : initial}
      </button>
      {open ? (
        <div className="menu" role="menu">
          <p className="menu-who">
            <strong>{me.displayName || me.username}</strong>
            <span>{me.email}</span>
          </p>
          {accounts.filter((a) => !a.active).map((a) => (
            <button
              key={a.accountId}
              role="menuitem"
              onClick={() => void switchTo(a.accountId)}
            >
              {t('nav.switchTo', { name: a.displayName || a.username })}
            </button>
          ))}
          {accounts.length < 5 ? (
            <Link role="menuitem" to="/signin?add=1" onClick={() => setOpen(false)}>{t('nav.addAccount')}</Link>
          ) : null}
          <Link role="menuitem" to="/teams" onClick={() => setOpen(false)}>{t('teams.nav')}</Link>
          <Link role="menuitem" to="/settings/profile" onClick={() => setOpen(false)}>{t('nav.settings')}</Link>
          <button
            role="menuitem"
            onClick={() => void signOut()}
          >
            {t('nav.signOut')}
          </button>
        </div>
      ) : null}
    </div>
  )
}

/**
 * SPEC §2: an unconfirmed account sees a "confirm your email" notice, on every signed-in page
 * (onboarding first of all, right after sign-up), with a way to have the link sent again.
 */
function ConfirmEmailNotice() {
  const { t } = useTranslation()
  const { me, refresh } = useSession()
  const [resentTo, setResentTo] = useState<string | null>(null)
  const resend = useAction(async () => {
    const next = afterConfirm()
    try {
      await api('POST', '/email/resend', next ? { next } : {})
    } catch (err) {
      // Confirmed meanwhile (in another tab): the notice goes away with the fresh account.
      if (err instanceof ApiError && err.code === 'email_already_confirmed') return void (await refresh())
      throw err
    }
    setResentTo(me?.email ?? null)
  })
  // Confirmed (here or elsewhere): a remembered way back is spent, and must not follow a later
  // email change's confirmation.
  useEffect(() => {
    if (me?.emailConfirmed) rememberAfterConfirm(null)
  }, [me?.emailConfirmed])
  if (!me || me.emailConfirmed) return null
  return (
    <div className="confirm-notice">
      <Notice tone="warning">
        {t('confirm.banner', { email: me.email })}{' '}
        {resentTo === me.email ? <span role="status">{t('confirm.resent')}</span> : (
          <Button variant="link" busy={resend.busy} onClick={() => void resend.run()}>{t('confirm.resend')}</Button>
        )}
        <FormError error={resend.error} />
      </Notice>
    </div>
  )
}

export function Layout() {
  const { t } = useTranslation()
  const { me, unread } = useSession()
  return (
    <>
      <a className="skip-link" href="#main">{t('app.skip')}</a>
      <header className="topbar">
        <Link to={me ? '/settings/profile' : '/signin'} className="brand">
          <svg className="logo" aria-hidden="true" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2.2" strokeLinecap="round"><circle cx="8" cy="15" r="4.5" /><path d="M11.2 11.8 20 3m-4 4 3 3m-5.5-.5 2 2" /></svg> {t('app.name')}
        </Link>
        <nav aria-label="Main" className="topnav">
          <LanguagePicker />
          {me ? (
            <>
              <NavLink to="/inbox" className="inbox-link">
                {t('nav.inbox')}
                {unread > 0 ? <span className="badge" aria-label={t('nav.unread', { count: unread })}>{unread}</span> : null}
              </NavLink>
              <AccountMenu />
            </>
          ) : (
            <>
              <NavLink to="/signin">{t('nav.signIn')}</NavLink>
              <NavLink to="/signup">{t('nav.signUp')}</NavLink>
            </>
          )}
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <ConfirmEmailNotice />
        <Outlet />
      </main>
    </>
  )
}

export function CenteredPage({ title, children }: { title: string; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Latchkey`
  }, [title])
  return (
    <div className="centered">
      <section className="card">
        <h1>{title}</h1>
        {children}
      </section>
    </div>
  )
}
