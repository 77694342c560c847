import i18next from 'i18next'
import { initReactI18next } from 'react-i18next'
import { en } from './locales/en.ts'
import { zhCN } from './locales/zh-CN.ts'

export const LANGUAGES = [
  { code: 'en', label: 'English' },
  { code: 'zh-CN', label: '简体中文' },
] as const

const STORAGE_KEY = 'latchkey.language'

/** The saved choice first, then the browser's languages; English otherwise. */
export function initialLanguage(): 'en' | 'zh-CN' {
  const saved = localStorage.getItem(STORAGE_KEY)
  if (saved === 'en' || saved === 'zh-CN') return saved
  for (const tag of navigator.languages ?? [navigator.language]) {
    if (tag.toLowerCase().startsWith('zh')) return 'zh-CN'
    if (tag.toLowerCase().startsWith('en')) return 'en'
  }
  return 'en'
}

export function rememberLanguage(code: 'en' | 'zh-CN'): void {
  localStorage.setItem(STORAGE_KEY, code)
  void i18next.changeLanguage(code)
  document.documentElement.lang = code
}

void i18next.use(initReactI18next).init({
  resources: { en: { translation: en }, 'zh-CN': { translation: zhCN } },
  lng: initialLanguage(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
})
document.documentElement.lang = i18next.language

export default i18next
