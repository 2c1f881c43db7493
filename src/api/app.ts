/**
 * The HTTP API (Hono): parse → authorise → call the library → JSON. Request and response schemas are zod
 * schemas, from which `/openapi.json` is generated, so the document cannot drift from the code.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { listMemberScores } from '../analytics/clv.js'
import { analyzeDrivers } from '../analytics/driver-analysis.js'
import type { Clock } from '../core/clock.js'
import { formatIssue, NotFoundError, type InputIssue } from '../core/errors.js'
import { GRAINS } from '../engine/dialects/dialect.js'
import type { DuckDbDriver } from '../engine/drivers/duckdb-driver.js'
import { getCohortRetention } from '../engine/cohorts/cohort-retention.js'
import { COHORT_ANCHORS, COHORT_GRAINS } from '../engine/cohorts/cohort-spec.js'
import { findDefaultAsOf } from '../engine/lifecycle/default-as-of.js'
import { DEFAULT_STAGE_ACTIONS, STAGE_NAMES } from '../engine/lifecycle/lifecycle-config.js'
import { getStageCounts } from '../engine/lifecycle/lifecycle-stages.js'
import { getMemberProfile } from '../engine/members/member-profile.js'
import { RFM_SEGMENT_NAMES } from '../engine/rfm/rfm-config.js'
import { getRfmSummary } from '../engine/rfm/rfm-scores.js'
import { CATALOG, allowedDimensions } from '../engine/metrics/catalog.js'
import { getMemberTimeline } from '../engine/members/member-timeline.js'
import { getOverview } from '../engine/metrics/overview.js'
import { DataCache } from './data-cache.js'
import { runMetrics } from '../engine/metrics/run.js'
import { DEFAULT_TREE, evaluateTree, type TreeConfigInput } from '../engine/metrics/tree.js'
import {
  API_FIELD_NAMES,
  apiError,
  errorBody,
  handleError,
  withFieldNames,
} from './error-handler.js'
import { allows, type KeyRecord, type KeyStore } from './keys.js'
import { RateLimiter } from './rate-limit.js'
import { maskIdentity, maskMemberRow } from './masking.js'
import { referencePage } from './reference.js'
import { anyDate as date, month } from './schemas.js'
import { auditWrites } from './routes/audit.js'
import { registerServiceRoutes, type ServiceOptions } from './routes/register.js'
import { AuditLog } from '../store/audit-log.js'
import { registerLifecycleRoutes } from './routes/lifecycle.js'
import { registerSegmentSummaryRoutes } from './routes/segment-summaries.js'
import { registerRetentionRoutes } from './routes/retention.js'
import { registerVoiceExperimentRoutes } from './routes/voice-experiments.js'
import { registerValueRoutes } from './routes/value.js'
import { registerRiskPageRoutes } from './routes/risk-page.js'
import { registerLoyaltyProgramRoutes } from './routes/loyalty-program.js'
import { registerGlossaryRoutes } from './routes/glossary.js'
import { scoped } from './require-scope.js'

export interface ApiOptions extends ServiceOptions {
  readonly driver: DuckDbDriver
  readonly keys: KeyStore
  readonly clock: Clock
  /** Milliseconds after which an analytics query is cancelled (default 30 s). */
  readonly queryTimeoutMs?: number
  /** Largest number of result rows a metric query may return (default 10,000). */
  readonly maxRows?: number
  /** Requests per second per key, and burst (default 20 and 40). */
  readonly rate?: { readonly perSecond: number; readonly burst: number }
  readonly tree?: TreeConfigInput
  /** The project time zone: days and months of routes without a `tz` parameter, and its default (UTC). */
  readonly timezone?: string
  readonly log?: (error: unknown) => void
}

type Env = { Variables: { key: KeyRecord } }

const ErrorSchema = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .openapi('Error')

const errors = {
  400: { description: 'Bad request', content: { 'application/json': { schema: ErrorSchema } } },
  401: {
    description: 'Missing or invalid API key',
    content: { 'application/json': { schema: ErrorSchema } },
  },
  403: {
    description: 'The key’s role may not do this',
    content: { 'application/json': { schema: ErrorSchema } },
  },
  429: { description: 'Rate limited', content: { 'application/json': { schema: ErrorSchema } } },
  504: { description: 'Query timed out', content: { 'application/json': { schema: ErrorSchema } } },
} as const

