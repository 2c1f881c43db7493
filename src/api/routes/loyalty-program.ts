/**
 * Loyalty page: points issued, redeemed, expired and reversed per month, liability and breakage, the tier
 * distribution and tier movements, from the ledger tables synced into the analytics database
 * (`memberlens loyalty sync`). Aggregates only.
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import { InputError } from '../../core/errors.js'
import { loyaltyProgramSummary, loyaltySynced } from '../../analytics/loyalty-program-summary.js'
import type { ApiApp, RouteContext } from './context.js'
import { month } from '../schemas.js'
import { scoped } from '../require-scope.js'

const num = z.number().nullable()

const ProgramSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    lastSync: z.string().nullable(),
    tierNames: z
      .record(z.string(), z.object({ en: z.string(), zh: z.string() }))
      .openapi({ description: "the program's tier names by tier id, in en and zh" }),
    total: z.object({
      issued: z.number(),
      redeemed: z.number(),
      expired: z.number(),
      reversed: z.number(),
      redemptionRate: num,
      liabilityPoints: z.number(),
      liabilityAmount: z.number(),
      currency: z.string().nullable(),
      breakage: num,
      expectedBreakagePoints: num,
      members: z.number(),
      upgrades: z.number(),
      downgrades: z.number(),
      upgradeRate: num,
      downgradeRate: num,
      tierDistribution: z.array(
        z.object({ tier: z.string(), members: z.number(), share: z.number() }),
      ),
    }),
    months: z.array(
      z.object({
        month: z.string(),
        issued: z.number(),
        redeemed: z.number(),
        expired: z.number(),
        reversed: z.number(),
        upgrades: z.number(),
        downgrades: z.number(),
      }),
    ),
    movements: z.array(
      z.object({
        from: z.string().nullable(),
        to: z.string(),
        kind: z.string(),
        members: z.number(),
      }),
    ),
  })
  .openapi('LoyaltyProgram')

/** Most months one request may cover. */
const MAX_MONTHS = 36

export function registerLoyaltyProgramRoutes(app: ApiApp, ctx: RouteContext): void {
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/loyalty-program',
      security: ctx.security,
      request: {
        query: z.object({
          from: month.optional().openapi({ example: '2025-11' }),
          to: month.optional().openapi({ example: '2026-10' }),
        }),
      },
      responses: ctx.json(
        z.object({ program: ProgramSchema.nullable() }),
        'Loyalty program metrics per month and over the range (default: the 12 months up to the end of the data); null before the first ledger sync',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      if (!(await ctx.timed(() => loyaltySynced(ctx.driver)))) return c.json({ program: null }, 200)
      const to = q.to ?? lastFullMonth(await ctx.asOf(undefined))
      const from = q.from ?? shiftMonth(to, -11)
      const n = monthsBetween(from, to)
      if (n < 1) throw new InputError(`from (${from}) must not be after to (${to})`)
      if (n > MAX_MONTHS) throw new InputError(`at most ${MAX_MONTHS} months per request`)
      const s = await ctx.timed(() => loyaltyProgramSummary(ctx.driver, from, to))
      return c.json({ program: { from, to, ...s } }, 200)
    },
  )
}

function shiftMonth(m: string, k: number): string {
  const d = new Date(`${m}-01T00:00:00Z`)
  d.setUTCMonth(d.getUTCMonth() + k)
  return d.toISOString().slice(0, 7)
}

/** The month holding the day before `asOf` (the last day with data). */
const lastFullMonth = (asOf: string) =>
  new Date(Date.parse(`${asOf}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 7)

const monthsBetween = (from: string, to: string) =>
  (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 +
  Number(to.slice(5, 7)) -
  Number(from.slice(5, 7)) +
  1
