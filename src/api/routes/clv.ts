/**
 * `/api/v1/clv/report`: the stored report of the latest (or a named) CLV run (`memberlens clv fit`) —
 * options, fitted models, CLV distribution and value at risk.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { getRun, RUN_ID_RE } from '../../analytics/clv/store.js'
import { listMemberScores } from '../../analytics/clv/clv.js'
import { clvRunIntervals } from '../../analytics/clv/intervals.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { ApiError } from '../error-handler.js'
import { json, security } from '../openapi.js'
import { scoped } from '../require-scope.js'

export function clvRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/clv/report',
      operationId: 'getClvReport',
      summary: 'The report of a CLV run',
      security,
      description:
        'The latest CLV run (`memberlens clv fit`): options, fitted models, CLV distribution and value at risk. 404 when there is no run.',
      request: {
        query: z.object({
          runId: z.string().regex(RUN_ID_RE).optional(),
        }),
      },
      responses: json(
        z
          .object({
            runId: z.string(),
            createdAt: z.string(),
            report: z.record(z.string(), z.unknown()),
          })
          .openapi('ClvReport'),
        'The run’s stored report',
      ),
    }),
    async (c) => {
      const run = await ctx.timed(() => getRun(ctx.driver, 'clv', c.req.valid('query').runId))
      if (run.kind !== 'clv')
        throw new ApiError('NOT_FOUND', `${run.runId} is a ${run.kind} run, not a CLV run`)
      const report = JSON.parse(
        JSON.stringify(run.report ?? {}, (_k, v: unknown) =>
          typeof v === 'number' && !Number.isFinite(v) ? null : v,
        ),
      ) as Record<string, unknown>
      return c.json({ runId: run.runId, createdAt: run.createdAt, report }, 200)
    },
  )
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/clv/intervals',
      operationId: 'getClvIntervals',
      summary: 'Prediction intervals of a CLV run',
      security,
      description:
        'Parametric-bootstrap intervals of the latest (or a named) CLV run over its horizon: for the portfolio total and for the top members by CLV (or the members named), the interval of the expected purchases and of CLV (parameter uncertainty) and the prediction interval of the purchases that will be made (parameter uncertainty and purchase noise). The work grows with members × draws. 404 when there is no run.',
      request: {
        query: z.object({
          runId: z.string().regex(RUN_ID_RE).optional(),
          top: z.coerce.number().int().min(0).max(1000).default(20),
          memberIds: z
            .string()
            .regex(/^\d+(,\d+)*$/)
            .optional()
            .openapi({
              description: 'comma-separated member ids; replaces `top`',
              example: '1,2,3',
            }),
          level: z.coerce.number().gt(0).lt(1).default(0.9),
          draws: z.coerce.number().int().min(20).max(2000).default(200),
          seed: z.coerce.number().int().default(1),
        }),
      },
      responses: json(ClvIntervalsSchema, 'Intervals of the portfolio total and of each member'),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const result = await ctx.timed(async () => {
        const run = await getRun(ctx.driver, 'clv', q.runId)
        if (run.kind !== 'clv')
          throw new ApiError('NOT_FOUND', `${run.runId} is a ${run.kind} run, not a CLV run`)
        const memberIds =
          q.memberIds === undefined
            ? (await listMemberScores(ctx.driver, { runId: run.runId, limit: q.top })).scores.map(
                (s) => s.memberId,
              )
            : q.memberIds.split(',').map(Number)
        return clvRunIntervals(ctx.driver, {
          runId: run.runId,
          memberIds,
          level: q.level,
          draws: q.draws,
          seed: q.seed,
        })
      })
      const finite = (v: number) => (Number.isFinite(v) ? v : null)
      const interval = (i: { estimate: number; lower: number; upper: number } | undefined) =>
        i === undefined
          ? null
          : { estimate: finite(i.estimate), lower: finite(i.lower), upper: finite(i.upper) }
      return c.json(
        {
          runId: result.runId,
          level: result.level,
          draws: result.draws,
          horizonDays: result.horizonDays,
          portfolio: {
            members: result.portfolio.members,
            expectedPurchases: interval(result.portfolio.expectedPurchases),
            realisedPurchases: result.portfolio.realisedPurchases,
            clv: interval(result.portfolio.clv),
          },
          members: [...result.members].map(([memberId, m]) => ({
            memberId,
            expectedPurchases: interval(m.expectedPurchases),
            realisedPurchases: m.realisedPurchases,
            clv: interval(m.clv),
          })),
        },
        200,
      )
    },
  )
  return app
}

const IntervalSchema = z
  .object({
    estimate: z.number().nullable(),
    lower: z.number().nullable(),
    upper: z.number().nullable(),
  })
  .nullable()
  .openapi({
    description: 'point forecast and the interval of the expectation (parameter uncertainty)',
  })
const CountIntervalSchema = z
  .object({ lower: z.number(), upper: z.number() })
  .openapi({ description: 'prediction interval of the purchases that will be made' })

const ClvIntervalsSchema = z
  .object({
    runId: z.string(),
    level: z.number(),
    draws: z.number(),
    horizonDays: z.number(),
    portfolio: z.object({
      members: z.number(),
      expectedPurchases: IntervalSchema,
      realisedPurchases: CountIntervalSchema,
      clv: IntervalSchema,
    }),
    members: z.array(
      z.object({
        memberId: z.number(),
        expectedPurchases: IntervalSchema,
        realisedPurchases: CountIntervalSchema,
        clv: IntervalSchema,
      }),
    ),
  })
  .openapi('ClvIntervals')
