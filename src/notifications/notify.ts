/**
 * One way to tell people about something in a notification category (SPEC §6): by email
 * through the outbox and in the in-app inbox, each as the person's grid allows. Call it inside
 * the transaction of the change it reports, so a notice is never sent for a change that
 * rolled back. Security notices keep their own `notifySecurity` (some are always emailed).
 */
import type { AppContext } from '../context.ts'
import { newId } from '../crypto.ts'
import type { Queryable } from '../db/schema.ts'
import { pickLocale, renderMail, type Locale, type TemplateName, type TemplateVars } from '../mail/templates.ts'
import type { Account } from '../accounts/queries.ts'
import { preferencesOf, type Category, type Channel } from './notifications.ts'

export type Recipient = Pick<Account, 'id' | 'email' | 'locale' | 'notification_preferences'>

export interface NotifyOptions {
  /** Channels this notice may use at all (default both); the person's grid still decides. */
  channels?: readonly Channel[]
}

/**
 * Sends `template` to each recipient in their own language. `vars` may depend on the
 * recipient's locale (role names, for instance). Returns where each notice went.
 */
export async function notifyByCategory<N extends TemplateName>(
  ctx: AppContext,
  db: Queryable,
  recipients: readonly Recipient[],
  category: Exclude<Category, 'security'>,
  template: N,
  vars: TemplateVars<N> | ((locale: Locale, recipient: Recipient) => TemplateVars<N>),
  options: NotifyOptions = {},
): Promise<{ accountId: string; email: boolean; inApp: boolean }[]> {
  const channels = options.channels ?? ['email', 'inApp']
  const sent: { accountId: string; email: boolean; inApp: boolean }[] = []
  for (const recipient of recipients) {
    const grid = preferencesOf(recipient)[category]
    const locale = pickLocale(recipient.locale)
    const values = typeof vars === 'function' ? vars(locale, recipient) : vars
    const email = channels.includes('email') && grid.email
    const inApp = channels.includes('inApp') && grid.inApp
    if (email) await ctx.mailer.enqueue(db, { to: recipient.email, template, locale, vars: values })
    if (inApp) {
      const rendered = renderMail(template, values, locale)
      await db
        .insertInto('notifications')
        .values({ id: newId(), account_id: recipient.id, category, kind: template, title: rendered.subject, body: rendered.lines.join('\n'), created_at: ctx.clock.now(), read_at: null })
        .execute()
    }
    sent.push({ accountId: recipient.id, email, inApp })
  }
  return sent
}
