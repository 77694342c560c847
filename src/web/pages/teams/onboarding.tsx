import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate } from 'react-router'
import { CenteredPage } from '../../components/layout.tsx'
import { Button, Notice } from '../../components/ui.tsx'
import { DiscoverableTeams } from './discovery.tsx'
import { CreateTeamForm } from './list.tsx'
import { InvitationWaitingNotice, PendingInvitations } from './pending.tsx'
import type { TeamSummary } from './model.ts'
import './teams.css'

/** Onboarding's last step: join a team found by the person's email domain, create one, or skip. */
export function OnboardingTeamsStep() {
  const { t } = useTranslation()
  const navigate = useNavigate()
  const [created, setCreated] = useState<TeamSummary | null>(null)
  return (
    <CenteredPage title={t('teams.onboarding.title')}>
      <p>{t('teams.onboarding.body')}</p>
      {/* Came from an invitation and signed up on the way: back to that invitation. */}
      <InvitationWaitingNotice />
      <PendingInvitations />
      <DiscoverableTeams compact />
      {created ? (
        <>
          <Notice tone="success">{t('teams.onboarding.created', { name: created.name })}</Notice>
          <Link className="btn btn-primary" to={`/teams/${created.slug}`}>{t('teams.onboarding.openTeam')}</Link>
        </>
      ) : (
        <>
          <h2 className="step-heading">{t('teams.onboarding.create')}</h2>
          <CreateTeamForm onCreated={setCreated} />
        </>
      )}
      <p className="aside"><Button variant="secondary" onClick={() => void navigate('/settings/profile')}>{t('teams.onboarding.skip')}</Button></p>
    </CenteredPage>
  )
}
