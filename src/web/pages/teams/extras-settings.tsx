import { useTranslation } from 'react-i18next'
import { can, type TeamPageData } from './model.ts'
import { Section } from './team.tsx'
import { ImageUpload } from './images.tsx'
import { TeamLogo } from './widgets.tsx'
import { DomainsAndDiscovery } from './discovery.tsx'

/** Settings sections on the newer team APIs: the logo (and, with discovery, domains). */
/** The server's logo limit (src/images/images.ts LOGO_MAX_BYTES). */
const LOGO_MAX_BYTES = 1_000_000

export function TeamSettingsExtras({ data, reload }: { data: TeamPageData; reload: () => Promise<void> }) {
  const { t } = useTranslation()
  const admin = can(data.myRoles, 'change_settings')
  return (
    <>
      <Section title={t('teams.logo.title')}>
        <ImageUpload
          label={t('teams.logo.file')} endpoint={`/teams/${data.slug}/logo`} field="logoUrl" maxBytes={LOGO_MAX_BYTES} disabled={!admin} hasImage={!!data.logoUrl}
          preview={<><TeamLogo name={data.name} url={data.logoUrl} size={96} /><span className="hint">{data.logoUrl ? t('teams.logo.current') : t('teams.logo.none')}</span></>}
          removeLabel={t('teams.logo.remove')} savedText={t('teams.logo.saved')} removedText={t('teams.logo.removed')} onChange={reload}
        />
      </Section>
      {admin ? <DomainsAndDiscovery data={data} /> : null}
    </>
  )
}
