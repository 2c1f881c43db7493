/**
 * `/api/v1/drivers`: the related metrics that move with a core metric across groups of members, ranked by
 * importance in a joint model.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { analyzeDrivers } from '../../analytics/reporting/driver-analysis.js'
import type { InputIssue } from '../../core/errors.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { API_FIELD_NAMES, withFieldNames } from '../error-handler.js'
import { Text, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { anyDate as date, list } from '../schemas.js'

const DriverAnalysisSchema = z
  .object({
    core: z.string(),
    from: z.string().nullable().openapi({ description: 'first period analysed (YYYY-MM-DD)' }),
    to: z.string().nullable().openapi({ description: 'last period analysed (YYYY-MM-DD)' }),
    groups: z.number().openapi({ description: 'groups with a value for every metric' }),
    r2: z.number().nullable(),
    drivers: items(
      z.object({
        metric: z.string(),
        name: Text,
        r: z.number().nullable().openapi({ description: 'Pearson’s r across the groups' }),
        ci: z
          .tuple([z.number(), z.number()])
          .readonly()
          .nullable()
          .openapi({ description: '95% interval of r' }),
        beta: z.number().openapi({ description: 'standardised coefficient in the joint model' }),
        importance: z.number().openapi({ description: '|beta| as a share of Σ|beta|' }),
      }),
    ),
  })
  .openapi('DriverAnalysis')

export function driversRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/drivers',
      operationId: 'analyzeDrivers',
      summary: 'Metrics that move with a core metric',
      security,
      request: {
        query: z.object({
          core: z.string().max(100),
          candidates: list(20).optional(),
          from: date.optional(),
          to: date.optional(),
          by: list(3).optional(),
        }),
      },
      responses: json(
        DriverAnalysisSchema,
        'Related metrics ranked by how they move with a core metric',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      // Its metrics are named by `core` and `candidates`, not `metrics`.
      const names = (i: InputIssue) =>
        i.field === 'metric'
          ? i.value === q.core
            ? 'core'
            : 'candidates'
          : API_FIELD_NAMES[i.field ?? '']
      // Cached per data version, like the tree: the answer depends only on the loaded data and the query.
      const key = `drivers:${JSON.stringify([q.core, q.from, q.to, q.candidates, q.by])}`
      const d = await withFieldNames(names, () =>
        ctx.cache.get(key, () =>
          ctx.timed(() =>
            analyzeDrivers(ctx.driver, {
              core: q.core,
              ...(q.from ? { from: q.from } : {}),
              ...(q.to ? { to: q.to } : {}),
              ...(q.candidates ? { candidates: q.candidates } : {}),
              ...(q.by ? { by: q.by } : {}),
            }),
          ),
        ),
      )
      return c.json(d, 200)
    },
  )
  return app
}
