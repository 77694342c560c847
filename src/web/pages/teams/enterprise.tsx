import { useEffect, useId, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api } from '../../api.ts'
import { Button, Notice, useAction } from '../../components/ui.tsx'
import { formatDate } from '../../dates.ts'
import { Section } from './frame.tsx'
import { focusOnMount, TeamError } from './widgets.tsx'
import type { TeamPage } from './model.ts'
import { MAX_SESSION_MINUTES_MAX, MAX_SESSION_MINUTES_MIN } from '../../../sso/limits.ts'
import type { CreatedSetupLink, SetupLink, SetupLinks, SigninPolicy, SigninPolicyChange } from '../../../sso/schemas.ts'

type Flags = Pick<SigninPolicy, 'jitEnabled' | 'passwordSigninDisabled' | 'googleSigninDisabled' | 'requireTwoFactor'>
const FLAGS: { key: keyof Flags; label: string; hint: string }[] = [
  { key: 'jitEnabled', label: 'sso.enterprise.jit', hint: 'sso.enterprise.jitHint' },
  { key: 'passwordSigninDisabled', label: 'sso.enterprise.password', hint: 'sso.enterprise.passwordHint' },
  { key: 'googleSigninDisabled', label: 'sso.enterprise.google', hint: 'sso.enterprise.googleHint' },
  { key: 'requireTwoFactor', label: 'sso.enterprise.twoFactor', hint: 'sso.enterprise.twoFactorHint' },
]

/** The team's Enterprise sign-in controls and JIT switch (Admins; the page shows it only to them). */
export function EnterpriseSigninSection({ data }: { data: TeamPage }) {
  const { t } = useTranslation()
  const id = useId()
  const [policy, setPolicy] = useState<SigninPolicy | null>(null)
  const [flags, setFlags] = useState<Flags | null>(null)
  const [minutes, setMinutes] = useState('')
  const [saved, setSaved] = useState(false)
  const show = (p: SigninPolicy) => {
    setPolicy(p)
    setFlags({ jitEnabled: p.jitEnabled, passwordSigninDisabled: p.passwordSigninDisabled, googleSigninDisabled: p.googleSigninDisabled, requireTwoFactor: p.requireTwoFactor })
    setMinutes(p.maxSessionMinutes === null ? '' : String(p.maxSessionMinutes))
  }
  const load = useAction(async () => show(await api<SigninPolicy>('GET', `/teams/${data.slug}/signin-policy`)))
  useEffect(() => {
    void load.run()
    // eslint-disable-next-line react-hooks/exhaustive-deps -- useAction's run is a new function each render; this loads once per team
  }, [data.slug])
  const save = useAction(async () => {
    const change: SigninPolicyChange = { ...flags!, maxSessionMinutes: minutes.trim() === '' ? null : Number(minutes) }
    show(await api<SigninPolicy>('PATCH', `/teams/${data.slug}/signin-policy`, change))
    setSaved(true)
  })
  return (
    <Section title={t('sso.enterprise.title')} className="enterprise-signin">
      <p className="hint">{t('sso.enterprise.body')}</p>
      <TeamError error={load.error} />
      {policy && flags ? (
        <form onSubmit={(e) => { e.preventDefault(); setSaved(false); void save.run() }} noValidate>
          {FLAGS.map(({ key, label, hint }) => {
            const needsConnection = (key === 'passwordSigninDisabled' || key === 'googleSigninDisabled') && !policy.hasEnabledConnection && !flags[key]
            return (
              <div className="checkbox" key={key}>
                <input id={`${id}-${key}`} type="checkbox" name={key} checked={flags[key]} disabled={needsConnection} aria-describedby={`${id}-${key}-hint`} onChange={(e) => setFlags({ ...flags, [key]: e.target.checked })} />
                <label htmlFor={`${id}-${key}`}>{t(label)}</label>
                <p className="hint" id={`${id}-${key}-hint`}>{t(hint)}{needsConnection ? ` ${t('sso.enterprise.needsConnection')}` : ''}</p>
              </div>
            )
          })}
          {(flags.passwordSigninDisabled && !policy.passwordSigninDisabled) || (flags.googleSigninDisabled && !policy.googleSigninDisabled) ? (
            <Notice tone="warning">{t('sso.enterprise.signOutWarning')}</Notice>
          ) : null}
          <div className="field">
            <label htmlFor={`${id}-minutes`}>{t('sso.enterprise.maxSession')}</label>
            <input id={`${id}-minutes`} name="maxSessionMinutes" type="number" inputMode="numeric" min={MAX_SESSION_MINUTES_MIN} max={MAX_SESSION_MINUTES_MAX} value={minutes} aria-describedby={`${id}-minutes-hint`} aria-invalid={save.error?.body.fields?.maxSessionMinutes ? true : undefined} onChange={(e) => setMinutes(e.target.value)} />
            <p className="hint" id={`${id}-minutes-hint`}>{t('sso.enterprise.maxSessionHint', { min: MAX_SESSION_MINUTES_MIN, max: MAX_SESSION_MINUTES_MAX })}</p>
          </div>
          <TeamError error={save.error} />
          {saved ? <Notice tone="success">{t('sso.enterprise.saved')}</Notice> : null}
          <Button type="submit" busy={save.busy}>{t('sso.enterprise.save')}</Button>
        </form>
      ) : load.error ? null : <p role="status">{t('app.loading')}</p>}
    </Section>
  )
}

