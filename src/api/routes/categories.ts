/**
 * `/api/v1/categories`: what members buy by product category: revenue share, penetration and repurchase per
 * category; the category paths of the first three purchases and the channel migration from the first to the
 * second (Sankey nodes and links whose columns total the members); next-category propensity; the category mix
 * by tier or lifecycle stage. Rules: docs/categories.md.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import {
  CATEGORY_MIX_BY,
  DEFAULT_TOP_CATEGORIES,
  MAX_TOP_CATEGORIES,
  getCategoryMix,
  getCategoryPaths,
  getCategoryShares,
  getNextCategories,
} from '../../engine/categories/category-analysis.js'
import { STAGE_NAMES } from '../../engine/lifecycle/lifecycle-config.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { Text, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { anyDate } from '../schemas.js'

const asOf = anyDate.optional().openapi({
  description: 'purchases before the start of this day (default: the day after the last activity)',
})
const top = z.coerce
  .number()
  .int()
  .min(1)
  .max(MAX_TOP_CATEGORIES)
  .default(DEFAULT_TOP_CATEGORIES)
  .openapi({ description: 'categories (channels) kept as their own nodes; the rest are "other"' })

const SharesSchema = z
  .object({
    asOf: z.string(),
    buyers: z.number(),
    buyersWithItems: z.number(),
    ordersWithoutItems: z.number(),
    revenue: z.number(),
    categories: items(
      z.object({
        category: z.string(),
        revenue: z.number(),
        revenueShare: z.number(),
        orders: z.number(),
        buyers: z.number(),
        penetration: z.number(),
        repeatBuyers: z.number(),
        repurchaseRate: z.number(),
      }),
    ),
  })
  .openapi('CategoryShares')

const SankeySchema = z
  .object({
    members: z.number().openapi({ description: 'every column of nodes totals this exactly' }),
    kept: items(z.string()),
    nodes: items(
      z.object({
        id: z.string().openapi({ description: '`step:value`, `step#other` or `step#none`' }),
        step: z.number(),
        kind: z.enum(['value', 'other', 'none']),
        value: z.string().nullable(),
        members: z.number(),
      }),
    ),
    links: items(z.object({ source: z.string(), target: z.string(), members: z.number() })),
  })
  .openapi('CategorySankey')

const PathsSchema = z
  .object({ asOf: z.string(), categories: SankeySchema, channels: SankeySchema })
  .openapi('CategoryPaths')

const NextSchema = z
  .object({
    asOf: z.string(),
    minBase: z.number(),
    pairs: items(
      z.object({
        from: z.string(),
        to: z.string(),
        base: z.number(),
        hits: z.number(),
        probability: z.number(),
        baseline: z.number().nullable(),
        lift: z.number().nullable(),
      }),
    ),
  })
  .openapi('NextCategories')

const MixSchema = z
  .object({
    asOf: z.string(),
    by: z.enum(CATEGORY_MIX_BY),
    segment: z
      .string()
      .optional()
      .openapi({ description: 'the saved segment, when split by segment' }),
    rows: items(
      z.object({
        group: z.string().nullable().openapi({
          description:
            'tier, stage or segment name; null for buyers without a tier, or outside the segment',
        }),
        groupName: Text.nullable().openapi({
          description: 'the stage in words; null for tiers and segments',
        }),
        category: z.string(),
        revenue: z.number(),
        share: z.number(),
        buyers: z.number(),
      }),
    ).nullable(),
    note: z.string().optional(),
  })
  .openapi('CategoryMix')

export function categoriesRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/categories',
      operationId: 'getCategoryShares',
      summary: 'Revenue share, penetration and repurchase per category',
      security,
      request: { query: z.object({ asOf }) },
      responses: json(SharesSchema, 'One row per category, largest revenue first'),
    }),
    async (c) => {
      const at = await ctx.zonedAsOf(c.req.valid('query').asOf)
      const s = await ctx.timed(() => getCategoryShares(ctx.driver, { asOf: at.instant }))
      return c.json({ ...s, asOf: at.local }, 200)
    },
  )
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/categories/paths',
      operationId: 'getCategoryPaths',
      summary: 'First → second → third purchase category and channel migration (Sankey)',
      security,
      request: { query: z.object({ asOf, top }) },
      responses: json(PathsSchema, 'Sankey nodes and links; every column totals the members'),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const at = await ctx.zonedAsOf(q.asOf)
      const p = await ctx.timed(() =>
        getCategoryPaths(ctx.driver, { asOf: at.instant, top: q.top }),
      )
      return c.json({ ...p, asOf: at.local }, 200)
    },
  )
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/categories/next',
      operationId: 'getNextCategories',
      summary: 'Next-category propensity for cross-sell',
      security,
      request: {
        query: z.object({
          asOf,
          from: z.string().min(1).max(200).optional(),
          minBase: z.coerce.number().int().min(1).default(30),
        }),
      },
      responses: json(NextSchema, 'P(next purchase holds B | bought A), with counts'),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const at = await ctx.zonedAsOf(q.asOf)
      const n = await ctx.timed(() =>
        getNextCategories(ctx.driver, {
          asOf: at.instant,
          minBase: q.minBase,
          ...(q.from === undefined ? {} : { from: q.from }),
        }),
      )
      return c.json({ ...n, asOf: at.local }, 200)
    },
  )
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/categories/mix',
      operationId: 'getCategoryMix',
      summary: 'Category revenue mix per tier, lifecycle stage or saved segment',
      security,
      request: {
        query: z.object({
          asOf,
          top,
          by: z.enum(CATEGORY_MIX_BY).default('lifecycle_stage'),
          segment: z.string().min(1).max(100).optional().openapi({
            description: 'with by=segment: the saved segment against the other buyers',
          }),
        }),
      },
      responses: json(MixSchema, 'Each group’s revenue over the top categories and other'),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const at = await ctx.zonedAsOf(q.asOf)
      const m = await ctx.timed(() =>
        getCategoryMix(ctx.driver, {
          asOf: at.instant,
          top: q.top,
          by: q.by,
          ...(q.segment === undefined ? {} : { segment: q.segment }),
        }),
      )
      const rows =
        m.rows?.map((r) => ({
          ...r,
          groupName:
            m.by === 'lifecycle_stage' && r.group !== null
              ? ((STAGE_NAMES as Record<string, { en: string; zh: string }>)[r.group] ?? null)
              : null,
        })) ?? null
      return c.json({ ...m, rows, asOf: at.local }, 200)
    },
  )
  return app
}
