import { useEffect, useId, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useSearchParams } from 'react-router'
import { api } from '../../api.ts'
import { useSession } from '../../components/session.tsx'
import { Button, Notice, useAction } from '../../components/ui.tsx'
import { formatDate } from '../../dates.ts'
import { afterConfirm, safeReturnPath } from '../../return-to.ts'
import { STORAGE_KEY } from './invitation.tsx'
import { roleList } from './model.ts'
import { TeamError, TeamLogo } from './widgets.tsx'
import type { MyInvitation } from '../../../teams/invitations/schemas.ts'
import type { JoinedTeam } from '../../../teams/schemas.ts'
import './teams.css'


/**
 * The invitations waiting for the signed-in person (GET /me/invitations), each with Accept:
 * shown on the Teams page, at onboarding and in the inbox, so an invitation does not depend on
 * finding its email again. Renders nothing when none waits (or before the email is confirmed,
 * when the server lists none).
 */
export function PendingInvitations({ onJoined }: { onJoined?: () => void }) {
  const { t, i18n } = useTranslation()
  const { me } = useSession()
  const headingId = useId()
  const [invitations, setInvitations] = useState<MyInvitation[] | null>(null)
  const [joined, setJoined] = useState<JoinedTeam | null>(null)
  const confirmed = me?.emailConfirmed ?? false
  useEffect(() => {
    if (!confirmed) return
    let current = true
    api<{ invitations: MyInvitation[] }>('GET', '/me/invitations').then((res) => { if (current) setInvitations(res.invitations) }, () => {})
    return () => { current = false }
  }, [confirmed])
  const accept = useAction(async (invitation: MyInvitation) => {
    const res = await api<JoinedTeam>('POST', `/me/invitations/${encodeURIComponent(invitation.id)}/accept`, {})
    setJoined(res)
    setInvitations((prev) => prev?.filter((i) => i.id !== invitation.id) ?? null)
    onJoined?.()
  })
  if (!joined && !invitations?.length) return null
  return (
    <section className="card pending-invitations" aria-labelledby={headingId}>
      <h2 id={headingId}>{t('teams.pending.title')}</h2>
      {joined ? (
        <Notice tone="success">
          {t('teams.pending.joined', { name: joined.name, roles: roleList(t, joined.roles) })}{' '}
          <Link to={`/teams/${joined.slug}`}>{t('teams.accept.openTeam')}</Link>
        </Notice>
      ) : null}
      <TeamError error={accept.error} />
      {invitations?.length ? (
        <ul className="list team-list">
          {invitations.map((invitation) => (
            <li key={invitation.id}>
              <TeamLogo name={invitation.team.name} url={invitation.team.logoUrl} />
              <div className="grow">
                <strong className="team-name">{invitation.team.name}</strong>
                <p className="hint">
                  {invitation.inviter
                    ? t('teams.pending.byWhom', { inviter: invitation.inviter, roles: roleList(t, invitation.roles) })
                    : t('teams.pending.roles', { roles: roleList(t, invitation.roles) })}
                  {invitation.sentAt ? ` · ${t('teams.pending.sent', { date: formatDate(invitation.sentAt, i18n.language) })}` : ''}
                </p>
              </div>
              <Button busy={accept.busy} aria-label={t('teams.pending.acceptOf', { name: invitation.team.name })} onClick={() => void accept.run(invitation)}>
                {t('teams.accept.button')}
              </Button>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  )
}

/**
 * At onboarding, right after signing up from an invitation (`?next=` from the sign-up page, or
 * an emailed invitation opened earlier in this tab): a way back to it, and, while the email is
 * unconfirmed, word that the confirmation link leads back there by itself.
 */
export function InvitationWaitingNotice() {
  const { t } = useTranslation()
  const { me } = useSession()
  const [params] = useSearchParams()
  const back = safeReturnPath(params.get('next')) ?? afterConfirm() ?? (sessionStorage.getItem(STORAGE_KEY) ? '/invitations/accept' : null)
  if (!back) return null
  return (
    <Notice>
      {me && !me.emailConfirmed ? t('teams.onboarding.invitedConfirm') : t('teams.onboarding.invited')}{' '}
      <Link to={back}>{t('teams.onboarding.invitedLink')}</Link>
    </Notice>
  )
}
