/**
 * oidc-provider's storage adapter on Latchkey's database (SQLite or PostgreSQL through
 * Kysely): every artifact (authorization codes, access and refresh tokens, grants,
 * interactions, device codes, its own sessions) is a row of `oauth_models`, with the columns
 * it is looked up by. Expiry is measured with ctx.clock.
 *
 * Ids are stored only as SHA-256 hashes (`storedId`): for opaque tokens the id *is* the token
 * (and for oidc-provider's browser session, the cookie value), so a copy of the database holds
 * no usable access token, refresh token, code or session; user codes are hashed too. The
 * payload's own copy of the id (`jti`) is sealed with ctx.secretsKey (AES-256-GCM), for the
 * lookups by user code or uid that must give it back.
 *
 * One Latchkey rule lives here: a token of an app sign-in (a grant linked to a Latchkey
 * session in `oauth_app_sessions`) is only found while that session lives. Revoking the
 * session, "sign out everywhere", a password change or reset, deactivation: whatever ended
 * the session, the app's tokens stop working on the very next request, on every instance.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider'
import type { AppContext } from '../context.ts'
import type { Queryable } from '../db/schema.ts'
import { isUniqueViolation } from '../db/errors.ts'
import { decryptSecret, encryptSecret, hashToken } from '../crypto.ts'
import { clientMetadataFromRow } from './clients.ts'
import { inTransaction } from '../context.ts'
import { endSession, liveSessionIds, markSessionsActive } from '../sessions/sessions.ts'

const SEALED_JTI = '_jtiSealed'
const SEALED_USER_CODE = '_userCodeSealed'

/** oidc-provider stores user codes without their mask ("-") and in upper case. */
function normalizeUserCode(code: string): string {
  return code.replace(/[^A-Za-z0-9]/g, '').toUpperCase()
}

/** Models whose rows belong to a grant: revoking the grant removes them. */
const GRANT_BOUND = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'Grant'])

/** The database key of an artifact id (a token, code, session id, interaction uid). */
export function storedId(id: string): string {
  return hashToken(id)
}

export function createAdapterClass(ctx: AppContext) {
  return class KyselyAdapter implements Adapter {
    readonly model: string
    constructor(model: string) {
      this.model = model
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const now = ctx.clock.now()
      // Lookups by user code or uid need the id back, and the device pages show the user code:
      // both are kept sealed with the secrets key.
      const { jti, userCode, ...rest } = payload
      const stored: Record<string, unknown> = { ...rest }
      if (typeof jti === 'string') stored[SEALED_JTI] = encryptSecret(ctx.secretsKey, jti)
      if (typeof userCode === 'string') stored[SEALED_USER_CODE] = encryptSecret(ctx.secretsKey, userCode)
      const row = {
        payload: JSON.stringify(stored),
        grant_id: (payload.grantId as string | undefined) ?? (this.model === 'Grant' ? id : null),
        user_code: typeof payload.userCode === 'string' ? storedId(normalizeUserCode(payload.userCode)) : null,
        uid: (payload.uid as string | undefined) ?? null,
        client_id: (payload.clientId as string | undefined) ?? null,
        account_id: (payload.accountId as string | undefined) ?? null,
        expires_at: typeof expiresIn === 'number' && expiresIn > 0 ? now + expiresIn * 1000 : null,
      }
      // A token issued to an app session (sign-in or refresh) is that session's activity.
      if (this.model === 'AccessToken' && typeof payload.grantId === 'string') {
        const links = await ctx.db.selectFrom('oauth_app_sessions').select('session_id').where('grant_id', '=', payload.grantId).execute()
        await markSessionsActive(ctx.db, links.map((l) => l.session_id), now)
      }
      const key = storedId(id)
      const updated = await ctx.db.updateTable('oauth_models').set(row).where('model', '=', this.model).where('id', '=', key).executeTakeFirst()
      if (Number(updated.numUpdatedRows) > 0) return
      try {
        await ctx.db.insertInto('oauth_models').values({ model: this.model, id: key, ...row, created_at: now, consumed_at: null }).execute()
      } catch (err) {
        if (!isUniqueViolation(err)) throw err
        await ctx.db.updateTable('oauth_models').set(row).where('model', '=', this.model).where('id', '=', key).execute()
      }
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return findClient(ctx, id)
      const row = await ctx.db.selectFrom('oauth_models').selectAll().where('model', '=', this.model).where('id', '=', storedId(id)).executeTakeFirst()
      return this.#live(row, id)
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const row = await ctx.db.selectFrom('oauth_models').selectAll().where('model', '=', this.model).where('user_code', '=', storedId(normalizeUserCode(userCode))).executeTakeFirst()
      return this.#live(row)
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const row = await ctx.db.selectFrom('oauth_models').selectAll().where('model', '=', this.model).where('uid', '=', uid).executeTakeFirst()
      return this.#live(row)
    }

    async consume(id: string): Promise<void> {
      await ctx.db.updateTable('oauth_models').set({ consumed_at: ctx.clock.now() }).where('model', '=', this.model).where('id', '=', storedId(id)).execute()
    }

    async destroy(id: string): Promise<void> {
      await ctx.db.deleteFrom('oauth_models').where('model', '=', this.model).where('id', '=', storedId(id)).execute()
    }

    /**
     * oidc-provider revokes a grant on logout through the revocation endpoint, on a reused
     * refresh token or authorization code: the app session it belonged to ends with it.
     */
    async revokeByGrantId(grantId: string): Promise<void> {
      await inTransaction(ctx, async (trx) => {
        await revokeGrant(trx, grantId)
        const link = await trx.selectFrom('oauth_app_sessions').select(['session_id', 'account_id']).where('grant_id', '=', grantId).executeTakeFirst()
        if (!link) return
        // Ending the session ends its app-session link too (revokeAppSessionGrants listens).
        await endSession(ctx, trx, { accountId: link.account_id, sessionId: link.session_id })
      })
    }

    async #live(row: { payload: string; expires_at: number | null; consumed_at: number | null; grant_id: string | null } | undefined, id?: string): Promise<AdapterPayload | undefined> {
      if (!row) return undefined
      const now = ctx.clock.now()
      // A device code past its time stays readable so the polling app hears `expired_token`
      // (oidc-provider checks its expiry itself) rather than an unknown code.
      if (row.expires_at !== null && row.expires_at <= now && this.model !== 'DeviceCode') return undefined
      if (row.grant_id && GRANT_BOUND.has(this.model) && !(await appSessionAlive(ctx, row.grant_id))) return undefined
      const payload = JSON.parse(row.payload) as AdapterPayload & { [SEALED_JTI]?: string; [SEALED_USER_CODE]?: string }
      const sealedJti = payload[SEALED_JTI]
      const sealedUserCode = payload[SEALED_USER_CODE]
      delete payload[SEALED_JTI]
      delete payload[SEALED_USER_CODE]
      if (sealedJti !== undefined) payload.jti = id ?? decryptSecret(ctx.secretsKey, sealedJti)
      if (sealedUserCode !== undefined) payload.userCode = decryptSecret(ctx.secretsKey, sealedUserCode)
      if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000)
      return payload
    }
  }
}

