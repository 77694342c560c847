import { createCipheriv, createDecipheriv, hash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'

/** 256 bits from the CSPRNG, base64url: session tokens and every emailed single-use link. */
export function newToken(): string {
  return randomBytes(32).toString('base64url')
}

/** Tokens are stored only as this hash, so a database leak yields nothing that signs in. */
export function hashToken(token: string): string {
  // One-shot crypto.hash: no Hash object per call (this runs on every authenticated request).
  return hash('sha256', token, 'base64url')
}

export function newId(): string {
  return randomUUID()
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

/** AES-256-GCM for secrets Latchkey must read back (TOTP seeds): `v1.<iv>.<tag>.<ciphertext>`. */
export function encryptSecret(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.')
}

export function decryptSecret(key: Buffer, sealed: string): string {
  const [version, iv, tag, data] = sealed.split('.')
  if (version !== 'v1') throw new Error('unknown secret format')
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8')
}
