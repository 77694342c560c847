/** Teams the person may ask to join (team discovery, SPEC §7): filled in once its API lands. */
export function DiscoverableTeams(_props: { onJoined?: () => void; compact?: boolean }) {
  return null
}
