/**
 * `/api/v1/clv/report`: the stored report of the latest (or a named) CLV run (`memberlens clv fit`) —
 * options, fitted models, CLV distribution and value at risk.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { getRun, RUN_ID_RE } from '../../analytics/clv/store.js'
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
  return app
}
