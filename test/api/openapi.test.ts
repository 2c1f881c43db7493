/**
 * The OpenAPI document as a contract: every operation is named, summarised, has a real response schema and
 * a row in docs/api.md; each URL prefix is served by one route module named after it; and the answers of the read routes, over a
 * small simulated member base with CLV and risk runs, match the schemas the document publishes.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { z } from '@hono/zod-openapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/api/app.js'
import { createContext } from '../../src/api/context.js'
import { KeyStore } from '../../src/api/keys.js'
import { ErrorSchema } from '../../src/api/openapi.js'
import { ROUTE_MODULES } from '../../src/api/routes/index.js'
import { runDemoModels } from '../../src/cli/demo-models.js'
import { saveSegment } from '../../src/engine/segments/segment-store.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { simulate } from '../../src/simulate/simulate.js'
import { AuditLog } from '../../src/duckdb/audit-log.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'
import { INGEST_TABLES } from '../../src/core/schema.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
type Schema = {
  $ref?: string
  type?: string | string[]
  properties?: Record<string, Schema>
  additionalProperties?: Schema | boolean
  items?: Schema
  prefixItems?: Schema[]
  anyOf?: Schema[]
  oneOf?: Schema[]
  allOf?: Schema[]
}
type Operation = {
  operationId?: string
  summary?: string
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>
}
type Doc = {
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, Schema> }
}

let s: Scratch
let app: ReturnType<typeof createApp>
let admin: string
let doc: Doc

beforeAll(async () => {
  s = await scratch()
  const sim = await simulate(`${s.dir}/data`, { members: 150, months: 15, seed: 7 })
  for (const t of INGEST_TABLES) {
    const file = (sim.files as Record<string, string | undefined>)[t]
    if (file !== undefined) await ingestFile(s.db.driver, file, { table: t, clock: TEST_CLOCK })
  }
  await saveSegment(s.db.driver, { name: 'zhejiang', filter: { region: ['浙江'] } }, TEST_CLOCK)
  await runDemoModels(s.db.driver, TEST_CLOCK)
  const keys = new KeyStore(`${s.dir}/keys.json`, TEST_CLOCK)
  admin = (await keys.create('admin test', 'admin')).secret
  app = createApp({
    driver: s.db.driver,
    keys,
    clock: TEST_CLOCK,
    rate: { perSecond: 1000, burst: 1000 },
    log: () => {},
  })
  doc = (await (await app.request('/openapi.json')).json()) as Doc
}, 120_000)
afterAll(async () => {
  await s.cleanup()
})

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ path, method, op })),
  )

/** Why the schema says nothing about the answer, or undefined when it describes one. */
function emptiness(schema: Schema | undefined, seen = new Set<string>()): string | undefined {
  if (schema === undefined) return 'no schema'
  if (schema.$ref !== undefined) {
    const name = schema.$ref.replace('#/components/schemas/', '')
    if (seen.has(name)) return undefined
    return emptiness(doc.components.schemas[name], new Set([...seen, name]))
  }
  // Every alternative must say something; of an intersection, one part is enough (the others may only
  // add a description).
  for (const list of [schema.anyOf, schema.oneOf])
    if (list !== undefined) return list.map((x) => emptiness(x, seen)).find((x) => x !== undefined)
  if (schema.allOf !== undefined) {
    const why = schema.allOf.map((x) => emptiness(x, seen))
    return why.some((x) => x === undefined) ? undefined : why[0]
  }
  if (schema.type === undefined) return 'a schema without a type'
  if (schema.type === 'object') {
    // A record (`additionalProperties` alone) names its values; an object with no properties says nothing.
    if (schema.properties === undefined)
      return schema.additionalProperties === undefined ? 'an object with no properties' : undefined
    if (Object.keys(schema.properties).length === 0) return 'an object with no properties'
    for (const [key, value] of Object.entries(schema.properties)) {
      const why = emptiness(value, seen)
      if (why !== undefined) return `${key}: ${why}`
    }
  }
  if (schema.type === 'array' && schema.items !== undefined) return emptiness(schema.items, seen)
  return undefined
}

