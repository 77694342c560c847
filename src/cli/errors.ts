/**
 * What the user commands of the `latchkey` CLI (login, whoami, ...) can fail with. Each reason has
 * its own exit code so scripts can tell "sign in again" from "the server is down"; the README's
 * CLI section lists them.
 */
export const CLI_EXIT_CODES = {
  /** Anything unexpected. */
  failure: 1,
  /** A wrong option or argument (also what commander and the operator commands use). */
  usage: 2,
  /** No account signed in, no such account, or the session was ended: run `latchkey login`. */
  not_signed_in: 3,
  /** The server could not be reached (connection refused, DNS, timeout) or did not answer as an OAuth server. */
  unreachable: 4,
  /** Sign-in refused: skipped or denied in the browser, or expired on the server. */
  access_denied: 5,
  /** Nobody finished signing in within the time allowed (5 minutes). */
  timed_out: 6,
  /** Ctrl-C. */
  cancelled: 130,
} as const

export type CliErrorCode = keyof typeof CLI_EXIT_CODES

export class CliError extends Error {
  readonly code: CliErrorCode
  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CliError'
    this.code = code
  }

  get exitCode(): number {
    return CLI_EXIT_CODES[this.code]
  }
}
