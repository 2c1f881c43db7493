/**
 * Voice of the member and experiments page: NPS, CSAT and review ratings per period (optionally by a
 * dimension), complaint and return rates, return reasons; the experiments with their variants, and one
 * experiment's report (goal and guardrail metrics per arm, effects with intervals, SRM check, verdict).
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import { InputError } from '../../core/errors.js'
import {
  EXPERIMENT_METRIC_IDS,
  experimentReport,
  listExperiments,
} from '../../analytics/experiments.js'
import { voiceSummary } from '../../analytics/voice.js'
import { VOICE_DIMENSIONS, VOICE_GRAINS } from '../../engine/voice/feedback-queries.js'
import type { ApiApp, RouteContext } from './context.js'
import { day } from '../schemas.js'
import { scoped } from '../require-scope.js'

const num = z.number().nullable()
const interval = z.array(num)
const rate = z.object({ n: z.number(), count: z.number(), rate: num, ci: interval })

const SatisfactionSchema = z.object({
  period: z.string(),
  dimension: z.string(),
  nps: z.object({ n: z.number(), nps: num, ci: interval }).passthrough(),
  csat: rate,
  review: z.object({ n: z.number(), mean: num, ci: interval }),
  negativeReviews: rate,
})

const VoiceSchema = z
  .object({
    range: z.object({ from: z.string(), to: z.string() }),
    grain: z.string(),
    by: z.string().nullable(),
    satisfaction: z.array(SatisfactionSchema),
    total: z.array(SatisfactionSchema),
    service: z.array(
      z.object({
        period: z.string(),
        activeMembers: z.number(),
        tickets: z.number(),
        ticketsPer1000Active: num,
        complaints: z.number(),
        complaintRate: rate,
        returnRateAmount: num,
        returnRateOrders: rate,
      }),
    ),
    returnReasons: z.array(
      z.object({ reason: z.string(), returns: z.number(), amount: z.number() }),
    ),
    complaintChurn: z.object({}).passthrough().nullable(),
  })
  .openapi('VoiceSummary')

const ExperimentListSchema = z
  .object({
    experiments: z.array(
      z.object({
        experimentId: z.string(),
        members: z.number(),
        variants: z.array(z.object({ variant: z.string(), members: z.number() })),
        firstAssigned: z.string(),
        lastAssigned: z.string(),
      }),
    ),
    metrics: z.array(z.string()),
  })
  .openapi('ExperimentList')

const MetricResultSchema = z
  .object({
    metric: z.string(),
    name: z.object({ en: z.string(), zh: z.string() }),
    kind: z.string(),
    higherIsBetter: z.boolean(),
    control: z.string(),
    arms: z.array(z.object({ arm: z.string(), members: z.number(), value: num, ci: interval })),
    comparisons: z.array(z.object({ arm: z.string() }).passthrough()),
    incomplete: z.number(),
  })
  .openapi('ExperimentMetricResult')

const ExperimentReportSchema = z
  .object({
    experimentId: z.string(),
    control: z.string(),
    variants: z.array(z.object({ variant: z.string(), members: z.number() })),
    windows: z.object({}).passthrough(),
    level: z.number(),
    dataEnd: z.string().nullable(),
    srm: z.object({}).passthrough(),
    goal: MetricResultSchema,
    guardrails: z.array(MetricResultSchema),
    verdict: z.string(),
  })
  .openapi('ExperimentReport')

const yearBefore = (d: string) => `${Number(d.slice(0, 4)) - 1}${d.slice(4, 10)}`

/** Longest range one voice request may cover, in days (about five years). */
const MAX_VOICE_DAYS = 1830

export function registerVoiceExperimentRoutes(app: ApiApp, ctx: RouteContext): void {
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/voice',
      security: ctx.security,
      request: {
        query: z.object({
          from: day.optional().openapi({ example: '2025-11-01' }),
          to: day.optional().openapi({ example: '2026-11-01' }),
          grain: z.enum(VOICE_GRAINS).default('month'),
          by: z.enum(VOICE_DIMENSIONS).optional(),
        }),
      },
      responses: ctx.json(
        VoiceSchema,
        'NPS, CSAT and reviews per period (and dimension), complaint and return rates, return reasons and churn after a complaint; the range defaults to the year up to the end of the data',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const to = q.to ?? (await ctx.asOf(undefined))
      const from = q.from ?? yearBefore(to)
      const days = (Date.parse(to) - Date.parse(from)) / 86_400_000
      if (!(days > 0)) throw new InputError(`from (${from}) must be before to (${to})`)
      if (days > MAX_VOICE_DAYS) throw new InputError(`at most ${MAX_VOICE_DAYS} days per request`)
      const v = await ctx.timed(() =>
        voiceSummary(ctx.driver, { from, to, grain: q.grain, ...(q.by ? { by: q.by } : {}) }),
      )
      return c.json(v as unknown as z.infer<typeof VoiceSchema>, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/experiments',
      security: ctx.security,
      responses: ctx.json(
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
      path: '/api/v1/experiments/{id}',
      security: ctx.security,
      request: {
        params: z.object({ id: z.string().min(1).max(200) }),
        query: z.object({
          metric: z.enum(EXPERIMENT_METRIC_IDS as [string, ...string[]]).default('conversion'),
          windowDays: z.coerce.number().int().min(1).max(365).default(30),
        }),
      },
      responses: ctx.json(
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
      return c.json(r as unknown as z.infer<typeof ExperimentReportSchema>, 200)
    },
  )
}
