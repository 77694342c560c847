/**
 * Where a page may send a person back to after signing up, signing in or confirming an email
 * (`next`): only a path on this same site. An absolute URL (`https://evil.example`), a
 * protocol-relative one (`//evil.example`), a backslash (`/\evil.example`, which browsers read
 * as `//`), and whitespace or control characters (which browsers strip before reading) are
 * refused, so `next` can never become an open redirect. Shared by the server (which puts it in
 * emailed links) and the web app (which follows it); it imports nothing.
 */
export const RETURN_PATH_MAX_LENGTH = 512

export const RETURN_PATH_PATTERN = '^/(?![/\\\\])[^\\u0000-\\u0020\\\\\\u007f]*$'
const returnPath = new RegExp(RETURN_PATH_PATTERN)

export function isReturnPath(value: unknown): value is string {
  return typeof value === 'string' && value.length <= RETURN_PATH_MAX_LENGTH && returnPath.test(value)
}
