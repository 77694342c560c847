import { useId, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api } from '../../api.ts'
import { Button, Notice, useAction } from '../../components/ui.tsx'

/** The file as a data URL, the form the upload routes take (src/images/routes.ts). */
export function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(String(reader.result))
    reader.onerror = () => reject(reader.error ?? new Error('unreadable file'))
    reader.readAsDataURL(file)
  })
}

/**
 * Upload or remove one image (an avatar or a team logo): the server re-encodes it and answers
 * with its new URL; its refusals (type, size, unreadable) are shown as they come.
 */
export function ImageUpload({ label, endpoint, field, preview, hasImage, removeLabel, savedText, removedText, onChange, disabled }: {
  label: string
  endpoint: string
  field: 'avatarUrl' | 'logoUrl'
  preview: React.ReactNode
  hasImage: boolean
  removeLabel: string
  savedText: string
  removedText: string
  onChange: (url: string | null) => void | Promise<void>
  disabled?: boolean
}) {
  const id = useId()
  const [done, setDone] = useState<string | null>(null)
  const upload = useAction(async (file: File) => {
    const res = await api<Record<string, string>>('PUT', endpoint, { image: await readAsDataUrl(file) })
    await onChange(res[field] ?? null)
    setDone(savedText)
  })
  const remove = useAction(async () => {
    await api('DELETE', endpoint)
    await onChange(null)
    setDone(removedText)
  })
  return (
    <div className="image-upload">
      <div className="image-row">{preview}</div>
      <div className="field">
        <label htmlFor={`${id}-file`}>{label}</label>
        <input id={`${id}-file`} type="file" name={field} accept="image/png,image/jpeg" disabled={disabled || upload.busy} onChange={(e) => { const f = e.target.files?.[0]; setDone(null); if (f) void upload.run(f); e.target.value = '' }} />
      </div>
      <ImageError error={upload.error ?? remove.error} />
      {done ? <Notice tone="success">{done}</Notice> : null}
      {hasImage ? <Button type="button" variant="secondary" busy={remove.busy} disabled={disabled} onClick={() => { setDone(null); void remove.run() }}>{removeLabel}</Button> : null}
    </div>
  )
}

function ImageError({ error }: { error: import('../../api.ts').ApiError | null }) {
  const { t } = useTranslation()
  if (!error) return null
  const key = `teams.errors.${error.code}`
  const text = t(key)
  return <p className="form-error" role="alert" data-code={error.code}>{text === key ? error.message : text}</p>
}
