/**
 * `/api/v1/metrics`: the metric catalog, and metric values per period and dimension (with trend suffixes).
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { GRAINS } from '../../engine/dialects/dialect.js'
import { CATALOG } from '../../engine/metrics/catalog.js'
import { metricDefinitionView, metricResultView } from '../../engine/metrics/views.js'
import { runMetrics } from '../../engine/metrics/run.js'
import { alignmentCalendar } from '../../calendar/index.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { ApiError } from '../error-handler.js'
import { Text, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { AlignmentSchema, anyDate as date, list } from '../schemas.js'

const MetricsQuery = z.object({
  metrics: list().openapi({
    example: 'net_revenue,aov,net_revenue:yoy',
    description:
      'metric ids, comma-separated; trend suffixes :pop :yoy :yoy_event (同比 aligned on the nearest calendar event) :avgN',
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
  align: list(20).optional().openapi({
    example: 'spring_festival,double_11',
    description:
      ':yoy_event: calendar event ids periods are aligned on (default spring_festival, mid_year_618, double_11)',
  }),
  reach: z.coerce.number().int().min(0).max(183).optional().openapi({
    description:
      ':yoy_event: a period further than this many days from every event is compared by the calendar :yoy (default 31)',
  }),
})

const MetricDefSchema = z
  .object({
    id: z.string(),
    name: Text,
    description: z.string(),
    formula: z.string(),
    family: z.string(),
    unit: z.string(),
    direction: z.string(),
    defaultGrain: z.string(),
    dimensions: items(z.string()),
    custom: z
      .boolean()
      .openapi({ description: 'Defined in a custom metrics file, not the catalog' }),
  })
  .openapi('MetricDefinition')

const MetricResultSchema = z
  .object({
    grain: z.string(),
    from: z.string(),
    to: z.string(),
    by: items(z.string()),
    columns: items(
      z.object({
        key: z.string(),
        metric: z.string(),
        trend: z
          .object({ kind: z.enum(['pop', 'yoy', 'yoy_event', 'avg']), n: z.number().optional() })
          .nullable()
          .openapi({
            description:
              'pop/yoy/yoy_event: change against the previous period, the same period last year, or last year aligned on the nearest calendar event; avg: moving average',
          }),
        unit: z
          .string()
          .openapi({ description: "The metric's unit, or `change` for a pop/yoy column" }),
        name: Text,
      }),
    ),
    rows: items(
      z.object({
        period: z.string(),
        label: z.string(),
        dims: z.record(z.string(), z.string().nullable()),
        values: z.record(z.string(), z.number().nullable()),
        alignments: z
          .record(z.string(), AlignmentSchema)
          .optional()
          .openapi({ description: 'For each :yoy_event column, how the period was compared' }),
      }),
    ),
  })
  .openapi('MetricResult')

export function metricsRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/metrics',
      operationId: 'listMetrics',
      summary: 'The metric catalog',
      security,
      responses: json(
        z.object({ metrics: items(MetricDefSchema) }).openapi('MetricCatalog'),
        'Every metric with its definition and allowed dimensions',
      ),
    }),
    (c) =>
      c.json(
        {
          metrics: CATALOG.map(metricDefinitionView),
        },
        200,
      ),
  )
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/metrics/query',
      operationId: 'queryMetrics',
      summary: 'Metric values per period and dimension',
      security,
      request: { query: MetricsQuery },
      responses: json(MetricResultSchema, 'Metric values per period and dimension'),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const where = q.where === undefined ? [] : Array.isArray(q.where) ? q.where : [q.where]
      const r = await ctx.timed(() =>
        runMetrics(ctx.driver, {
          metrics: q.metrics,
          from: q.from,
          to: q.to,
          grain: q.grain,
          by: q.by ?? [],
          where,
          timezone: q.tz ?? ctx.timezone,
          alignment: alignmentCalendar(ctx.calendarEvents, {
            ...(q.align === undefined ? {} : { events: q.align }),
            ...(q.reach === undefined ? {} : { reachDays: q.reach }),
          }),
        }),
      )
      if (r.rows.length > ctx.maxRows)
        throw new ApiError(
          'TOO_LARGE',
          `${r.rows.length} rows; narrow the range or the dimensions (limit ${ctx.maxRows})`,
        )
      return c.json(metricResultView(r), 200)
    },
  )
  return app
}
