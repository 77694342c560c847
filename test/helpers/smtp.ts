/** A real SMTP server on loopback that keeps what it receives, parsed by mailparser. */
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import type { AddressInfo } from 'node:net'

export interface CaughtMail {
  to: string
  subject: string
  text: string
  html: string
  raw: ParsedMail
}

export class SmtpCatcher {
  readonly messages: CaughtMail[] = []
  #server: SMTPServer
  #waiters: Array<() => void> = []
  #port = 0

  constructor() {
    this.#server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((parsed) => {
            for (const rcpt of session.envelope.rcptTo) {
              this.messages.push({ to: rcpt.address, subject: parsed.subject ?? '', text: parsed.text ?? '', html: typeof parsed.html === 'string' ? parsed.html : '', raw: parsed })
            }
            for (const wake of this.#waiters.splice(0)) wake()
            callback()
          })
          .catch(callback)
      },
    })
  }

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(port, '127.0.0.1', () => resolve())
    })
    this.#port = (this.#server.server.address() as AddressInfo).port
    return this
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.#port}`
  }

  get port(): number {
    return this.#port
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  /**
   * Waits for a message to `to` whose subject matches; fails after `timeoutMs`. Deadlines here and
   * in the other test waits run on the monotonic clock: on this VM the wall clock was seen to jump,
   * and a Date.now() deadline then failed a 10-second wait after 3.7 s.
   */
  async waitFor(to: string, subject?: RegExp, timeoutMs = 10_000): Promise<CaughtMail> {
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const found = this.messages.find((m) => m.to.toLowerCase() === to.toLowerCase() && (!subject || subject.test(m.subject)))
      if (found) return found
      const left = deadline - performance.now()
      if (left <= 0) throw new Error(`no mail to ${to}${subject ? ` matching ${subject}` : ''} within ${timeoutMs} ms; got: ${this.messages.map((m) => `${m.to}: ${m.subject}`).join('; ') || 'nothing'}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250))
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  messagesTo(to: string): CaughtMail[] {
    return this.messages.filter((m) => m.to.toLowerCase() === to.toLowerCase())
  }
}

/** Pulls the single-use token out of an emailed link (it rides in the URL fragment). */
export function tokenFrom(mail: CaughtMail): string {
  const match = /#token=([A-Za-z0-9_-]{43})/.exec(mail.text)
  if (!match) throw new Error(`no token link in mail "${mail.subject}"`)
  return match[1]
}
