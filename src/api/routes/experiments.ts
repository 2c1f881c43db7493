/**
 * `/api/v1/experiments`: the experiments with their variants, and one experiment's report (goal and
 * guardrail metrics per arm, effects with intervals, SRM check, verdict). Aggregates only.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import {
  EXPERIMENT_METRIC_IDS,
  experimentReport,
  listExperiments,
} from '../../analytics/experiments/experiments.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { Text, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'

/** A number, or null where it is undefined (JSON has no NaN or Infinity). */
const num = z.number().nullable()
const interval = z.tuple([num, num]).readonly().openapi({ description: 'lower and upper bound' })

const ExperimentListSchema = z
  .object({
    experiments: items(
      z.object({
        experimentId: z.string(),
        members: z.number(),
        variants: items(z.object({ variant: z.string(), members: z.number() })),
        firstAssigned: z.string(),
        lastAssigned: z.string(),
      }),
    ),
    metrics: items(z.string()),
  })
  .openapi('ExperimentList')

const EffectSchema = z
  .object({
    method: z.enum(['two-proportion-z', 'welch-t', 'delta-ratio', 'z']),
    control: num,
    treatment: num,
    difference: num.openapi({ description: 'treatment − control' }),
    standardError: num,
    ci: interval,
    relativeLift: num.openapi({ description: 'treatment / control − 1' }),
    relativeCi: interval,
    statistic: num,
    df: num.openapi({ description: 'degrees of freedom of a t statistic (null for z)' }),
    pValue: num,
    level: z.number(),
  })
  .openapi('Effect')

const MetricResultSchema = z
  .object({
    metric: z.string(),
    name: Text,
    kind: z.enum(['proportion', 'mean', 'ratio']),
    higherIsBetter: z.boolean(),
    control: z.string(),
    arms: items(z.object({ arm: z.string(), members: z.number(), value: num, ci: interval })),
    comparisons: items(
      z.object({
        arm: z.string(),
        raw: EffectSchema,
        cuped: z
          .object({
            effect: EffectSchema,
            theta: num.openapi({ description: 'slope on the covariate in the variant arm' }),
            thetaControl: num.openapi({ description: 'slope on the covariate in the control arm' }),
            varianceReduction: num.openapi({
              description: 'share of the within-arm variance removed',
            }),
            widthRaw: num.openapi({ description: 'width of the interval without CUPED (raw.ci)' }),
            width: num.openapi({ description: 'width of the CUPED interval (effect.ci)' }),
            narrowing: num.openapi({
              description: '1 − width ÷ widthRaw: how much narrower the adjusted interval is',
            }),
          })
          .nullable(),
        effect: EffectSchema.openapi({ description: 'CUPED when available, else raw' }),
        pAdjusted: num.openapi({ description: 'Holm-adjusted across the variants' }),
        significant: z.boolean(),
        harmful: z.boolean(),
      }),
    ),
    incomplete: z.number(),
    clvRun: z
      .object({
        runId: z.string(),
        horizonMonths: z.number().nullable(),
        calibrationEnd: z.string().nullable(),
        unscored: z.number(),
      })
      .optional()
      .openapi({
        description:
          'predicted_clv only: the CLV run the scores come from and the assigned members it did not score (left out)',
      }),
  })
  .openapi('ExperimentMetricResult')

const ExperimentReportSchema = z
  .object({
    experimentId: z.string(),
    control: z.string(),
    variants: items(z.object({ variant: z.string(), members: z.number() })),
    windows: z.object({
      windowDays: z.number(),
      preDays: z.number(),
      retentionFromDays: z.number(),
      retentionToDays: z.number(),
    }),
    level: z.number(),
    dataEnd: z.string().nullable(),
    srm: z
      .object({
        observed: items(z.number()),
        expected: items(z.number()),
        chiSquare: num,
        df: z.number(),
        pValue: num,
        mismatch: z.boolean(),
        threshold: z.number(),
      })
      .openapi({ description: 'sample-ratio check on every assigned member' }),
    goal: MetricResultSchema,
    guardrails: items(MetricResultSchema),
    verdict: z.string(),
  })
  .openapi('ExperimentReport')

export function experimentsRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/experiments',
      operationId: 'listExperiments',
      summary: 'Experiments with their variants',
      security,
      responses: json(
        ExperimentListSchema,
        'Every experiment with its variants and assignment period, and the metrics a report can use',
      ),
    }),
    async (c) => {
      const experiments = await ctx.timed(() => listExperiments(ctx.driver))
      return c.json(
        {
          experiments: experiments.map((e) => ({
            ...e,
            variants: e.variants.map((v) => ({ ...v })),
          })),
          metrics: [...EXPERIMENT_METRIC_IDS],
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/experiments/{id}',
      operationId: 'getExperimentReport',
      summary: 'One experiment’s report',
      security,
      request: {
        params: z.object({ id: z.string().min(1).max(200) }),
        query: z.object({
          metric: z.enum(EXPERIMENT_METRIC_IDS as [string, ...string[]]).default('conversion'),
          windowDays: z.coerce.number().int().min(1).max(365).default(30),
        }),
      },
      responses: json(
        ExperimentReportSchema,
        'The goal metric and guardrails per arm, each variant against the control (CUPED, Holm), the sample-ratio check and a verdict',
      ),
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const q = c.req.valid('query')
      const r = await ctx.timed(() =>
        experimentReport(ctx.driver, id, {
          metric: q.metric as (typeof EXPERIMENT_METRIC_IDS)[number],
          windowDays: q.windowDays,
        }),
      )
      return c.json(r, 200)
    },
  )
  return app
}
