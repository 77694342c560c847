import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react'
import { api, ApiError, type Account, type BrowserAccount } from '../api.ts'
import { rememberLanguage } from '../i18n.ts'
import type { NotificationPage } from '../../notifications/schemas.ts'

interface SessionState {
  me: Account | null
  accounts: BrowserAccount[]
  unread: number
  loading: boolean
  refresh(): Promise<Account | null>
  setMe(account: Account | null): void
}

const SessionContext = createContext<SessionState | null>(null)

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Account | null>(null)
  const [accounts, setAccounts] = useState<BrowserAccount[]>([])
  const [unread, setUnread] = useState(0)
  const [loading, setLoading] = useState(true)

  const refresh = useCallback(async () => {
    try {
      // Asked first because it answers 200 signed in or not: a signed-out page load makes no
      // request that fails (a 401 shows as an error in the browser's console).
      const browser = await api<{ accounts: BrowserAccount[] }>('GET', '/browser/accounts')
      if (!browser.accounts.some((a) => a.active)) {
        setMe(null)
        setAccounts([])
        return null
      }
      const [account, inbox] = await Promise.all([
        api<Account>('GET', '/me'),
        api<Pick<NotificationPage, 'unreadCount'>>('GET', '/me/notifications?limit=1'),
      ])
      setMe(account)
      // The account's saved language wins over the browser's once signed in.
      if (account.locale && account.locale !== localStorage.getItem('latchkey.language')) rememberLanguage(account.locale)
      setAccounts(browser.accounts)
      setUnread(inbox.unreadCount)
      return account
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) console.error(err)
      setMe(null)
      setAccounts([])
      return null
    } finally {
      setLoading(false)
    }
  }, [])

  useEffect(() => {
    void refresh()
  }, [refresh])

  return <SessionContext.Provider value={{ me, accounts, unread, loading, refresh, setMe }}>{children}</SessionContext.Provider>
}

export function useSession(): SessionState {
  const value = useContext(SessionContext)
  if (!value) throw new Error('useSession outside SessionProvider')
  return value
}
