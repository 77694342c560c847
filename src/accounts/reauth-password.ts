/** Checking a re-entered password, throttled like sign-in so a stolen session cannot guess it. */
import type { AppContext } from '../context.ts'
import { AppError } from '../errors.ts'
import { normalizePassword } from '../passwords/policy.ts'
import type { Account } from './queries.ts'

export async function verifyPasswordOf(ctx: AppContext, account: Pick<Account, 'id' | 'password_hash'>, password: string, field = 'password'): Promise<void> {
  // The same bucket as sign-in's for this account; spent before the hash so parallel guesses
  // cannot all slip under it, and given back when the password is right.
  // Nothing typed is no guess: a clear prompt on the field, and no attempt spent.
  if (password === '') throw new AppError('invalid_request', { message: field === 'currentPassword' ? 'Enter your current password.' : 'Enter your password.', fields: { [field]: 'required' } })
  const key = `account:${account.id}`
  await ctx.limits.consume('signin_failures_account', key)
  if (!(await ctx.hasher.verify(account.password_hash, normalizePassword(password)))) {
    throw new AppError('password_incorrect', { fields: { [field]: 'incorrect' } })
  }
  await ctx.limits.reset('signin_failures_account', key)
}
