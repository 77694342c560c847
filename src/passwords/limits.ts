/**
 * Password lengths (NIST 800-63B-4: 8–128 code points after NFC normalisation), which the
 * server's policy (./policy.ts) enforces and the route schemas bound. No imports, so the web
 * app can take them without any server code.
 */
export const PASSWORD_MIN_LENGTH = 8
export const PASSWORD_MAX_LENGTH = 128
