/**
 * `/api/v1/tree`: the metric tree (goal, core metrics and the metrics related to each) with values, targets,
 * status, change and sparkline series, for one period; `/api/v1/tree/decomposition`: the change of each of its
 * metrics that is a product or sum of others, split exactly into their parts. Cached per data version.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { GRAINS } from '../../engine/dialects/dialect.js'
import {
  FORMULAS,
  explainChange,
  explainChangeBy,
  type ChangeByDimension,
  type ChangeExplanation,
  type ChangePart,
  type ComparisonSplit,
} from '../../analytics/reporting/change-explanation.js'
import { pushDownTreeTargets } from '../../analytics/reporting/target-pushdown.js'
import { lastCompletePeriod, parseDay, periodStart } from '../../engine/metrics/run.js'
import {
  DEFAULT_TREE,
  evaluateTree,
  parseTreeConfig,
  type TreeNode,
} from '../../engine/metrics/tree.js'
import { ConfigError } from '../../core/errors.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { Text, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { AlignmentSchema, anyDate as date, list } from '../schemas.js'
import { alignmentCalendar } from '../../calendar/index.js'

const STATUSES = ['on_track', 'at_risk', 'off_track', 'no_target', 'no_data'] as const

const TreeNodeSchema: z.ZodType<TreeNode> = z
  .object({
    role: z.enum(['core', 'related', 'trend']),
    key: z.string(),
    metric: z.string(),
    name: Text,
    unit: z.string(),
    direction: z.enum(['higher', 'lower']),
    value: z.number().nullable(),
    target: z.number().nullable().openapi({ description: 'relative targets resolved to a value' }),
    targetText: z.string().nullable(),
    status: z.enum(STATUSES),
    change: z.object({
      pop: z.number().nullable().openapi({ description: 'against the previous period (ratio)' }),
      yoy: z.number().nullable().openapi({ description: 'against the period last year (ratio)' }),
      yoyEvent: z.number().nullable().optional().openapi({
        description:
          'against last year aligned on the nearest calendar event (ratio; with yoyEvent=true or a yoy_event trend)',
      }),
    }),
    series: items(z.number().nullable()).openapi({ description: 'last periods, oldest first' }),
    note: z.string().optional(),
    pushdown: z
      .object({
        formula: z.object({ kind: z.enum(['product', 'sum']), text: z.string() }),
        children: items(
          z.object({
            metric: z.string(),
            name: Text,
            unit: z.string(),
            value: z.number().nullable(),
            required: z.number().nullable().openapi({
              description: 'the value it needs for the node to reach its target, the others held',
            }),
            change: z.number().nullable().openapi({ description: 'required − value' }),
            rate: z.number().nullable().openapi({ description: 'required ÷ value − 1' }),
          }),
        ),
      })
      .optional()
      .openapi({
        description:
          "for a node with a target whose metric is a product or sum of others: each child's value needed to reach the target, holding the others",
      }),
    get children() {
      return items(TreeNodeSchema)
    },
  })
  .openapi('MetricTreeNode')

const TreeSchema = z
  .object({
    goal: z.object({ name: Text, description: z.string().optional() }),
    period: z.string(),
    label: z.string(),
    grain: z.enum(GRAINS),
    nodes: items(TreeNodeSchema),
    yoyEvent: AlignmentSchema.optional().openapi({
      description:
        'How the period was compared for yoyEvent (the event aligned on, or the fallback)',
    }),
  })
  .openapi('MetricTree')

/**
 * A named schema or null, written as `anyOf` so that generated types keep the null (`.nullable()` on a
 * referenced schema loses it in the generated client types).
 */
const orNull = <T extends z.ZodTypeAny>(schema: T) => z.union([schema, z.null()])

const PartSchema: z.ZodType<ChangePart> = z
  .object({
    metric: z.string(),
    name: Text,
    unit: z.string(),
    before: z.number(),
    after: z.number(),
    rate: z.number().nullable().openapi({ description: "the child's own change rate" }),
    contribution: z
      .number()
      .openapi({ description: "its part of the parent's change, in the parent's unit" }),
    points: z.number().nullable().openapi({
      description: "contribution ÷ the parent's base value (points of its rate, as a ratio)",
    }),
  })
  .openapi('ChangePart')

