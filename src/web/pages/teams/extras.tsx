import type { TeamPageData } from './model.ts'

/** Sections of the team page that need the newer team APIs (invite links, join requests). */
export function TeamExtras(_props: { data: TeamPageData; reload: () => Promise<void> }) {
  return null
}
