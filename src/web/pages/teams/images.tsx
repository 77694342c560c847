import { useId, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api } from '../../api.ts'
import { Button, Notice, useAction } from '../../components/ui.tsx'

/** The file as a data URL, the form the upload routes take (src/images/routes.ts). */
export function readAsDataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(String(reader.result))
    reader.onerror = () => reject(reader.error ?? new Error('unreadable file'))
    reader.readAsDataURL(file)
  })
}

/** The server keeps a 256×256 crop; twice that is plenty to send. */
const SHRUNK_SIDE = 512

function canvasBlob(canvas: HTMLCanvasElement, type: string, quality?: number): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality))
}

/**
 * A PNG or JPEG over the server's limit (a phone photo is several MB; avatars take 500 KB) is
 * shrunk here first: centre-cropped to a square of at most 512 pixels, turned upright by its
 * EXIF orientation as the browser draws it, and sent as PNG (JPEG if the PNG is still too
 * big). The server's own decoder runs in pure JavaScript, where a 12-megapixel photo costs
 * seconds of CPU; the browser's is native. Anything else goes as it is, for the server to
 * accept or refuse with its reason.
 */
export async function imageForUpload(file: File, maxBytes: number): Promise<string> {
  const shrinkable = file.type === 'image/png' || file.type === 'image/jpeg'
  if (!shrinkable || file.size <= maxBytes) return readAsDataUrl(file)
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(file)
  } catch {
    return readAsDataUrl(file)
  }
  const crop = Math.min(bitmap.width, bitmap.height)
  const side = Math.min(SHRUNK_SIDE, crop)
  const canvas = document.createElement('canvas')
  canvas.width = side
  canvas.height = side
  canvas.getContext('2d')?.drawImage(bitmap, (bitmap.width - crop) / 2, (bitmap.height - crop) / 2, crop, crop, 0, 0, side, side)
  bitmap.close()
  const png = await canvasBlob(canvas, 'image/png')
  const shrunk = png && png.size <= maxBytes ? png : await canvasBlob(canvas, 'image/jpeg', 0.9)
  return readAsDataUrl(shrunk ?? file)
}

/**
 * Upload or remove one image (an avatar or a team logo): the server re-encodes it and answers
 * with its new URL; its refusals (type, size, unreadable) are shown as they come.
 */
export function ImageUpload({ label, endpoint, field, maxBytes, preview, hasImage, removeLabel, savedText, removedText, onChange, disabled }: {
  label: string
  /** The server's limit for this image (src/images/images.ts): larger photos are shrunk first. */
  maxBytes: number
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
    const res = await api<Record<string, string>>('PUT', endpoint, { image: await imageForUpload(file, maxBytes) })
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
  const max = error.body.maxBytes ?? 0
  const text = t(key, { limit: max >= 1_000_000 ? `${max / 1_000_000} MB` : `${Math.round(max / 1000)} KB` })
  return <p className="form-error" role="alert" data-code={error.code}>{text === key ? error.message : text}</p>
}
