/**
 * `/api/v1/dimensions`: the values a dimension takes in the data (regions, channels, tiers, cohorts, …) with
 * their members and, where one is known, a name in English and Chinese — what a filter offers to choose from.
 * Cached per data version.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { regionName } from '../../core/regions.js'
import { dimensionValues } from '../../engine/metrics/dimension-values.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { withFieldNames } from '../error-handler.js'
import { Text, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { day } from '../schemas.js'

const DimensionValuesSchema = z
  .object({
    dimension: z.string(),
    kind: z.enum(['member', 'row']).openapi({
      description:
        '`member`: a field of the member (usable in `where`); `row`: of an order or event',
    }),
    asOf: z
      .string()
      .optional()
      .openapi({ description: 'the day lifecycle stages and RFM segments were taken at' }),
    values: items(
      z.object({
        value: z
          .string()
          .openapi({ description: 'as stored, and as a filter names it', example: '浙江' }),
        members: z.number().openapi({ description: 'members with the value' }),
        label: Text.optional().openapi({
          description: 'the value in English and Chinese when known (provinces: Zhejiang / 浙江)',
        }),
      }),
    ),
    note: z
      .string()
      .optional()
      .openapi({ description: 'why there are no values yet, with the command that fills them' }),
  })
  .openapi('DimensionValues')

export function dimensionsRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/dimensions/{name}/values',
      operationId: 'getDimensionValues',
      summary: 'The values a dimension takes in the data',
      security,
      request: {
        params: z.object({
          name: z
            .string()
            .regex(/^[A-Za-z0-9_:.-]{1,80}$/)
            .openapi({
              example: 'region',
              description:
                'a dimension as `by` and `where` name it: region, city, registration_channel, gender, cohort, tier, lifecycle_stage, rfm_segment, order_channel, store, event_channel, coupon_campaign, campaign, attribute:<key>, experiment:<id>',
            }),
        }),
        query: z.object({
          asOf: day.optional().openapi({
            description:
              'day (exclusive) lifecycle stages and RFM segments are taken at (default: the day after the data’s last activity)',
          }),
        }),
      },
      responses: json(
        DimensionValuesSchema,
        'Every value with its members, most members first (empty values left out)',
      ),
    }),
    async (c) => {
      const { name } = c.req.valid('param')
      const { asOf } = c.req.valid('query')
      const r = await ctx.cache.get(`dimension-values:${name}:${asOf ?? ''}`, () =>
        ctx.timed(() =>
          // The dimension is this route's path parameter `name`.
          withFieldNames({ dimension: 'name' }, () =>
            dimensionValues(ctx.driver, name, asOf === undefined ? {} : { asOf }),
          ),
        ),
      )
      return c.json(
        {
          ...r,
          values: r.values.map((v) => {
            const label = name === 'region' ? regionName(v.value) : undefined
            return label === undefined ? v : { ...v, label }
          }),
        },
        200,
      )
    },
  )
  return app
}
