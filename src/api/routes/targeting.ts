/**
 * `/api/v1/targeting`: the latest uplift targeting run (`memberlens target`): the campaign it learnt from,
 * Qini and AUUC per arm and learner on held-out randomised members against the random ranking, and the
 * budgeted plan in aggregate with its bootstrap intervals.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { latestTargeting, latestTargetingArms } from '../../analytics/targeting/store.js'
import { simulateCampaign } from '../../analytics/targeting/targeting.js'
import { churnClassMembers } from '../../analytics/risk/churn-reasons.js'
import { CHURN_CLASSES } from '../../analytics/risk/early-warning.js'
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

const CampaignSimulationSchema = z
  .object({
    segment: z.string(),
    learnedFrom: z.string(),
    asOf: z.string(),
    learner: z.string(),
    arm: z.string(),
    members: z.number(),
    costParts: z.object({ contact: z.number(), coupons: z.number(), points: z.number() }),
    expectedRedemptions: z.number(),
    cost: IntervalSchema,
    retained: IntervalSchema,
    value: IntervalSchema,
    net: IntervalSchema,
    roi: IntervalSchema.nullable(),
    breakEvenRedemptionRate: z.number().nullable(),
  })
  .openapi('CampaignSimulation')

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
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/targeting/simulate',
      operationId: 'simulateCampaign',
      summary: 'Simulate one arm for a segment before launch',
      description:
        'With the arms file of the latest `memberlens target` run: the expected cost by part (contact, coupon face value × P(redeem), points at liability value), retained members, incremental value, net value and ROI with bootstrap intervals, and a coupon arm’s break-even redemption rate, for one arm sent to every buyer or to a churn class of the latest risk scoring.',
      security,
      request: {
        query: z.object({
          arm: z.string().min(1).openapi({ example: 'coupon_20' }),
          segment: z.enum(['all', ...CHURN_CLASSES]).default('all'),
          bootstrap: z.coerce.number().int().min(0).max(200).default(20),
          seed: z.coerce.number().int().min(0).default(1),
        }),
      },
      responses: json(CampaignSimulationSchema, 'The simulated campaign'),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const result = await ctx.timed(async () => {
        const arms = await latestTargetingArms(ctx.driver)
        const members =
          q.segment === 'all' ? undefined : (await churnClassMembers(ctx.driver, q.segment)).members
        return simulateCampaign(ctx.driver, arms, {
          arm: q.arm,
          ...(members === undefined ? {} : { members }),
          bootstrap: q.bootstrap,
          seed: q.seed,
        })
      })
      return c.json({ segment: q.segment, ...result }, 200)
    },
  )
  return app
}
