import { useTranslation } from 'react-i18next'
import type { Account } from '../api.ts'
import { useSession } from '../components/session.tsx'
import { Card } from '../components/ui.tsx'
import { ImageUpload } from './teams/images.tsx'
import { AVATAR_MAX_BYTES } from '../../images/limits.ts'

/** Profile settings: upload or remove the avatar (PNG/JPEG, 500 KB; the server re-encodes it). */
export function AvatarCard() {
  const { t } = useTranslation()
  const { me, setMe } = useSession()
  if (!me) return null
  const initial = (me.displayName || me.username).slice(0, 1).toUpperCase()
  return (
    <Card title={t('teams.avatar.title')}>
      <ImageUpload
        label={t('teams.avatar.file')} endpoint="/me/avatar" field="avatarUrl" maxBytes={AVATAR_MAX_BYTES} hasImage={!!me.avatarUrl}
        preview={me.avatarUrl ? <img className="avatar-preview" src={me.avatarUrl} alt={t('teams.avatar.alt')} width={72} height={72} /> : <><span className="avatar avatar-preview-initial" aria-hidden="true">{initial}</span><span className="hint">{t('teams.avatar.none')}</span></>}
        removeLabel={t('teams.avatar.remove')} savedText={t('teams.avatar.saved')} removedText={t('teams.avatar.removed')}
        onChange={(url) => setMe({ ...me, avatarUrl: url } as Account)}
      />
    </Card>
  )
}
