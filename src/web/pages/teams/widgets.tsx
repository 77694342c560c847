import { useTranslation } from 'react-i18next'
import type { ApiError } from '../../api.ts'
import { teamErrorMessage, type TeamRole } from './model.ts'

/** A refusal from the server, in the page's language when known, announced at once. */
export function TeamError({ error }: { error: ApiError | null | undefined }) {
  const { t } = useTranslation()
  if (!error) return null
  return <p className="form-error" role="alert" data-code={error.code}>{teamErrorMessage(t, error)}</p>
}

export function RolePills({ roles }: { roles: readonly TeamRole[] }) {
  const { t } = useTranslation()
  return (
    <span className="role-pills">
      {roles.map((r) => <span key={r} className={`pill role-${r}`}>{t(`teams.roles.${r}`)}</span>)}
    </span>
  )
}

/** The team's logo, or its initial on a coloured square; decorative beside the team's name. */
export function TeamLogo({ name, url, size = 40 }: { name: string; url?: string | null; size?: number }) {
  if (url) return <img className="team-logo" src={url} alt="" width={size} height={size} />
  return <span className="team-logo team-logo-initial" aria-hidden="true" style={{ width: size, height: size, lineHeight: `${size}px` }}>{[...name.trim()][0]?.toUpperCase() ?? '?'}</span>
}

/** A panel that opens in place (a confirmation) takes the focus, so keyboard and screen-reader users land in it. */
export function focusOnMount(element: HTMLElement | null): void {
  element?.focus()
}