const list = (max = 50) =>
  z
    .string()
    .max(2000)
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
    )
    .pipe(z.array(z.string().min(1).max(100)).max(max))

const MetricsQuery = z.object({
  metrics: list().openapi({
    example: 'net_revenue,aov,net_revenue:yoy',
    description: 'metric ids, comma-separated; trend suffixes :pop :yoy :avgN',
  }),
  from: date.openapi({ example: '2026-01' }),
  to: date.openapi({ example: '2026-10' }),
  grain: z.enum(GRAINS).default('month'),
  by: list(3).optional().openapi({ example: 'registration_channel' }),
  where: z
    .union([z.string().max(500), z.array(z.string().max(500)).max(10)])
    .optional()
    .openapi({ example: 'region=浙江' }),
  tz: z
    .string()
    .max(64)
    .optional()
    .openapi({ description: 'IANA zone (default: the project time zone)' }),
})

const MetricDefSchema = z
  .object({
    id: z.string(),
    name: z.object({ en: z.string(), zh: z.string() }),
    description: z.string(),
    formula: z.string(),
    family: z.string(),
    unit: z.string(),
    direction: z.string(),
    defaultGrain: z.string(),
    dimensions: z.array(z.string()),
  })
  .openapi('MetricDefinition')

const MetricResultSchema = z
  .object({
    grain: z.string(),
    from: z.string(),
    to: z.string(),
    by: z.array(z.string()),
    columns: z.array(
      z.object({
        key: z.string(),
        metric: z.string(),
        unit: z.string(),
        name: z.object({ en: z.string(), zh: z.string() }),
      }),
    ),
    rows: z.array(
      z.object({
        period: z.string(),
        label: z.string(),
        dims: z.record(z.string(), z.string().nullable()),
        values: z.record(z.string(), z.number().nullable()),
      }),
    ),
  })
  .openapi('MetricResult')

const json = (schema: z.ZodType, description: string) => ({
  200: { description, content: { 'application/json': { schema } } },
  ...errors,
})

export { maskIdentity } from './masking.js'

