/**
 * `/api/v1/funnels`: key-event funnels — members reaching each ordered step within the window from their
 * first step, drop-off and median time between steps. Aggregates only.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { getFunnel } from '../../engine/funnels/funnel-query.js'
import { funnelSpecSchema } from '../../engine/funnels/funnel-spec.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'

const FunnelSchema = z
  .object({
    results: items(
      z.object({
        dimension: z.string().nullable(),
        steps: items(
          z.object({
            step: z.number(),
            label: z.string(),
            members: z.number(),
            stepConversion: z.number().nullable(),
            overallConversion: z.number().nullable(),
            dropOff: z.number(),
            medianSecondsFromPrevious: z.number().nullable(),
          }),
        ),
      }),
    ),
  })
  .openapi('Funnel')

export function funnelsRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'post',
      path: '/funnels',
      operationId: 'runFunnel',
      summary: 'A key-event funnel',
      security,
      description:
        'Key-event completion: members reaching each ordered step within the window from their first step, drop-off and median time between steps.',
      request: {
        body: {
          required: true,
          content: { 'application/json': { schema: funnelSpecSchema.describe('The funnel') } },
        },
      },
      responses: json(FunnelSchema, 'One result per dimension value'),
    }),
    async (c) => {
      const spec = c.req.valid('json')
      const results = await ctx.timed(() => getFunnel(ctx.driver, spec))
      return c.json({ results: results.map((r) => ({ ...r, steps: [...r.steps] })) }, 200)
    },
  )
  return app
}