/** False only for a grant that belonged to an app session which has since ended. */
async function appSessionAlive(ctx: AppContext, grantId: string): Promise<boolean> {
  const link = await ctx.db.selectFrom('oauth_app_sessions').select('session_id').where('grant_id', '=', grantId).executeTakeFirst()
  if (!link) return true
  return (await liveSessionIds(ctx.db, [link.session_id], ctx.clock.now())).has(link.session_id)
}

/**
 * Called by the session revoke functions in the same transaction: the grants of the app
 * sessions being ended go with them (their tokens were already refused from the moment the
 * session row was gone; this removes the rows too).
 */
export async function revokeAppSessionGrants(db: Queryable, input: { accountId: string; sessionId?: string; exceptSessionId?: string }): Promise<void> {
  let query = db.selectFrom('oauth_app_sessions').select(['session_id', 'grant_id']).where('account_id', '=', input.accountId)
  if (input.sessionId) query = query.where('session_id', '=', input.sessionId)
  if (input.exceptSessionId) query = query.where('session_id', '!=', input.exceptSessionId)
  for (const link of await query.execute()) {
    await revokeGrant(db, link.grant_id)
    await db.deleteFrom('oauth_app_sessions').where('session_id', '=', link.session_id).execute()
  }
}

/** Removes a grant and everything issued under it (codes, access and refresh tokens, device codes). */
export async function revokeGrant(db: Queryable, grantId: string): Promise<void> {
  // The grant's own row carries its id in grant_id too.
  await db.deleteFrom('oauth_models').where('grant_id', '=', grantId).execute()
}

async function findClient(ctx: AppContext, clientId: string): Promise<AdapterPayload | undefined> {
  const row = await ctx.db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst()
  return row ? (clientMetadataFromRow(row) as unknown as AdapterPayload) : undefined
}

/**
 * Housekeeping: expired artifacts, and grants whose app session ended (their tokens were
 * already refused; this frees the rows). Cheap enough to run every few minutes.
 */
export async function sweepOAuth(ctx: AppContext): Promise<void> {
  const now = ctx.clock.now()
  await ctx.db.deleteFrom('oauth_models').where('expires_at', '<=', now).execute()
  // App-session links in batches, each batch checked against the live sessions (their owner
  // answers), so the sweep reads every link once without joining a table it does not own.
  let after = ''
  for (;;) {
    const links = await ctx.db.selectFrom('oauth_app_sessions').select(['session_id', 'grant_id']).where('session_id', '>', after).orderBy('session_id').limit(500).execute()
    if (!links.length) return
    after = links[links.length - 1]!.session_id
    const live = await liveSessionIds(ctx.db, links.map((link) => link.session_id), now)
    for (const orphan of links.filter((link) => !live.has(link.session_id))) {
      await inTransaction(ctx, async (trx) => {
        await revokeGrant(trx, orphan.grant_id)
        await trx.deleteFrom('oauth_app_sessions').where('session_id', '=', orphan.session_id).execute()
      })
    }
  }
}
