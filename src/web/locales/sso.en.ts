/** Strings of the Enterprise sign-in controls, IT set-up links, the link holder's page and the sign-in refusals they cause. */
export const ssoEn = {
  enterprise: {
    title: 'Enterprise sign-in',
    body: 'Rules for how members of this team sign in. Until billing exists these are a team setting; later they come with the Enterprise plan.',
    jit: 'Automatically add new users (JIT)', jitHint: 'A first sign-in through the team’s SSO creates the account and adds it as a Developer, if a seat is free.',
    password: 'Turn off password sign-in for members', passwordHint: 'Members must sign in with SSO (passkeys count as Latchkey sign-in too). Admins keep their password as a way in if the identity provider fails.',
    google: 'Turn off Google sign-in for members', googleHint: 'Members must sign in with SSO instead of Google. Admins are exempt.',
    needsConnection: 'Needs an enabled SSO connection: without one, members could not sign in at all.',
    signOutWarning: 'Turning either off signs members out everywhere; they sign in again with SSO.',
    twoFactor: 'Require two-factor authentication for password sign-in', twoFactorHint: 'A member without it sets it up on their next sign-in, before they get in.',
    maxSession: 'Maximum session length (minutes)', maxSessionHint: 'From {{min}} minutes to {{max}} minutes (90 days); empty for no limit. Lowering it shortens the members’ current sessions too.',
    save: 'Save sign-in settings', saved: 'Sign-in settings saved.',
  },
  setupLinks: {
    title: 'SSO set-up links',
    body: 'Give your company’s IT administrator a link to set up single sign-on for this team without joining it. A link works for 7 days and opens only this team’s SSO set-up.',
    create: 'Create a set-up link', created: 'Set-up link created. Copy it now: it is shown only once.', url: 'Set-up link', copy: 'Copy', copied: 'Copied.',
    none: 'No set-up links yet.', meta: 'Created by {{name}} on {{created}} · expires {{expires}}',
    states: { active: 'Active', expired: 'Expired', revoked: 'Revoked' },
    revoke: 'Revoke', revokeOf: 'Revoke the set-up link created {{created}}', revokeConfirm: 'Revoke this link? It stops working at once.', revokeYes: 'Yes, revoke', revoked: 'The set-up link was revoked.',
  },
  setup: {
    title: 'Set up single sign-on for {{name}}', opening: 'Opening the set-up link…',
    intro: 'An Admin of {{name}} asked you to connect the team to your company’s identity provider. This link works until {{date}}; it opens only this team’s SSO set-up.',
    admin: 'You are an Admin of {{name}}.',
    formPending: 'The connection form (SAML metadata or OIDC issuer) appears on this page once SSO connections are available on this server. Until then, prepare the application in your identity provider with the steps below.',
    invalidTitle: 'This set-up link does not work',
    pick: 'Your identity provider',
    providers: {
      okta: { name: 'Okta', s1: 'In the Okta Admin Console, go to Applications → Create App Integration and choose SAML 2.0.', s2: 'Name the app after your team, then enter Latchkey’s ACS URL as “Single sign-on URL” and its Entity ID as “Audience URI”.', s3: 'Set “Name ID format” to EmailAddress and “Application username” to Email.', s4: 'Assign the people or groups who should sign in, then copy the “Metadata URL” from the Sign On tab into Latchkey.' },
      entra: { name: 'Microsoft Entra ID', s1: 'In the Microsoft Entra admin center, go to Enterprise applications → New application → Create your own application (non-gallery).', s2: 'Open Single sign-on → SAML and enter Latchkey’s Entity ID as “Identifier” and its ACS URL as “Reply URL”.', s3: 'Keep the user.mail claim as the email, and make sure the signing certificate uses SHA-256.', s4: 'Assign users and groups, then copy the “App Federation Metadata URL” into Latchkey.' },
      google: { name: 'Google Workspace', s1: 'In the Google Admin console, go to Apps → Web and mobile apps → Add app → Add custom SAML app.', s2: 'Download the IdP metadata on the second step (or copy SSO URL, Entity ID and certificate).', s3: 'Enter Latchkey’s ACS URL and Entity ID, and set “Name ID format” to EMAIL with “Primary email”.', s4: 'Turn the app on for the organisational units that should sign in, then paste the metadata into Latchkey.' },
      generic: { name: 'Other SAML 2.0 or OpenID Connect provider', s1: 'SAML: create an application with Latchkey’s ACS URL and Entity ID, signed assertions (RSA-SHA256 or stronger) and the email as Name ID.', s2: 'SAML: give Latchkey the metadata XML or its HTTPS URL, or the SSO URL, issuer and signing certificate (two for a rollover).', s3: 'OpenID Connect: register a web client with Latchkey’s redirect URL, scopes openid email profile, and the authorization code flow.', s4: 'OpenID Connect: give Latchkey the issuer URL, client ID and client secret. Test the connection before members depend on it.' },
    },
  },
  signin: {
    requiresSso: 'Your team {{teams}} requires signing in with single sign-on (SSO). Use your company’s sign-in instead of a password.',
    requiresTwoFactorTitle: 'Set up two-factor authentication',
    requiresTwoFactorBody: 'Your team {{teams}} requires two-factor authentication for password sign-in. Set it up now to finish signing in.',
    start: 'Show the set-up key', finish: 'Turn on and sign in', continue: 'Continue',
  },
}
