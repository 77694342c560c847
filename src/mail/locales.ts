/**
 * The languages Latchkey speaks: emails (./templates.ts), the account's saved language and the
 * web app's language picker. No imports, so the web app takes them without any server code.
 */
export type Locale = 'en' | 'zh-CN'
export const LOCALES: readonly Locale[] = ['en', 'zh-CN']
