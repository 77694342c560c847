/**
 * The one way the web app writes dates and times, so every page reads alike (issue: four
 * formats had grown across pages). Written in the reader's locale: the browser's own variant of
 * the app's language when it has one (en-GB readers get "3 Dec 2026", en-US "Dec 3, 2026"),
 * else the app's language, so the words around a date and the date agree.
 */
const formats = new Map<string, Intl.DateTimeFormat>()

const DATE: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'short', day: 'numeric' }
const DATE_TIME: Intl.DateTimeFormatOptions = { ...DATE, hour: '2-digit', minute: '2-digit' }
const TIME: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit' }

/** The browser's first language with the same primary subtag as the app's (`en` → `en-GB`), else the app's. */
export function readerLocale(appLanguage: string, browserLanguages: readonly string[] = typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language]): string {
  const primaryOf = (tag: string) => tag.split('-', 1)[0]?.toLowerCase() ?? ''
  const primary = primaryOf(appLanguage)
  const match = browserLanguages.find((tag) => primaryOf(tag) === primary && tag.includes('-'))
  // A zh-TW or zh-HK reader of the Simplified Chinese app keeps zh-CN's script for the dates.
  if (!match || primary === 'zh') return appLanguage
  return Intl.DateTimeFormat.supportedLocalesOf([match]).length ? match : appLanguage
}

function format(kind: 'date' | 'dateTime' | 'time', appLanguage: string, value: string | number | Date): string {
  const locale = readerLocale(appLanguage)
  const key = `${kind}|${locale}`
  let formatter = formats.get(key)
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(locale, kind === 'date' ? DATE : kind === 'dateTime' ? DATE_TIME : TIME)
    formats.set(key, formatter)
  }
  return formatter.format(new Date(value))
}

/** A day: "Dec 3, 2026", "2026年12月3日". */
export function formatDate(value: string | number | Date, appLanguage: string): string {
  return format('date', appLanguage, value)
}

/** A day and its hour and minute: "Dec 3, 2026, 09:41". */
export function formatDateTime(value: string | number | Date, appLanguage: string): string {
  return format('dateTime', appLanguage, value)
}

/** Only the hour and minute, for a moment later today (a retry time). */
export function formatTime(value: string | number | Date, appLanguage: string): string {
  return format('time', appLanguage, value)
}