describe('OpenAPI document', () => {
  it('names and summarises every operation and gives it a non-empty response schema', () => {
    const ops = operations()
    expect(ops.length).toBeGreaterThan(50)
    for (const { path, method, op } of ops) {
      const where = `${method.toUpperCase()} ${path}`
      expect(op.operationId, where).toMatch(/^[a-z][A-Za-z0-9]+$/)
      expect(op.summary?.trim(), where).toBeTruthy()
      const success = op.responses['200'] ?? op.responses['201']
      expect(success?.content, where).toBeDefined()
      for (const [type, media] of Object.entries(success?.content ?? {}))
        expect(emptiness(media.schema), `${where} ${type}`).toBeUndefined()
    }
  })

  it('gives every operation its own operationId', () => {
    const ids = operations().map((o) => o.op.operationId)
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i)
    expect(repeated).toEqual([])
  })

  it('is listed in the endpoints table of docs/api.md, path by path', async () => {
    const text = await readFile(resolve(import.meta.dirname, '../../docs/api.md'), 'utf8')
    const table = text.slice(text.indexOf('## Endpoints'), text.indexOf('**Member 360**'))
    const listed = new Set(
      [...table.matchAll(/`(?:GET|POST|PUT|DELETE) (\/api\/v1\/[^`?\s]*)/g)].map((m) => m[1]),
    )
    expect(listed.size).toBeGreaterThan(40)
    const documented = new Set(operations().map((o) => o.path))
    const api = [...documented].filter((p) => p.startsWith('/api/'))
    expect(api.filter((p) => !listed.has(p))).toEqual([])
    expect([...listed].filter((p) => !documented.has(p ?? ''))).toEqual([])
  })

  it('finds an empty schema where there is one', () => {
    expect(emptiness({ type: 'object', properties: {} })).toBe('an object with no properties')
    expect(emptiness({ type: 'object' })).toBe('an object with no properties')
    expect(emptiness({ type: 'object', properties: { a: { type: 'object' } } })).toBe(
      'a: an object with no properties',
    )
    expect(emptiness({ type: 'object', additionalProperties: {} })).toBeUndefined()
    expect(emptiness({ allOf: [{ type: 'string' }, {}] })).toBeUndefined()
    expect(emptiness({ allOf: [{}, {}] })).toBe('a schema without a type')
    expect(emptiness({ anyOf: [{ type: 'null' }, { type: 'object', properties: {} }] })).toBe(
      'an object with no properties',
    )
  })
})

describe('route modules', () => {
  /** The first segment of each path a module serves, e.g. `risk-mix` for `/risk-mix`. */
  const prefixes = () => {
    const ctx = createContext({
      driver: s.db.driver,
      clock: TEST_CLOCK,
      keys: new KeyStore(`${s.dir}/keys-modules.json`, TEST_CLOCK),
      audit: new AuditLog(':memory:', TEST_CLOCK),
      queryTimeoutMs: 1000,
      maxRows: 10,
      log: () => {},
    })
    return Object.entries(ROUTE_MODULES).map(([name, routes]) => {
      const paths = routes(ctx)
        .openAPIRegistry.definitions.flatMap((d) => (d.type === 'route' ? [d.route.path] : []))
        .map((p) => p.split('/')[1] ?? '')
      return { name, prefixes: new Set(paths), routes: paths.length }
    })
  }

  it('serves each URL prefix from one module, named after it', () => {
    const modules = prefixes()
    const owner = new Map<string, string>()
    for (const m of modules) {
      expect(m.prefixes, m.name).toContain(m.name)
      for (const p of m.prefixes) {
        // A module also holds the hyphenated views of its resource (risk-mix, segment-sizes…).
        const stem = m.name.replace(/s$/, '')
        expect(p === m.name || p.startsWith(`${stem}-`), `${p} in ${m.name}`).toBe(true)
        expect(owner.get(p), `${p} in ${m.name}`).toBeUndefined()
        owner.set(p, m.name)
      }
    }
    // Every operation of the app comes from a module.
    const total = modules.reduce((a, m) => a + m.routes, 0)
    expect(operations().filter((o) => o.path.startsWith('/api/'))).toHaveLength(total)
    for (const { path } of operations())
      if (path.startsWith('/api/v1/')) expect(owner.has(path.split('/')[3] ?? '')).toBe(true)
  })
})

