/**
 * Mail goes through a transactional outbox: a message is written in the same transaction
 * as the change it reports (a sign-up, a password change), so it is never lost and never sent
 * for a change that rolled back. Without SMTP_URL the outbox is where mail ends (read it with
 * `latchkey mail`); with SMTP_URL a delivery loop sends pending rows and retries failures.
 */
import type { Transporter } from 'nodemailer'
import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import { HOUR_MS, MINUTE_MS, SECOND_MS } from '../clock.ts'
import { newId } from '../crypto.ts'
import type { Db, Queryable } from '../db/schema.ts'
import { renderMail, type Locale, type TemplateName, type TemplateVars } from './templates.ts'

/**
 * A message is retried until it is this old, not for a number of attempts: an SMTP server down
 * for an hour (or a night) must not cost any mail. Retries back off from 10 s to every 30 min.
 */
export const MAIL_GIVE_UP_AFTER_MS = 24 * HOUR_MS
const MAX_RETRY_DELAY_MS = 30 * MINUTE_MS
const LEASE_MS = MINUTE_MS
const POLL_MS = 5 * SECOND_MS

export interface OutgoingMail<N extends TemplateName> {
  to: string
  template: N
  locale: Locale
  vars: TemplateVars<N>
}

export class Mailer {
  readonly #db: Db
  readonly #clock: Clock
  readonly #log: Logger
  readonly #from: string
  readonly #smtpUrl?: string
  /** Made at the first delivery: nodemailer stays unloaded where mail stays in the outbox. */
  #transport?: Promise<Transporter>
  #timer?: NodeJS.Timeout
  #running?: Promise<void>
  #rerun = false

  constructor(options: { db: Db; clock: Clock; log: Logger; from: string; smtpUrl?: string }) {
    this.#db = options.db
    this.#clock = options.clock
    this.#log = options.log
    this.#from = options.from
    this.#smtpUrl = options.smtpUrl
  }

  get delivers(): boolean {
    return this.#smtpUrl !== undefined
  }

  #smtp(smtpUrl: string): Promise<Transporter> {
    return (this.#transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(smtpUrl)))
  }

  /** Writes the message into the outbox; call inside the transaction of the change it reports. */
  async enqueue<N extends TemplateName>(db: Queryable, mail: OutgoingMail<N>): Promise<void> {
    const rendered = renderMail(mail.template, mail.vars, mail.locale)
    const now = this.#clock.now()
    await db
      .insertInto('mail_outbox')
      .values({
        id: newId(),
        to_address: mail.to,
        template: mail.template,
        locale: mail.locale,
        subject: rendered.subject,
        text_body: rendered.text,
        html_body: rendered.html,
        status: this.delivers ? 'pending' : 'outbox',
        last_error: null,
        created_at: now,
        next_attempt_at: now,
        sent_at: null,
      })
      .execute()
  }

  /** Ask the delivery loop to look now (after a commit) instead of at its next poll. */
  kick(): void {
    if (!this.delivers) return
    if (this.#running) {
      this.#rerun = true
      return
    }
    this.#running = this.#deliverDue()
      .catch((err) => this.#log.error({ err }, 'mail delivery loop failed'))
      .finally(() => {
        this.#running = undefined
        if (this.#rerun) {
          this.#rerun = false
          this.kick()
        }
      })
  }

  /** Runs a delivery pass now and resolves once no pass is running (tests with a frozen clock). */
  async deliverNow(): Promise<void> {
    this.kick()
    while (this.#running) await this.#running
  }

  start(): void {
    if (!this.delivers || this.#timer) return
    this.#timer = setInterval(() => this.kick(), POLL_MS)
    this.#timer.unref()
    this.kick()
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running
    ;(await this.#transport)?.close()
  }

  async #deliverDue(): Promise<void> {
    if (!this.#smtpUrl) return
    const transport = await this.#smtp(this.#smtpUrl)
    const now = this.#clock.now()
    const due = await this.#db
      .selectFrom('mail_outbox')
      .select(['id', 'to_address', 'subject', 'text_body', 'html_body', 'attempts', 'next_attempt_at', 'created_at'])
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('created_at')
      .limit(50)
      .execute()
    for (const mail of due) {
      // Lease the row so another instance's loop skips it while this one sends.
      const claimed = await this.#db
        .updateTable('mail_outbox')
        .set({ next_attempt_at: now + LEASE_MS, attempts: mail.attempts + 1 })
        .where('id', '=', mail.id)
        .where('status', '=', 'pending')
        .where('next_attempt_at', '=', mail.next_attempt_at)
        .executeTakeFirst()
      if (Number(claimed.numUpdatedRows) !== 1) continue
      try {
        await transport.sendMail({
          from: this.#from,
          to: mail.to_address,
          subject: mail.subject,
          text: mail.text_body ?? '',
          html: mail.html_body ?? undefined,
        })
        // Sent bodies hold single-use links; once delivered the database need not keep them.
        await this.#db
          .updateTable('mail_outbox')
          .set({ status: 'sent', sent_at: this.#clock.now(), text_body: null, html_body: null, last_error: null })
          .where('id', '=', mail.id)
          .execute()
      } catch (err) {
        const attempts = mail.attempts + 1
        const failed = this.#clock.now() - mail.created_at >= MAIL_GIVE_UP_AFTER_MS
        this.#log.warn({ mailId: mail.id, attempts, err: (err as Error).message }, failed ? 'mail delivery gave up' : 'mail delivery failed, will retry')
        await this.#db
          .updateTable('mail_outbox')
          .set({
            status: failed ? 'failed' : 'pending',
            last_error: String((err as Error).message).slice(0, 500),
            next_attempt_at: this.#clock.now() + Math.min(2 ** Math.min(attempts, 20) * 5 * SECOND_MS, MAX_RETRY_DELAY_MS),
          })
          .where('id', '=', mail.id)
          .execute()
      }
    }
  }
}
