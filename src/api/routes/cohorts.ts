/**
 * `/api/v1/cohorts`: the cohort retention matrix (counts, rates and size-weighted averages), and LTV curves —
 * cumulative net revenue per cohort member by periods since the cohort started. Aggregates only.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { getCohortLtv } from '../../engine/cohorts/cohort-ltv.js'
import { getCohortRetention, RETENTION_FORMS } from '../../engine/cohorts/cohort-retention.js'
import { COHORT_ANCHORS, COHORT_GRAINS } from '../../engine/cohorts/cohort-spec.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { anyDate, day } from '../schemas.js'

const dimension = z
  .string()
  .regex(/^[A-Za-z0-9_:.-]{1,80}$/)
  .optional()
  .openapi({ example: 'registration_channel' })

const RetentionCellSchema = z.object({
  period: z.number().openapi({ description: 'periods since the cohort’s own (0)' }),
  active: z.number(),
  eligible: z.number().openapi({ description: 'members whose period has ended: the denominator' }),
  rate: z.number().nullable(),
  complete: z.boolean(),
})

const RetentionSchema = z
  .object({
    spec: z.object({
      anchor: z.enum(COHORT_ANCHORS),
      grain: z.enum(COHORT_GRAINS),
      activity: z.string(),
      periods: z.number(),
      from: z.string().optional(),
      to: z.string().optional(),
      asOf: z.string(),
      dimension: z.string().optional(),
    }),
    form: z.enum(RETENTION_FORMS),
    cohorts: items(
      z.object({
        cohort: z.string().openapi({ description: 'first day of the cohort period' }),
        dimension: z.string().nullable(),
        size: z.number(),
        cells: items(RetentionCellSchema),
      }),
    ),
    averages: z
      .record(
        z.string(),
        items(
          z.object({
            period: z.number(),
            active: z.number(),
            eligible: z.number(),
            rate: z.number().nullable(),
            cohorts: z.number(),
          }),
        ),
      )
      .openapi({
        description:
          'size-weighted averages over complete cells per dimension value ("" without one)',
      }),
  })
  .openapi('CohortRetention')

const LtvSchema = z
  .object({
    asOf: z.string(),
    curves: items(
      z.object({
        cohort: z.string(),
        dimension: z.string().nullable(),
        size: z.number(),
        points: items(
          z.object({ period: z.number(), revenue: z.number(), ltv: z.number().nullable() }),
        ),
      }),
    ),
  })
  .openapi('CohortLtv')

export function cohortsRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/cohorts',
      operationId: 'getCohortRetention',
      summary: 'The cohort retention matrix',
      security,
      request: {
        query: z.object({
          anchor: z.enum(COHORT_ANCHORS).default('registration'),
          grain: z.enum(COHORT_GRAINS).default('month'),
          activity: z.string().max(120).default('any'),
          periods: z.coerce.number().int().min(0).max(60).default(12),
          form: z.enum(RETENTION_FORMS).default('n-period'),
          from: anyDate.optional(),
          to: anyDate.optional(),
          asOf: anyDate.optional(),
          by: z.string().max(120).optional(),
        }),
      },
      responses: json(
        RetentionSchema,
        'Cohort retention matrix (counts, rates, size-weighted averages)',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const { local: asOf } = await ctx.zonedAsOf(q.asOf)
      const r = await ctx.timed(() =>
        getCohortRetention(
          ctx.driver,
          {
            anchor: q.anchor,
            grain: q.grain,
            activity: q.activity,
            periods: q.periods,
            asOf,
            timezone: ctx.timezone,
            ...(q.from ? { from: q.from } : {}),
            ...(q.to ? { to: q.to } : {}),
            ...(q.by ? { dimension: q.by } : {}),
          },
          q.form,
        ),
      )
      return c.json(r, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/cohorts/ltv',
      operationId: 'getCohortLtv',
      summary: 'LTV curves by cohort',
      security,
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
      responses: json(
        LtvSchema,
        'Cumulative net revenue per cohort member by periods since the cohort started',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const { local: asOf } = await ctx.zonedAsOf(q.asOf)
      const curves = await ctx.timed(() =>
        getCohortLtv(ctx.driver, {
          anchor: q.anchor,
          grain: q.grain,
          periods: q.periods,
          asOf,
          timezone: ctx.timezone,
          ...(q.from ? { from: q.from } : {}),
          ...(q.to ? { to: q.to } : {}),
          ...(q.by ? { dimension: q.by } : {}),
        }),
      )
      return c.json({ asOf, curves }, 200)
    },
  )
  return app
}
