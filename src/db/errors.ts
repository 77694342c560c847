/** True when a write broke a UNIQUE index, on either backend. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errcode?: string; message?: string }
  return e?.code === '23505' || /UNIQUE constraint failed/i.test(e?.message ?? '')
}

/** True when a write broke a foreign key, on either backend. */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string }
  return e?.code === '23503' || /FOREIGN KEY constraint failed/i.test(e?.message ?? '')
}

/**
 * PostgreSQL error classes that mean "the server is not there right now", not "this query is
 * wrong": 08 connection exceptions, 57P01–57P03 shutdown and start-up, 53300 too many connections.
 */
const UNAVAILABLE_SQLSTATES = new Set(['08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300'])
const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])
// node-postgres raises these without a code when a connection dies or cannot be had in time.
const UNAVAILABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly)/

/**
 * True when a query failed because the database could not be reached (down, restarting, or
 * out of connections): the request is answered `503 service_unavailable`, and the pool
 * reconnects by itself once the database is back.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; errors?: unknown[]; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATES.has(e.code) || UNAVAILABLE_SOCKET_CODES.has(e.code))) return true
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true
    // A host name with several addresses fails with an AggregateError of one error per address.
    if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((inner) => isDatabaseUnavailable(inner))) return true
  }
  return false
}
