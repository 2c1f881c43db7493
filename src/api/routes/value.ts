/**
 * `/api/v1/value`: the latest CLV run's distribution (summary and histogram) and P(alive) by frequency and
 * recency, and a calibration/holdout validation of the model (predicted against actual purchases); and
 * `/api/v1/value/members`, the run's predictions member by member (paged, with source identities on request).
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { InputError, NotFoundError } from '../../core/errors.js'
import { clvValidationReport, listMemberScores, SCORE_ORDERS } from '../../analytics/clv/clv.js'
import { fitClvSummariesOffThread } from '../../analytics/clv/fit-off-thread.js'
import { PURCHASE_MODELS, type PurchaseModelKind } from '../../analytics/clv/models.js'
import { clvHistogram, pAliveGrid } from '../../analytics/clv/score-summary.js'
import { getRun, RUN_ID_RE } from '../../analytics/clv/store.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { json, security, items } from '../openapi.js'
import { allows } from '../keys.js'
import { ApiError } from '../error-handler.js'
import { withIdentities } from '../member-identities.js'
import { scoped } from '../require-scope.js'
import { IdsParam, MemberIdentitiesSchema, day, parseIdsParam } from '../schemas.js'

const num = z.number().nullable()
/** A figure of a stored run's distribution: absent from runs that predate it, null where it is not a number. */
const stat = num.optional()

const DistributionSchema = z
  .object({
    members: stat,
    total: stat,
    mean: stat,
    quantiles: z
      .object({ p10: num, p25: num, p50: num, p75: num, p90: num, p99: num })
      .partial()
      .optional(),
    top10Share: stat.openapi({ description: 'share of total CLV held by the top 10 % of members' }),
    valueAtRisk: stat.openapi({ description: 'Σ (1 − P(alive)) · value if active' }),
    likelyInactive: z
      .object({ members: z.number(), valueIfActive: num })
      .optional()
      .openapi({ description: 'members with P(alive) < 0.5, and their value if active' }),
    meanPAlive: stat,
    expectedPurchases: stat,
  })
  .openapi({
    description:
      'the CLV distribution stored with the run; figures a run predates are absent, and null when not a number',
  })

const ValueSchema = z
  .object({
    runId: z.string(),
    createdAt: z.string(),
    model: z.string().nullable(),
    horizonMonths: z.number().nullable(),
    unit: z.string().nullable(),
    distribution: DistributionSchema,
    histogram: z.object({
      binWidth: z.number(),
      bins: items(z.object({ from: z.number(), members: z.number(), clv: z.number() })),
    }),
    pAlive: z.object({
      maxFrequency: z.number(),
      recencyWidth: z.number(),
      recencyBuckets: z.number(),
      cells: items(
        z.object({
          frequency: z.number(),
          recency: z.number(),
          members: z.number(),
          pAlive: z.number(),
        }),
      ),
    }),
  })
  .openapi('ValueSummary')

const ValidationSchema = z
  .object({
    calibrationEnd: z.string(),
    holdoutEnd: z.string(),
    model: z.string(),
    members: z.number(),
    holdoutLength: z.number(),
    totals: z.object({ actual: z.number(), predicted: z.number() }),
    value: z.object({ actual: num, predicted: num }),
    errors: z.object({ mae: num, rmse: num, bias: num }),
    byFrequency: items(
      z.object({ x: z.string(), members: z.number(), actual: z.number(), predicted: z.number() }),
    ),
    tracking: z.object({
      start: z.string(),
      unit: z.string(),
      calibrationPeriods: z.number(),
      actual: items(z.number()),
      predicted: items(z.number()),
    }),
  })
  .openapi('ClvValidation')

const finite = (v: unknown): unknown =>
  JSON.parse(
    JSON.stringify(v, (_k, x: unknown) =>
      typeof x === 'number' && !Number.isFinite(x) ? null : typeof x === 'bigint' ? Number(x) : x,
    ),
  )

