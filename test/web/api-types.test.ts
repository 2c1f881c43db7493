/**
 * The dashboard's API types come from the API's OpenAPI document (scripts/openapi-types.ts): with the types
 * made from the document as it is, the pages type-check; with a response field renamed or retyped in the
 * document, the page reading that field does not. The check runs the TypeScript compiler on the web app
 * with `web/src/generated/api.ts` replaced in memory, as `tsc -p web/tsconfig.json` (npm run typecheck)
 * would see it after `npm run api-types`.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { OpenAPI3 } from 'openapi-typescript'
import ts from 'typescript'
import { beforeAll, describe, expect, it } from 'vitest'
import { apiDocument, apiTypes, TYPES_FILE } from '../../scripts/openapi-types.js'

const WEB = resolve(import.meta.dirname, '../../web')

type Schema = {
  type?: string | string[]
  properties?: Record<string, Schema>
  required?: string[]
  anyOf?: Schema[]
  oneOf?: Schema[]
  allOf?: Schema[]
}

const config = ts.getParsedCommandLineOfConfigFile(
  join(WEB, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    },
  },
)
if (config === undefined) throw new Error('web/tsconfig.json could not be read')

/** Source files other than the generated one, parsed once for every program below. */
const parsed = new Map<string, ts.SourceFile>()

/** The web app as the compiler sees it when `web/src/generated/api.ts` holds `types`. */
function webProgram(types: string): ts.Program {
  const options = config!.options
  const host = ts.createCompilerHost(options)
  const read = host.getSourceFile.bind(host)
  host.fileExists = (name) => name === TYPES_FILE || ts.sys.fileExists(name)
  host.readFile = (name) => (name === TYPES_FILE ? types : ts.sys.readFile(name))
  host.getSourceFile = (name, language) => {
    if (name === TYPES_FILE) return ts.createSourceFile(name, types, language)
    let file = parsed.get(name)
    if (file === undefined) {
      file = read(name, language)
      if (file !== undefined) parsed.set(name, file)
    }
    return file
  }
  const roots = config!.fileNames.filter((f) => f !== TYPES_FILE)
  return ts.createProgram([...roots, TYPES_FILE], options, host)
}

/** The type errors of one web file (`src/…`), as `file(line): message` lines. */
function errorsIn(program: ts.Program, file: string): string[] {
  const source = program.getSourceFile(join(WEB, file))
  if (source === undefined) throw new Error(`web/${file} is not part of the web app`)
  return program.getSemanticDiagnostics(source).map((d) => {
    const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line + 1
    return `web/${file}(${line}): ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`
  })
}

/** The object schema of a component (inside its nullable `anyOf` when it has one). */
function objectOf(schema: Schema | undefined): Schema {
  if (schema?.properties !== undefined) return schema
  for (const s of [...(schema?.anyOf ?? []), ...(schema?.oneOf ?? []), ...(schema?.allOf ?? [])])
    if (s.properties !== undefined) return s
  throw new Error('no object schema')
}

/** A copy of the document in which `change` was made to component `name`'s object schema. */
function changed(doc: OpenAPI3, name: string, change: (s: Schema) => void): OpenAPI3 {
  const copy = structuredClone(doc)
  const schemas = (copy.components?.schemas ?? {}) as Record<string, Schema>
  change(objectOf(schemas[name]))
  return copy
}

/** Renames a response field, as a route's schema would if the API renamed it. */
const renamed = (from: string, to: string) => (s: Schema) => {
  const props = s.properties ?? {}
  if (props[from] === undefined) throw new Error(`no field ${from}`)
  props[to] = props[from]
  delete props[from]
  s.required = s.required?.map((k) => (k === from ? to : k))
}

/** Gives a response field another type. */
const retyped = (field: string, type: string) => (s: Schema) => {
  const props = s.properties ?? {}
  if (props[field] === undefined) throw new Error(`no field ${field}`)
  props[field] = { type }
}

let doc: OpenAPI3
let current: ts.Program

beforeAll(async () => {
  doc = apiDocument()
  current = webProgram(await apiTypes(doc))
}, 60_000)

/** Fields the pages read, each renamed in the document: the page reading it must fail to type-check. */
const RENAMES = [
  { schema: 'RiskMix', field: 'scoreBins', file: 'src/pages/risk.ts' },
  { schema: 'Member360', field: 'masked', file: 'src/pages/member.ts' },
  { schema: 'LoyaltyProgram', field: 'tierNames', file: 'src/pages/loyalty.ts' },
  { schema: 'MetricTreeNode', field: 'targetText', file: 'src/pages/overview.ts' },
  { schema: 'Settings', field: 'currency', file: 'src/ui.ts' },
  // The problems of a refused request, read by api-error.ts through the check in ui.ts.
  { schema: 'Issue', field: 'reason', file: 'src/ui.ts' },
] as const

describe('the dashboard’s API types', () => {
  it('type-check the pages with the types made from the API’s document', () => {
    const files = new Set(RENAMES.map((r) => r.file))
    for (const file of files) expect(errorsIn(current, file)).toEqual([])
  })

  it.each(RENAMES)(
    'fail the web type check when the field $field of $schema is renamed',
    async ({ schema, field, file }) => {
      const types = await apiTypes(changed(doc, schema, renamed(field, `${field}Renamed`)))
      expect(types).toContain(`${field}Renamed`)
      const errors = errorsIn(webProgram(types), file)
      expect(errors.length, `no type error in web/${file}`).toBeGreaterThan(0)
      expect(errors.join('\n')).toContain(field)
    },
    30_000,
  )

  it('fail the web type check when a field the page computes with changes type', async () => {
    const types = await apiTypes(changed(doc, 'RiskMix', retyped('atRisk', 'string')))
    const errors = errorsIn(webProgram(types), 'src/pages/risk.ts')
    expect(errors.join('\n')).toMatch(/Argument of type 'string'/)
  }, 30_000)

  it('leave no hand-written response type in the pages', () => {
    const pages = readdirSync(join(WEB, 'src/pages')).filter((f) => f.endsWith('.ts'))
    expect(pages.length).toBeGreaterThan(5)
    for (const page of pages) {
      const text = readFileSync(join(WEB, 'src/pages', page), 'utf8')
      // Types of answers are aliases of the generated ones; an interface or object type would be a copy.
      expect(text, page).not.toMatch(/^\s*(export\s+)?interface\s/m)
      expect(text, page).not.toMatch(/^\s*(export\s+)?type\s+\w+\s*=\s*\{/m)
      // Every API call goes through the typed client.
      expect(text, page).not.toMatch(/\bfetch\(|\bapi<|\bsend</)
    }
  })
})
