/**
 * Runs in a worker thread (see reencode.ts): decoding and resampling a large image takes
 * seconds of CPU, which must not stall the server's event loop.
 */
import { parentPort } from 'node:worker_threads'
import { AppError } from '../errors.ts'
import { reencodeImage } from './process.ts'

parentPort!.on('message', (message: { bytes: Uint8Array; maxBytes: number }) => {
  try {
    const result = reencodeImage(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength), message.maxBytes)
    const png = new Uint8Array(result.png)
    parentPort!.postMessage({ ok: true, png, width: result.width, height: result.height, sourceFormat: result.sourceFormat }, [png.buffer])
  } catch (err) {
    if (err instanceof AppError) parentPort!.postMessage({ ok: false, code: err.code, message: err.message, details: err.details })
    else parentPort!.postMessage({ ok: false, code: 'image_invalid', message: 'This image cannot be read: the file is damaged or uses an unsupported variant.' })
  }
})
