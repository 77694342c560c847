/**
 * Uploaded images are never stored or served as sent. The bytes must start with a PNG or
 * JPEG signature, their declared dimensions are checked before decoding (a small file cannot
 * claim a huge canvas), they are decoded by pure-JS decoders (pngjs, jpeg-js: no native code),
 * centre-cropped to a square and resampled to OUTPUT_SIZE × OUTPUT_SIZE, and written out as a
 * fresh PNG. Whatever else the file held — metadata (EXIF, GPS, comments), extra chunks,
 * trailing data, a second file format hidden inside (polyglots), animation frames — is gone.
 *
 * Only PNG and JPEG: the formats SPEC §6 names. WebP, GIF, SVG and the rest are refused with
 * `image_type_unsupported`; anything else is `image_invalid`.
 */
import jpeg from 'jpeg-js'
import { PNG } from 'pngjs'
import { inflateSync } from 'node:zlib'
import { AppError, describeBytes } from '../errors.ts'

export const OUTPUT_SIZE = 256
/** Each side at most this many pixels, and at most MAX_PIXELS in all, before decoding. */
export const MAX_SIDE = 4096
export const MAX_PIXELS = 16_777_216

export type ImageFormat = 'png' | 'jpeg'

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/** The format from the magic bytes; a known but unsupported format gets its own error. */
export function sniffFormat(bytes: Buffer): ImageFormat {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return 'png'
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg'
  const head = bytes.subarray(0, 16).toString('latin1')
  const other =
    head.startsWith('RIFF') && head.slice(8, 12) === 'WEBP' ? 'WebP'
    : head.startsWith('GIF8') ? 'GIF'
    : head.startsWith('BM') ? 'BMP'
    : /^\s*<(\?xml|svg)/i.test(bytes.subarray(0, 256).toString('latin1')) ? 'SVG'
    : head.slice(4, 12).includes('ftyp') ? 'HEIC/AVIF'
    : null
  if (other) throw new AppError('image_type_unsupported', { message: `${other} images are not accepted: upload a PNG or JPEG image.`, details: { detected: other } })
  throw new AppError('image_invalid', { message: 'This file is not a PNG or JPEG image.' })
}

/** Width and height as the file declares them (PNG IHDR; JPEG start-of-frame), without decoding. */
export function declaredSize(bytes: Buffer, format: ImageFormat): { width: number; height: number } {
  if (format === 'png') {
    if (bytes.length < 24 || bytes.toString('latin1', 12, 16) !== 'IHDR') throw invalid('The PNG header is missing.')
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) }
  }
  let offset = 2
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) throw invalid('The JPEG structure is broken.')
    const marker = bytes[offset + 1]
    if (marker === 0xff) { offset += 1; continue }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { offset += 2; continue }
    const length = bytes.readUInt16BE(offset + 2)
    if (length < 2) throw invalid('The JPEG structure is broken.')
    // SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC): height then width after the precision byte.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (offset + 9 > bytes.length) break
      return { height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) }
    }
    if (marker === 0xda || marker === 0xd9) break
    offset += 2 + length
  }
  throw invalid('The JPEG has no frame header.')
}

function invalid(message: string): AppError {
  return new AppError('image_invalid', { message: `This image cannot be read: ${message}` })
}

interface Rgba {
  width: number
  height: number
  data: Uint8Array
}

/**
 * The PNG up to and including its IEND chunk: bytes appended after it (a second file glued on,
 * a polyglot's other half) are never decoded, and the re-encoding drops them.
 */
export function pngThroughIend(bytes: Buffer): Buffer {
  let offset = 8
  while (offset + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(offset)
    const type = bytes.toString('latin1', offset + 4, offset + 8)
    const end = offset + 12 + length
    if (end > bytes.length) break
    if (type === 'IEND') return bytes.subarray(0, end)
    offset = end
  }
  throw invalid('the PNG ends before its IEND chunk.')
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }
/** Adam7: x start, y start, x step, y step of the seven passes. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const

/** How many bytes the IDAT stream of this IHDR inflates to: each (pass) row's filter byte and pixels. */
export function pngInflatedSize(width: number, height: number, depth: number, colorType: number, interlaced: boolean): number {
  const bits = (CHANNELS[colorType] ?? 4) * Math.min(Math.max(depth, 1), 16)
  const rows = (w: number, h: number) => (w > 0 && h > 0 ? (Math.ceil((w * bits) / 8) + 1) * h : 0)
  if (!interlaced) return rows(width, height)
  return ADAM7.reduce((sum, [x0, y0, dx, dy]) => sum + rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)), 0)
}

