/**
 * Reading API answers in tests, for every client (TestClient over inject, the cluster's HttpClient
 * over sockets, a suite's own fetch): the error body is the one shape every failing route shares.
 * Imports only types and vitest, so a suite that starts the server as a process loads no server code.
 */
import { expect } from 'vitest'
import type { ErrorCode } from '../../src/errors.ts'
import type { ErrorBody } from '../../src/http/schemas.ts'

/**
 * The `error` of a failed API answer (src/http/schemas.ts: `code` is the catalog's `ErrorCode`).
 * Throws when the body is not one, so a test that guessed wrong fails on the answer it got.
 */
export function errorOf(res: { status: number; body: unknown }): ErrorBody {
  const error = typeof res.body === 'object' && res.body !== null ? (res.body as { error?: unknown }).error : undefined
  if (typeof error !== 'object' || error === null || typeof (error as { code?: unknown }).code !== 'string') {
    throw new Error(`expected an API error, got ${res.status} ${typeof res.body === 'string' ? res.body.slice(0, 300) : JSON.stringify(res.body)}`)
  }
  return error as ErrorBody
}

/** Asserts the answer is `status` with error `code` (a typo in the code fails the typecheck); returns the error. */
export function expectError(res: { status: number; body: unknown }, status: number, code: ErrorCode): ErrorBody {
  const error = errorOf(res)
  expect({ status: res.status, code: error.code }, error.message).toEqual({ status, code })
  return error
}

/** Asserts the answer is an error with `code`, whatever its status (a typo in the code fails the typecheck). */
export function expectErrorCode(res: { status: number; body: unknown }, code: ErrorCode): ErrorBody {
  const error = errorOf(res)
  expect(error.code, error.message).toBe(code)
  return error
}

/**
 * An error's extra fields beyond the documented ones (`ErrorResponse` allows additional properties:
 * `AppError` details such as `returnTo` or `methods`). Typed `unknown` on purpose: the schema does
 * not describe them, so a test that reads one says so here.
 */
export function errorDetails(res: { status: number; body: unknown }): Readonly<Record<string, unknown>> {
  return errorOf(res) as Readonly<Record<string, unknown>>
}

/** The error code of an answer, or undefined when it is not an error: for table-driven checks that compare whole rows. */
export function errorCodeOf(res: { status: number; body: unknown }): ErrorCode | undefined {
  const error = typeof res.body === 'object' && res.body !== null ? (res.body as { error?: { code?: unknown } }).error : undefined
  return typeof error === 'object' && error !== null && typeof error.code === 'string' ? errorOf(res).code : undefined
}
