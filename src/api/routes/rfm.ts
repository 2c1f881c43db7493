/**
 * `/api/v1/rfm`: RFM segments with their size and value, and the RFM grid — members and net revenue per
 * (R, FM) cell and per named segment. Aggregates only.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { RFM_SEGMENTS, RFM_SEGMENT_NAMES } from '../../engine/rfm/rfm-config.js'
import { getRfmGrid } from '../../engine/rfm/rfm-grid.js'
import { getRfmSummary } from '../../engine/rfm/rfm-scores.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { Text, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { anyDate, day } from '../schemas.js'

const RfmSegmentSchema = z
  .object({
    segment: z.enum(RFM_SEGMENTS),
    name: Text,
    members: z.number(),
    share: z.number(),
    revenue: z.number().openapi({ description: 'Σ net revenue of the segment’s members' }),
    revenueShare: z.number(),
    avgRecencyDays: z.number().nullable(),
    avgFrequency: z.number().nullable(),
    avgMonetary: z.number().nullable(),
  })
  .openapi('RfmSegment')

const RfmSegmentsSchema = z
  .object({ asOf: z.string(), segments: items(RfmSegmentSchema) })
  .openapi('RfmSegments')

const RfmGridSchema = z
  .object({
    asOf: z.string(),
    cells: items(
      z.object({
        r: z.number(),
        fm: z.number(),
        segment: z.enum(RFM_SEGMENTS),
        name: Text,
        members: z.number(),
        revenue: z.number(),
      }),
    ),
    segments: items(RfmSegmentSchema),
  })
  .openapi('RfmGrid')

export function rfmRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/rfm',
      operationId: 'getRfmSegments',
      summary: 'RFM segments with size and value',
      security,
      request: { query: z.object({ asOf: anyDate.optional() }) },
      responses: json(RfmSegmentsSchema, 'RFM segments with size and value'),
    }),
    async (c) => {
      const { local: asOf, instant } = await ctx.zonedAsOf(c.req.valid('query').asOf)
      const segments = (await ctx.timed(() => getRfmSummary(ctx.driver, instant))).map((x) => ({
        ...x,
        name: RFM_SEGMENT_NAMES[x.segment],
      }))
      return c.json({ asOf, segments }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/rfm/grid',
      operationId: 'getRfmGrid',
      summary: 'The RFM grid',
      security,
      request: { query: z.object({ asOf: day.optional().openapi({ example: '2026-11-01' }) }) },
      responses: json(
        RfmGridSchema,
        'Members and net revenue per (R, FM) cell of the RFM grid, and per named segment',
      ),
    }),
    async (c) => {
      const { local: asOf, instant } = await ctx.zonedAsOf(c.req.valid('query').asOf)
      const [cells, segments] = await ctx.timed(() =>
        Promise.all([getRfmGrid(ctx.driver, instant), getRfmSummary(ctx.driver, instant)]),
      )
      return c.json(
        {
          asOf,
          cells: cells.map((x) => ({ ...x, name: RFM_SEGMENT_NAMES[x.segment] })),
          segments: segments.map((x) => ({ ...x, name: RFM_SEGMENT_NAMES[x.segment] })),
        },
        200,
      )
    },
  )
  return app
}
