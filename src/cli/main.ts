#!/usr/bin/env node
/**
 * The `latchkey` command: serve, migrate, back up, read the mail outbox, deactivate/reactivate accounts;
 * and, for people on their own computer, login/accounts/switch/logout/whoami (user-commands.ts).
 */
import { Command, CommanderError } from 'commander'
import os from 'node:os'
import v8 from 'node:v8'
import { OPERATOR } from '../audit/audit.ts'
import { ConfigError, loadConfig, type Config } from '../config.ts'
import { connect, describeDatabase, listMigrations, migrateToLatest } from '../db/connect.ts'
import { AppError } from '../errors.ts'
import { findOutboxMessage, listOutbox, MIN_ID_PREFIX } from '../mail/outbox.ts'
import { CliError } from './errors.ts'
import { registerUserCommands } from './user-commands.ts'
import { registerOAuthCommands } from './oauth-commands.ts'

function config(): Config {
  return loadConfig(process.env)
}

/**
 * Says on stderr (stdout stays the listing) which database a command reads: it reads the same
 * environment as `latchkey serve`, so a server started with another DATABASE_URL has another outbox.
 */
function sayWhichDatabase(cfg: Config, what: string): void {
  const source = process.env.DATABASE_URL ? 'from DATABASE_URL' : 'the default: DATABASE_URL is not set; set it as for the server to read the server\'s database'
  console.error(`Reading ${what} in ${describeDatabase(cfg.databaseUrl)} (${source}).`)
}

async function withDb<T>(work: (db: ReturnType<typeof connect>['db']) => Promise<T>, what?: string): Promise<T> {
  const cfg = config()
  if (what) sayWhichDatabase(cfg, what)
  const handle = connect(cfg.databaseUrl, { poolSize: 2 })
  try {
    await migrateToLatest(handle.db)
    return await work(handle.db)
  } finally {
    await handle.close()
  }
}

/** One line a person can act on, instead of a listen() stack trace. */
function listenProblem(code: string, cfg: Config): string {
  const where = `${cfg.host}:${cfg.port}`
  if (code === 'EADDRINUSE') return `Cannot start: port ${cfg.port} on ${cfg.host} is already in use (another Latchkey, or another program). Stop it, or pick another port with PORT (and change PUBLIC_URL to match if you set it).`
  if (code === 'EACCES') return `Cannot start: this user may not listen on ${where} (ports below 1024 need privileges). Pick another port with PORT.`
  return `Cannot start: ${cfg.host} is not an address of this machine (HOST). Use 127.0.0.1, or 0.0.0.0 for every interface.`
}

const program = new Command()
program.name('latchkey').description('Latchkey: accounts, sessions and recovery for API tools.').version('0.1.0')

program
  .command('serve')
  .description('start the server (reads PORT, PUBLIC_URL, DATABASE_URL, SMTP_URL, ... from the environment)')
  .action(async () => {
    // argon2 runs on libuv's thread pool, read once at its first use (nothing has used it yet).
    // Its default of 4 threads oversubscribes a 2-core machine (4 × 19 MiB of argon2 memory
    // fighting for the caches, and kept by the allocator) and under-uses a large one.
    process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, os.availableParallelism()))
    // Under sustained load V8 lets the old generation grow up to 4× what is live before a full
    // collection (live ~50 MB, so ~300 MB resident). 1.5× keeps the server near 200 MB for
    // about the same CPU (bench/heap-flags.ts). Set here, not on the command line, because
    // NODE_OPTIONS refuses this flag and operators start the server in many ways.
    if (!process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent'))) v8.setFlagsFromString('--heap-growing-percent=50')
    const cfg = config()
    // Loaded on demand: `migrate` and `mail` should not pay for the HTTP server's modules.
    const { createApp } = await import('../app.ts')
    const app = await createApp(cfg)
    const publicUrl = cfg.publicUrl.origin
    let address: string
    try {
      // Fastify's own line names the socket, which is not where people should go: it says so.
      address = await app.server.listen({ port: cfg.port, host: cfg.host, listenTextResolver: (bound) => `Bound to ${bound}; the app answers at PUBLIC_URL ${publicUrl} only` })
    } catch (err) {
      await app.close()
      const code = (err as { code?: string }).code
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new CliError('failure', listenProblem(code, cfg))
      throw err
    }
    app.ctx.log.info({ publicUrl, address, database: app.ctx.dialect, mail: cfg.smtpUrl ? 'smtp' : 'outbox' }, `Latchkey is running: open ${publicUrl}`)
    // A person at a terminal gets one plain line to click; log collectors get the JSON above.
    if (process.stdout.isTTY) process.stdout.write(`\nLatchkey is running: open ${publicUrl}\n\n`)
    if (!cfg.smtpUrl) app.ctx.log.info('SMTP_URL is not set: emails stay in the outbox; read them with `npm run latchkey -- mail list`')
    let closing = false
    // SIGTERM (an orchestrator, a rolling restart) drains first so the load balancer stops
    // sending requests here; Ctrl-C (SIGINT) on a developer's terminal does not wait. A second
    // signal stops at once.
    const shutdown = (signal: 'SIGINT' | 'SIGTERM') => {
      if (closing) {
        app.ctx.log.warn({ signal }, 'second signal: exiting without waiting')
        process.exit(1)
      }
      closing = true
      app.ctx.log.info({ signal }, 'shutting down')
      app.shutdown({ drainMs: signal === 'SIGTERM' ? cfg.shutdownDrainSeconds * 1000 : 0 }).then(
        () => process.exit(0),
        (err) => {
          app.ctx.log.error({ err }, 'shutdown failed')
          process.exit(1)
        },
      )
    }
    process.on('SIGINT', () => shutdown('SIGINT'))
    process.on('SIGTERM', () => shutdown('SIGTERM'))
  })