/**
 * pngjs bounds the inflated image data by the declared size for plain PNGs, but inflates an
 * interlaced PNG's IDAT stream without any limit: an 8×8 interlaced file of under 1 MB expands
 * to ~1 GB of buffers (outside the worker's heap cap). Inflate it here first, refusing as soon
 * as it yields more than its declared pixels need.
 */
export function requireBoundedPngData(png: Buffer): void {
  if (png[28] !== 1) return
  const expected = pngInflatedSize(png.readUInt32BE(16), png.readUInt32BE(20), png[24], png[25], true)
  const idat: Buffer[] = []
  for (let offset = 8; offset + 12 <= png.length; ) {
    const length = png.readUInt32BE(offset)
    if (png.toString('latin1', offset + 4, offset + 8) === 'IDAT') idat.push(png.subarray(offset + 8, offset + 8 + length))
    offset += 12 + length
  }
  try {
    inflateSync(Buffer.concat(idat), { maxOutputLength: Math.max(expected, 1) })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw invalid(`its compressed data expands to more than its ${png.readUInt32BE(16)}×${png.readUInt32BE(20)} pixels need.`)
    // A broken stream: pngjs reports it below.
  }
}

function decode(bytes: Buffer, format: ImageFormat): Rgba {
  const input = format === 'png' ? pngThroughIend(bytes) : bytes
  if (format === 'png') requireBoundedPngData(input)
  try {
    if (format === 'png') {
      const png = PNG.sync.read(input)
      return { width: png.width, height: png.height, data: png.data }
    }
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false, maxResolutionInMP: MAX_PIXELS / 1_000_000, maxMemoryUsageInMB: 512 })
    return { width: image.width, height: image.height, data: image.data }
  } catch (err) {
    throw new AppError('image_invalid', { message: 'This image cannot be read: the file is damaged or uses an unsupported variant.', cause: err })
  }
}

/**
 * A JPEG's EXIF orientation (1–8; 1 when absent or unreadable): phone cameras store pixels
 * sideways and say so here. Applied before cropping, since the re-encoded PNG drops the tag.
 */
export function jpegOrientation(bytes: Buffer): number {
  try {
    let offset = 2
    while (offset + 4 <= bytes.length) {
      if (bytes[offset] !== 0xff) return 1
      const marker = bytes[offset + 1]
      if (marker === 0xda || marker === 0xd9) return 1
      const length = bytes.readUInt16BE(offset + 2)
      if (marker === 0xe1 && bytes.toString('latin1', offset + 4, offset + 10) === 'Exif\0\0') {
        const tiff = offset + 10
        const end = Math.min(bytes.length, offset + 2 + length)
        const little = bytes.toString('latin1', tiff, tiff + 2) === 'II'
        const u16 = (at: number) => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at))
        const u32 = (at: number) => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at))
        const ifd = tiff + u32(tiff + 4)
        const entries = u16(ifd)
        for (let i = 0; i < entries; i++) {
          const entry = ifd + 2 + i * 12
          if (entry + 12 > end) return 1
          if (u16(entry) === 0x0112) {
            const value = u16(entry + 8)
            return value >= 1 && value <= 8 ? value : 1
          }
        }
        return 1
      }
      offset += 2 + length
    }
  } catch {
    // A malformed EXIF block only loses the orientation.
  }
  return 1
}

/** Turns pixels stored with EXIF `orientation` upright. */
export function orient(image: Rgba, orientation: number): Rgba {
  if (orientation <= 1 || orientation > 8) return image
  const { width: w, height: h, data } = image
  const swap = orientation >= 5
  const width = swap ? h : w
  const height = swap ? w : h
  const out = new Uint8Array(data.length)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] =
        orientation === 2 ? [w - 1 - x, y]
        : orientation === 3 ? [w - 1 - x, h - 1 - y]
        : orientation === 4 ? [x, h - 1 - y]
        : orientation === 5 ? [y, x]
        : orientation === 6 ? [y, h - 1 - x]
        : orientation === 7 ? [w - 1 - y, h - 1 - x]
        : [w - 1 - y, x]
      const from = (sy * w + sx) * 4
      out.set(data.subarray(from, from + 4), (y * width + x) * 4)
    }
  }
  return { width, height, data: out }
}

/**
 * Box-filter weights from `srcLength` source pixels (starting at `srcStart`) to `outLength`:
 * each output pixel averages the source span it covers, with fractional edges. Upscaling
 * degrades to nearest-neighbour blocks, which is fine for icons.
 */
