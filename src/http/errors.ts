/**
 * Every failure leaves as `{"error": {"code", "message", "fields"?}}`. Bad input is always a
 * 4xx with a stable code; only a real bug is a 500, logged with the request id the client sees.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isDatabaseUnavailable } from '../db/errors.ts'
import { AppError, describeBytes, type FieldErrors } from '../errors.ts'

interface ValidationIssue {
  instancePath?: string
  schemaPath?: string
  keyword?: string
  params?: Record<string, unknown>
  message?: string
}

function reasonOf(issue: ValidationIssue): string {
  switch (issue.keyword) {
    case 'required': return 'required'
    case 'additionalProperties': return 'unknown_field'
    case 'boolean': return issue.schemaPath?.endsWith('additionalProperties') ? 'unknown_field' : 'not_allowed'
    case 'maxLength': case 'maxItems': case 'maxProperties': return 'too_long'
    case 'minLength': case 'minItems': case 'minProperties': return 'too_short'
    case 'type': return `must_be_${issue.params?.type ?? 'other'}`
    case 'pattern': case 'format': return 'invalid_format'
    case 'enum': case 'const': case 'anyOf': return 'not_allowed'
    default: return 'invalid'
  }
}

/** Each issue names one or more fields as dotted paths: `/links/0` → `links.0`. */
function fieldsOf(issue: ValidationIssue): string[] {
  const base = (issue.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.')
  const named = (issue.params?.requiredProperties ?? issue.params?.additionalProperties) as string[] | undefined
  if (Array.isArray(named) && named.length) return named.map((name) => (base ? `${base}.${name}` : name))
  return [base || 'body']
}

export function validationError(issues: ValidationIssue[], part: string): AppError {
  const fields: FieldErrors = {}
  for (const issue of issues) {
    // The first reason per field is the useful one; later ones (anyOf branches) are noise.
    for (const field of fieldsOf(issue)) if (!(field in fields)) fields[field] = reasonOf(issue)
  }
  const list = Object.keys(fields).join(', ')
  return new AppError('invalid_request', { message: `The request ${part} is not valid: check ${list}.`, fields })
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a body over this route's limit is, in the route's own words (e.g. "an avatar"). */
    tooLargeMessage?: string
  }
}

/** A body over the limit names the limit, so the person knows how far over they are. */
function tooLarge(request: FastifyRequest): AppError {
  const maxBytes = request.routeOptions.bodyLimit ?? request.server.initialConfig.bodyLimit ?? 0
  const message = request.routeOptions.config?.tooLargeMessage ?? `The request body is over the limit of ${describeBytes(maxBytes)}.`
  return new AppError('payload_too_large', { message, details: { maxBytes } })
}

function toAppError(err: FastifyError & { validation?: ValidationIssue[]; validationContext?: string }, request: FastifyRequest): AppError | undefined {
  if (err instanceof AppError) return err
  if (err.validation) return validationError(err.validation, err.validationContext ?? 'body')
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_json')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('invalid_request', { message: 'The body is shorter or longer than its Content-Length.' })
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return tooLarge(request)
  }
  if (err.statusCode === 404) return new AppError('not_found')
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new AppError('invalid_request', { message: 'The request is not valid.' })
  }
  return undefined
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = toAppError(err, request)
    if (known) {
      if (known.code === 'too_many_requests' && known.details?.retryAfterSeconds) {
        reply.header('Retry-After', String(known.details.retryAfterSeconds))
      }
      return reply.status(known.status).send(known.toJSON())
    }
    if (isDatabaseUnavailable(err)) {
      // Not a bug and not the client's fault: the pool reconnects once the database is back.
      request.log.warn({ err: (err as Error).message }, 'database unreachable')
      return reply.status(503).header('Retry-After', '1').send(new AppError('service_unavailable', { message: 'The database is not reachable right now. Try again shortly.' }).toJSON())
    }
    request.log.error({ err }, 'unhandled error')
    const body = new AppError('internal_error').toJSON()
    body.error.requestId = request.id
    return reply.status(500).send(body)
  })
}
