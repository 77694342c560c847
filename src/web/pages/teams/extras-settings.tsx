import type { TeamPageData } from './model.ts'

/** Settings sections that need the newer team APIs (logo, verified domains, discovery). */
export function TeamSettingsExtras(_props: { data: TeamPageData; reload: () => Promise<void> }) {
  return null
}
