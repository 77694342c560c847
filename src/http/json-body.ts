/**
 * The one JSON body parser every API route uses. It refuses, with a stable 400, what a
 * handler must never see: invalid JSON, prototype-pollution keys, bodies nested deeper than
 * any request needs, and text holding NUL characters. Nothing here recurses, so no body can
 * exhaust the stack (a `[`×30000 body under the size limit once answered 500).
 */
import secureJson from 'secure-json-parse'
import { AppError } from '../errors.ts'

/** No request body needs more than a few levels (the deepest, a passkey response, has 4). */
export const MAX_JSON_DEPTH = 32

/**
 * The deepest nesting of arrays and objects in JSON text, stopping as soon as it passes
 * `limit`: one pass over the characters, skipping string contents, so it is measured before
 * anything parses or walks the tree.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c /* \ */) i++
      else if (c === 0x22 /* " */) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limit) return true
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--
  }
  return false
}

/**
 * The path of the first string (value or key) holding a NUL, or null: PostgreSQL cannot
 * store one, and no field needs it. Walks with an explicit stack, never by recursion.
 */
export function nulPath(root: unknown): string | null {
  const stack: { value: unknown; path: string }[] = [{ value: root, path: '' }]
  const join = (path: string, key: string) => (path ? `${path}.${key}` : key)
  while (stack.length) {
    const { value, path } = stack.pop()!
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path || 'body'
    } else if (Array.isArray(value)) {
      // Pushed in reverse so the first offending element is the one reported.
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: join(path, String(i)) })
    } else if (value && typeof value === 'object') {
      const entries = Object.entries(value)
      for (const [key] of entries) if (key.includes('\u0000')) return join(path, key)
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i][1], path: join(path, entries[i][0]) })
    }
  }
  return null
}

/** Parses a request body; throws the AppError the client gets. */
export function parseJsonBody(text: string): unknown {
  if (text === '') throw new AppError('invalid_json', { message: 'The request body is empty; send a JSON object.' })
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) throw new AppError('json_too_deep')
  let parsed: unknown
  try {
    // secure-json-parse refuses __proto__ and constructor.prototype keys (prototype pollution).
    parsed = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' })
  } catch {
    throw new AppError('invalid_json')
  }
  const nul = nulPath(parsed)
  if (nul) throw new AppError('invalid_request', { message: 'Text may not contain NUL characters.', fields: { [nul]: 'invalid_characters' } })
  return parsed
}
