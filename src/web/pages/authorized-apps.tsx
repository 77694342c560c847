/** Settings → Authorized apps: third-party apps allowed to use the account, each revocable. */
import { useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api } from '../api.ts'
import { Button, Card, FormError, useAction } from '../components/ui.tsx'
import { formatDateTime } from '../dates.ts'
import type { AuthorizedApp, AuthorizedApps } from '../../oauth/schemas.ts'

export function AuthorizedAppsSettings() {
  const { t, i18n } = useTranslation()
  const [apps, setApps] = useState<AuthorizedApp[] | null>(null)
  const load = async () => setApps((await api<AuthorizedApps>('GET', '/me/authorized-apps')).apps)
  useEffect(() => {
    void load()
  }, [])
  const revoke = useAction(async (clientId: string) => {
    await api('DELETE', `/me/authorized-apps/${encodeURIComponent(clientId)}`)
    await load()
  })
  const when = (iso: string) => formatDateTime(iso, i18n.language)
  return (
    <Card title={t('oauth.apps.title')}>
      <p className="hint">{t('oauth.apps.intro')}</p>
      {apps === null ? <p role="status">{t('app.loading')}</p> : apps.length === 0 ? <p>{t('oauth.apps.none')}</p> : (
        <ul className="list">
          {apps.map((app) => (
            <li key={app.clientId}>
              <div>
                <strong>{app.name}</strong>
                <br />
                <span className="hint">{app.scopes.map((s) => t(`oauth.scopes.${s}`, { defaultValue: s })).join(' · ')}</span>
                <br />
                <span className="hint">{t('oauth.apps.granted', { date: when(app.grantedAt) })} · {t('oauth.apps.lastUsed', { date: when(app.lastUsedAt) })}</span>
              </div>
              <Button variant="secondary" busy={revoke.busy} onClick={() => void revoke.run(app.clientId)} aria-label={`${t('oauth.apps.revoke')}: ${app.name}`}>{t('oauth.apps.revoke')}</Button>
            </li>
          ))}
        </ul>
      )}
      <FormError error={revoke.error} />
    </Card>
  )
}
