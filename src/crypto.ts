import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'

/** 256 bits from the CSPRNG, base64url: session tokens and every emailed single-use link. */
export function newToken(): string {
  return randomBytes(32).toString('base64url')
}

/** Tokens are stored only as this hash, so a database leak yields nothing that signs in. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

export function newId(): string {
  return randomUUID()
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}
