import type { FastifyRequest } from 'fastify'

/** Who sent a request, as audit rows and security notices record it. */
export function requestMeta(request: FastifyRequest): { ip: string; userAgent: string } {
  return { ip: request.ip, userAgent: String(request.headers['user-agent'] ?? '').slice(0, 512) }
}
