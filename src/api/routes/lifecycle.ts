/**
 * `/api/v1/lifecycle`: members per lifecycle stage as of an instant; the lifecycle page's stage sizes at the
 * end of each period of a range, and the flows between the stages of two instants (the links of a Sankey
 * chart), each stage with its name and recommended action.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { InputError } from '../../core/errors.js'
import { GRAINS } from '../../engine/dialects/dialect.js'
import {
  DEFAULT_STAGE_ACTIONS,
  LIFECYCLE_STAGES,
  STAGE_NAMES,
} from '../../engine/lifecycle/lifecycle-config.js'
import { getStageCounts } from '../../engine/lifecycle/lifecycle-stages.js'
import {
  NOT_REGISTERED,
  getStageTransitions,
} from '../../engine/lifecycle/lifecycle-transitions.js'
import { periodRange } from '../../engine/lifecycle/period-range.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { Text as Name, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { anyDate, monthOrDay as day } from '../schemas.js'

/** Most periods one request may ask for (each is one stage query). */
export const MAX_LIFECYCLE_PERIODS = 36

const StageSchema = z
  .object({ stage: z.enum(LIFECYCLE_STAGES), name: Name, action: z.string() })
  .openapi('LifecycleStage')

const StageCountsSchema = z
  .object({
    asOf: z.string(),
    stages: items(StageSchema.extend({ members: z.number() })),
  })
  .openapi('LifecycleStages')

const SizesSchema = z
  .object({
    grain: z.string(),
    stages: items(StageSchema),
    periods: items(
      z.object({
        periodStart: z.string(),
        asOf: z.string(),
        sizes: z.record(z.string(), z.number()),
      }),
    ),
  })
  .openapi('LifecycleSizes')

const FlowsSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    stages: items(StageSchema),
    flows: items(z.object({ from: z.string(), to: z.string(), members: z.number() })),
  })
  .openapi('LifecycleFlows')

const stages = () =>
  LIFECYCLE_STAGES.map((s) => ({
    stage: s,
    name: STAGE_NAMES[s],
    action: DEFAULT_STAGE_ACTIONS[s],
  }))

/** A month (YYYY-MM) stands for its first day. */
const instant = (d: string) => (d.length === 7 ? `${d}-01` : d)

export function lifecycleRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/lifecycle',
      operationId: 'getLifecycleStages',
      summary: 'Members per lifecycle stage',
      security,
      request: { query: z.object({ asOf: anyDate.optional() }) },
      responses: json(StageCountsSchema, 'Members per lifecycle stage with the recommended action'),
    }),
    async (c) => {
      const { local: asOf, instant } = await ctx.zonedAsOf(c.req.valid('query').asOf)
      const counts = await ctx.timed(() => getStageCounts(ctx.driver, instant))
      const named = counts.map((x) => ({
        ...x,
        name: STAGE_NAMES[x.stage],
        action: DEFAULT_STAGE_ACTIONS[x.stage],
      }))
      return c.json({ asOf, stages: named }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/lifecycle/sizes',
      operationId: 'getLifecycleSizes',
      summary: 'Lifecycle stage sizes per period',
      security,
      request: {
        query: z.object({
          from: day.openapi({ example: '2025-11' }),
          to: day.openapi({ example: '2026-10' }),
          grain: z.enum(GRAINS).default('month'),
        }),
      },
      responses: json(
        SizesSchema,
        'Members per lifecycle stage at the end of each period (or at the end of the data, if sooner)',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const range = periodRange(q.grain, instant(q.from), instant(q.to))
      if (range.length > MAX_LIFECYCLE_PERIODS)
        throw new InputError(
          `${range.length} periods; at most ${MAX_LIFECYCLE_PERIODS} (choose a coarser grain or a shorter range)`,
        )
      // A period that ends after the data is measured at the data's end, not at a future date when every
      // member would look lapsed.
      const dataEnd = await ctx.asOf(undefined)
      const periods = await ctx.timed(async () => {
        const out = []
        for (const p of range.filter((x) => x.start < dataEnd)) {
          const asOf = p.end < dataEnd ? p.end : dataEnd
          const counts = await getStageCounts(ctx.driver, asOf)
          out.push({
            periodStart: p.start,
            asOf,
            sizes: Object.fromEntries(counts.map((x) => [x.stage, x.members])),
          })
        }
        return out
      })
      return c.json({ grain: q.grain, stages: stages(), periods }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/lifecycle/flows',
      operationId: 'getLifecycleFlows',
      summary: 'Members moving between lifecycle stages',
      security,
      request: {
        query: z.object({
          from: day.optional().openapi({ example: '2026-07-01' }),
          to: day.optional().openapi({ example: '2026-10-01' }),
        }),
      },
      responses: json(
        FlowsSchema,
        `Members moving between lifecycle stages from one instant to another ("${NOT_REGISTERED}" for members registered in between)`,
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const to = q.to === undefined ? await ctx.asOf(undefined) : instant(q.to)
      const from = q.from === undefined ? threeMonthsBefore(to) : instant(q.from)
      if (from >= to) throw new InputError(`from (${from}) must be before to (${to})`)
      const flows = await ctx.timed(() => getStageTransitions(ctx.driver, from, to))
      return c.json({ from, to, stages: stages(), flows }, 200)
    },
  )
  return app
}

function threeMonthsBefore(d: string): string {
  const t = new Date(`${d}T00:00:00Z`)
  t.setUTCMonth(t.getUTCMonth() - 3)
  return t.toISOString().slice(0, 10)
}
