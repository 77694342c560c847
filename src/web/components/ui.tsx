import { useId, useState, type InputHTMLAttributes, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError } from '../api.ts'
import { formatDateTime } from '../dates.ts'
import { PASSWORD_MIN_LENGTH } from '../../passwords/limits.ts'

/** A labelled input whose error is announced and tied to it (aria-describedby). */
export function Field(props: InputHTMLAttributes<HTMLInputElement> & { label: string; error?: string; hint?: ReactNode; multiline?: boolean }) {
  const { label, error, hint, multiline, id: givenId, ...input } = props
  const autoId = useId()
  const id = givenId ?? autoId
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {multiline ? (
        <textarea id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy} value={input.value as string} onChange={input.onChange as never} rows={4} name={input.name} />
      ) : (
        <input id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />
      )}
      {hint ? <p className="hint" id={`${id}-hint`}>{hint}</p> : null}
      {error ? <p className="field-error" id={`${id}-error`}>{error}</p> : null}
    </div>
  )
}

export function Checkbox({ label, checked, onChange, name }: { label: ReactNode; checked: boolean; onChange: (v: boolean) => void; name?: string }) {
  const id = useId()
  return (
    <div className="checkbox">
      <input id={id} type="checkbox" name={name} checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <label htmlFor={id}>{label}</label>
    </div>
  )
}

/**
 * Free usernames offered when the one typed is taken: each is a button that fills the field,
 * so nobody retypes a suggestion (and mistypes it).
 */
export function UsernameSuggestions({ suggestions, onPick }: { suggestions: readonly string[]; onPick: (username: string) => void }) {
  const { t } = useTranslation()
  if (!suggestions.length) return null
  return (
    <p className="username-suggestions">
      {t('signup.try')}{' '}
      {suggestions.map((name) => (
        <Button key={name} type="button" variant="link" aria-label={t('signup.useSuggestion', { username: name })} onClick={() => onPick(name)}>{name}</Button>
      ))}
    </p>
  )
}

export function FormError({ error }: { error: ApiError | null }) {
  const { i18n } = useTranslation()
  if (!error) return null
  // A retry time may be tomorrow (a daily limit): the day is part of it.
  const retry = error.body.retryAt ? ` (${formatDateTime(error.body.retryAt, i18n.language)})` : ''
  return <p className="form-error" role="alert">{error.message}{retry}</p>
}

export function Notice({ children, tone = 'info' }: { children: ReactNode; tone?: 'info' | 'success' | 'warning' }) {
  return <div className={`notice notice-${tone}`} role="status">{children}</div>
}

export function Button({ busy, children, variant = 'primary', ...rest }: React.ButtonHTMLAttributes<HTMLButtonElement> & { busy?: boolean; variant?: 'primary' | 'secondary' | 'danger' | 'link' }) {
  const { t } = useTranslation()
  return (
    <button className={`btn btn-${variant}`} disabled={busy || rest.disabled} aria-busy={busy || undefined} {...rest}>
      {busy ? t('app.loading') : children}
    </button>
  )
}

/** Runs an API call with busy and error state, so every form shows both. */
export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  async function run(...args: A): Promise<R | undefined> {
    setBusy(true)
    setError(null)
    try {
      return await fn(...args)
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, { code: 'client_error', message: String((err as Error).message) }))
      return undefined
    } finally {
      setBusy(false)
    }
  }
  return { busy, error, setError, run, fieldError: (name: string) => (error?.body.fields?.[name] ? error.message : undefined) }
}

export function Card({ title, children, headingLevel = 2 }: { title?: string; children: ReactNode; headingLevel?: 1 | 2 }) {
  const H = headingLevel === 1 ? 'h1' : 'h2'
  return (
    <section className="card">
      {title ? <H>{title}</H> : null}
      {children}
    </section>
  )
}

/** Rough guess of guessability for the meter; the server has the final word (length, common list). */
export function passwordScore(password: string): 0 | 1 | 2 | 3 | 4 {
  const length = [...password].length
  if (length < PASSWORD_MIN_LENGTH) return 0
  let variety = 0
  for (const re of [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/]) if (re.test(password)) variety++
  const unique = new Set(password).size
  let score = length >= 16 ? 3 : length >= 12 ? 2 : 1
  if (variety >= 3 || unique >= 12) score++
  if (unique < 4) score = 1
  return Math.min(score, 4) as 0 | 1 | 2 | 3 | 4
}

export function PasswordMeter({ password }: { password: string }) {
  const { t } = useTranslation()
  const score = passwordScore(password)
  if (!password) return null
  return (
    <div className="meter">
      <meter min={0} max={4} low={2} high={3} optimum={4} value={score} aria-label={t('strength.label')} />
      <span className="hint">{t(`strength.${score}`)}</span>
    </div>
  )
}
