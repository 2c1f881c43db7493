/**
 * `POST /api/v1/loyalty/backtest`: the program design lab. Replays the loaded history in memory under the
 * server's loyalty program (`memberlens serve --program`) and, when the body holds one, a proposed program,
 * and answers both backtests and the proposal's difference, month by month and in total: points issued,
 * redeemed, expired, the liability at each month end, breakage (realised and forecast) with the IFRS 15
 * deferral, the earns and members the caps cut, the day each program budget would have been reached, tier
 * movements and the tier distribution. Nothing is written
 * to the ledger. Scope `aggregates`: the answer holds aggregates only and changes nothing, so the dashboard's
 * session may ask it. The proposed program is validated like a program file; each problem names its body
 * field (`program.earn.caps.per_day`).
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import { parse as parseYaml } from 'yaml'
import { backtestPrograms } from '../../analytics/loyalty/backtest.js'
import { InputError, type InputIssue } from '../../core/errors.js'
import { DIFF_FIELDS } from '../../ledger/backtest.js'
import { programSchema, type Program } from '../../ledger/program.js'
import type { ApiContext, ApiRouter } from '../context.js'
import { ApiError } from '../error-handler.js'
import { errors, items, json, security } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { month } from '../schemas.js'

const nullableNumber = z.number().nullable()

const MonthSchema = z
  .object({
    month: z.string().openapi({ description: 'YYYY-MM in the program’s time zone' }),
    issued: z.number(),
    redeemed: z.number(),
    expired: z.number(),
    reversed: z.number(),
    liabilityPoints: z.number().openapi({ description: 'Σ positive balances at the month end' }),
    liabilityAmount: z.number(),
    upgrades: z.number(),
    downgrades: z.number(),
    perOrderCapHits: z.number(),
    perOrderCapMembers: z.number(),
    perDayCapHits: z.number().describe('earns cut by the per-day or the per-year cap'),
    perDayCapMembers: z.number().describe('members cut by the per-day or the per-year cap'),
    cappedPoints: z.number(),
  })
  .openapi('LoyaltyBacktestMonth')

const BudgetSchema = z
  .object({
    id: z.string(),
    scope: z.enum(['global', 'channel']),
    match: z
      .array(z.string())
      .nullable()
      .openapi({ description: 'the channels of a channel budget' }),
    kind: z.enum(['points_per_month', 'liability']),
    limit: z.number().openapi({ description: 'the budget in points' }),
    limitAmount: z.number(),
    firstHit: z
      .string()
      .nullable()
      .openapi({ description: 'first day (YYYY-MM-DD) the budget was reached; null: never' }),
    pointsBeyond: z.number().openapi({
      description:
        'points past the budget: the months’ excess summed (monthly budgets) or the highest excess (liability)',
    }),
    amountBeyond: z.number(),
    hits: items(
      z.object({
        month: z.string(),
        date: z.string().openapi({ description: 'first day of the month the budget was reached' }),
        used: z.number().openapi({
          description: 'the month’s points issued, or its highest day-end liability',
        }),
        beyond: z.number(),
      }),
    ),
  })
  .openapi('LoyaltyBacktestBudget', {
    description:
      'a budget across members and when the history would have reached it (earns are not trimmed to it)',
  })

const ResultSchema = z
  .object({
    program: z.string(),
    currency: z.string(),
    pointValue: z.string(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    months: items(MonthSchema),
    total: z.object({
      issued: z.number(),
      redeemed: z.number(),
      expired: z.number(),
      reversed: z.number(),
      issuedAmount: z.number(),
      liabilityPoints: z.number(),
      liabilityAmount: z.number(),
      upgrades: z.number(),
      downgrades: z.number(),
      members: z.number(),
      costPerMember: nullableNumber,
      perOrderCapHits: z.number(),
      perOrderCapMembers: z.number(),
      perDayCapHits: z.number().describe('earns cut by the per-day or the per-year cap'),
      perDayCapMembers: z.number().describe('members cut by the per-day or the per-year cap'),
      cappedPoints: z.number(),
      refusedRedemptions: z.number(),
      refusedRedemptionPoints: z.number(),
    }),
    breakage: z.object({
      realised: nullableNumber,
      outstandingPoints: z.number(),
      forecastPoints: z.number(),
      forecastRate: nullableNumber,
      forecastAmount: z.number(),
      deferredRevenue: z.number(),
      byAge: items(
        z.object({ ageMonths: z.number(), outstandingPoints: z.number(), rate: nullableNumber }),
      ),
    }),
    budgets: items(BudgetSchema),
    tiers: items(z.object({ tier: z.string(), members: z.number() })),
  })
  .openapi('LoyaltyBacktestResult')

const DeltaSchema = z
  .object({
    current: z.number(),
    proposed: z.number(),
    change: z.number(),
    ratio: nullableNumber.openapi({ description: 'change / current; null when current is 0' }),
  })
  .openapi('LoyaltyBacktestDelta')

const MONTH_FIELDS = DIFF_FIELDS
const TOTAL_FIELDS = [
  ...MONTH_FIELDS,
  'issuedAmount',
  'members',
  'perOrderCapMembers',
  'perDayCapMembers',
  'refusedRedemptionPoints',
  'forecastBreakagePoints',
  'forecastBreakageAmount',
  'deferredRevenue',
] as const
const deltas = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, DeltaSchema])) as Record<K, typeof DeltaSchema>

const DiffSchema = z
  .object({
    months: items(z.object({ month: z.string(), ...deltas(MONTH_FIELDS) })),
    total: z.object({
      ...deltas(TOTAL_FIELDS),
      forecastBreakageRate: z.object({ current: nullableNumber, proposed: nullableNumber }),
    }),
    tiers: items(DeltaSchema.extend({ tier: z.string() })),
  })
  .openapi('LoyaltyBacktestDiff')

const ParametersSchema = z
  .object({
    pointsPerUnit: z.string(),
    unit: z.string(),
    expiryPolicy: z.enum(['end_of_month', 'days', 'never']),
    expiryMonths: z.number().nullable(),
    expiryDays: z.number().nullable(),
    perOrderCap: z.number().nullable(),
    perDayCap: z.number().nullable(),
    perYearCap: z.number().nullable(),
    tiers: items(
      z.object({
        id: z.string(),
        name: z.string(),
        nameZh: z.string().nullable(),
        threshold: z.string(),
      }),
    ),
  })
  .openapi('LoyaltyProgramParameters', {
    description: 'the main rule parameters of a program, as the what-if editor shows them',
  })

const BacktestBody = z
  .object({
    program: z
      .union([z.record(z.string(), z.unknown()), z.string().max(200_000)])
      .optional()
      .openapi({
        description:
          'the proposed program: an object in the program file’s shape, or its YAML or JSON text (absent: the current program only)',
      }),
    from: month
      .optional()
      .openapi({ description: 'first month reported (YYYY-MM)', example: '2025-11' }),
    to: month
      .optional()
      .openapi({ description: 'last month reported (YYYY-MM)', example: '2026-10' }),
  })
  .strict()
  .openapi('LoyaltyBacktestRequest')

const BacktestAnswer = z
  .object({
    current: ResultSchema,
    proposed: z.union([ResultSchema, z.null()]),
    diff: z.union([DiffSchema, z.null()]),
    program: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'the current program, in the program file’s shape' }),
    parameters: ParametersSchema.openapi({ description: 'the current program’s main parameters' }),
    proposedParameters: z.union([ParametersSchema, z.null()]),
  })
  .openapi('LoyaltyBacktest')

/** The main rule parameters of a program. */
function parameters(p: Program): z.infer<typeof ParametersSchema> {
  const e = p.expiry
  return {
    pointsPerUnit: p.earn.spend.points_per_unit,
    unit: p.earn.spend.unit,
    expiryPolicy: e.policy,
    expiryMonths: e.policy === 'end_of_month' ? e.months : null,
    expiryDays: e.policy === 'days' ? e.days : null,
    perOrderCap: p.earn.caps.per_order ?? null,
    perDayCap: p.earn.caps.per_day ?? null,
    perYearCap: p.earn.caps.per_year ?? null,
    tiers: p.tiers.levels.map((l) => ({
      id: l.id,
      name: l.name,
      nameZh: l.name_zh ?? null,
      threshold: l.threshold,
    })),
  }
}

