/**
 * The Enterprise sign-in limits both sides check: the server enforces them, the web app's
 * controls read them for their hints. No imports (scripts/check-imports.ts keeps it so).
 */

/**
 * A team's maximum session length, in minutes. At least 15 minutes: below that a person cannot
 * finish a task between sign-ins (NIST 800-63B-4's AAL3 inactivity timeout is 15 minutes, the
 * strictest it asks). At most 90 days: longer would be no limit at all beside SPEC §3's 30-day
 * "stay signed in", and a typo of an extra zero should be refused rather than stored.
 */
export const MAX_SESSION_MINUTES_MIN = 15
export const MAX_SESSION_MINUTES_MAX = 90 * 24 * 60

/** An IT set-up link lives 7 days (issue 16, as WorkOS's admin portal links do). */
export const SETUP_LINK_TTL_DAYS = 7
/** Open links per team: enough for a few IT administrators, too few to hand out one per person. */
export const SETUP_LINKS_OPEN_MAX = 10
