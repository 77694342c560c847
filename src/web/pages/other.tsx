import { useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useParams } from 'react-router'
import { api } from '../api.ts'
import { CenteredPage } from '../components/layout.tsx'
import { useSession } from '../components/session.tsx'
import { Button, Card, FormError, useAction } from '../components/ui.tsx'
import { formatDate, formatDateTime } from '../dates.ts'
import { Markdown } from '../markdown.tsx'
import type { PublicProfile } from '../../accounts/schemas.ts'
import type { Notification, NotificationPage } from '../../notifications/schemas.ts'
import { PendingInvitations } from './teams/pending.tsx'


export function InboxPage() {
  const { t, i18n } = useTranslation()
  const { refresh } = useSession()
  const [items, setItems] = useState<Notification[] | null>(null)
  const [cursor, setCursor] = useState<string | null>(null)
  const load = async (after?: string) => {
    const page = await api<NotificationPage>('GET', `/me/notifications?limit=20${after ? `&cursor=${encodeURIComponent(after)}` : ''}`)
    setItems((prev) => (after && prev ? [...prev, ...page.notifications] : page.notifications))
    setCursor(page.nextCursor)
  }
  useEffect(() => {
    document.title = `${t('inbox.title')} · Latchkey`
    void load()
  }, [t])
  const mark = useAction(async (id?: string) => {
    await api('POST', id ? `/me/notifications/${id}/read` : '/me/notifications/read-all')
    setItems((prev) => prev?.map((n) => (!id || n.id === id ? { ...n, read: true } : n)) ?? null)
    await refresh()
  })
  return (
    <div className="page">
      <h1>{t('inbox.title')}</h1>
      <PendingInvitations />
      <Card>
        {items === null ? <p role="status">{t('app.loading')}</p> : items.length === 0 ? <p>{t('inbox.empty')}</p> : (
          <ul className="list inbox">
            {items.map((n) => (
              <li key={n.id} className={n.read ? 'read' : 'unread'}>
                <div>
                  <strong>{n.title}</strong>
                  <p>{n.body}</p>
                  <span className="hint">{formatDateTime(n.createdAt, i18n.language)}</span>
                </div>
                {n.read ? null : <Button variant="secondary" onClick={() => void mark.run(n.id)} aria-label={`${t('inbox.markRead')}: ${n.title}`}>{t('inbox.markRead')}</Button>}
              </li>
            ))}
          </ul>
        )}
        <FormError error={mark.error} />
        {items?.some((n) => !n.read) ? <Button onClick={() => void mark.run()}>{t('inbox.markAll')}</Button> : null}{' '}
        {cursor ? <Button variant="secondary" onClick={() => void load(cursor)}>{t('inbox.more')}</Button> : null}
      </Card>
    </div>
  )
}


export function PublicProfilePage() {
  const { t, i18n } = useTranslation()
  const { username = '' } = useParams()
  const [profile, setProfile] = useState<PublicProfile | null | 'missing'>(null)
  useEffect(() => {
    api<PublicProfile>('GET', `/users/${encodeURIComponent(username)}`).then(setProfile, () => setProfile('missing'))
  }, [username])
  if (profile === null) return <CenteredPage title={username}><p role="status">{t('app.loading')}</p></CenteredPage>
  if (profile === 'missing') return <CenteredPage title={t('errors.notFoundTitle')}><p>{t('profile.notFound')}</p></CenteredPage>
  return (
    <CenteredPage title={profile.displayName || profile.username}>
      {profile.avatarUrl ? <img className="profile-avatar" src={profile.avatarUrl} alt={t('profile.avatarAlt', { name: profile.displayName || profile.username })} width={96} height={96} /> : null}
      <p className="hint">@{profile.username} · {t('profile.memberSince', { date: formatDate(profile.memberSince, i18n.language) })}</p>
      {profile.bio ? <p>{profile.bio}</p> : null}
      {/* About me is Markdown, rendered to React elements by a safe subset (web/markdown.tsx): never as HTML. */}
      {profile.aboutMe ? <Markdown className="about" source={profile.aboutMe} /> : null}
      {profile.links.length ? <ul>{profile.links.map((l) => <li key={l}><a href={l} rel="nofollow noopener noreferrer">{l}</a></li>)}</ul> : null}
    </CenteredPage>
  )
}

export function MessagePage({ kind }: { kind: 'link' | 'expired' | 'deactivated' | 'notFound' }) {
  const { t } = useTranslation()
  const text = {
    link: { title: t('errors.linkTitle'), body: t('errors.linkBody') },
    expired: { title: t('errors.expiredTitle'), body: t('errors.expiredBody') },
    deactivated: { title: t('errors.deactivatedTitle'), body: t('errors.deactivatedBody') },
    notFound: { title: t('errors.notFoundTitle'), body: '' },
  }[kind]
  return (
    <CenteredPage title={text.title}>
      {text.body ? <p>{text.body}</p> : null}
      <Link className="btn btn-primary" to="/signin">{t('errors.goHome')}</Link>
    </CenteredPage>
  )
}
