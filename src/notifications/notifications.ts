/**
 * Notification preferences (SPEC §6): a grid of categories × channels, and the in-app inbox.
 * Security notices go through `notifySecurity`, which honours the grid except for the
 * critical ones that are always emailed (ALWAYS_EMAILED).
 */
import type { AppContext } from '../context.ts'
import { newId } from '../crypto.ts'
import type { Queryable } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { pickLocale, renderMail, type TemplateName, type TemplateVars } from '../mail/templates.ts'
import type { Account } from '../accounts/queries.ts'

import { CATEGORIES, CHANNELS, type Category, type Channel } from './schemas.ts'

export { CATEGORIES, CHANNELS, type Category, type Channel }
export type Preferences = Record<Category, Record<Channel, boolean>>

/** SPEC §6: these go out whatever the grid says, because they may be the only sign of a takeover. */
export const ALWAYS_EMAILED: readonly TemplateName[] = [
  'password_changed',
  'username_changed',
  'email_changed',
  'email_change_requested',
  'two_factor_disabled',
  'account_deleted',
  'account_deactivated',
]

export function preferencesOf(account: Pick<Account, 'notification_preferences'>): Preferences {
  const stored = JSON.parse(account.notification_preferences || '{}') as Partial<Record<Category, Partial<Record<Channel, boolean>>>>
  const grid = {} as Preferences
  for (const category of CATEGORIES) {
    grid[category] = { email: stored[category]?.email ?? true, inApp: stored[category]?.inApp ?? true }
  }
  return grid
}

/** Sends a security notice by email and in-app, as the person's grid and ALWAYS_EMAILED say. */
export async function notifySecurity<N extends TemplateName>(
  ctx: AppContext,
  db: Queryable,
  account: Pick<Account, 'id' | 'email' | 'locale' | 'notification_preferences'>,
  template: N,
  vars: TemplateVars<N>,
  options: { to?: string; inApp?: boolean } = {},
): Promise<void> {
  const grid = preferencesOf(account)
  const locale = pickLocale(account.locale)
  if (ALWAYS_EMAILED.includes(template) || grid.security.email) {
    await ctx.mailer.enqueue(db, { to: options.to ?? account.email, template, locale, vars })
  }
  if (options.inApp !== false && grid.security.inApp) {
    const rendered = renderMail(template, vars, locale)
    await db
      .insertInto('notifications')
      .values({ id: newId(), account_id: account.id, category: 'security', kind: template, title: rendered.subject, body: rendered.lines.slice(1).join('\n'), created_at: ctx.clock.now(), read_at: null })
      .execute()
  }
}

export interface InboxPage {
  notifications: { id: string; category: string; kind: string; title: string; body: string; createdAt: string; read: boolean }[]
  unreadCount: number
  nextCursor: string | null
}

/** Newest first; the cursor is the last item's `createdAt|id`, stable under inserts. */
export async function listNotifications(ctx: AppContext, accountId: string, options: { limit: number; cursor?: string; unreadOnly?: boolean }): Promise<InboxPage> {
  let query = ctx.db.selectFrom('notifications').selectAll().where('account_id', '=', accountId)
  if (options.unreadOnly) query = query.where('read_at', 'is', null)
  if (options.cursor) {
    const [at, id] = options.cursor.split('|')
    const atMs = Number(at)
    // Whole epoch milliseconds only: anything else would reach a bigint comparison.
    if (!/^\d{1,15}$/.test(at ?? '') || !id) throw new AppError('invalid_request', { fields: { cursor: 'invalid' } })
    query = query.where((eb) => eb.or([eb('created_at', '<', atMs), eb.and([eb('created_at', '=', atMs), eb('id', '<', id)])]))
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit + 1).execute()
  const page = rows.slice(0, options.limit)
  const unread = await ctx.db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).where('read_at', 'is', null).executeTakeFirstOrThrow()
  const last = page.at(-1)
  return {
    notifications: page.map((n) => ({ id: n.id, category: n.category, kind: n.kind, title: n.title, body: n.body, createdAt: new Date(n.created_at).toISOString(), read: n.read_at !== null })),
    unreadCount: Number(unread.n),
    nextCursor: rows.length > options.limit && last ? `${last.created_at}|${last.id}` : null,
  }
}

export async function markRead(ctx: AppContext, accountId: string, notificationId: string): Promise<void> {
  const result = await ctx.db
    .updateTable('notifications')
    .set({ read_at: ctx.clock.now() })
    .where('id', '=', notificationId)
    .where('account_id', '=', accountId)
    .executeTakeFirst()
  if (Number(result.numUpdatedRows) === 0) throw new AppError('not_found', { message: 'No such notification.' })
}

export async function markAllRead(ctx: AppContext, accountId: string): Promise<number> {
  const result = await ctx.db.updateTable('notifications').set({ read_at: ctx.clock.now() }).where('account_id', '=', accountId).where('read_at', 'is', null).executeTakeFirst()
  return Number(result.numUpdatedRows)
}
