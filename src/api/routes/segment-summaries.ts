/**
 * Segments page: the RFM grid with its named segments, and every saved segment's size and value. Aggregates
 * only (no member lists), so viewers may read them.
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import { RFM_SEGMENT_NAMES } from '../../engine/rfm/rfm-config.js'
import { getRfmGrid } from '../../engine/rfm/rfm-grid.js'
import { getRfmSummary } from '../../engine/rfm/rfm-scores.js'
import { segmentFilterSchema } from '../../engine/segments/segment-schema.js'
import { getSegmentSize } from '../../engine/segments/segment-summary.js'
import { listSegments } from '../../engine/segments/segment-store.js'
import type { ApiApp, RouteContext } from './context.js'
import { day } from '../schemas.js'
import { scoped } from '../require-scope.js'

const Name = z.object({ en: z.string(), zh: z.string() })

const RfmGridSchema = z
  .object({
    asOf: z.string(),
    cells: z.array(
      z.object({
        r: z.number(),
        fm: z.number(),
        segment: z.string(),
        name: Name,
        members: z.number(),
        revenue: z.number(),
      }),
    ),
    segments: z.array(
      z.object({
        segment: z.string(),
        name: Name,
        members: z.number(),
        share: z.number(),
        revenue: z.number(),
        revenueShare: z.number(),
        avgRecencyDays: z.number().nullable(),
        avgFrequency: z.number().nullable(),
        avgMonetary: z.number().nullable(),
      }),
    ),
  })
  .openapi('RfmGrid')

const SegmentSizesSchema = z
  .object({
    asOf: z.string(),
    revenueFrom: z.string(),
    revenueTo: z.string(),
    segments: z.array(
      z.object({
        name: z.string(),
        description: z.string().nullable(),
        members: z.number(),
        buyers: z.number(),
        revenue: z.number(),
        revenuePerMember: z.number().nullable(),
      }),
    ),
  })
  .openapi('SegmentSizes')

const SegmentPreviewSchema = z
  .object({
    asOf: z.string(),
    revenueFrom: z.string(),
    revenueTo: z.string(),
    members: z.number(),
    buyers: z.number(),
    revenue: z.number(),
    revenuePerMember: z.number().nullable(),
  })
  .openapi('SegmentPreview')

const yearBefore = (d: string) => `${Number(d.slice(0, 4)) - 1}${d.slice(4, 10)}`

export function registerSegmentSummaryRoutes(app: ApiApp, ctx: RouteContext): void {
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/rfm/grid',
      security: ctx.security,
      request: { query: z.object({ asOf: day.optional().openapi({ example: '2026-11-01' }) }) },
      responses: ctx.json(
        RfmGridSchema,
        'Members and net revenue per (R, FM) cell of the RFM grid, and per named segment',
      ),
    }),
    async (c) => {
      const asOf = await ctx.asOf(c.req.valid('query').asOf)
      const [cells, segments] = await ctx.timed(() =>
        Promise.all([getRfmGrid(ctx.driver, asOf), getRfmSummary(ctx.driver, asOf)]),
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

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/segment-sizes',
      security: ctx.security,
      request: { query: z.object({ asOf: day.optional().openapi({ example: '2026-11-01' }) }) },
      responses: ctx.json(
        SegmentSizesSchema,
        'Each saved segment’s members as of a date and their net revenue in the year before it',
      ),
    }),
    async (c) => {
      const asOf = await ctx.asOf(c.req.valid('query').asOf)
      const window = { from: yearBefore(asOf), to: asOf }
      const saved = await listSegments(ctx.driver)
      const segments = await ctx.timed(async () => {
        const out = []
        for (const s of saved) {
          const size = await getSegmentSize(ctx.driver, s.definition.filter, asOf, window)
          out.push({
            name: s.definition.name,
            description: s.definition.description ?? null,
            ...size,
            revenuePerMember: size.members > 0 ? size.revenue / size.members : null,
          })
        }
        return out
      })
      return c.json({ asOf, revenueFrom: window.from, revenueTo: window.to, segments }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'post',
      path: '/api/v1/segment-sizes/preview',
      security: ctx.security,
      description:
        'The size and value of a segment definition before it is saved (the dashboard’s segment builder): counts and money only, no member list.',
      request: {
        query: z.object({ asOf: day.optional().openapi({ example: '2026-11-01' }) }),
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({
                  filter: segmentFilterSchema.describe(
                    'All conditions must hold; a list inside one condition matches any of its values.',
                  ),
                })
                .strict(),
            },
          },
        },
      },
      responses: ctx.json(
        SegmentPreviewSchema,
        'Members of the definition as of a date and their net revenue in the year before it',
      ),
    }),
    async (c) => {
      const asOf = await ctx.asOf(c.req.valid('query').asOf)
      const window = { from: yearBefore(asOf), to: asOf }
      const { filter } = c.req.valid('json')
      const size = await ctx.timed(() => getSegmentSize(ctx.driver, filter, asOf, window))
      return c.json(
        {
          asOf,
          revenueFrom: window.from,
          revenueTo: window.to,
          ...size,
          revenuePerMember: size.members > 0 ? size.revenue / size.members : null,
        },
        200,
      )
    },
  )
}
