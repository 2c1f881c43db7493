/**
 * `/api/v1/targeting`: the latest uplift targeting run (`memberlens target`): the campaign it learnt from,
 * Qini and AUUC per arm and learner on held-out randomised members against the random ranking, and the
 * budgeted plan in aggregate with its bootstrap intervals.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { latestTargeting } from '../../analytics/targeting/store.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { items, json, security } from '../openapi.js'
import { scoped } from '../require-scope.js'

const IntervalSchema = z
  .object({ estimate: z.number(), low: z.number().nullable(), high: z.number().nullable() })
  .openapi('Interval')

const TargetingSchema = z
  .object({
    runId: z.string(),
    campaignId: z.string(),
    campaignStart: z.string(),
    cutoff: z.string(),
    horizonDays: z.number(),
    asOf: z.string(),
    learner: z.string(),
    budget: z.number(),
    randomised: z.record(z.string(), z.number()),
    qini: items(
      z.object({
        arm: z.string(),
        learner: z.string(),
        treated: z.number(),
        control: z.number(),
        totalIncremental: z.number(),
        auuc: z.number(),
        randomAuuc: z.number(),
        qini: z.number(),
        curve: items(z.object({ share: z.number(), incremental: z.number() })),
        upliftAt: items(z.object({ share: z.number(), uplift: z.number().nullable() })),
      }),
    ),
    candidates: z.number(),
    excludedNonPositive: z.number(),
    policy: z.object({
      members: z.number(),
      retained: IntervalSchema,
      revenue: IntervalSchema,
      cost: IntervalSchema,
      net: IntervalSchema,
      roi: IntervalSchema.nullable(),
      byArm: z.record(z.string(), z.object({ members: z.number(), cost: z.number() })),
    }),
  })
  .openapi('Targeting')

export function targetingRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/targeting',
      operationId: 'getTargeting',
      summary: 'The latest uplift targeting run',
      security,
      responses: json(
        z.object({ targeting: TargetingSchema.nullable() }),
        'The latest `memberlens target` run: Qini per arm on held-out randomised members with the random baseline, and the budgeted plan with intervals; null before the first run',
      ),
    }),
    async (c) => {
      const targeting = await ctx.timed(() => latestTargeting(ctx.driver))
      return c.json({ targeting }, 200)
    },
  )
  return app
}