describe('answers match the published schemas', () => {
  /** GET routes whose success is not JSON or needs a service the test app runs without. */
  const NOT_CHECKED = new Set([
    '/api/v1/risk-export',
    '/api/v1/segments/{name}/export',
    '/api/v1/alerts',
    '/api/v1/alerts/rules',
    '/api/v1/alerts/rules/{id}/backtest',
    '/api/v1/report/schedules',
    '/api/v1/report/schedules/log',
    '/api/v1/loyalty/members/{memberId}/balance',
    '/api/v1/loyalty/members/{memberId}/history',
    // Needs a replayed ledger; checked in test/ledger/tier-forecast.test.ts.
    '/api/v1/loyalty/tier-forecast',
    // Needs a ledger; checked in test/ledger/farming.test.ts.
    '/api/v1/loyalty/holds',
    // Needs a `memberlens target` run; checked in test/analytics/targeting.test.ts.
    '/api/v1/targeting/simulate',
  ])

  /** Answers whose nullable parts the simulated data fills. */
  const FILLED: Record<string, string[]> = {
    '/api/v1/overview': ['overview'],
    '/api/v1/value': ['value'],
    '/api/v1/risk-mix': ['risk'],
    '/api/v1/voice': ['complaintChurn'],
  }

  const urls = async () => {
    const list = (await (await get('/api/v1/experiments')).json()) as {
      experiments: { experimentId: string }[]
    }
    const risk = (await (await get('/api/v1/risk?limit=1')).json()) as {
      members: { memberId: number }[]
    }
    const experiment = list.experiments[0]?.experimentId
    const member = risk.members[0]?.memberId
    expect(experiment).toBeDefined()
    expect(member).toBeDefined()
    FILLED[`/api/v1/members/${member}`] = ['clv', 'lifecycle', 'risk']
    return [
      '/api/v1/whoami',
      '/api/v1/settings',
      '/api/v1/metrics',
      '/api/v1/metrics/query?metrics=net_revenue,aov:yoy,buyers:avg3&from=2025-11&to=2026-04&by=registration_channel',
      '/api/v1/tree',
      '/api/v1/tree/decomposition',
      '/api/v1/tree/decomposition/net_revenue?by=region,registration_channel',
      '/api/v1/overview',
      '/api/v1/drivers?core=net_revenue',
      `/api/v1/members/${member}`,
      '/api/v1/rfm',
      '/api/v1/rfm/grid',
      '/api/v1/risk?limit=20',
      '/api/v1/risk-mix',
      '/api/v1/targeting',
      '/api/v1/clv/report',
      '/api/v1/clv/intervals?top=3&draws=20',
      '/api/v1/value',
      '/api/v1/value/validation',
      '/api/v1/value/members?limit=5&ids=customer_id,phone',
      '/api/v1/cohorts?periods=6',
      '/api/v1/cohorts/ltv?periods=6&by=registration_channel',
      '/api/v1/survival?by=registration_channel',
      '/api/v1/lifecycle',
      '/api/v1/lifecycle/sizes?from=2026-01&to=2026-03',
      '/api/v1/lifecycle/flows',
      '/api/v1/categories',
      '/api/v1/categories/paths?top=3',
      '/api/v1/categories/next?minBase=2',
      '/api/v1/categories/mix?by=lifecycle_stage',
      '/api/v1/categories/mix?by=segment&segment=zhejiang',
      '/api/v1/intervals?by=category',
      '/api/v1/intervals?segment=zhejiang',
      '/api/v1/segments',
      '/api/v1/segments/zhejiang',
      '/api/v1/segment-sizes',
      '/api/v1/segments/zhejiang/compare',
      '/api/v1/tags',
      '/api/v1/loyalty-program',
      '/api/v1/loyalty/farming',
      '/api/v1/voice?by=channel',
      '/api/v1/experiments',
      `/api/v1/experiments/${encodeURIComponent(experiment ?? '')}`,
      '/api/v1/glossary',
      '/api/v1/dimensions/region/values',
      '/api/v1/dimensions/lifecycle_stage/values',
      '/api/v1/dimensions/tier/values',
      '/api/v1/glossary/net_revenue',
      '/api/v1/calendar?year=2026',
      '/api/v1/keys',
      '/api/v1/audit',
    ]
  }

  const get = (url: string) => app.request(url, { headers: { authorization: `Bearer ${admin}` } })

  /** The zod schema of a route's 200 JSON answer, as registered. */
  const schemaOf = (template: string): z.ZodType | undefined => {
    for (const d of app.openAPIRegistry.definitions) {
      if (d.type !== 'route' || d.route.method !== 'get' || d.route.path !== template) continue
      const ok = d.route.responses['200'] as
        { content?: Record<string, { schema?: unknown }> } | undefined
      return ok?.content?.['application/json']?.schema as z.ZodType | undefined
    }
    return undefined
  }

  it('checks every JSON read route against its schema', async () => {
    const templates = operations()
      .filter((o) => o.method === 'get' && o.path.startsWith('/api/') && !NOT_CHECKED.has(o.path))
      .map((o) => o.path)
    const checked = new Set<string>()
    for (const url of await urls()) {
      const path = url.split('?')[0] ?? ''
      const template = templates.find((t) =>
        new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
      )
      expect(template, url).toBeDefined()
      const r = await get(url)
      expect(r.status, url).toBe(200)
      const schema = schemaOf(template ?? '')
      expect(schema, url).toBeDefined()
      const answer = (await r.json()) as Record<string, unknown>
      const parsed = schema?.safeParse(answer)
      expect(parsed?.error?.issues ?? [], url).toEqual([])
      // The parts that are null before a model run or without data are filled here, so they are checked.
      for (const key of FILLED[path] ?? []) expect(answer[key], `${url} ${key}`).not.toBeNull()
      checked.add(template ?? '')
    }
    // A new read route is checked here too, or listed above with the reason it is not.
    expect(templates.filter((t) => !checked.has(t))).toEqual([])
  }, 60_000)

  it('describes a refused request’s answer, with its issues, by the Error schema', async () => {
    const r = await get('/api/v1/metrics/query?metrics=orders&from=2024-01&to=2024-02&grain=x')
    expect(r.status).toBe(400)
    const answer = (await r.json()) as { error: { details?: { issues?: unknown[] } } }
    expect(answer.error.details?.issues?.length).toBeGreaterThan(0)
    expect(ErrorSchema.safeParse(answer).error?.issues ?? []).toEqual([])
    expect(
      ErrorSchema.safeParse({ error: { code: 'X', message: 'm', details: { issues: [{}] } } })
        .success,
    ).toBe(false)
  })

  it('refuses an answer that differs from the schema', () => {
    const schema = schemaOf('/api/v1/whoami')
    expect(schema?.safeParse({ id: 'k1', name: 'n', role: 'admin' }).success).toBe(true)
    expect(schema?.safeParse({ id: 'k1', name: 'n', role: 'root' }).success).toBe(false)
  })
})
