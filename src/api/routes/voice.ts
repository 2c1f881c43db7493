/**
 * `/api/v1/voice`: voice of the member — NPS, CSAT and review ratings per period (optionally by a dimension),
 * complaint and return rates, return reasons and churn after a complaint. Aggregates only.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { InputError } from '../../core/errors.js'
import { voiceSummary } from '../../analytics/voice/voice.js'
import { VOICE_DIMENSIONS, VOICE_GRAINS } from '../../duckdb/voice/feedback-queries.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { day } from '../schemas.js'

/** A number, or null where it is undefined (no answers: JSON has no NaN). */
const num = z.number().nullable()
const interval = z.tuple([num, num]).readonly().openapi({ description: 'lower and upper bound' })
const rate = z.object({ n: z.number(), count: z.number(), rate: num, ci: interval })

const SatisfactionSchema = z.object({
  period: z.string(),
  dimension: z.string(),
  nps: z.object({
    n: z.number(),
    nps: num,
    ci: interval,
    promoters: z.number(),
    passives: z.number(),
    detractors: z.number(),
    method: z.literal('adjusted-wald'),
  }),
  csat: rate,
  review: z.object({ n: z.number(), mean: num, ci: interval }),
  negativeReviews: rate,
})

const ComplaintChurnSchema = z
  .object({
    churnDays: z.number(),
    caveat: z.string(),
    treatedMatched: z.number(),
    treatedUnmatched: z.number(),
    comparisonMatched: z.number(),
    strata: z.number(),
    treatedMean: num,
    comparisonMean: num,
    difference: num,
    standardError: num,
    ci: interval,
    pValue: num,
    level: z.number(),
  })
  .openapi('ComplaintChurn', {
    description:
      'Churn within churnDays after a first complaint against matched members without one (stratified)',
  })

const VoiceSchema = z
  .object({
    range: z.object({ from: z.string(), to: z.string() }),
    grain: z.enum(VOICE_GRAINS),
    by: z.enum(VOICE_DIMENSIONS).nullable(),
    satisfaction: items(SatisfactionSchema),
    total: items(SatisfactionSchema),
    service: items(
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
    returnReasons: items(z.object({ reason: z.string(), returns: z.number(), amount: z.number() })),
    complaintChurn: ComplaintChurnSchema.nullable(),
  })
  .openapi('VoiceSummary')

const yearBefore = (d: string) => `${Number(d.slice(0, 4)) - 1}${d.slice(4, 10)}`

/** Longest range one voice request may cover, in days (about five years). */
const MAX_VOICE_DAYS = 1830

export function voiceRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/voice',
      operationId: 'getVoice',
      summary: 'Voice of the member',
      security,
      request: {
        query: z.object({
          from: day.optional().openapi({ example: '2025-11-01' }),
          to: day.optional().openapi({ example: '2026-11-01' }),
          grain: z.enum(VOICE_GRAINS).default('month'),
          by: z.enum(VOICE_DIMENSIONS).optional(),
        }),
      },
      responses: json(
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
      return c.json(v, 200)
    },
  )
  return app
}
