/**
 * The image size limits both sides use: the server refuses a larger upload after decoding it, the
 * web app shrinks a larger photo before sending it. No imports, so the web app takes them
 * without any server code.
 */

/** SPEC §6: avatars up to 500 KB. */
export const AVATAR_MAX_BYTES = 500 * 1000
export const LOGO_MAX_BYTES = 1000 * 1000