function weights(srcStart: number, srcLength: number, outLength: number): { index: number; weight: number }[][] {
  const scale = srcLength / outLength
  const table: { index: number; weight: number }[][] = []
  for (let o = 0; o < outLength; o++) {
    const from = o * scale
    const to = from + scale
    const taps: { index: number; weight: number }[] = []
    for (let s = Math.floor(from); s < Math.ceil(to) && s < srcLength; s++) {
      const overlap = Math.min(to, s + 1) - Math.max(from, s)
      if (overlap > 0) taps.push({ index: srcStart + s, weight: overlap / scale })
    }
    table.push(taps)
  }
  return table
}

/** Centre-crops to a square and resamples to size × size, in premultiplied alpha (no dark fringes). */
export function squareResize(image: Rgba, size: number): Rgba {
  const side = Math.min(image.width, image.height)
  const x0 = Math.floor((image.width - side) / 2)
  const y0 = Math.floor((image.height - side) / 2)
  const horizontal = weights(x0, side, size)
  const vertical = weights(y0, side, size)
  // Horizontal pass over the cropped rows: side rows × size columns, premultiplied.
  const mid = new Float64Array(side * size * 4)
  for (let y = 0; y < side; y++) {
    const row = (y0 + y) * image.width
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0
      for (const { index, weight } of horizontal[x]) {
        const p = (row + index) * 4
        const alpha = image.data[p + 3] * weight
        r += image.data[p] * alpha
        g += image.data[p + 1] * alpha
        b += image.data[p + 2] * alpha
        a += alpha
      }
      const m = (y * size + x) * 4
      mid[m] = r; mid[m + 1] = g; mid[m + 2] = b; mid[m + 3] = a
    }
  }
  const out = new Uint8Array(size * size * 4)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0
      for (const { index, weight } of vertical[y]) {
        const m = ((index - y0) * size + x) * 4
        r += mid[m] * weight
        g += mid[m + 1] * weight
        b += mid[m + 2] * weight
        a += mid[m + 3] * weight
      }
      const o = (y * size + x) * 4
      if (a > 0) {
        out[o] = Math.min(255, Math.round(r / a))
        out[o + 1] = Math.min(255, Math.round(g / a))
        out[o + 2] = Math.min(255, Math.round(b / a))
      }
      out[o + 3] = Math.min(255, Math.round(a))
    }
  }
  return { width: size, height: size, data: out }
}

export function encodePng(image: Rgba): Buffer {
  const png = new PNG({ width: image.width, height: image.height })
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength)
  return PNG.sync.write(png, { colorType: 6 })
}

/** `image_too_large`, naming the file's size and the limit (`maxBytes` for clients to show). */
export function imageTooLarge(sizeBytes: number, maxBytes: number): AppError {
  const size = sizeBytes >= 1_000_000 ? `${(sizeBytes / 1_000_000).toFixed(1)} MB` : `${Math.ceil(sizeBytes / 1000)} KB`
  return new AppError('image_too_large', { message: `The image is ${size}; the limit is ${describeBytes(maxBytes)}.`, details: { maxBytes } })
}

/** From uploaded bytes to a clean OUTPUT_SIZE-square PNG, or a 4xx AppError saying why not. */
export function reencodeImage(bytes: Buffer, maxBytes: number): { png: Buffer; width: number; height: number; sourceFormat: ImageFormat } {
  if (bytes.length === 0) throw new AppError('image_invalid', { message: 'The image is empty.' })
  if (bytes.length > maxBytes) {
    throw imageTooLarge(bytes.length, maxBytes)
  }
  const format = sniffFormat(bytes)
  const { width, height } = declaredSize(bytes, format)
  if (width < 1 || height < 1) throw invalid('it has no pixels.')
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
    throw new AppError('image_invalid', { message: `The image is ${width}×${height} pixels; at most ${MAX_SIDE}×${MAX_SIDE} is accepted.`, details: { width, height, maxSide: MAX_SIDE } })
  }
  const decoded = decode(bytes, format)
  if (decoded.width !== width || decoded.height !== height || decoded.data.length < width * height * 4) throw invalid('its size does not match its header.')
  const upright = format === 'jpeg' ? orient(decoded, jpegOrientation(bytes)) : decoded
  const png = encodePng(squareResize(upright, OUTPUT_SIZE))
  return { png, width: OUTPUT_SIZE, height: OUTPUT_SIZE, sourceFormat: format }
}

/**
 * The upload as JSON carries the file base64-encoded, optionally as a data URL
 * (`data:image/png;base64,...`, what a browser's FileReader gives).
 */
export function decodeBase64Upload(text: string): Buffer {
  const body = text.startsWith('data:') ? text.slice(text.indexOf(',') + 1) : text
  const compact = body.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw new AppError('invalid_request', { message: 'The image must be base64-encoded (or a base64 data URL).', fields: { image: 'invalid_base64' } })
  }
  return Buffer.from(compact, 'base64')
}
