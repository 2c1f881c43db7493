/**
 * The dashboard's API types, made from the API itself: builds the OpenAPI document in-process (the document
 * `/openapi.json` serves, from the routes' zod schemas) and turns it into TypeScript with openapi-typescript,
 * into `web/src/generated/api.ts`. The web app's client (`openapi-fetch` in `web/src/ui.ts`) takes each
 * call's path, parameters and answer type from it, so a response field renamed or removed in a route's schema
 * is a type error in the page that reads it (`tsc -p web/tsconfig.json`, part of `npm run typecheck`).
 *
 * The file is not kept in git: `npm run build` and `npm run typecheck` make it first (`npm run api-types`).
 *
 *   npx tsx scripts/openapi-types.ts            # writes web/src/generated/api.ts
 *   npx tsx scripts/openapi-types.ts --stdout   # prints it
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript'
import { createApp } from '../src/api/app.js'
import { KeyStore } from '../src/api/keys.js'
import { API_INFO } from '../src/api/openapi.js'
import { fixedClock } from '../src/core/clock.js'
import { DuckDbDriver } from '../src/duckdb/driver.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Where the web app reads the types from (git-ignored). */
export const TYPES_FILE = join(ROOT, 'web/src/generated/api.ts')

/**
 * The API's OpenAPI 3.1 document, as `/openapi.json` serves it. Building the app opens nothing: the driver
 * opens its (in-memory) database only on a first query, the key file and the audit log only on a request,
 * and no request is made.
 */
export function apiDocument(): OpenAPI3 {
  const clock = fixedClock(new Date(0))
  const app = createApp({
    driver: DuckDbDriver.shared({ path: ':memory:' }, { idleMs: 0 }),
    keys: new KeyStore(join(ROOT, 'no-keys.json'), clock),
    clock,
    log: () => {},
  })
  return app.getOpenAPI31Document({ openapi: '3.1.0', info: API_INFO }) as OpenAPI3
}

const HEADER = `/**
 * The memberlens API's paths and schemas, made from its OpenAPI document by \`npm run api-types\`
 * (scripts/openapi-types.ts) with openapi-typescript. Not kept in git; do not edit: change the route's
 * schema in src/api/routes/ and run the script again.
 */

`

/** The TypeScript declarations of a document: `paths`, `components` and `operations`. */
export async function apiTypes(doc: OpenAPI3 = apiDocument()): Promise<string> {
  const ast = await openapiTS(doc, { silent: true })
  return HEADER + astToString(ast)
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = await apiTypes()
  if (process.argv.includes('--stdout')) process.stdout.write(text)
  else {
    mkdirSync(dirname(TYPES_FILE), { recursive: true })
    writeFileSync(TYPES_FILE, text)
  }
}
