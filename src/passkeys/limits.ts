/** The passkey name a person gives (settings): the route refuses a longer one, the form caps it. No imports, for the web app. */
export const PASSKEY_NAME_MAX_LENGTH = 64
