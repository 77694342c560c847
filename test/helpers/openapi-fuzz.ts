/**
 * fast-check arbitraries made from the app's own OpenAPI document: for each operation, requests
 * whose path parameters, query and JSON body are drawn from the operation's schemas (mostly
 * well-shaped values that reach the handler, some plain junk), and the check every answer must
 * pass: never a 5xx, and every 4xx in the catalogued `{"error": {"code", "message"}}` shape.
 */
import fc from 'fast-check'
import { ERROR_CATALOG } from '../../src/errors.ts'

export interface JsonSchema {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: boolean | JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  enum?: unknown[]
  const?: unknown
  items?: JsonSchema
  minItems?: number
  maxItems?: number
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  pattern?: string
}

interface Parameter {
  in: 'path' | 'query' | 'header' | 'cookie'
  name: string
  required?: boolean
  schema?: JsonSchema
}

export interface Operation {
  method: string
  /** The OpenAPI path, e.g. `/api/v1/teams/{slug}`. */
  path: string
  parameters: Parameter[]
  body?: JsonSchema
  bodyRequired: boolean
}

export interface FuzzRequest {
  method: string
  url: string
  /** Undefined sends no body. */
  payload?: string
  remoteAddress: string
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> } }>>
}

export function operationsOf(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = []
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(item)) {
      operations.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        body: op.requestBody?.content?.['application/json']?.schema,
        bodyRequired: op.requestBody?.required === true,
      })
    }
  }
  return operations
}

/** Strings up to a sane length: long ones are covered by their exact-limit values. */
const MAX_GENERATED_STRING = 48

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0
  const maxLength = schema.maxLength ?? 200
  const options: fc.Arbitrary<string>[] = [
    fc.string({ minLength: Math.min(minLength, MAX_GENERATED_STRING), maxLength: Math.min(maxLength, MAX_GENERATED_STRING) }),
    fc.string({ unit: 'grapheme', maxLength: Math.min(maxLength, 16) }),
    // Any code point: control characters, NUL, lone surrogates (which PostgreSQL cannot store).
    fc.string({ unit: 'binary', maxLength: Math.min(maxLength, 16) }),
    fc.constantFrom('a'.repeat(maxLength), 'a'.repeat(maxLength + 1), ' ', '0', 'null', '../..', 'ada@example.com', '<script>', 'ü'.repeat(Math.min(maxLength, 64))),
  ]
  if (schema.pattern) {
    try {
      const matching = fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= minLength && s.length <= maxLength)
      options.push(matching, matching)
    } catch {
      // A pattern fast-check cannot generate from: the other strings still cover it.
    }
  }
  return fc.oneof(...options)
}

/** Values shaped by the schema (required keys present, known keys, bounds nearby). */
export function fromSchema(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.jsonValue({ maxDepth: 1 })
  if (schema.const !== undefined) return fc.constant(schema.const)
  if (schema.enum) return fc.constantFrom(...schema.enum)
  const union = schema.anyOf ?? schema.oneOf
  if (union) return fc.oneof(...union.map((inner) => fromSchema(inner, depth + 1)))
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  switch (type) {
    case 'string':
      return stringFor(schema)
    case 'integer':
      return fc.oneof(fc.integer({ min: schema.minimum ?? -1_000, max: schema.maximum ?? 1_000_000 }), fc.constantFrom(schema.minimum ?? 0, (schema.maximum ?? 0) + 1, -1, 2 ** 53))
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9, noNaN: true })
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'array':
      return fc.array(fromSchema(schema.items, depth + 1), { minLength: Math.min(schema.minItems ?? 0, 4), maxLength: Math.min(schema.maxItems ?? 4, 4) })
    case 'object': {
      const properties = schema.properties ?? {}
      const model = Object.fromEntries(Object.entries(properties).map(([key, inner]) => [key, fromSchema(inner, depth + 1)]))
      const required = (schema.required ?? []).filter((key) => key in properties)
      const record = fc.record(model, { requiredKeys: required })
      if (schema.additionalProperties === false || !Object.keys(properties).length) return record
      return fc.tuple(record, fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 })).map(([known, extra]) => ({ ...extra, ...known }))
    }
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

