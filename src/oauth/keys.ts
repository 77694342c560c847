/**
 * ID token signing keys, kept in the database so every instance signs with the same key and
 * publishes the same JWKS. Private keys are sealed with ctx.secretsKey (AES-256-GCM), like
 * TOTP seeds. `rotateSigningKey` makes a new key the signing one; retired keys stay in the
 * JWKS until every ID token they signed has expired, then `pruneRetiredKeys` drops them.
 */
import { generateKeyPairSync } from 'node:crypto'
import type { JWK } from 'oidc-provider'
import type { AppContext } from '../context.ts'
import { inTransaction } from '../context.ts'
import { decryptSecret, encryptSecret, newToken } from '../crypto.ts'
import { isUniqueViolation } from '../db/errors.ts'
import { MINUTE_MS, SECOND_MS } from '../clock.ts'

/** ID tokens live this long (provider ttl.IdToken). */
export const ID_TOKEN_TTL_SECONDS = 3600
/** A retired key verifies for the ID token lifetime plus slack for clock skew and caches. */
export const RETIRED_KEY_KEEP_MS = ID_TOKEN_TTL_SECONDS * SECOND_MS + 15 * MINUTE_MS
const ALG = 'RS256'

function newKey(ctx: AppContext, now: number) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = newToken().slice(0, 16)
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: ALG, use: 'sig' }
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: ALG, use: 'sig' }
  return {
    kid,
    alg: ALG,
    public_jwk: JSON.stringify(publicJwk),
    private_jwk_encrypted: encryptSecret(ctx.secretsKey, JSON.stringify(privateJwk)),
    created_at: now,
    retired_at: null,
  }
}

/** Makes sure one signing key exists (the first start of a fresh install). */
export async function ensureSigningKey(ctx: AppContext): Promise<void> {
  const current = await ctx.db.selectFrom('oauth_signing_keys').select('kid').where('retired_at', 'is', null).executeTakeFirst()
  if (current) return
  try {
    await ctx.db.insertInto('oauth_signing_keys').values(newKey(ctx, ctx.clock.now())).execute()
  } catch (err) {
    if (!isUniqueViolation(err)) throw err
  }
}

/** A new key signs from now on; the old ones are retired (still published, still verify). */
export async function rotateSigningKey(ctx: AppContext): Promise<{ kid: string; retired: string[]; pruned: string[] }> {
  const now = ctx.clock.now()
  const key = newKey(ctx, now)
  const retired = await inTransaction(ctx, async (trx) => {
    const active = await trx.selectFrom('oauth_signing_keys').select('kid').where('retired_at', 'is', null).execute()
    await trx.updateTable('oauth_signing_keys').set({ retired_at: now }).where('retired_at', 'is', null).execute()
    await trx.insertInto('oauth_signing_keys').values(key).execute()
    return active.map((k) => k.kid)
  })
  const pruned = await pruneRetiredKeys(ctx)
  return { kid: key.kid, retired, pruned }
}

export async function pruneRetiredKeys(ctx: AppContext): Promise<string[]> {
  const cutoff = ctx.clock.now() - RETIRED_KEY_KEEP_MS
  const old = await ctx.db.selectFrom('oauth_signing_keys').select('kid').where('retired_at', 'is not', null).where('retired_at', '<=', cutoff).execute()
  if (old.length) await ctx.db.deleteFrom('oauth_signing_keys').where('kid', 'in', old.map((k) => k.kid)).execute()
  return old.map((k) => k.kid)
}

export interface SigningKeyView {
  kid: string
  alg: string
  createdAt: number
  retiredAt: number | null
}

export async function listSigningKeys(ctx: AppContext): Promise<SigningKeyView[]> {
  const rows = await ctx.db.selectFrom('oauth_signing_keys').select(['kid', 'alg', 'created_at', 'retired_at']).orderBy('created_at', 'desc').execute()
  return rows.map((r) => ({ kid: r.kid, alg: r.alg, createdAt: r.created_at, retiredAt: r.retired_at }))
}

/**
 * The private JWKS for oidc-provider: the signing key first (it signs with the first key of
 * the algorithm), then retired keys (published for verification only), plus a fingerprint
 * that changes whenever the set does.
 */
export async function loadJwks(ctx: AppContext): Promise<{ keys: JWK[]; fingerprint: string }> {
  const rows = await ctx.db.selectFrom('oauth_signing_keys').selectAll().execute()
  rows.sort((a, b) => (a.retired_at === null ? -1 : b.retired_at === null ? 1 : b.created_at - a.created_at))
  // oidc-provider keeps this order when it picks a key (a stable sort by fitness), so the
  // active key signs and retired keys only verify.
  const keys = rows.map((r) => JSON.parse(decryptSecret(ctx.secretsKey, r.private_jwk_encrypted)) as JWK)
  return { keys, fingerprint: rows.map((r) => `${r.kid}:${r.retired_at ?? ''}`).join(',') }
}

export async function keysFingerprint(ctx: AppContext): Promise<string> {
  const rows = await ctx.db.selectFrom('oauth_signing_keys').select(['kid', 'retired_at', 'created_at']).execute()
  rows.sort((a, b) => (a.retired_at === null ? -1 : b.retired_at === null ? 1 : b.created_at - a.created_at))
  return rows.map((r) => `${r.kid}:${r.retired_at ?? ''}`).join(',')
}