program
  .command('migrate')
  .description('apply pending database migrations (safe to run twice)')
  .option('--status', 'list migrations and whether each has run')
  .action(async (options: { status?: boolean }) => {
    const handle = connect(config().databaseUrl, { poolSize: 2 })
    try {
      if (options.status) {
        for (const m of await listMigrations(handle.db)) console.log(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}${m.executedAt ? `  ${m.executedAt.toISOString()}` : ''}`)
        return
      }
      const applied = await migrateToLatest(handle.db)
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Nothing to migrate: the database is up to date.')
    } finally {
      await handle.close()
    }
  })

program
  .command('backup <file>')
  .description('copy the SQLite database to <file>: a consistent snapshot, safe while the server runs and writes (on PostgreSQL: says how to use pg_dump)')
  .option('--force', 'replace <file> if it already exists')
  .action(async (file: string, options: { force?: boolean }) => {
    const { backupSqlite, BackupError } = await import('../db/backup.ts')
    try {
      const done = backupSqlite(config().databaseUrl, file, { overwrite: options.force === true })
      console.log(`Backed up ${done.source} to ${done.target} (${done.bytes} bytes; integrity checked).`)
    } catch (err) {
      if (err instanceof BackupError) throw new CliError('usage', err.message)
      throw err
    }
  })

const mail = program.command('mail').description('read the mail outbox')
mail
  .command('list')
  .description('list the newest messages')
  .option('-n, --limit <n>', 'how many', '20')
  .option('--to <address>', 'only messages to this address')
  .action(async (options: { limit: string; to?: string }) => {
    await withDb(async (db) => {
      const rows = await listOutbox(db, { limit: Number(options.limit) || 20, to: options.to })
      if (!rows.length) return console.log('The outbox is empty.')
      for (const r of rows) console.log(`${r.id}  ${new Date(r.created_at).toISOString()}  ${r.status.padEnd(7)}  ${r.to_address}  ${r.subject}`)
    }, 'the mail outbox')
  })
mail
  .command('show <id>')
  .description('print one message (text part, or --html); the id or a unique start of it')
  .option('--html', 'print the HTML part')
  .action(async (id: string, options: { html?: boolean }) => {
    await withDb(async (db) => {
      const { message, matches } = await findOutboxMessage(db, id)
      if (!message && matches.length > 1) {
        throw new CliError('usage', `${id} is the start of several message ids (${matches.join(', ')}${matches.length === 5 ? ', …' : ''}): give more of it.`)
      }
      if (!message) throw new AppError('not_found', { message: `No message ${id} in the outbox${id.length < MIN_ID_PREFIX ? ` (give at least ${MIN_ID_PREFIX} characters of its id)` : ''}.` })
      console.log(`Id: ${message.id}\nTo: ${message.to_address}\nSubject: ${message.subject}\nStatus: ${message.status}\nDate: ${new Date(message.created_at).toISOString()}\n`)
      console.log((options.html ? message.html_body : message.text_body) ?? '(body removed after delivery)')
    }, 'the mail outbox')
  })

const accounts = program.command('accounts').description('list the accounts this CLI is signed in to; operator actions on accounts')
for (const [name, active] of [['deactivate', false], ['reactivate', true]] as const) {
  accounts
    .command(`${name} <emailOrUsername>`)
    .description(active ? 'let a deactivated account sign in again' : 'block sign-in and end every session of an account at once')
    .action(async (login: string) => {
      const cfg = config()
      const { createLogger, openContext } = await import('../app.ts')
      const { setAccountActive } = await import('../accounts/accounts.ts')
      const opened = await openContext(cfg, { log: createLogger({ ...cfg, logLevel: 'warn' }) })
      try {
        const { account, sessionsRevoked } = await setAccountActive(opened.ctx, login, active, OPERATOR)
        console.log(`${account.username} <${account.email}> is now ${account.status}${active ? '' : `; ${sessionsRevoked} session(s) ended`}.`)
      } finally {
        // Waits for the notice email to leave when SMTP is configured; the server retries otherwise.
        await opened.close()
      }
    })
}

accounts
  .command('send-reset <emailOrUsername>')
  .description("email the owner a password reset link (single use, 1 hour): you never see the link or choose the password")
  .action(async (login: string) => {
    const cfg = config()
    const { createLogger, openContext } = await import('../app.ts')
    const { sendResetLinkByOperator } = await import('../recovery/recovery.ts')
    const opened = await openContext(cfg, { log: createLogger({ ...cfg, logLevel: 'warn' }) })
    try {
      const { username, email } = await sendResetLinkByOperator(opened.ctx, login, OPERATOR)
      console.log(`A password reset link went to ${username} <${email}>; it works once, for 1 hour.`)
    } finally {
      // Waits for the email to leave when SMTP is configured; the server retries otherwise.
      await opened.close()
    }
  })

registerUserCommands(program, accounts)
registerOAuthCommands(program)

program
  .command('two-factor')
  .description('operator actions on two-factor authentication')
  .command('reset <emailOrUsername>')
  .description('turn 2FA off for a person who lost their device and codes (verify who they are first)')
  .action(async (login: string) => {
    const cfg = config()
    const { createLogger, openContext } = await import('../app.ts')
    const { findAccount } = await import('../accounts/accounts.ts')
    const { resetTwoFactorByOperator } = await import('../two-factor/two-factor.ts')
    const opened = await openContext(cfg, { log: createLogger({ ...cfg, logLevel: 'warn' }) })
    try {
      const account = await findAccount(opened.ctx.db, login)
      const wasOn = await resetTwoFactorByOperator(opened.ctx, account, OPERATOR)
      console.log(wasOn ? `Two-factor authentication is now off for ${account.username} <${account.email}>; they were emailed.` : `${account.username} did not have two-factor authentication on; nothing changed.`)
    } finally {
      await opened.close()
    }
  })

program
  .command('sessions')
  .description('operator actions on sessions')
  .command('end [emailOrUsername]')
  .description('sign one account out everywhere, app sign-ins too, or every account with --all; nobody is kept from signing in again')
  .option('--all', 'end the sessions of every account')
  .action(async (login: string | undefined, options: { all?: boolean }) => {
    if (Boolean(login) === Boolean(options.all)) throw new CliError('usage', 'Name one account (email or username), or give --all for every account.')
    const cfg = config()
    const { createLogger, openContext } = await import('../app.ts')
    const { endEverySession, endSessionsOf } = await import('../sessions/operator.ts')
    const { findAccount } = await import('../accounts/accounts.ts')
    const opened = await openContext(cfg, { log: createLogger({ ...cfg, logLevel: 'warn' }) })
    try {
      if (login) {
        const { account, sessionsEnded } = await endSessionsOf(opened.ctx, await findAccount(opened.ctx.db, login), OPERATOR)
        console.log(`${account.username} <${account.email}> is signed out everywhere: ${sessionsEnded} session(s) ended.`)
      } else {
        const { accounts, sessionsEnded } = await endEverySession(opened.ctx, OPERATOR)
        console.log(`Every account is signed out: ${sessionsEnded} session(s) of ${accounts} account(s) ended.`)
      }
    } finally {
      await opened.close()
    }
  })

program.exitOverride()
try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode)
  if (err instanceof CliError) {
    console.error(err.message)
    process.exit(err.exitCode)
  }
  if (err instanceof ConfigError || err instanceof AppError) {
    console.error(err.message)
    process.exit(2)
  }
  console.error(err)
  process.exit(1)
}