export function createApp(options: ApiOptions) {
  const { driver } = options
  const log =
    options.log ??
    ((e: unknown) =>
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`))
  const limiter = new RateLimiter(options.rate?.perSecond ?? 20, options.rate?.burst ?? 40, () =>
    options.clock.now().getTime(),
  )
  const timeoutMs = options.queryTimeoutMs ?? 30_000
  const maxRows = options.maxRows ?? 10_000
  const projectZone = options.timezone ?? 'UTC'

  const app = new OpenAPIHono<Env>({
    // A request that fails its schema: 400 with each problem as parameter (or body field) and reason, the
    // accepted values where the schema lists them, and a message that says the first problems in words.
    defaultHook: (result, c) => {
      if (!result.success) {
        const whole = result.target === 'json' ? 'body' : result.target
        const issues = result.error.issues.map((i) => {
          const allowed = i.code === 'invalid_value' ? i.values.map((v) => String(v)) : undefined
          const unknown = i.code === 'unrecognized_keys' ? i.keys : undefined
          return {
            field: i.path.length === 0 ? whole : i.path.join('.'),
            reason: unknown ? `unknown field ${unknown.join(', ')}` : i.message,
            ...(allowed ? { allowed } : {}),
          }
        })
        const words = issues.slice(0, 3).map((i) => formatIssue(i))
        const more = issues.length > 3 ? `; and ${issues.length - 3} more` : ''
        return c.json(errorBody('INPUT_INVALID', `${words.join('; ')}${more}`, { issues }), 400)
      }
      return undefined
    },
  })
  app.notFound((c) => apiError(c, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path}`))
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: 10 * 1024 * 1024,
      onError: (c) => apiError(c, 'TOO_LARGE', 'request body over 10 MB'),
    }),
  )
  app.use('/api/*', async (c, next) => {
    const header = c.req.header('authorization')
    const secret = header?.startsWith('Bearer ')
      ? header.slice(7).trim()
      : c.req.header('x-api-key')
    if (!secret)
      return apiError(c, 'UNAUTHORIZED', 'an API key is required (Authorization: Bearer <key>)')
    const key = options.keys.authenticate(secret)
    if (!key) return apiError(c, 'UNAUTHORIZED', 'unknown or revoked API key')
    const rate = limiter.take(key.id)
    if (!rate.ok) {
      c.header('Retry-After', String(rate.retryAfter))
      return apiError(c, 'RATE_LIMITED', `too many requests; retry in ${rate.retryAfter} s`)
    }
    c.set('key', key)
    await next()
    return undefined
  })
  // Every write under /api, whichever module serves it, is recorded with its key (src/api/routes/audit.ts).
  const audit = options.audit ?? new AuditLog(':memory:', options.clock)
  app.use('/api/*', auditWrites(audit, log))
  app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKey', {
    type: 'http',
    scheme: 'bearer',
  })

  // The overview and the tree read only loaded data: cached per data version (see data-cache.ts).
  const cache = new DataCache(driver)
  /** Runs an analytics query with a time limit: past it, the engine is interrupted and 504 answers. */
  const timed = async <T>(fn: () => Promise<T>): Promise<T> => {
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      driver.connection.interrupt()
    }, timeoutMs)
    try {
      return await fn()
    } catch (e) {
      if (timedOut) throw new QueryTimeout()
      throw e
    } finally {
      clearTimeout(timer)
    }
  }
  app.onError((e, c) =>
    e instanceof QueryTimeout
      ? apiError(c, 'QUERY_TIMEOUT', `query took longer than ${timeoutMs} ms`)
      : handleError(e, c, log),
  )

  const security = [{ ApiKey: [] }]

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/whoami',
      security,
      responses: json(
        z.object({ id: z.string(), name: z.string(), role: z.string() }),
        'The key in use',
      ),
    }),
    (c) => {
      const k = c.get('key')
      return c.json({ id: k.id, name: k.name, role: k.role }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/metrics',
      security,
      responses: json(z.object({ metrics: z.array(MetricDefSchema) }), 'The metric catalog'),
    }),
    (c) => {
      return c.json(
        {
          metrics: CATALOG.map((m) => ({
            id: m.id,
            name: m.name,
            description: m.description,
            formula: m.formula,
            family: m.family,
            unit: m.unit,
            direction: m.direction,
            defaultGrain: m.defaultGrain,
            dimensions: allowedDimensions(m),
          })),
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/metrics/query',
      security,
      request: { query: MetricsQuery },
      responses: json(MetricResultSchema, 'Metric values per period and dimension'),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const where = q.where === undefined ? [] : Array.isArray(q.where) ? q.where : [q.where]
      const r = await timed(() =>
        runMetrics(driver, {
          metrics: q.metrics,
          from: q.from,
          to: q.to,
          grain: q.grain,
          by: q.by ?? [],
          where,
          timezone: q.tz ?? projectZone,
        }),
      )
      if (r.rows.length > maxRows)
        return apiError(
          c,
          'TOO_LARGE',
          `${r.rows.length} rows; narrow the range or the dimensions (limit ${maxRows})`,
        ) as never
      return c.json(
        {
          ...r,
          columns: r.columns.map((x) => ({
            key: x.key,
            metric: x.metric.id,
            unit: x.trend && x.trend.kind !== 'avg' ? 'change' : x.metric.unit,
            name: x.metric.name,
          })),
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/tree',
      security,
      request: {
        query: z.object({ period: date.optional(), tz: z.string().max(64).optional() }),
      },
      responses: json(
        z.object({}).passthrough().openapi('MetricTree'),
        'The metric tree with values, targets and status',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const tz = q.tz ?? projectZone
      const t = await cache.get(`tree:${q.period ?? ''}:${tz}`, () =>
        timed(() =>
          evaluateTree(driver, options.tree ?? DEFAULT_TREE, {
            ...(q.period ? { period: q.period } : {}),
            timezone: tz,
          }),
        ),
      )
      return c.json(t as unknown as Record<string, unknown>, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/overview',
      security,
      request: {
        query: z.object({
          month: month.optional(),
        }),
      },
      responses: json(
        z.object({ overview: z.object({}).passthrough().nullable() }),
        'Members, buyers, revenue and activity',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const o = await cache.get(`overview:${q.month ?? ''}`, () =>
        timed(() => getOverview(driver, q.month, { timezone: projectZone })),
      )
      return c.json({ overview: (o ?? null) as Record<string, unknown> | null }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/drivers',
      security,
      request: {
        query: z.object({
          core: z.string().max(100),
          candidates: list(20).optional(),
          from: date.optional(),
          to: date.optional(),
          by: list(3).optional(),
        }),
      },
      responses: json(
        z.object({}).passthrough().openapi('DriverAnalysis'),
        'Related metrics ranked by how they move with a core metric',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      // Its metrics are named by `core` and `candidates`, not `metrics`.
      const names = (i: InputIssue) =>
        i.field === 'metric'
          ? i.value === q.core
            ? 'core'
            : 'candidates'
          : API_FIELD_NAMES[i.field ?? '']
      const d = await withFieldNames(names, () =>
        timed(() =>
          analyzeDrivers(driver, {
            core: q.core,
            ...(q.from ? { from: q.from } : {}),
            ...(q.to ? { to: q.to } : {}),
            ...(q.candidates ? { candidates: q.candidates } : {}),
            ...(q.by ? { by: q.by } : {}),
          }),
        ),
      )
      return c.json(d as unknown as Record<string, unknown>, 200)
    },
  )

  /** The day after the data's last activity, for analyses "as of today". */
  const asOfDefault = async (asOf: string | undefined): Promise<string> => {
    if (asOf !== undefined) return asOf
    const latest = await findDefaultAsOf(driver)
    if (latest === undefined) throw new NotFoundError('the database holds no orders or events')
    return latest
  }

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/cohorts',
      security,
      request: {
        query: z.object({
          anchor: z.enum(COHORT_ANCHORS).default('registration'),
          grain: z.enum(COHORT_GRAINS).default('month'),
          activity: z.string().max(120).default('any'),
          periods: z.coerce.number().int().min(0).max(60).default(12),
          form: z.enum(['n-period', 'unbounded']).default('n-period'),
          from: date.optional(),
          to: date.optional(),
          asOf: date.optional(),
          by: z.string().max(120).optional(),
        }),
      },
      responses: json(
        z.object({}).passthrough().openapi('CohortRetention'),
        'Cohort retention matrix (counts, rates, size-weighted averages)',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const asOf = await asOfDefault(q.asOf)
      const r = await timed(() =>
        getCohortRetention(
          driver,
          {
            anchor: q.anchor,
            grain: q.grain,
            activity: q.activity,
            periods: q.periods,
            asOf,
            ...(q.from ? { from: q.from } : {}),
            ...(q.to ? { to: q.to } : {}),
            ...(q.by ? { dimension: q.by } : {}),
          },
          q.form,
        ),
      )
      return c.json(r as unknown as Record<string, unknown>, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/lifecycle',
      security,
      request: { query: z.object({ asOf: date.optional() }) },
      responses: json(
        z.object({}).passthrough().openapi('LifecycleStages'),
        'Members per lifecycle stage with the recommended action',
      ),
    }),
    async (c) => {
      const asOf = await asOfDefault(c.req.valid('query').asOf)
      const stages = await timed(() => getStageCounts(driver, asOf))
      const named = stages.map((x) => ({
        ...x,
        name: STAGE_NAMES[x.stage],
        action: DEFAULT_STAGE_ACTIONS[x.stage],
      }))
      return c.json({ asOf, stages: named } as unknown as Record<string, unknown>, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/rfm',
      security,
      request: { query: z.object({ asOf: date.optional() }) },
      responses: json(
        z.object({}).passthrough().openapi('RfmSegments'),
        'RFM segments with size and value',
      ),
    }),
    async (c) => {
      const asOf = await asOfDefault(c.req.valid('query').asOf)
      const segments = (await timed(() => getRfmSummary(driver, asOf))).map((x) => ({
        ...x,
        name: RFM_SEGMENT_NAMES[x.segment],
      }))
      return c.json({ asOf, segments } as unknown as Record<string, unknown>, 200)
    },
  )

  const pages = { driver, security, json, timed, asOf: asOfDefault }
  registerLifecycleRoutes(app, pages)
  registerSegmentSummaryRoutes(app, pages)
  registerVoiceExperimentRoutes(app, pages)
  registerValueRoutes(app, pages)
  registerRiskPageRoutes(app, pages)
  registerLoyaltyProgramRoutes(app, pages)
  registerRetentionRoutes(app, pages)
  registerGlossaryRoutes(app, pages)

  app.openapi(
    createRoute({
      ...scoped('members'),
      method: 'get',
      path: '/api/v1/members/{query}',
      security,
      request: {
        params: z.object({
          query: z.string().min(1).max(200).openapi({ example: 'phone:13800138000' }),
        }),
      },
      responses: json(
        z.object({}).passthrough().openapi('Member360'),
        'A member with identities, purchases and predicted CLV; below the operator role every identity, name and personal attribute is masked and the birthday cut to its year',
      ),
    }),
    async (c) => {
      const { query } = c.req.valid('param')
      const p = await timed(() => getMemberProfile(driver, query))
      // The member's predicted value from the latest CLV run, when one exists.
      const clv = await listMemberScores(driver, {
        memberId: Number(p.member['memberId']),
        limit: 1,
      })
        .then((r) => ({ runId: r.runId, ...r.scores[0] }))
        .catch((e: unknown) => {
          if (e instanceof NotFoundError) return null
          throw e
        })
      // Below the pii scope every identity, name and birthday is masked (src/api/masking.ts).
      const pii = allows(c.get('key').role, 'pii')
      const mask = (i: Record<string, unknown>) =>
        pii || i['identityValue'] === null || i['identityValue'] === undefined
          ? i
          : {
              ...i,
              identityValue: maskIdentity(String(i['identityType']), String(i['identityValue'])),
            }
      const identities = p.identities.map(mask)
      const mergedFrom = p.mergedFrom.map(mask)
      const member = pii ? p.member : maskMemberRow(p.member)
      const memberId = Number(p.member['memberId'])
      const signals = await timed(() => services.memberSignals(memberId))
      const timeline = await timed(() => getMemberTimeline(driver, memberId))
      return c.json(
        JSON.parse(
          JSON.stringify(
            { ...p, member, identities, mergedFrom, clv, ...signals, timeline, masked: !pii },
            (_k, v) => (typeof v === 'bigint' ? Number(v) : v),
          ),
        ),
        200,
      )
    },
  )

  // Segments, loyalty, risk, CLV report, ingest, alerts, keys and the audit log (src/api/routes/).
  const services = registerServiceRoutes(app, options, {
    security,
    json,
    timed,
    asOf: asOfDefault,
    maxRows,
    log,
    audit,
  })

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'memberlens API',
      version: '0.1.0',
      description:
        'Member metrics, the metric tree, members and drivers; segments, loyalty operations, the risk list, the CLV report, ingest, alerts, keys and the audit log. Every /api route needs `Authorization: Bearer <key>`; keys are created with `memberlens keys create`. Every write is recorded in the audit log; loyalty writes need an `Idempotency-Key` header.',
    },
  })
  app.get('/docs', (c) =>
    c.html(
      referencePage(
        app.getOpenAPI31Document({
          openapi: '3.1.0',
          info: { title: 'memberlens API', version: '0.1.0' },
        }),
      ),
    ),
  )
  app.get('/health', (c) => c.json({ ok: true }))
  // Registered last, so a path under /api that no route matched answers a JSON 404 here, before any
  // catch-all a host adds after createApp (the dashboard's page fallback) could answer it with HTML.
  app.all('/api/*', (c) =>
    apiError(
      c,
      'NOT_FOUND',
      `no route ${c.req.method} ${c.req.path}; the routes are listed at /docs`,
    ),
  )
  return app
}

class QueryTimeout extends Error {}

export type App = ReturnType<typeof createApp>
