/**
 * oidc-provider's storage adapter on Latchkey's database (SQLite or PostgreSQL through
 * Kysely): every artifact (authorization codes, access and refresh tokens, grants,
 * interactions, device codes, its own sessions, confidential clients) is a row of
 * `oauth_models`, with the columns it is looked up by. Expiry is measured with ctx.clock.
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
import { clientMetadataFromRow } from './clients.ts'
import { evictCachedSessions } from '../sessions/sessions.ts'

/** Models whose rows belong to a grant: revoking the grant removes them. */
const GRANT_BOUND = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'Grant'])

export function createAdapterClass(ctx: AppContext) {
  return class KyselyAdapter implements Adapter {
    readonly model: string
    constructor(model: string) {
      this.model = model
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const now = ctx.clock.now()
      const row = {
        payload: JSON.stringify(payload),
        grant_id: (payload.grantId as string | undefined) ?? (this.model === 'Grant' ? id : null),
        user_code: (payload.userCode as string | undefined) ?? null,
        uid: (payload.uid as string | undefined) ?? null,
        client_id: (payload.clientId as string | undefined) ?? null,
        account_id: (payload.accountId as string | undefined) ?? null,
        expires_at: typeof expiresIn === 'number' && expiresIn > 0 ? now + expiresIn * 1000 : null,
      }
      const updated = await ctx.db.updateTable('oauth_models').set(row).where('model', '=', this.model).where('id', '=', id).executeTakeFirst()
      if (Number(updated.numUpdatedRows) > 0) return
      try {
        await ctx.db.insertInto('oauth_models').values({ model: this.model, id, ...row, created_at: now, consumed_at: null }).execute()
      } catch (err) {
        if (!isUniqueViolation(err)) throw err
        await ctx.db.updateTable('oauth_models').set(row).where('model', '=', this.model).where('id', '=', id).execute()
      }
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return findClient(ctx, id)
      const row = await ctx.db.selectFrom('oauth_models').selectAll().where('model', '=', this.model).where('id', '=', id).executeTakeFirst()
      return this.#live(row)
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const row = await ctx.db.selectFrom('oauth_models').selectAll().where('model', '=', this.model).where('user_code', '=', userCode).executeTakeFirst()
      return this.#live(row)
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const row = await ctx.db.selectFrom('oauth_models').selectAll().where('model', '=', this.model).where('uid', '=', uid).executeTakeFirst()
      return this.#live(row)
    }

    async consume(id: string): Promise<void> {
      await ctx.db.updateTable('oauth_models').set({ consumed_at: ctx.clock.now() }).where('model', '=', this.model).where('id', '=', id).execute()
    }

    async destroy(id: string): Promise<void> {
      await ctx.db.deleteFrom('oauth_models').where('model', '=', this.model).where('id', '=', id).execute()
    }

    /**
     * oidc-provider revokes a grant on logout through the revocation endpoint, on a reused
     * refresh token or authorization code: the app session it belonged to ends with it.
     */
    async revokeByGrantId(grantId: string): Promise<void> {
      const ended = await ctx.db.transaction().execute(async (trx) => {
        await revokeGrant(trx, grantId)
        const link = await trx.selectFrom('oauth_app_sessions').select(['session_id', 'account_id']).where('grant_id', '=', grantId).executeTakeFirst()
        if (!link) return null
        await trx.deleteFrom('sessions').where('id', '=', link.session_id).execute()
        await trx.deleteFrom('oauth_app_sessions').where('session_id', '=', link.session_id).execute()
        return link.account_id
      })
      if (ended) await evictCachedSessions(ctx, ended)
    }

    async #live(row: { payload: string; expires_at: number | null; consumed_at: number | null; grant_id: string | null } | undefined): Promise<AdapterPayload | undefined> {
      if (!row) return undefined
      const now = ctx.clock.now()
      // A device code past its time stays readable so the polling app hears `expired_token`
      // (oidc-provider checks its expiry itself) rather than an unknown code.
      if (row.expires_at !== null && row.expires_at <= now && this.model !== 'DeviceCode') return undefined
      if (row.grant_id && GRANT_BOUND.has(this.model) && !(await appSessionAlive(ctx, row.grant_id))) return undefined
      const payload = JSON.parse(row.payload) as AdapterPayload
      if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000)
      return payload
    }
  }
}

/** False only for a grant that belonged to an app session which has since ended. */
async function appSessionAlive(ctx: AppContext, grantId: string): Promise<boolean> {
  const link = await ctx.db
    .selectFrom('oauth_app_sessions')
    .leftJoin('sessions', 'sessions.id', 'oauth_app_sessions.session_id')
    .select(['sessions.id as live_id', 'sessions.expires_at as expires_at'])
    .where('oauth_app_sessions.grant_id', '=', grantId)
    .executeTakeFirst()
  if (!link) return true
  return link.live_id !== null && (link.expires_at ?? 0) > ctx.clock.now()
}

/** Removes a grant and everything issued under it (codes, access and refresh tokens, device codes). */
export async function revokeGrant(db: Queryable, grantId: string): Promise<void> {
  await db.deleteFrom('oauth_models').where('grant_id', '=', grantId).execute()
  await db.deleteFrom('oauth_models').where('model', '=', 'Grant').where('id', '=', grantId).execute()
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
  const orphans = await ctx.db
    .selectFrom('oauth_app_sessions')
    .leftJoin('sessions', 'sessions.id', 'oauth_app_sessions.session_id')
    .select(['oauth_app_sessions.session_id', 'oauth_app_sessions.grant_id'])
    .where((eb) => eb.or([eb('sessions.id', 'is', null), eb('sessions.expires_at', '<=', now)]))
    .limit(500)
    .execute()
  for (const orphan of orphans) {
    await ctx.db.transaction().execute(async (trx) => {
      await revokeGrant(trx, orphan.grant_id)
      await trx.deleteFrom('oauth_app_sessions').where('session_id', '=', orphan.session_id).execute()
    })
  }
}
