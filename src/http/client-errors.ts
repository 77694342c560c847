/**
 * Requests Node's HTTP parser refuses before Fastify sees them (an over-long header or query, a
 * bad Content-Length or chunk size, Content-Length beside Transfer-Encoding, bare-LF line endings,
 * a bad request line) and HTTP/1.1 requests without a Host header get the same
 * `{"error": {"code", "message"}}` body as everything else, instead of Fastify's default.
 */
import type { Socket } from 'node:net'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { AppError } from '../errors.ts'

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

/** Which catalogued error a parser error code stands for (llhttp's HPE_* codes, Node's own). */
function errorFor(code: string | undefined): AppError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new AppError('headers_too_large')
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError('request_timeout')
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return malformed('The Content-Length header is not valid, or is sent beside Transfer-Encoding.')
    case 'HPE_INVALID_CHUNK_SIZE':
      return malformed('A chunk size in the chunked body is not valid.')
    case 'HPE_LF_EXPECTED':
    case 'HPE_CR_EXPECTED':
      return malformed('Lines must end with CR LF.')
    case 'HPE_INVALID_METHOD':
    case 'HPE_INVALID_URL':
    case 'HPE_INVALID_VERSION':
      return malformed('The request line is not valid.')
    default:
      return malformed('The request is not well-formed HTTP/1.1.')
  }
}

function malformed(message: string): AppError {
  return new AppError('malformed_request', { message })
}

function rawResponse(error: AppError): string {
  const body = JSON.stringify(error.toJSON())
  return [
    `HTTP/1.1 ${error.status} ${STATUS_TEXT[error.status] ?? 'Bad Request'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    '',
    body,
  ].join('\r\n')
}

/**
 * Fastify's `clientErrorHandler`: Node's server `clientError` event. Nothing of the request is
 * logged (its bytes may hold a cookie or a bearer token), only the parser's code.
 */
export function clientErrorHandler(log: FastifyBaseLogger) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    // A reset connection has no one left to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    const error = errorFor(err.code)
    log.debug({ parserError: err.code, status: error.status }, 'malformed request refused')
    // As Node does: answer only when no response has started on this connection.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
    if (socket.writable && !inFlight?.headersSent) socket.end(rawResponse(error))
    else socket.destroy()
  }
}

/**
 * RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without Host. Node would send
 * an empty 400 itself; it is told not to (`requireHostHeader: false`), so the answer has a body.
 */
export const hostHeaderRequired: onRequestHookHandler = (request: FastifyRequest, _reply: FastifyReply, done) => {
  const raw = request.raw
  const missing = raw.headers.host === undefined && raw.httpVersionMajor === 1 && raw.httpVersionMinor >= 1
  done(missing ? malformed('An HTTP/1.1 request must have a Host header.') : undefined)
}
