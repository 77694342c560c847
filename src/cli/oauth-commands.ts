/**
 * Operator commands for the OAuth provider: signing keys (`latchkey keys rotate|list`) and
 * confidential clients (`latchkey clients add|list|remove`). Each opens the database the
 * server uses; running servers pick up a rotated key within 30 seconds (see provider.ts).
 */
import type { Command } from 'commander'
import { loadConfig } from '../config.ts'

async function withContext<T>(work: (ctx: import('../context.ts').AppContext) => Promise<T>): Promise<T> {
  const cfg = loadConfig(process.env)
  const { createLogger, openContext } = await import('../app.ts')
  const opened = await openContext(cfg, { log: createLogger({ ...cfg, logLevel: 'warn' }) })
  try {
    return await work(opened.ctx)
  } finally {
    await opened.close()
  }
}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z')
}

export function registerOAuthCommands(program: Command): void {
  const keys = program.command('keys').description('OpenID Connect signing keys (the JWKS at /oauth/jwks)')
  keys
    .command('rotate')
    .description('make a new key sign ID tokens; old keys stay published until the tokens they signed expire, then are removed')
    .action(async () => {
      const { rotateSigningKey, RETIRED_KEY_KEEP_MS } = await import('../oauth/keys.ts')
      await withContext(async (ctx) => {
        const { kid, retired, pruned } = await rotateSigningKey(ctx)
        console.log(`New signing key ${kid}. Running servers use it within 30 seconds.`)
        if (retired.length) console.log(`Retired (still verify for ${Math.round(RETIRED_KEY_KEEP_MS / 60000)} minutes): ${retired.join(', ')}`)
        if (pruned.length) console.log(`Removed expired keys: ${pruned.join(', ')}`)
      })
    })
  keys
    .command('list')
    .description('list signing keys, the active one first')
    .action(async () => {
      const { ensureSigningKey, listSigningKeys } = await import('../oauth/keys.ts')
      await withContext(async (ctx) => {
        await ensureSigningKey(ctx)
        for (const key of await listSigningKeys(ctx)) {
          console.log(`${key.kid}  ${key.alg}  created ${iso(key.createdAt)}  ${key.retiredAt === null ? 'active' : `retired ${iso(key.retiredAt)}`}`)
        }
      })
    })

  const clients = program.command('clients').description('OAuth clients registered by the operator (confidential web apps)')
  clients
    .command('add')
    .description('register a confidential client; prints its client_id and secret (the secret is shown only now)')
    .requiredOption('--name <name>', 'the name people see on the consent page')
    .requiredOption('--redirect-uri <uri...>', 'exact redirect URI(s): https, or http on localhost for development')
    .option('--first-party', 'your own app: people are not asked for consent')
    .action(async (options: { name: string; redirectUri: string[]; firstParty?: boolean }) => {
      const { addClient } = await import('../oauth/clients.ts')
      await withContext(async (ctx) => {
        const client = await addClient(ctx, { name: options.name, redirectUris: options.redirectUri, firstParty: options.firstParty === true })
        console.log(`client_id:     ${client.clientId}`)
        console.log(`client_secret: ${client.clientSecret}`)
        console.log(`redirect_uris: ${client.redirectUris.join(' ')}`)
        console.log(`consent:       ${client.firstParty ? 'not asked (first party)' : 'asked once per person'}`)
        console.log('Store the secret now: Latchkey keeps only its hash and cannot show it again.')
        console.log(`Authentication: client_secret_basic (HTTP Basic); PKCE (S256) is required. Discovery: ${new URL('/.well-known/openid-configuration', ctx.config.publicUrl)}`)
      })
    })
  clients
    .command('list')
    .description('list registered clients (never their secrets)')
    .action(async () => {
      const { listClients, CLI_CLIENT_ID } = await import('../oauth/clients.ts')
      await withContext(async (ctx) => {
        console.log(`${CLI_CLIENT_ID}  built in (desktop app and CLI; public, PKCE, loopback redirects, device grant)`)
        for (const c of await listClients(ctx)) {
          console.log(`${c.clientId}  ${c.name}  ${c.firstParty ? 'first party' : 'third party'}  created ${iso(c.createdAt)}  ${c.redirectUris.join(' ')}`)
        }
      })
    })
  clients
    .command('remove <clientId>')
    .description('remove a client and revoke every token it holds')
    .action(async (clientId: string) => {
      const { removeClient } = await import('../oauth/clients.ts')
      await withContext(async (ctx) => {
        await removeClient(ctx, clientId)
        console.log(`Removed ${clientId}; its grants and tokens are revoked.`)
      })
    })
}
