import { can, type TeamPageData } from './model.ts'
import { InviteLinksSection } from './links.tsx'
import { JoinRequestsSection } from './discovery.tsx'

/** Sections of the team page built on the newer team APIs. */
export function TeamExtras({ data, reload }: { data: TeamPageData; reload: () => Promise<void> }) {
  return (
    <>
      {can(data.myRoles, 'manage_members') ? <JoinRequestsSection data={data} reload={reload} /> : null}
      {can(data.myRoles, 'invite_developers') ? <InviteLinksSection data={data} reload={reload} /> : null}
    </>
  )
}
