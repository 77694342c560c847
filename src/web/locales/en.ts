import { ssoEn } from './sso.en.ts'
import { teamsEn } from './teams.en.ts'
import { oauthEn } from './oauth.en.ts'

export const en = {
  app: { name: 'Latchkey', skip: 'Skip to content', loading: 'Loading…', language: 'Language', save: 'Save', saved: 'Saved.', cancel: 'Cancel', back: 'Back', close: 'Close', retry: 'Try again' },
  nav: { settings: 'Settings', inbox: 'Notifications', signOut: 'Sign out', signIn: 'Sign in', signUp: 'Sign up', accountMenu: 'Account menu', addAccount: 'Add another account', switchTo: 'Switch to {{name}}', active: 'active', unread: '{{count}} unread' },
  signup: {
    title: 'Create your account', email: 'Email', username: 'Username', password: 'Password', terms: 'I accept the terms of use', termsLinked: 'I accept the <doc>terms of use</doc>', privacy: 'How your data is handled: <doc>privacy policy</doc>', submit: 'Create account', haveAccount: 'Already have an account?',
    usernameHint: '3–32 letters, digits, - or _', available: 'Available', taken: 'Taken.', try: 'Free names you can pick:', useSuggestion: 'Use {{username}}', checking: 'Checking…',
    sent: 'Check your inbox', sentBody: 'We sent a confirmation link to {{email}}. It works for 24 hours.',
  },
  strength: { label: 'Password strength', 0: 'Too short', 1: 'Weak', 2: 'Fair', 3: 'Good', 4: 'Strong' },
  signin: {
    title: 'Sign in', login: 'Email or username', password: 'Password', stay: 'Stay signed in for 30 days', submit: 'Sign in', trouble: 'Trouble signing in?', noAccount: 'New here?', passkey: 'Sign in with a passkey',
    twoFactorTitle: 'Two-step verification', code: 'Authentication code', codeHint: 'The 6-digit code from your authenticator app', verify: 'Verify', useRecovery: 'Use a recovery code', useCode: 'Use an authenticator code', recoveryCode: 'Recovery code', usePasskey: 'Use a passkey instead', addAccountTitle: 'Add another account',
  },
  confirm: { title: 'Confirm your email', confirming: 'Confirming your email…', done: 'Your email is confirmed.', continue: 'Continue', banner: 'Check your inbox: please confirm your email address ({{email}}) with the link we sent you.', resend: 'Re-send the link', resent: 'A new link is on its way.' },
  onboarding: { title: 'Tell us about you', name: 'Full name', role: 'Your role', roles: { developer: 'Developer', qa: 'QA / tester', product: 'Product', manager: 'Manager', student: 'Student', other: 'Other' }, next: 'Continue', skip: 'Skip for now', roleLater: 'You can change it later in Settings → Profile.' },
  trouble: { title: 'Trouble signing in?', body: 'Enter the email of your account. We will send your username and a link to reset your password.', email: 'Email', captcha: 'Prove you are not a robot', submit: 'Send', sent: 'If an account uses this address, an email with your username and a reset link is on its way. The link works for one hour.' },
  reset: { title: 'Choose a new password', password: 'New password', submit: 'Set password', done: 'Your password was changed and you were signed out everywhere. Sign in with the new password.' },
  disavow: { title: 'Not you?', working: 'Signing that device out…', done: 'We signed that device out and emailed you a link to reset your password.' },
  settings: {
    title: 'Settings', profile: 'Profile', account: 'Account', security: 'Security', notifications: 'Notifications', sessions: 'Active sessions',
    displayName: 'Display name', bio: 'Short bio', aboutMe: 'About me (Markdown)', links: 'Links (one per line)', publicProfile: 'Public profile', publicProfileHint: 'Anyone can see your profile at {{url}}', viewProfile: 'View public profile', role: 'Role',
    username: 'Username', changeUsername: 'Change username', email: 'Email', newEmail: 'New email', changeEmail: 'Change email', emailPending: 'We sent a confirmation link to {{email}}. Until you use it, your current address stays in force.',
    emailWaiting: 'Change to {{email}} waiting for confirmation: the link we sent there on {{sent}} works until {{expires}}. Until it is used, your current address stays in force.',
    emailResend: 'Re-send the link', emailResent: 'A new link went to {{email}}; the earlier one no longer works.', emailCancel: 'Cancel the change', emailCancelled: 'The change to {{email}} was cancelled: its link no longer works.',
    passwordCancelledEmail: 'Your pending change of email to {{email}} was cancelled with the old password: its link no longer works. Ask for the change again above if you still want it.',
    currentPassword: 'Current password', newPassword: 'New password', changePassword: 'Change password', passwordChanged: 'Password changed. Your other devices were signed out.',
    deleteTitle: 'Delete account', deleteBody: 'This deletes your account and all its data for good. It cannot be undone.', deleteConfirm: 'Delete my account', deleted: 'Your account was deleted.', deleteBlocked: 'Leave every team before deleting your account. You are a member of:',
    confirmPassword: 'Password', enterPassword: 'Enter your password.', language: 'Language', roleNotSet: 'Not set',
  },
  security: {
    twoFactor: 'Two-factor authentication', on: 'On', off: 'Off', enable: 'Turn on', disable: 'Turn off', scan: 'Scan this QR code with your authenticator app, or type the key below. Then enter the 6-digit code it shows.', secret: 'Setup key', confirm: 'Confirm',
    codesTitle: 'Your recovery codes', codesBody: 'Each code works once. Keep them somewhere safe: they are shown only now.', codesSignedOut: 'Two-factor authentication is on. This browser stays signed in; your other devices were signed out and sign in again with your password and a code.', download: 'Download as a text file', codesLeft: '{{count}} recovery codes left', regenerate: 'Generate new recovery codes', done: 'Done', cancelSetup: 'Cancel set-up', enterCode: 'Enter the 6-digit code your app shows.',
    passkeys: 'Passkeys', addPasskey: 'Add a passkey', passkeyName: 'Name', rename: 'Rename', remove: 'Remove', noPasskeys: 'No passkeys yet.', created: 'Added {{date}}', lastUsed: 'last used {{date}}', never: 'never used',
    reauthTitle: 'Confirm it is you', reauthBody: 'For your security, enter your password to continue.', reauth: 'Confirm',
  },
  notifications: { title: 'Notification preferences', category: 'Category', email: 'Email', inApp: 'In-app', always: 'Critical security emails (password, email or two-factor changes, account deletion) are always sent.', categories: { security: 'Security', usage: 'Usage', monitors: 'Monitors', comments: 'Comments', team: 'Team', billing: 'Billing' } },
  sessions: { title: 'Active sessions', current: 'This device', revoke: 'Sign out', revokeAll: 'Sign out everywhere else', lastActive: 'Last active {{date}}', created: 'Signed in {{date}}', ip: 'IP {{ip}}' },
  inbox: { title: 'Notifications', empty: 'No notifications.', markRead: 'Mark read', markAll: 'Mark all read', more: 'Load more' },
  profile: { memberSince: 'Member since {{date}}', notFound: 'This profile is not available.', avatarAlt: 'Avatar of {{name}}' },
  errors: {
    linkTitle: 'This link is invalid or has expired', linkBody: 'Links in our emails work once and for a limited time. Ask for a new one.',
    expiredTitle: 'Your session has expired', expiredBody: 'For your security you were signed out. Sign in again to continue.',
    deactivatedTitle: 'This account is deactivated', deactivatedBody: 'The operator of this service deactivated this account. Contact them if you think this is a mistake.',
    notFoundTitle: 'Page not found', goHome: 'Go to sign in', generic: 'Something went wrong. Try again.',
  },
  teams: teamsEn,
  oauth: oauthEn,
  sso: ssoEn,
}
export type Messages = typeof en
