/**
 * Re-encoding off the event loop: the cheap checks (size, magic bytes, declared dimensions)
 * run here and refuse bad files at once; decoding and resampling run in a worker thread with
 * its own memory cap, at most MAX_PARALLEL at a time (one per core on the reference machine).
 * A 16-megapixel JPEG takes seconds of CPU: in the request thread it would stall every other
 * request meanwhile.
 */
import { Worker } from 'node:worker_threads'
import { AppError, type ErrorCode } from '../errors.ts'
import { declaredSize, imageTooLarge, MAX_PIXELS, MAX_SIDE, sniffFormat, type ImageFormat } from './process.ts'

const MAX_PARALLEL = 2
/** Uploads waiting for a worker beyond this are refused (`too_many_requests`). */
const MAX_WAITING = 16
const WORKER_TIMEOUT_MS = 30_000

let running = 0
const waiting: (() => void)[] = []

async function slot(): Promise<() => void> {
  if (running >= MAX_PARALLEL) {
    if (waiting.length >= MAX_WAITING) {
      throw new AppError('too_many_requests', { message: 'Too many images are being processed right now. Try again in a minute.', details: { retryAfterSeconds: 30 } })
    }
    await new Promise<void>((resolve) => waiting.push(resolve))
  }
  running += 1
  return () => {
    running -= 1
    waiting.shift()?.()
  }
}

export interface Reencoded {
  png: Buffer
  width: number
  height: number
  sourceFormat: ImageFormat
}

/** The same checks as process.ts `reencodeImage`, the heavy part in a worker. */
export async function reencodeOffThread(bytes: Buffer, maxBytes: number): Promise<Reencoded> {
  if (bytes.length === 0) throw new AppError('image_invalid', { message: 'The image is empty.' })
  if (bytes.length > maxBytes) {
    throw imageTooLarge(bytes.length, maxBytes)
  }
  const { width, height } = declaredSize(bytes, sniffFormat(bytes))
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
    throw new AppError('image_invalid', { message: `The image is ${width}×${height} pixels; at most ${MAX_SIDE}×${MAX_SIDE} is accepted.`, details: { width, height, maxSide: MAX_SIDE } })
  }
  const release = await slot()
  const worker = new Worker(new URL('./reencode-worker.ts', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 512 } })
  try {
    return await new Promise<Reencoded>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AppError('image_invalid', { message: 'This image took too long to read.' })), WORKER_TIMEOUT_MS)
      worker.once('message', (m: { ok: true; png: Uint8Array; width: number; height: number; sourceFormat: ImageFormat } | { ok: false; code: ErrorCode; message: string; details?: Record<string, unknown> }) => {
        clearTimeout(timer)
        if (m.ok) resolve({ png: Buffer.from(m.png.buffer, m.png.byteOffset, m.png.byteLength), width: m.width, height: m.height, sourceFormat: m.sourceFormat })
        else reject(new AppError(m.code, { message: m.message, details: m.details }))
      })
      // A worker that dies (out of memory on a hostile file) is a bad image, not a server error.
      worker.once('error', (err: Error & { code?: string }) => {
        clearTimeout(timer)
        reject(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new AppError('image_invalid', { message: 'This image needs too much memory to read.', cause: err }) : err)
      })
      worker.once('exit', (code) => {
        clearTimeout(timer)
        reject(new AppError('image_invalid', { message: 'This image cannot be read.', cause: new Error(`image worker exited with ${code}`) }))
      })
      worker.postMessage({ bytes: new Uint8Array(bytes), maxBytes })
    })
  } finally {
    release()
    await worker.terminate()
  }
}
