/**
 * `/api/v1/tree`: the metric tree (goal, core metrics and the metrics related to each) with values, targets,
 * status, change and sparkline series, for one period. Cached per data version.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { GRAINS } from '../../engine/dialects/dialect.js'
import { DEFAULT_TREE, evaluateTree, type TreeNode } from '../../engine/metrics/tree.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { Text, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { anyDate as date } from '../schemas.js'

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
    }),
    series: items(z.number().nullable()).openapi({ description: 'last periods, oldest first' }),
    note: z.string().optional(),
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
  })
  .openapi('MetricTree')

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
        query: z.object({ period: date.optional(), tz: z.string().max(64).optional() }),
      },
      responses: json(TreeSchema, 'The metric tree with values, targets and status'),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const tz = q.tz ?? ctx.timezone
      const t = await ctx.cache.get(`tree:${q.period ?? ''}:${tz}`, () =>
        ctx.timed(() =>
          evaluateTree(ctx.driver, ctx.tree ?? DEFAULT_TREE, {
            ...(q.period ? { period: q.period } : {}),
            timezone: tz,
          }),
        ),
      )
      return c.json(t, 200)
    },
  )
  return app
}
