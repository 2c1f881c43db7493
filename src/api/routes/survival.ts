/**
 * `/api/v1/survival`: the Kaplan–Meier survival curve of time to churn (the lifecycle rule), with intervals
 * and the median lifetime, per group. Aggregates only.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { getSurvival } from '../../analytics/lifetime/survival.js'
import { SURVIVAL_ORIGINS } from '../../engine/lifecycle/churn-durations.js'
import { DEFAULT_LIFECYCLE_CONFIG } from '../../engine/lifecycle/lifecycle-config.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { day } from '../schemas.js'

const dimension = z
  .string()
  .regex(/^[A-Za-z0-9_:.-]{1,80}$/)
  .optional()
  .openapi({ example: 'registration_channel' })

const SurvivalSchema = z
  .object({
    asOf: z.string(),
    origin: z.string(),
    churnDays: z.number(),
    groups: items(
      z.object({
        dimension: z.string().nullable(),
        members: z.number(),
        churned: z.number(),
        medianDays: z.number().nullable(),
        medianLowerDays: z.number().nullable(),
        medianUpperDays: z.number().nullable(),
        checkpoints: items(z.object({ days: z.number(), survival: z.number() })),
        curve: items(
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

export function survivalRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/survival',
      operationId: 'getSurvival',
      summary: 'Survival of time to churn',
      security,
      request: {
        query: z.object({
          origin: z.enum(SURVIVAL_ORIGINS).default('first-purchase'),
          by: dimension,
          asOf: day.optional(),
          churnDays: z.coerce.number().int().min(1).max(3650).optional(),
        }),
      },
      responses: json(
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
  return app
}