/** A JSON body: mostly the schema's shape, sometimes any JSON at all, sometimes nothing. */
function bodyFor(op: Operation): fc.Arbitrary<string | undefined> {
  if (!op.body) return fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), weight: 1 })
  return fc.oneof(
    { arbitrary: fromSchema(op.body).map((v) => JSON.stringify(v)), weight: 6 },
    { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 1 },
    { arbitrary: fc.constantFrom(undefined, '', '{', '{"a":', 'null', '[]', '"x"', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]', '{"a":"\\u0000"}', '1e999'), weight: 1 },
  )
}

/** Values a parameter of this name may really hold in the app (an existing team, account, …). */
export type KnownValues = Record<string, string[]>

function parameterValue(parameter: Parameter, known: KnownValues): fc.Arbitrary<string> {
  const schema = parameter.schema ?? {}
  const options: fc.Arbitrary<string>[] = [fromSchema(schema).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))), fc.string({ minLength: 1, maxLength: 24 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 24 })]
  const real = known[parameter.name]
  if (real?.length) options.push(fc.constantFrom(...real), fc.constantFrom(...real))
  return fc.oneof(...options)
}

export function requestFor(op: Operation, known: KnownValues): fc.Arbitrary<FuzzRequest> {
  const pathParameters = op.parameters.filter((p) => p.in === 'path')
  const queryParameters = op.parameters.filter((p) => p.in === 'query')
  const path = fc.tuple(...pathParameters.map((p) => parameterValue(p, known).filter((v) => v.length > 0))).map((values) => {
    let url = op.path
    pathParameters.forEach((p, i) => (url = url.replace(`{${p.name}}`, encodeURIComponent(values[i]))))
    return url
  })
  const query = fc.tuple(...queryParameters.map((p) => fc.option(parameterValue(p, known), { nil: undefined }))).map((values) => {
    const search = new URLSearchParams()
    queryParameters.forEach((p, i) => values[i] !== undefined && search.set(p.name, values[i]))
    const text = search.toString()
    return text ? `?${text}` : ''
  })
  return fc.record({
    method: fc.constant(op.method),
    url: fc.tuple(path, query).map(([p, q]) => p + q),
    payload: bodyFor(op),
    remoteAddress: fc.ipV4(),
  })
}

export interface FuzzAnswer {
  status: number
  contentType: string
  body: string
}

/** Why an answer breaks the rules, or null when it keeps them. */
export function ruleBroken(answer: FuzzAnswer): string | null {
  if (answer.status >= 500) return `answered ${answer.status}: ${answer.body.slice(0, 300)}`
  if (answer.status < 400) return null
  if (!answer.contentType.includes('application/json')) return `answered ${answer.status} as ${answer.contentType || 'no content type'}, not JSON`
  let parsed: unknown
  try {
    parsed = JSON.parse(answer.body)
  } catch {
    return `answered ${answer.status} with a body that is not JSON: ${answer.body.slice(0, 200)}`
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown; fields?: unknown } }).error
  if (!error || typeof error.code !== 'string' || typeof error.message !== 'string') return `answered ${answer.status} without {"error": {"code", "message"}}: ${answer.body.slice(0, 200)}`
  const catalogued = (ERROR_CATALOG as Record<string, { status: number }>)[error.code]
  if (!catalogued) return `answered ${answer.status} with the uncatalogued code ${error.code}`
  if (catalogued.status !== answer.status) return `answered ${answer.status} with ${error.code}, which the catalog gives ${catalogued.status}`
  if (error.fields !== undefined && (typeof error.fields !== 'object' || error.fields === null || Object.values(error.fields).some((v) => typeof v !== 'string'))) {
    return `answered ${answer.status} with fields that are not a map of reasons: ${JSON.stringify(error.fields)}`
  }
  return null
}

/** A stable seed per operation from the run's seed, so one operation's failure replays alone. */
export function seedFor(baseSeed: number, op: Operation): number {
  let hash = baseSeed | 0
  for (const c of `${op.method} ${op.path}`) hash = (Math.imul(hash, 31) + c.charCodeAt(0)) | 0
  return hash
}
