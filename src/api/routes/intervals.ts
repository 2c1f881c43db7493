/**
 * `/api/v1/intervals`: inter-purchase intervals: P10 … P90 of the days between members' consecutive purchase
 * days, for the whole base or per category, tier, lifecycle stage or registration channel, optionally within a
 * saved segment. Rules: docs/categories.md.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import {
  INTERVAL_GROUPS,
  getPurchaseIntervals,
  segmentMemberIds,
} from '../../engine/categories/purchase-intervals.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { anyDate } from '../schemas.js'

const days = z.number().nullable()

const IntervalsSchema = z
  .object({
    asOf: z.string(),
    by: z.enum(INTERVAL_GROUPS),
    segment: z.string().nullable(),
    rows: items(
      z.object({
        group: z.string().nullable(),
        members: z.number().openapi({ description: 'members with at least one gap' }),
        gaps: z.number(),
        p10: days,
        p25: days,
        p50: days,
        p75: days,
        p90: days,
        mean: days,
      }),
    ).nullable(),
    note: z.string().optional(),
  })
  .openapi('PurchaseIntervals')

export function intervalsRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/intervals',
      operationId: 'getPurchaseIntervals',
      summary: 'Days between purchases: P10 … P90 per group or category',
      security,
      request: {
        query: z.object({
          asOf: anyDate.optional(),
          by: z.enum(INTERVAL_GROUPS).default('all'),
          segment: z.string().min(1).max(100).optional(),
        }),
      },
      responses: json(IntervalsSchema, 'Quantiles of the days between purchase days, in days'),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const at = await ctx.zonedAsOf(q.asOf)
      const r = await ctx.timed(async () => {
        const members =
          q.segment === undefined
            ? undefined
            : await segmentMemberIds(ctx.driver, q.segment, at.instant)
        return getPurchaseIntervals(ctx.driver, {
          asOf: at.instant,
          by: q.by,
          timezone: at.zone,
          ...(members === undefined ? {} : { members }),
        })
      })
      return c.json({ ...r, asOf: at.local, segment: q.segment ?? null }, 200)
    },
  )
  return app
}
