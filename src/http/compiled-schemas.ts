/**
 * Fastify compiles every route's input validators and response serialisers when a server
 * starts: about half a second for Latchkey's routes, paid again by each server a process
 * builds (the test suite builds one per test). A compiled function depends only on its schema
 * (and, for a serialiser, on the shared schemas it may reference and the serialiser options),
 * so a process compiles each distinct one once; schemas are compared by their JSON text.
 */
import { createHash } from 'node:crypto'
import { SerializerSelector, type RouteDefinition, type SerializerFactory } from '@fastify/fast-json-stringify-compiler'
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import type { FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify'
import type { TSchema } from 'typebox'

type Validator = ReturnType<FastifySchemaCompiler<TSchema>>
type Serializer = ReturnType<FastifySerializerCompiler<unknown>>

const validators = new Map<string, Validator>()
const serializers = new Map<string, Serializer>()
const buildDefaultSerializers = SerializerSelector()

export const cachedValidatorCompiler: FastifySchemaCompiler<TSchema> = (route) => {
  // The HTTP part matters: query strings, params and headers are converted before the check.
  const key = `${route.httpPart}\n${JSON.stringify(route.schema)}`
  let validator = validators.get(key)
  if (!validator) validators.set(key, (validator = TypeBoxValidatorCompiler(route)))
  return validator
}

/** For Fastify's `schemaController.compilersFactory.buildSerializer`. */
export const cachedSerializerFactory: SerializerFactory = (externalSchemas, serializerOptions) => {
  const context = createHash('sha256').update(JSON.stringify([externalSchemas ?? null, serializerOptions ?? null])).digest('base64url')
  const compile = buildDefaultSerializers(externalSchemas, serializerOptions)
  return (route: RouteDefinition): Serializer => {
    const key = `${context}\n${JSON.stringify(route.schema)}`
    let serializer = serializers.get(key)
    if (!serializer) serializers.set(key, (serializer = compile(route)))
    return serializer
  }
}