const shift = (d: string, days: number) =>
  new Date(Date.parse(`${d}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)

const MemberValueSchema = z
  .object({
    memberId: z.number(),
    x: z.number().openapi({ description: 'repeat purchases in the calibration period' }),
    tX: z.number().openapi({ description: 'time of the last repeat purchase (the run’s unit)' }),
    tCal: z
      .number()
      .openapi({ description: 'time from the first purchase to the calibration end' }),
    pAlive: z.number().nullable(),
    expectedPurchases: z.number().nullable(),
    expectedSpend: z.number().nullable(),
    clv: z.number().nullable(),
    identities: MemberIdentitiesSchema.optional(),
  })
  .openapi('MemberValue')

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null)

export function valueRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()

  app.openapi(
    createRoute({
      ...scoped('members'),
      method: 'get',
      path: '/value/members',
      operationId: 'listMemberValues',
      summary: 'The CLV predictions of a run, member by member',
      security,
      description: `Each member's P(alive), expected purchases over the run's horizon, expected spend per purchase and CLV from the latest (or given) CLV run, highest first by \`order\`; \`ids\` adds each member's source identities. \`offset + limit\` may not exceed ${ctx.maxRows.toLocaleString('en')}; 404 before the first run.`,
      request: {
        query: z.object({
          runId: z.string().regex(RUN_ID_RE).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(50),
          offset: z.coerce.number().int().min(0).default(0),
          order: z.enum(SCORE_ORDERS).default('clv'),
          ids: IdsParam,
        }),
      },
      responses: json(
        z
          .object({
            runId: z.string(),
            offset: z.number(),
            limit: z.number(),
            members: items(MemberValueSchema),
            hasMore: z.boolean(),
          })
          .openapi('MemberValueList'),
        'A page of the run’s member scores',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const ids = parseIdsParam(q.ids)
      if (q.offset + q.limit > ctx.maxRows)
        throw new ApiError('TOO_LARGE', `offset + limit is over ${ctx.maxRows}`)
      // One row more than the page tells whether another page follows.
      const r = await ctx.timed(() =>
        listMemberScores(ctx.driver, {
          ...(q.runId === undefined ? {} : { runId: q.runId }),
          limit: q.offset + q.limit + 1,
          order: q.order,
        }),
      )
      const page = r.scores.slice(q.offset, q.offset + q.limit)
      const members = await ctx.timed(() =>
        withIdentities(
          ctx.driver,
          page.map((m) => ({
            memberId: m.memberId,
            x: m.x,
            tX: m.tX,
            tCal: m.tCal,
            pAlive: finiteOrNull(m.pAlive),
            expectedPurchases: finiteOrNull(m.expectedPurchases),
            expectedSpend: finiteOrNull(m.expectedSpend),
            clv: finiteOrNull(m.clv),
          })),
          ids,
          allows(c.get('key').role, 'pii'),
        ),
      )
      return c.json(
        {
          runId: r.runId,
          offset: q.offset,
          limit: q.limit,
          members,
          hasMore: r.scores.length > q.offset + q.limit,
        },
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/value',
      operationId: 'getValue',
      summary: 'The CLV distribution and P(alive) of a CLV run',
      security,
      request: {
        query: z.object({
          runId: z.string().regex(RUN_ID_RE).optional(),
        }),
      },
      responses: json(
        z.object({ value: ValueSchema.nullable() }),
        'The CLV distribution of the latest (or given) CLV run, a histogram and mean P(alive) by frequency and recency; null before the first run (an unknown runId is 404)',
      ),
    }),
    async (c) => {
      const runId = c.req.valid('query').runId
      const run = await ctx
        .timed(() => getRun(ctx.driver, 'clv', runId))
        .catch((e: unknown) => {
          // Before the first CLV run the page is empty, not broken.
          if (e instanceof NotFoundError && runId === undefined) return null
          throw e
        })
      if (run === null) return c.json({ value: null }, 200)
      if (run.kind !== 'clv')
        throw new InputError(`${run.runId} is a ${run.kind} run, not a CLV run`)
      const [histogram, pAlive] = await ctx.timed(() =>
        Promise.all([clvHistogram(ctx.driver, run.runId), pAliveGrid(ctx.driver, run.runId)]),
      )
      const report = (run.report ?? {}) as {
        distribution?: Record<string, unknown>
        purchase?: { kind?: string }
        options?: { horizonMonths?: number; unit?: string }
      }
      const value = finite({
        runId: run.runId,
        createdAt: run.createdAt,
        model: report.purchase?.kind ?? null,
        horizonMonths: report.options?.horizonMonths ?? null,
        unit: report.options?.unit ?? null,
        distribution: report.distribution ?? {},
        histogram,
        pAlive,
      }) as z.infer<typeof ValueSchema>
      return c.json({ value }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/value/validation',
      operationId: 'validateClv',
      summary: 'Calibration and holdout validation of the CLV model',
      security,
      request: {
        query: z.object({
          calibrationEnd: day.optional().openapi({ example: '2026-04-30' }),
          holdoutEnd: day.optional().openapi({ example: '2026-10-31' }),
          model: z
            .enum(PURCHASE_MODELS as [PurchaseModelKind, ...PurchaseModelKind[]])
            .default('bg-nbd'),
        }),
      },
      responses: json(
        ValidationSchema,
        'Fits the purchase model up to calibrationEnd and compares its predictions with the purchases up to holdoutEnd (default: the last 26 weeks of data as holdout). The fit runs on a worker thread, so other requests are answered meanwhile; a fit that does not converge within the server’s fit time limit (default 25 s) answers 422',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const holdoutEnd = q.holdoutEnd ?? shift(await ctx.asOf(undefined), -1)
      const calibrationEnd = q.calibrationEnd ?? shift(holdoutEnd, -182)
      if (calibrationEnd >= holdoutEnd)
        throw new InputError(
          `calibrationEnd (${calibrationEnd}) must be before holdoutEnd (${holdoutEnd})`,
        )
      // The fit runs on a worker thread with a time limit: the server keeps answering other requests.
      const r = await ctx.timed(() =>
        clvValidationReport(ctx.driver, {
          calibrationEnd,
          holdoutEnd,
          model: q.model,
          fit: (summaries, o) =>
            fitClvSummariesOffThread(summaries, o, { timeLimitMs: ctx.fitTimeLimitMs }),
        }),
      )
      return c.json(
        finite({
          calibrationEnd,
          holdoutEnd,
          model: r.purchase.kind,
          members: r.members,
          holdoutLength: r.holdoutLength,
          totals: r.totals,
          value: r.value,
          errors: r.errors,
          byFrequency: r.byFrequency,
          tracking: r.tracking,
        }) as z.infer<typeof ValidationSchema>,
        200,
      )
    },
  )
  return app
}
