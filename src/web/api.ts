/** The one way the web app talks to the API: JSON, same-origin cookie, errors as ApiError. */
import type { ErrorCode } from '../errors.ts'
import type { ErrorBody } from '../http/schemas.ts'

/**
 * The server's codes, and the two the web app gives a failure that is not an answer of the API:
 * the server could not be reached, or the page's own code threw.
 */
export type ApiErrorCode = ErrorCode | 'network_error' | 'client_error'

export type ApiErrorBody = Omit<ErrorBody, 'code'> & { code: ApiErrorCode }

export class ApiError extends Error {
  readonly status: number
  readonly body: ApiErrorBody
  constructor(status: number, body: ApiErrorBody) {
    super(body.message)
    this.status = status
    this.body = body
  }
  get code(): ApiErrorCode {
    return this.body.code
  }
}

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch {
    throw new ApiError(0, { code: 'network_error', message: 'The server could not be reached. Check your connection and try again.' })
  }
  const text = await res.text()
  const data = text ? JSON.parse(text) : null
  if (!res.ok) throw new ApiError(res.status, data?.error ?? { code: 'internal_error', message: res.statusText })
  return data as T
}

/** The API's shapes the whole app uses, from the server's schemas (no server code comes with them). */
export type { AccountView as Account } from '../accounts/schemas.ts'
export type { BrowserAccount } from '../signin/schemas.ts'
/** The job roles the profile offers, as the API validates them. */
export { JOB_ROLES } from '../accounts/limits.ts'

/** Turns a base64url token out of the URL fragment (emailed links keep tokens out of server logs). */
export function tokenFromFragment(): string | null {
  return new URLSearchParams(window.location.hash.slice(1)).get('token')
}