const SplitSchema: z.ZodType<ComparisonSplit> = z
  .object({
    vs: z.enum(['pop', 'yoy']),
    basePeriod: z.string(),
    baseLabel: z.string(),
    before: z.number(),
    after: z.number(),
    change: z.number(),
    rate: z.number().nullable(),
    method: z.enum(['lmdi', 'shapley', 'sum']),
    parts: items(PartSchema).openapi({ description: 'largest part first; they sum to change' }),
  })
  .openapi('ChangeSplit')

const ExplanationSchema: z.ZodType<ChangeExplanation> = z
  .object({
    metric: z.string(),
    name: Text,
    unit: z.string(),
    grain: z.enum(GRAINS),
    period: z.string(),
    label: z.string(),
    formula: z.object({ kind: z.enum(['product', 'sum']), text: z.string() }),
    value: z.number().nullable(),
    pop: orNull(SplitSchema).openapi({ description: 'null when a value is missing' }),
    yoy: orNull(SplitSchema).openapi({ description: 'null when a value is missing' }),
  })
  .openapi('ChangeExplanation')

const PathStep = z.object({ dimension: z.string(), value: z.string().nullable() })

const DrillSchema = z
  .object({
    vs: z.enum(['pop', 'yoy']),
    basePeriod: z.string(),
    levels: items(
      z.object({
        dimension: z.string(),
        within: items(PathStep).openapi({ description: 'values chosen at the levels above' }),
        change: z.number(),
        groups: items(
          z.object({
            value: z.string().nullable(),
            before: z.number(),
            after: z.number(),
            change: z.number().openapi({ description: "its part of the change; the groups' sum" }),
            share: z.number().nullable().openapi({ description: 'its share of the base value' }),
            surprise: z.number().nullable().openapi({
              description: 'change − change above × share: how far it is from moving with the rest',
            }),
            parts: orNull(items(PartSchema)).openapi({
              description: "the group's own change split into the formula's parts",
            }),
          }),
        ).openapi({ description: 'largest change first' }),
        drill: z
          .string()
          .nullable()
          .openapi({ description: 'the value the next level looks into (largest surprise)' }),
      }),
    ),
    largest: z
      .object({ path: items(PathStep), part: orNull(PartSchema) })
      .nullable()
      .openapi({ description: 'the largest part in the last group drilled into' }),
  })
  .openapi('ChangeDrill')

const ByDimensionSchema: z.ZodType<ChangeByDimension> = z
  .object({
    metric: z.string(),
    name: Text,
    unit: z.string(),
    grain: z.enum(GRAINS),
    period: z.string(),
    label: z.string(),
    formula: z.object({ kind: z.enum(['product', 'sum']), text: z.string() }),
    value: z.number().nullable(),
    pop: orNull(SplitSchema),
    yoy: orNull(SplitSchema),
    by: items(z.string()),
    drills: z.object({ pop: orNull(DrillSchema), yoy: orNull(DrillSchema) }),
  })
  .openapi('ChangeByDimension')

const DecompositionSchema = z
  .object({
    period: z.string(),
    grain: z.enum(GRAINS),
    explanations: items(ExplanationSchema),
  })
  .openapi('MetricTreeDecomposition')

