/**
 * The commands a person runs on their own computer (login, accounts, switch, logout, whoami),
 * as opposed to the operator commands beside them in main.ts. Modules load on first use so the
 * operator commands do not pay for the OAuth client.
 */
import type { Command } from 'commander'

export function registerUserCommands(program: Command, accounts: Command): void {
  program
    .command('login')
    .description('sign this CLI in to a Latchkey server through your browser (several accounts can be signed in)')
    .option('--server <url>', 'the Latchkey server (default: $LATCHKEY_SERVER, else the active account\'s server)')
    .option('--device', 'sign in with a code on another device (no browser on this computer)')
    .option('--no-browser', 'print the sign-in address instead of opening a browser')
    .action(async (options: { server?: string; device?: boolean; browser: boolean }) => {
      const { login } = await import('./login.ts')
      await login(options)
    })

  accounts
    .command('list', { isDefault: true })
    .description('list the accounts signed in with `latchkey login` on this computer (the default)')
    .action(async () => {
      const { listAccounts } = await import('./account-commands.ts')
      listAccounts()
    })

  program
    .command('switch <account>')
    .description('make another signed-in account the active one (its number in `latchkey accounts`, username or email)')
    .action(async (selector: string) => {
      const { switchAccount } = await import('./account-commands.ts')
      switchAccount(selector)
    })

  program
    .command('logout [account]')
    .description('sign out: end the session at the server and forget its tokens (the active account unless one is named)')
    .option('--all', 'sign out of every account')
    .action(async (selector: string | undefined, options: { all?: boolean }) => {
      const { logout } = await import('./account-commands.ts')
      await logout(selector, options)
    })

  program
    .command('whoami')
    .description('show the active account, as the server sees it now')
    .action(async () => {
      const { whoami } = await import('./account-commands.ts')
      await whoami()
    })
}
