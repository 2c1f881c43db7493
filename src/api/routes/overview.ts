/**
 * `/api/v1/overview`: members, buyers, revenue and activity of one month and of all time. Cached per data
 * version.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { getOverview } from '../../engine/metrics/overview.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { json, security } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { month } from '../schemas.js'

const OverviewSchema = z
  .object({
    month: z.string().openapi({ description: 'first day of the month reported (YYYY-MM-DD)' }),
    membersAtMonthEnd: z.number(),
    newMembers: z.number(),
    activeMembers: z.number(),
    buyers: z.number(),
    orders: z.number(),
    netRevenue: z.number(),
    returnsAmount: z.number(),
    averageOrderValue: z.number().nullable(),
    repurchaseRate: z.number().nullable(),
    allTime: z.object({
      members: z.number(),
      buyers: z.number(),
      orders: z.number(),
      netRevenue: z.number(),
      identities: z.number(),
      mergedMembers: z.number(),
      firstActivity: z.string().nullable(),
      lastActivity: z.string().nullable(),
    }),
  })
  .openapi('Overview')

export function overviewRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/overview',
      operationId: 'getOverview',
      summary: 'Members, buyers, revenue and activity of a month',
      security,
      request: { query: z.object({ month: month.optional() }) },
      responses: json(
        z.object({ overview: OverviewSchema.nullable() }),
        'Members, buyers, revenue and activity (the latest month with data by default); null without activity',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const o = await ctx.cache.get(`overview:${q.month ?? ''}`, () =>
        ctx.timed(() => getOverview(ctx.driver, q.month, { timezone: ctx.timezone })),
      )
      return c.json({ overview: o ?? null }, 200)
    },
  )
  return app
}
