/** Checking a re-entered password, throttled like sign-in so a stolen session cannot guess it. */
import type { AppContext } from '../context.ts'
import { AppError } from '../errors.ts'
import { normalizePassword } from '../passwords/policy.ts'
import type { Account } from '../sessions/sessions.ts'

export async function verifyPasswordOf(ctx: AppContext, account: Pick<Account, 'id' | 'password_hash'>, password: string, field = 'password'): Promise<void> {
  const key = `account:${account.id}`
  await ctx.limits.check('signin_failures_account', key)
  if (!(await ctx.hasher.verify(account.password_hash, normalizePassword(password)))) {
    await ctx.limits.consume('signin_failures_account', key).catch(() => {})
    throw new AppError('password_incorrect', { fields: { [field]: 'incorrect' } })
  }
}
