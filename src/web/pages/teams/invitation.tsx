import { useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router'
import { api, ApiError, tokenFromFragment, type ApiErrorCode } from '../../api.ts'
import type { JoinedTeam } from '../../../teams/schemas.ts'
import { CenteredPage } from '../../components/layout.tsx'
import { useSession } from '../../components/session.tsx'
import { Button, Notice, useAction } from '../../components/ui.tsx'
import { roleList, teamErrorMessage, type TeamRole } from './model.ts'
import { InvitationPreviewCard, useInvitationPreview } from './profile.tsx'
import { signUpFromInvitation } from '../../return-to.ts'
import './teams.css'

export const STORAGE_KEY = 'latchkey.teamInvitation'

/**
 * The invitation email's link (/invitations/accept#token=…). The token leaves the address bar
 * at once and waits in this tab's session storage, so a person who must sign in first (or
 * switch accounts) comes back here and accepts without opening the email again.
 */
export function InvitationAcceptPage() {
  const { t } = useTranslation()
  const { me, loading } = useSession()
  const [token] = useState(() => {
    const fromLink = tokenFromFragment()
    if (fromLink) sessionStorage.setItem(STORAGE_KEY, fromLink)
    return fromLink ?? sessionStorage.getItem(STORAGE_KEY)
  })
  const [joined, setJoined] = useState<{ slug: string; name: string; roles: TeamRole[] } | null>(null)
  useEffect(() => {
    if (window.location.hash) history.replaceState(null, '', window.location.pathname)
  }, [])
  const accept = useAction(async () => {
    const res = await api<JoinedTeam>('POST', '/invitations/accept', { token })
    sessionStorage.removeItem(STORAGE_KEY)
    setJoined(res)
  })
  const next = encodeURIComponent('/invitations/accept')
  const { preview, error: previewError } = useInvitationPreview(joined ? null : token, !!me)

  if (!token) {
    return (
      <CenteredPage title={t('teams.accept.invalidTitle')}>
        <p>{t('teams.accept.missing')}</p>
        <Link className="btn btn-primary" to="/teams">{t('teams.accept.goTeams')}</Link>
      </CenteredPage>
    )
  }
  if (loading) return <CenteredPage title={t('teams.accept.title')}><p role="status">{t('app.loading')}</p></CenteredPage>
  // A closed invitation (cancelled, used, replaced) says so before anyone signs in.
  if (previewError && !accept.error && !joined) return <InvitationRefused error={previewError} email={me?.email ?? ''} next={next} />
  if (!me) {
    return (
      <CenteredPage title={t('teams.accept.title')}>
        {preview ? <InvitationPreviewCard preview={preview} /> : <p>{t('teams.accept.body')}</p>}
        <p>{t('teams.accept.signInFirst')}</p>
        <Link className="btn btn-primary" to={`/signin?next=${next}`}>{t('teams.accept.signIn')}</Link>{' '}
        {/* Back here once the new address is confirmed: the token rides along (this page may then open in another tab). */}
        <Link className="btn btn-secondary" to={signUpFromInvitation(`/invitations/accept#token=${token}`, preview?.invitedEmail)}>{t('teams.accept.signUp')}</Link>
        <p className="hint">{t('teams.accept.signUpHint')}</p>
      </CenteredPage>
    )
  }
  if (joined) {
    return (
      <CenteredPage title={t('teams.accept.joined', { name: joined.name })}>
        <Notice tone="success">{t('teams.accept.joinedBody', { roles: roleList(t, joined.roles) })}</Notice>
        <Link className="btn btn-primary" to={`/teams/${joined.slug}`}>{t('teams.accept.openTeam')}</Link>
      </CenteredPage>
    )
  }
  if (accept.error) return <InvitationRefused error={accept.error} email={me.email} next={next} />
  return (
    <CenteredPage title={t('teams.accept.title')}>
      {preview ? <InvitationPreviewCard preview={preview} /> : <p>{t('teams.accept.body')}</p>}
      {preview?.emailMatches === false ? <Notice tone="warning">{t('teams.invitePreview.otherEmail')}</Notice> : null}
      <p>{t('teams.accept.signedInAs', { name: me.displayName || me.username, email: me.email })}</p>
      <Button busy={accept.busy} onClick={() => void accept.run()}>{t('teams.accept.button')}</Button>
    </CenteredPage>
  )
}

/** One clear page per reason an invitation cannot be used. */
function InvitationRefused({ error, email, next }: { error: ApiError; email: string; next: string }) {
  const { t } = useTranslation()
  const reason = (error.body as { reason?: string }).reason
  const titles: Partial<Record<ApiErrorCode, string>> = {
    invitation_invalid: reason === 'cancelled' ? t('teams.accept.cancelledTitle') : reason === 'declined' ? t('teams.accept.declinedTitle') : reason === 'used' ? t('teams.accept.usedTitle') : t('teams.accept.invalidTitle'),
    invitation_email_mismatch: t('teams.accept.wrongAccountTitle'),
    email_not_confirmed: t('teams.accept.unconfirmedTitle'),
    already_team_member: t('teams.accept.alreadyTitle'),
    team_limit_reached: t('teams.accept.limitTitle'),
    no_seats_available: t('teams.accept.seatsTitle'),
  }
  const title = titles[error.code] ?? t('errors.generic')
  const wrongAccount = error.code === 'invitation_email_mismatch'
  // The link will not work later either: forget it, except for the person who must switch accounts.
  useEffect(() => {
    if (!wrongAccount && error.code !== 'no_seats_available' && error.code !== 'email_not_confirmed') sessionStorage.removeItem(STORAGE_KEY)
  }, [wrongAccount, error.code])
  return (
    <CenteredPage title={title}>
      <p role="alert" data-code={error.code}>{wrongAccount ? t('teams.accept.wrongAccountBody', { email }) : teamErrorMessage(t, error)}</p>
      {wrongAccount ? <Link className="btn btn-primary" to={`/signin?add=1&next=${next}`}>{t('teams.accept.switchAccount')}</Link> : null}{' '}
      <Link className={`btn ${wrongAccount ? 'btn-secondary' : 'btn-primary'}`} to="/teams">{t('teams.accept.goTeams')}</Link>
    </CenteredPage>
  )
}
