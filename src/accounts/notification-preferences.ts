/** Changing the notification grid stored on the account row (its meaning: src/notifications). */
import type { AppContext } from '../context.ts'
import { preferencesOf, type Category, type Channel, type Preferences } from '../notifications/notifications.ts'
import { saveNotificationPreferences, type Account } from './queries.ts'

export async function updatePreferences(ctx: AppContext, account: Account, changes: Partial<Record<Category, Partial<Record<Channel, boolean>>>>): Promise<Preferences> {
  const grid = preferencesOf(account)
  for (const [category, channels] of Object.entries(changes) as [Category, Partial<Record<Channel, boolean>>][]) {
    for (const [channel, on] of Object.entries(channels) as [Channel, boolean][]) grid[category][channel] = on
  }
  await saveNotificationPreferences(ctx, account.id, JSON.stringify(grid))
  return grid
}