/** Validates the proposed program; every problem names its body field. */
function proposedProgram(value: unknown): Program {
  let data = value
  if (typeof value === 'string') {
    try {
      data = value.trimStart().startsWith('{') ? JSON.parse(value) : parseYaml(value)
    } catch (error) {
      throw new InputError(
        `program: not valid YAML or JSON: ${(error as Error).message}`,
        [{ field: 'program', reason: `not valid YAML or JSON: ${(error as Error).message}` }],
        1,
        error,
      )
    }
  }
  const parsed = programSchema.safeParse(data)
  if (parsed.success) return parsed.data
  const issues: InputIssue[] = parsed.error.issues.map((i) => ({
    field: ['program', ...i.path.map(String)].join('.'),
    reason: i.message,
  }))
  const words = issues.slice(0, 3).map((i) => `${i.field}: ${i.reason}`)
  throw new InputError(
    `the proposed program is not valid: ${words.join('; ')}${issues.length > 3 ? `; and ${issues.length - 3} more` : ''}`,
    issues.slice(0, 20),
    issues.length,
  )
}

/** Adds the backtest route to the `/loyalty` router (one module serves the prefix). */
export function addLoyaltyBacktestRoute(app: ApiRouter, ctx: ApiContext): void {
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'post',
      path: '/loyalty/backtest',
      operationId: 'backtestLoyaltyProgram',
      summary: 'Backtest a proposed loyalty program',
      security,
      description:
        'Replays the loaded history in memory under the server’s program and, when given, a proposed one, and answers both and their difference by month and in total (issued, redeemed, expired, liability, breakage forecast and the IFRS 15 deferral, caps hit, the day each budget would have been reached, tiers). Writes nothing.',
      request: {
        body: { required: true, content: { 'application/json': { schema: BacktestBody } } },
      },
      responses: {
        ...json(BacktestAnswer, 'The backtests and the difference'),
        503: { ...errors[400], description: 'The server runs without a loyalty program' },
      },
    }),
    async (c) => {
      const b = c.req.valid('json')
      const proposed = b.program === undefined ? null : proposedProgram(b.program)
      if (b.from !== undefined && b.to !== undefined && b.from > b.to) {
        throw InputError.single({ field: 'to', value: b.to, reason: `before from (${b.from})` })
      }
      const current = ctx.ledger?.program
      if (current === undefined) {
        throw new ApiError(
          'UNAVAILABLE',
          'no loyalty program: start `memberlens serve` with --ledger and --program',
        )
      }
      const r = await ctx.timed(() =>
        backtestPrograms({ driver: ctx.driver }, current, proposed, {
          ...(b.from === undefined ? {} : { from: b.from }),
          ...(b.to === undefined ? {} : { to: b.to }),
        }),
      )
      return c.json(
        {
          ...r,
          program: current as unknown as Record<string, unknown>,
          parameters: parameters(current),
          proposedParameters: proposed === null ? null : parameters(proposed),
        },
        200,
      )
    },
  )
}