/** IT set-up links: create (shown once, with copy), list, revoke. */
export function SetupLinksSection({ data }: { data: TeamPage }) {
  const { t, i18n } = useTranslation()
  const id = useId()
  const [links, setLinks] = useState<SetupLink[] | null>(null)
  const [fresh, setFresh] = useState<string | null>(null)
  const [copied, setCopied] = useState(false)
  const [revoking, setRevoking] = useState<string | null>(null)
  const [done, setDone] = useState<string | null>(null)
  const load = useAction(async () => setLinks((await api<SetupLinks>('GET', `/teams/${data.slug}/sso-setup-links`)).links))
  useEffect(() => {
    void load.run()
    // eslint-disable-next-line react-hooks/exhaustive-deps -- useAction's run is a new function each render; this loads once per team
  }, [data.slug])
  const create = useAction(async () => {
    const link = await api<CreatedSetupLink>('POST', `/teams/${data.slug}/sso-setup-links`, {})
    setFresh(link.url)
    setCopied(false)
    setDone(null)
    await load.run()
  })
  const revoke = useAction(async (link: SetupLink) => {
    await api('DELETE', `/teams/${data.slug}/sso-setup-links/${link.id}`)
    setRevoking(null)
    setDone(t('sso.setupLinks.revoked'))
    await load.run()
  })
  const date = (iso: string) => formatDate(iso, i18n.language)
  return (
    <Section title={t('sso.setupLinks.title')} className="setup-links">
      <p className="hint">{t('sso.setupLinks.body')}</p>
      <Button type="button" busy={create.busy} onClick={() => void create.run()}>{t('sso.setupLinks.create')}</Button>
      <TeamError error={create.error} />
      {fresh ? (
        <Notice tone="success">
          <p className="notice-title">{t('sso.setupLinks.created')}</p>
          <div className="copy-row">
            <label className="visually-hidden" htmlFor={`${id}-url`}>{t('sso.setupLinks.url')}</label>
            <input id={`${id}-url`} name="setupLinkUrl" readOnly value={fresh} onFocus={(e) => e.target.select()} />
            <Button type="button" variant="secondary" onClick={() => { void navigator.clipboard?.writeText(fresh).catch(() => {}); setCopied(true) }}>{t('sso.setupLinks.copy')}</Button>
          </div>
          {copied ? <p className="hint">{t('sso.setupLinks.copied')}</p> : null}
        </Notice>
      ) : null}
      {done ? <Notice tone="success">{done}</Notice> : null}
      <TeamError error={load.error ?? revoke.error} />
      {links === null ? (load.error ? null : <p role="status">{t('app.loading')}</p>) : links.length === 0 ? <p>{t('sso.setupLinks.none')}</p> : (
        <ul className="list">
          {links.map((link) => (
            <li key={link.id} className={`setup-link state-${link.state}`}>
              <div className="grow">
                <span className={`pill ${link.state === 'active' ? 'pill-on' : 'pill-off'}`}>{t(`sso.setupLinks.states.${link.state}`)}</span>
                <p className="hint">{t('sso.setupLinks.meta', { name: link.createdBy ?? '—', created: date(link.createdAt), expires: date(link.expiresAt) })}</p>
              </div>
              {link.state === 'active' && revoking !== link.id ? (
                <div className="actions">
                  <Button variant="danger" aria-label={t('sso.setupLinks.revokeOf', { created: date(link.createdAt) })} onClick={() => setRevoking(link.id)}>{t('sso.setupLinks.revoke')}</Button>
                </div>
              ) : null}
              {revoking === link.id ? (
                <div className="confirm" role="group" aria-label={t('sso.setupLinks.revokeOf', { created: date(link.createdAt) })} tabIndex={-1} ref={focusOnMount}>
                  <p>{t('sso.setupLinks.revokeConfirm')}</p>
                  <Button variant="danger" busy={revoke.busy} onClick={() => void revoke.run(link)}>{t('sso.setupLinks.revokeYes')}</Button>{' '}
                  <Button variant="secondary" onClick={() => setRevoking(null)}>{t('app.cancel')}</Button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </Section>
  )
}