export function treeRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/tree',
      operationId: 'getMetricTree',
      summary: 'The metric tree for one period',
      security,
      request: {
        query: z.object({
          period: date.optional(),
          tz: z.string().max(64).optional(),
          yoyEvent: z.enum(['true', 'false']).optional().openapi({
            description:
              'also compare every node with last year aligned on the nearest calendar event (春节 ±N days, the 双11 window)',
          }),
          align: list(20).optional().openapi({
            example: 'spring_festival,double_11',
            description:
              'yoyEvent: event ids periods are aligned on (default spring_festival, mid_year_618, double_11)',
          }),
          reach: z.coerce.number().int().min(0).max(183).optional().openapi({
            description:
              'yoyEvent: a period further than this many days from every event is compared by the calendar 同比 (default 31)',
          }),
        }),
      },
      responses: json(TreeSchema, 'The metric tree with values, targets and status'),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const tz = q.tz ?? ctx.timezone
      const yoyEvent = q.yoyEvent === 'true'
      const key = `tree:${q.period ?? ''}:${tz}:${String(yoyEvent)}:${(q.align ?? []).join(',')}:${q.reach ?? ''}`
      const t = await ctx.cache.get(key, () =>
        ctx.timed(async () => {
          const tree = await evaluateTree(ctx.driver, ctx.tree ?? DEFAULT_TREE, {
            ...(q.period ? { period: q.period } : {}),
            timezone: tz,
            yoyEvent,
            alignment: alignmentCalendar(ctx.calendarEvents, {
              ...(q.align === undefined ? {} : { events: q.align }),
              ...(q.reach === undefined ? {} : { reachDays: q.reach }),
            }),
          })
          return pushDownTreeTargets(ctx.driver, tree, { timezone: tz })
        }),
      )
      return c.json(t, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/tree/decomposition',
      operationId: 'getMetricTreeDecomposition',
      summary: "Each tree metric's change split into its formula's parts",
      security,
      request: {
        query: z.object({ period: date.optional(), tz: z.string().max(64).optional() }),
      },
      responses: json(
        DecompositionSchema,
        'For every metric of the tree that is a product or sum of others (net revenue = buyers × frequency × AOV), its change vs the previous period and last year split exactly into their parts',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const tz = q.tz ?? ctx.timezone
      const answer = await ctx.cache.get(`tree-decomposition:${q.period ?? ''}:${tz}`, () =>
        ctx.timed(async () => {
          const tree = parseTreeConfig(ctx.tree ?? DEFAULT_TREE)
          const found =
            q.period === undefined
              ? await lastCompletePeriod(ctx.driver, tree.grain, tz)
              : parseDay(q.period, 'period')
          if (found === undefined)
            throw new ConfigError('the database holds no orders or events to evaluate the tree on')
          const period = periodStart(found, tree.grain)
          const metrics = [
            ...new Set(tree.core.flatMap((n) => [n.metric, ...n.related.map((r) => r.metric)])),
          ].filter((m) => FORMULAS[m] !== undefined)
          const explanations: ChangeExplanation[] = []
          for (const metric of metrics)
            explanations.push(
              await explainChange(ctx.driver, metric, { period, grain: tree.grain, timezone: tz }),
            )
          return { period, grain: tree.grain, explanations }
        }),
      )
      return c.json(answer, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/tree/decomposition/{metric}',
      operationId: 'getMetricChangeByDimension',
      summary: "One metric's change split by its formula and by dimensions, with a drill",
      security,
      request: {
        params: z.object({ metric: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/) }),
        query: z.object({
          period: date.optional(),
          by: z
            .string()
            .max(200)
            .openapi({ description: 'one to three dimensions, comma-separated: region,tier' }),
          tz: z.string().max(64).optional(),
        }),
      },
      responses: json(
        ByDimensionSchema,
        "The metric's change vs the previous period and last year split into its formula's parts, then among the values of each dimension in turn (the values' changes sum to the change above), drilling into the value furthest from its share",
      ),
    }),
    async (c) => {
      const { metric } = c.req.valid('param')
      const q = c.req.valid('query')
      const tz = q.tz ?? ctx.timezone
      const by = q.by
        .split(',')
        .map((b) => b.trim())
        .filter((b) => b !== '')
      const answer = await ctx.cache.get(
        `change-by:${metric}:${by.join(',')}:${q.period ?? ''}:${tz}`,
        () =>
          ctx.timed(() =>
            explainChangeBy(ctx.driver, metric, by, {
              ...(q.period === undefined ? {} : { period: q.period }),
              grain: parseTreeConfig(ctx.tree ?? DEFAULT_TREE).grain,
              timezone: tz,
            }),
          ),
      )
      return c.json(answer, 200)
    },
  )
  return app
}
