/**
 * Retention beyond the cohort matrix: LTV curves by cohort, the survival curve of time to churn
 * (Kaplan–Meier) and funnels of key events. Aggregates only, so viewers may read them.
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import { getSurvival } from '../../analytics/survival.js'
import { getCohortLtv } from '../../engine/cohorts/cohort-ltv.js'
import { COHORT_ANCHORS, COHORT_GRAINS } from '../../engine/cohorts/cohort-spec.js'
import { getFunnel } from '../../engine/funnels/funnel-query.js'
import { funnelSpecSchema } from '../../engine/funnels/funnel-spec.js'
import { SURVIVAL_ORIGINS } from '../../engine/lifecycle/churn-durations.js'
import { DEFAULT_LIFECYCLE_CONFIG } from '../../engine/lifecycle/lifecycle-config.js'
import type { ApiApp, RouteContext } from './context.js'
import { day } from '../schemas.js'
import { scoped } from '../require-scope.js'

const dimension = z
  .string()
  .regex(/^[A-Za-z0-9_:.-]{1,80}$/)
  .optional()
  .openapi({ example: 'registration_channel' })

const LtvSchema = z
  .object({
    asOf: z.string(),
    curves: z.array(
      z.object({
        cohort: z.string(),
        dimension: z.string().nullable(),
        size: z.number(),
        points: z.array(
          z.object({ period: z.number(), revenue: z.number(), ltv: z.number().nullable() }),
        ),
      }),
    ),
  })
  .openapi('CohortLtv')

const SurvivalSchema = z
  .object({
    asOf: z.string(),
    origin: z.string(),
    churnDays: z.number(),
    groups: z.array(
      z.object({
        dimension: z.string().nullable(),
        members: z.number(),
        churned: z.number(),
        medianDays: z.number().nullable(),
        medianLowerDays: z.number().nullable(),
        medianUpperDays: z.number().nullable(),
        checkpoints: z.array(z.object({ days: z.number(), survival: z.number() })),
        curve: z.array(
          z.object({
            days: z.number(),
            survival: z.number(),
            lower: z.number().nullable(),
            upper: z.number().nullable(),
            atRisk: z.number(),
          }),
        ),
      }),
    ),
  })
  .openapi('Survival')

const FunnelSchema = z
  .object({
    results: z.array(
      z.object({
        dimension: z.string().nullable(),
        steps: z.array(
          z.object({
            step: z.number(),
            label: z.string(),
            members: z.number(),
            stepConversion: z.number().nullable(),
            overallConversion: z.number().nullable(),
            dropOff: z.number(),
            medianSecondsFromPrevious: z.number().nullable(),
          }),
        ),
      }),
    ),
  })
  .openapi('Funnel')

export function registerRetentionRoutes(app: ApiApp, ctx: RouteContext): void {
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/cohorts/ltv',
      security: ctx.security,
      request: {
        query: z.object({
          anchor: z.enum(COHORT_ANCHORS).default('registration'),
          grain: z.enum(COHORT_GRAINS).default('month'),
          periods: z.coerce.number().int().min(0).max(60).default(12),
          from: day.optional(),
          to: day.optional(),
          asOf: day.optional(),
          by: dimension,
        }),
      },
      responses: ctx.json(
        LtvSchema,
        'Cumulative net revenue per cohort member by periods since the cohort started',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const asOf = await ctx.asOf(q.asOf)
      const curves = await ctx.timed(() =>
        getCohortLtv(ctx.driver, {
          anchor: q.anchor,
          grain: q.grain,
          periods: q.periods,
          asOf,
          ...(q.from ? { from: q.from } : {}),
          ...(q.to ? { to: q.to } : {}),
          ...(q.by ? { dimension: q.by } : {}),
        }),
      )
      return c.json({ asOf, curves }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/survival',
      security: ctx.security,
      request: {
        query: z.object({
          origin: z.enum(SURVIVAL_ORIGINS).default('first-purchase'),
          by: dimension,
          asOf: day.optional(),
          churnDays: z.coerce.number().int().min(1).max(3650).optional(),
        }),
      },
      responses: ctx.json(
        SurvivalSchema,
        'Kaplan–Meier survival of time to churn (lifecycle rule, dated at the last purchase; censored at asOf − churnDays), with intervals and the median lifetime',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const asOf = await ctx.asOf(q.asOf)
      const config = q.churnDays === undefined ? {} : { churnDays: q.churnDays }
      const groups = await ctx.timed(() =>
        getSurvival(ctx.driver, {
          asOf,
          origin: q.origin,
          config,
          ...(q.by ? { dimension: q.by } : {}),
        }),
      )
      return c.json(
        {
          asOf,
          origin: q.origin,
          churnDays: q.churnDays ?? DEFAULT_LIFECYCLE_CONFIG.churnDays,
          groups: groups.map((g) => ({
            dimension: g.dimension,
            members: g.members,
            churned: g.churned,
            medianDays: g.medianDays,
            medianLowerDays: g.medianLowerDays,
            medianUpperDays: g.medianUpperDays,
            checkpoints: [...g.checkpoints],
            curve: g.curve.steps.map((s) => ({
              days: s.time,
              survival: s.survival,
              lower: s.lower,
              upper: s.upper,
              atRisk: s.atRisk,
            })),
          })),
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'post',
      path: '/api/v1/funnels',
      security: ctx.security,
      description:
        'Key-event completion: members reaching each ordered step within the window from their first step, drop-off and median time between steps.',
      request: {
        body: {
          required: true,
          content: { 'application/json': { schema: funnelSpecSchema.describe('The funnel') } },
        },
      },
      responses: ctx.json(FunnelSchema, 'One result per dimension value'),
    }),
    async (c) => {
      const spec = c.req.valid('json')
      const results = await ctx.timed(() => getFunnel(ctx.driver, spec))
      return c.json({ results: results.map((r) => ({ ...r, steps: [...r.steps] })) }, 200)
    },
  )
}
