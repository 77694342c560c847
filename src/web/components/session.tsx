import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react'
import { api, ApiError, type Account, type BrowserAccount } from '../api.ts'
import { rememberLanguage } from '../i18n.ts'

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
      const account = await api<Account>('GET', '/me')
      setMe(account)
      // The account's saved language wins over the browser's once signed in.
      if (account.locale && account.locale !== localStorage.getItem('latchkey.language')) rememberLanguage(account.locale)
      const [browser, inbox] = await Promise.all([
        api<{ accounts: BrowserAccount[] }>('GET', '/browser/accounts'),
        api<{ unreadCount: number }>('GET', '/me/notifications?limit=1'),
      ])
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
