/**
 * Where to go back to after signing up and confirming the email (the invitation the person
 * came from). Only ever a path on this site: see src/return-path.ts, which the server also uses.
 */
import { isReturnPath } from '../return-path.ts'

const AFTER_CONFIRM_KEY = 'latchkey.afterConfirm'

/** `value` when it is a path on this site, else null: never an absolute or protocol-relative URL. */
export function safeReturnPath(value: string | null | undefined): string | null {
  if (!isReturnPath(value)) return null
  // Belt and braces: whatever the browser makes of it must stay on this origin.
  return new URL(value, window.location.origin).origin === window.location.origin ? value : null
}

/**
 * Kept in this browser as well as in the emailed link, so a re-sent confirmation (whose
 * request comes from the banner, which does not know the invitation) brings them back too.
 */
export function rememberAfterConfirm(next: string | null): void {
  if (next) localStorage.setItem(AFTER_CONFIRM_KEY, next)
  else localStorage.removeItem(AFTER_CONFIRM_KEY)
}

export function afterConfirm(): string | null {
  return safeReturnPath(localStorage.getItem(AFTER_CONFIRM_KEY))
}

/** The sign-up page, told where to come back to after confirming and, when known, the invited address. */
export function signUpFromInvitation(next: string, email?: string | null): string {
  const params = new URLSearchParams({ next })
  if (email) params.set('email', email)
  return `/signup?${params.toString()}`
}
