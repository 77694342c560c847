/** Strings for the team URL, slug checks, public profile and invitation preview (pages/teams/profile.tsx), spread into teams.en.ts. */
export const teamsExtrasEn = {
  slugCheck: {
    checking: 'Checking whether this URL is free…', available: 'This URL is free.', taken: 'This team URL is taken. Choose another.',
    takenTry: 'This team URL is taken. Free ones: {{suggestions}}.',
  },
  url: {
    title: 'Team URL', save: 'Change URL', changed: 'The team is now at {{url}}.',
    hint: 'Links to the old URL keep leading members here for {{days}} days; no other team can take it meanwhile.',
  },
  profile: {
    title: 'Public profile', body: 'A page anyone can see at /t/<team URL>: name, logo, description, website and the number of members (never who they are).',
    editorsOnly: 'Only Admins and Community Managers edit the public profile.',
    description: 'Description', descriptionHint: 'Plain text, {{count}} of {{max}} characters.', tooLong: 'At most {{max}} characters.',
    website: 'Website', websiteHint: 'An address starting with https://', httpsOnly: 'The website must start with https://.',
    public: 'Show the public profile', isPublic: 'The profile is public at', isPrivate: 'The profile is not public.', save: 'Save profile', saved: 'Public profile saved.',
  },
  publicPage: { title: 'Team', notFound: 'No public team at this address.' },
  invitePreview: {
    team: 'You were invited to join {{team}}.', by: '{{inviter}} invited you to join {{team}}.', roles: 'Your roles: {{roles}}',
    otherEmail: 'This invitation was sent to another email address than this account’s: accepting will not work with this account.',
  },
}
