import { useEffect, type ReactNode } from 'react'
import { GoogleContinuePage } from './pages/google.tsx'
import { useTranslation } from 'react-i18next'
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router'
import { Layout } from './components/layout.tsx'
import { SessionProvider, useSession } from './components/session.tsx'
import { ConfirmEmailPage, DisavowPage, OnboardingPage, ResetPasswordPage, SignInPage, SignUpPage, TroublePage } from './pages/auth.tsx'
import { InboxPage, MessagePage, PublicProfilePage } from './pages/other.tsx'
import { AppSignInPage } from './pages/oauth.tsx'
import { AuthorizedAppsSettings } from './pages/authorized-apps.tsx'
import { TeamsPage } from './pages/teams/list.tsx'
import { TeamPage } from './pages/teams/team.tsx'
import { TeamActivityPage, TeamSettingsPage } from './pages/teams/manage.tsx'
import { InvitationAcceptPage } from './pages/teams/invitation.tsx'
import { JoinPage } from './pages/teams/links.tsx'
import { PublicTeamPage } from './pages/teams/profile.tsx'
import { OpenSetupLinkPage, SsoSetupPage } from './pages/sso-setup.tsx'
import { AccountSettings, NotificationSettings, ProfileSettings, SecuritySettings, SessionSettings, SettingsLayout } from './pages/settings.tsx'

/** Pages for signed-in people: a signed-out visitor is sent to sign in and brought back. */
function SignedIn({ children }: { children: ReactNode }) {
  const { me, loading } = useSession()
  const { t } = useTranslation()
  const location = useLocation()
  if (loading) return <p role="status" className="page">{t('app.loading')}</p>
  if (!me) return <Navigate to={`/signin?next=${encodeURIComponent(location.pathname)}`} replace />
  return <>{children}</>
}

function Home() {
  const { me, loading } = useSession()
  if (loading) return null
  return <Navigate to={me ? '/settings/profile' : '/signin'} replace />
}

function FocusOnNavigate() {
  const location = useLocation()
  useEffect(() => {
    // Moves focus to the new page's content so keyboard and screen-reader users start there.
    document.getElementById('main')?.focus({ preventScroll: true })
  }, [location.pathname])
  return null
}

export function App() {
  return (
    <BrowserRouter>
      <SessionProvider>
        <FocusOnNavigate />
        <Routes>
          <Route element={<Layout />}>
            <Route index element={<Home />} />
            <Route path="signup" element={<SignUpPage />} />
            <Route path="signin" element={<SignInPage />} />
            <Route path="signin/disavow" element={<DisavowPage />} />
            <Route path="signin/google" element={<GoogleContinuePage />} />
            <Route path="app-signin/:uid" element={<AppSignInPage />} />
            <Route path="confirm-email" element={<ConfirmEmailPage />} />
            <Route path="trouble-signing-in" element={<TroublePage />} />
            <Route path="reset-password" element={<ResetPasswordPage />} />
            <Route path="onboarding" element={<SignedIn><OnboardingPage /></SignedIn>} />
            <Route path="inbox" element={<SignedIn><InboxPage /></SignedIn>} />
            <Route path="settings" element={<SignedIn><SettingsLayout /></SignedIn>}>
              <Route index element={<Navigate to="profile" replace />} />
              <Route path="profile" element={<ProfileSettings />} />
              <Route path="account" element={<AccountSettings />} />
              <Route path="security" element={<SecuritySettings />} />
              <Route path="notifications" element={<NotificationSettings />} />
              <Route path="sessions" element={<SessionSettings />} />
              <Route path="apps" element={<AuthorizedAppsSettings />} />
            </Route>
            <Route path="teams" element={<SignedIn><TeamsPage /></SignedIn>} />
            <Route path="teams/:slug" element={<SignedIn><TeamPage /></SignedIn>} />
            <Route path="teams/:slug/settings" element={<SignedIn><TeamSettingsPage /></SignedIn>} />
            <Route path="teams/:slug/activity" element={<SignedIn><TeamActivityPage /></SignedIn>} />
            {/* Open to a set-up link holder without an account: the API checks the link or the Admin. */}
            <Route path="teams/:slug/sso-setup" element={<SsoSetupPage />} />
            <Route path="sso-setup" element={<OpenSetupLinkPage />} />
            <Route path="invitations/accept" element={<InvitationAcceptPage />} />
            <Route path="join/:token" element={<JoinPage />} />
            <Route path="u/:username" element={<PublicProfilePage />} />
            <Route path="t/:slug" element={<PublicTeamPage />} />
            <Route path="link-invalid" element={<MessagePage kind="link" />} />
            <Route path="session-expired" element={<MessagePage kind="expired" />} />
            <Route path="account-deactivated" element={<MessagePage kind="deactivated" />} />
            <Route path="*" element={<MessagePage kind="notFound" />} />
          </Route>
        </Routes>
      </SessionProvider>
    </BrowserRouter>
  )
}
