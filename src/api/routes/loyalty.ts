/**
 * `/api/v1/loyalty`: loyalty operations — enroll, earn (an order or a bonus), redeem, balance and history, on
 * the points ledger (`Ledger` from src/ledger). Scope `loyalty` (operator and admin). Every write needs an
 * `Idempotency-Key` header: repeating a request with the same key answers the first result
 * (`replayed: true`, header `Idempotent-Replayed: true`) and changes nothing; the same key with a different
 * request is 409 LEDGER_CONFLICT.
 *
 * The ledger is its own database (PGlite or PostgreSQL) with its own connection, so these writes never queue
 * behind an analytics query on the member database; their audit rows go to the audit database, also apart.
 *
 * `/api/v1/loyalty-program`: the loyalty page — points issued, redeemed, expired and reversed per month,
 * liability and breakage, the tier distribution and tier movements, from the ledger tables synced into the
 * analytics database (`memberlens loyalty sync`). Aggregates only.
 *
 * `POST /api/v1/loyalty/backtest` (`loyalty-backtest.ts`): a proposed program replayed over the history beside
 * the server's program. Aggregates only, scope `aggregates`.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { loyaltyProgramSummary, loyaltySynced } from '../../analytics/loyalty/program-summary.js'
import { defaultForecastDate, forecastTierKeeping } from '../../analytics/loyalty/tier-forecast.js'
import { detectFarming, holdFlaggedMembers } from '../../analytics/loyalty/farming.js'
import { listHolds, MAX_REVIEW_DAYS, releaseHold } from '../../ledger/holds.js'
import { InputError } from '../../core/errors.js'
import {
  BONUS_KINDS,
  IDEMPOTENCY_KEY_RE,
  MEMBER_ID_RE,
  type Ledger,
  type WriteResult,
} from '../../ledger/ledger.service.js'
import { AMOUNT_RE } from '../../ledger/program.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { ApiError } from '../error-handler.js'
import { Text, errors, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { addLoyaltyBacktestRoute } from './loyalty-backtest.js'
import { month } from '../schemas.js'

const WriteResultSchema = z
  .object({
    memberId: z.string(),
    entryId: z.number().nullable(),
    points: z.number(),
    balance: z.number(),
    tier: z.string(),
    replayed: z.boolean(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  })
  .openapi('LoyaltyWriteResult')

const memberId = z
  .string()
  .regex(MEMBER_ID_RE, 'a member id (letters, digits, _ . : -; up to 64)')
  .openapi({ example: '42' })
const at = z.iso
  .datetime({ offset: true })
  .optional()
  .openapi({ description: 'when it happened (default now)', example: '2026-11-01T10:00:00Z' })
const amount = z
  .union([z.string().regex(AMOUNT_RE), z.number().nonnegative()])
  .openapi({ description: 'net amount, at most 4 decimal places', example: '99.50' })

const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string({ error: 'the Idempotency-Key header is required on loyalty writes' })
    .regex(IDEMPOTENCY_KEY_RE, '4–128 characters: letters, digits, _ . : - /')
    .openapi({ example: 'order-O1001', description: 'repeat it to retry safely' }),
})

const EnrollBody = z
  .object({ memberId, birthday: z.iso.date().optional(), at })
  .strict()
  .openapi('LoyaltyEnroll')

const EarnBody = z
  .discriminatedUnion('type', [
    z
      .object({
        type: z.literal('order'),
        memberId,
        orderId: z.string().min(1).max(128),
        amount,
        channel: z.string().min(1).max(64),
        lines: z
          .array(
            z
              .object({ category: z.string().min(1).max(64), amount })
              .strict()
              .openapi('LoyaltyOrderLine'),
          )
          .max(500)
          .optional()
          .openapi({
            description:
              'the order’s lines by category, for the program’s category multipliers; the part of `amount` they do not cover earns at the base rate',
          }),
        at,
      })
      .strict(),
    z
      .object({
        type: z.literal('bonus'),
        memberId,
        kind: z.enum(BONUS_KINDS),
        sourceId: z.string().min(1).max(128).optional(),
        at,
      })
      .strict(),
  ])
  .openapi('LoyaltyEarn')

const RedeemBody = z
  .object({
    memberId,
    rewardId: z.string().min(1).max(128).optional(),
    quantity: z.number().int().positive().max(1000).optional(),
    points: z.number().int().positive().optional(),
    channel: z.string().min(1).max(64).optional(),
    orderId: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .openapi({ description: 'the order the points paid for (with `points` only)' }),
    at,
  })
  .strict()
  .refine((b) => (b.rewardId === undefined) !== (b.points === undefined), {
    message: 'give either rewardId (a catalogue reward) or points (points as payment)',
  })
  .refine((b) => b.orderId === undefined || b.points !== undefined, {
    message: 'orderId goes with points (a payment with points), not with a reward',
    path: ['orderId'],
  })
  .openapi('LoyaltyRedeem')

const BalanceSchema = z
  .object({
    memberId: z.string(),
    balance: z.number(),
    available: z.number(),
    pending: z.number(),
    debt: z.number(),
    expiredUnprocessed: z.number(),
    tier: z.string(),
    tierSince: z.string(),
    downgradeDueAt: z.string().nullable(),
    nextExpiry: z.object({ at: z.string(), points: z.number() }).nullable(),
  })
  .openapi('LoyaltyBalance')

const EntrySchema = z
  .object({
    entryId: z.number(),
    kind: z.string(),
    points: z.number(),
    occurredAt: z.string(),
    recordedAt: z.string(),
    reason: z.string(),
    sourceType: z.string(),
    sourceId: z.string().nullable(),
    idempotencyKey: z.string(),
  })
  .openapi('LoyaltyEntry')

const num = z.number().nullable()

const ProgramSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    lastSync: z.string().nullable(),
    tierNames: z
      .record(z.string(), Text)
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
      tierDistribution: items(
        z.object({ tier: z.string(), members: z.number(), share: z.number() }),
      ),
    }),
    months: items(
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
    movements: items(
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
const TierForecastRowSchema = z.object({
  tier: z.string(),
  members: z.number(),
  expectedKeep: z.number(),
  expectedBelow: z.number(),
  expectedDowngrades: z.number(),
  expectedGraceStarts: z.number(),
  realisedBelow: z.number().nullable(),
  realisedDowngrades: z.number().nullable(),
  realisedGraceStarts: z.number().nullable(),
})
const TierForecastSchema = z
  .object({
    at: z.string(),
    nextReviewAt: z.string(),
    windowStart: z.string(),
    basis: z.enum(['spend', 'orders', 'points_earned']),
    model: z.object({
      name: z.literal('BG/NBD × Gamma–Gamma'),
      bgNbd: z.object({ r: z.number(), alpha: z.number(), a: z.number(), b: z.number() }),
      gammaGamma: z.object({ p: z.number(), q: z.number(), gamma: z.number() }).nullable(),
      members: z.number(),
    }),
    tiers: z.array(TierForecastRowSchema),
    totals: z.object({
      members: z.number(),
      expectedBelow: z.number(),
      realisedBelow: z.number().nullable(),
    }),
    members: z.array(
      z.object({
        memberId: z.string(),
        tier: z.string(),
        qualifying: z.number(),
        threshold: z.number(),
        needed: z.number().openapi({ description: 'spend, orders or points still needed (保级)' }),
        probabilityKeep: z.number(),
        expectedOrders: z.number(),
        likelyTier: z.string(),
        ifBelow: z.enum(['downgrade', 'grace_started']),
      }),
    ),
  })
  .openapi('LoyaltyTierForecast')

const FarmingRingSchema = z.object({
  ring: z.number(),
  memberIds: z.array(z.number()),
  redeemer: z.number().nullable(),
  registeredSpanHours: z.number(),
  clockworkShare: z.number(),
  medianSpend: z.number(),
  pointsSpent: z.number(),
  links: z.record(z.string(), z.number()),
  reasons: z.array(z.string()),
})
const FarmingSchema = z
  .object({
    options: z.object({
      minSize: z.number(),
      burstHours: z.number(),
      clockworkSeconds: z.number(),
      tokenSpend: z.number(),
      maxShared: z.number(),
    }),
    linkedMembers: z.number(),
    groups: z.number(),
    rings: z.array(FarmingRingSchema),
    flaggedMembers: z.number(),
  })
  .openapi('LoyaltyFarming')
const HoldSummarySchema = z
  .object({
    at: z.string(),
    heldUntil: z.string(),
    reviewDays: z.number(),
    placed: z.number(),
    repeated: z.number(),
    heldPoints: z.number(),
    notEnrolled: z.number(),
  })
  .openapi('LoyaltyHoldSummary')
const HoldSchema = z
  .object({
    holdId: z.number(),
    memberId: z.string(),
    reason: z.string(),
    placedAt: z.string(),
    heldUntil: z.string(),
    points: z.number(),
    releasedAt: z.string().nullable(),
    releaseReason: z.string().nullable(),
  })
  .openapi('LoyaltyHold')

const MAX_MONTHS = 36

const dateOf = (s: string | undefined) => (s === undefined ? {} : { at: new Date(s) })

export function loyaltyRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  /** The ledger, or the answer saying why it cannot be used. */
  const open = (): Ledger => {
    if (!ctx.ledger)
      throw new ApiError(
        'UNAVAILABLE',
        'no loyalty ledger: start `memberlens serve` with --ledger and --program',
      )
    return ctx.ledger
  }
  const answer = (c: Context<ApiEnv>, r: WriteResult) => {
    if (r.replayed) c.header('Idempotent-Replayed', 'true')
    return c.json({ ...r, details: { ...r.details } }, 200)
  }
  const write = <P extends string, S extends z.ZodType>(
    path: P,
    schema: S,
    operationId: string,
    summary: string,
    description: string,
  ) =>
    createRoute({
      ...scoped('loyalty'),
      method: 'post',
      path,
      operationId,
      summary,
      security,
      description,
      request: {
        headers: IdempotencyHeader,
        body: { required: true, content: { 'application/json': { schema } } },
      },
      responses: {
        ...json(
          WriteResultSchema,
          'The write (or the stored result of an earlier one with the same key)',
        ),
        404: { ...errors[400], description: 'Unknown member (not enrolled)' },
        409: {
          ...errors[400],
          description:
            'LEDGER_CONFLICT (key reused for another request, or a rule allows it once), INSUFFICIENT_POINTS or REWARD_OUT_OF_STOCK',
        },
        503: { ...errors[400], description: 'The server runs without a ledger' },
      },
    })

  app.openapi(
    write(
      '/loyalty/enroll',
      EnrollBody,
      'enrollLoyaltyMember',
      'Enroll a member',
      'Opens a member account in the entry tier.',
    ),
    async (c) => {
      const ledger = open()
      const b = c.req.valid('json')
      const r = await ledger.enroll({
        memberId: b.memberId,
        idempotencyKey: c.req.valid('header')['idempotency-key'],
        ...(b.birthday === undefined ? {} : { birthday: b.birthday }),
        ...dateOf(b.at),
      })
      return answer(c, r)
    },
  )

  app.openapi(
    write(
      '/loyalty/earn',
      EarnBody,
      'earnLoyaltyPoints',
      'Earn points for an order or a bonus',
      'Earns points for an order (`type: order`, by the program’s spend rule; optional `lines` by category for the category multipliers) or a bonus (`type: bonus`: check-in, review, referral, birthday, campaign).',
    ),
    async (c) => {
      const ledger = open()
      const b = c.req.valid('json')
      const idempotencyKey = c.req.valid('header')['idempotency-key']
      const r =
        b.type === 'order'
          ? await ledger.earnForOrder({
              memberId: b.memberId,
              idempotencyKey,
              orderId: b.orderId,
              amount: b.amount,
              channel: b.channel,
              ...(b.lines === undefined
                ? {}
                : {
                    lines: b.lines.map((l) => ({ category: l.category, amount: String(l.amount) })),
                  }),
              ...dateOf(b.at),
            })
          : await ledger.earnBonus({
              memberId: b.memberId,
              idempotencyKey,
              kind: b.kind,
              ...(b.sourceId === undefined ? {} : { sourceId: b.sourceId }),
              ...dateOf(b.at),
            })
      return answer(c, r)
    },
  )

  app.openapi(
    write(
      '/loyalty/redeem',
      RedeemBody,
      'redeemLoyaltyPoints',
      'Redeem a reward or spend points',
      'Redeems a catalogue reward (`rewardId`, `quantity`) or spends `points` as payment (optionally for `orderId`); spendable points are used earliest-expiring first.',
    ),
    async (c) => {
      const ledger = open()
      const b = c.req.valid('json')
      const r = await ledger.redeem({
        memberId: b.memberId,
        idempotencyKey: c.req.valid('header')['idempotency-key'],
        ...(b.rewardId === undefined ? {} : { rewardId: b.rewardId }),
        ...(b.quantity === undefined ? {} : { quantity: b.quantity }),
        ...(b.points === undefined ? {} : { points: b.points }),
        ...(b.channel === undefined ? {} : { channel: b.channel }),
        ...(b.orderId === undefined ? {} : { orderId: b.orderId }),
        ...dateOf(b.at),
      })
      return answer(c, r)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('loyalty'),
      method: 'get',
      path: '/loyalty/members/{memberId}/balance',
      operationId: 'getLoyaltyBalance',
      summary: 'A member’s points balance and tier',
      security,
      request: { params: z.object({ memberId }) },
      responses: json(
        BalanceSchema,
        'Balance, spendable and pending points, debt, tier, next expiry',
      ),
    }),
    async (c) => {
      const ledger = open()
      const b = await ledger.balance(c.req.valid('param').memberId)
      // Instants travel as ISO strings (JSON's form of a Date).
      return c.json(b, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('loyalty'),
      method: 'get',
      path: '/loyalty/members/{memberId}/history',
      operationId: 'getLoyaltyHistory',
      summary: 'A member’s ledger entries',
      security,
      request: {
        params: z.object({ memberId }),
        query: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(50),
          before: z.coerce
            .number()
            .int()
            .positive()
            .optional()
            .openapi({ description: 'entries older than this entry id (the next page)' }),
        }),
      },
      responses: json(
        z.object({ entries: items(EntrySchema), next: z.number().nullable() }),
        'Ledger entries, newest first; `next` is the `before` of the next page',
      ),
    }),
    async (c) => {
      const ledger = open()
      const q = c.req.valid('query')
      const entries = await ledger.history(c.req.valid('param').memberId, {
        limit: q.limit,
        ...(q.before === undefined ? {} : { beforeEntryId: q.before }),
      })
      const next = entries.length === q.limit ? (entries.at(-1)?.entryId ?? null) : null
      return c.json({ entries, next }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/loyalty-program',
      operationId: 'getLoyaltyProgram',
      summary: 'Loyalty program metrics',
      security,
      request: {
        query: z.object({
          from: month.optional().openapi({ example: '2025-11' }),
          to: month.optional().openapi({ example: '2026-10' }),
        }),
      },
      responses: json(
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
  addLoyaltyBacktestRoute(app, ctx)
  app.openapi(
    createRoute({
      ...scoped('loyalty'),
      method: 'get',
      path: '/loyalty/tier-forecast',
      operationId: 'getLoyaltyTierForecast',
      summary: 'Tier keeping at the next review',
      description:
        "Each tier member's chance of keeping the tier at the next review (BG/NBD × Gamma–Gamma fitted on the ledger up to `at`), what they still need, and the expected members falling below per tier; the realised counts when the ledger already holds that review (else null).",
      security,
      request: {
        query: z.object({
          at: z
            .string()
            .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
            .optional()
            .openapi({
              example: '2026-07-01',
              description: "forecast date (default: the review period of the ledger's last order)",
            }),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
      responses: {
        ...json(
          TierForecastSchema,
          'The forecast per tier and the members least likely to keep theirs',
        ),
        503: { ...errors[400], description: 'The server runs without a ledger' },
      },
    }),
    async (c) => {
      const ledger = open()
      const q = c.req.valid('query')
      const at =
        q.at === undefined
          ? await defaultForecastDate(ledger.store, ledger.program, ledger.clock.now())
          : new Date(`${q.at}T00:00:00Z`)
      if (Number.isNaN(at.getTime())) throw new InputError(`at: ${q.at} is not a date`)
      const r = await forecastTierKeeping(ledger.store, ledger.program, { at, limit: q.limit })
      return c.json({ ...r, tiers: [...r.tiers], members: [...r.members] }, 200)
    },
  )
  app.openapi(
    createRoute({
      ...scoped('loyalty'),
      method: 'get',
      path: '/loyalty/farming',
      operationId: 'getLoyaltyFarming',
      summary: 'Points-farming rings',
      description:
        'Members linked by shared devices, addresses, phone number blocks or referrals who registered in a burst and check in like clockwork or spend next to nothing (see docs/loyalty.md).',
      security,
      request: {
        query: z.object({
          minSize: z.coerce.number().int().min(2).default(3),
          burstHours: z.coerce.number().positive().default(48),
        }),
      },
      responses: json(FarmingSchema, 'The flagged rings with their reasons'),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const r = await ctx.timed(() => detectFarming(ctx.driver, q))
      return c.json(
        {
          ...r,
          rings: r.rings.map((x) => ({
            ...x,
            memberIds: [...x.memberIds],
            reasons: [...x.reasons],
            links: { ...x.links },
          })),
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      ...scoped('loyalty'),
      method: 'post',
      path: '/loyalty/farming/holds',
      operationId: 'holdLoyaltyFarming',
      summary: 'Hold the points of the flagged rings',
      description: `Places a hold on the points of every member of a flagged ring for \`reviewDays\` (1–${MAX_REVIEW_DAYS}, default 7): the points are pending until then and spendable again by themselves; the same day again places nothing twice.`,
      security,
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({
                  reviewDays: z.number().int().min(1).max(MAX_REVIEW_DAYS).default(7),
                  at: z.string().datetime().optional(),
                })
                .openapi('LoyaltyFarmingHold'),
            },
          },
        },
      },
      responses: {
        ...json(HoldSummarySchema, 'What was held'),
        503: { ...errors[400], description: 'The server runs without a ledger' },
      },
    }),
    async (c) => {
      const ledger = open()
      const b = c.req.valid('json')
      const report = await ctx.timed(() => detectFarming(ctx.driver))
      const r = await holdFlaggedMembers(ledger, report, {
        at: b.at === undefined ? ledger.clock.now() : new Date(b.at),
        reviewDays: b.reviewDays,
      })
      return c.json(r, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('loyalty'),
      method: 'get',
      path: '/loyalty/holds',
      operationId: 'listLoyaltyHolds',
      summary: 'Points holds',
      security,
      request: {
        query: z.object({
          memberId: memberId.optional(),
          activeAt: z
            .string()
            .datetime()
            .optional()
            .openapi({ description: 'only holds in force then' }),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
      responses: {
        ...json(z.object({ holds: z.array(HoldSchema) }), 'Holds, newest first'),
        503: { ...errors[400], description: 'The server runs without a ledger' },
      },
    }),
    async (c) => {
      const ledger = open()
      const q = c.req.valid('query')
      const holds = await listHolds(ledger.store, {
        ...(q.memberId === undefined ? {} : { memberId: q.memberId }),
        ...(q.activeAt === undefined ? {} : { activeAt: new Date(q.activeAt) }),
        limit: q.limit,
      })
      return c.json(
        {
          holds: holds.map((h) => ({
            ...h,
            placedAt: h.placedAt.toISOString(),
            heldUntil: h.heldUntil.toISOString(),
            releasedAt: h.releasedAt?.toISOString() ?? null,
          })),
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      ...scoped('loyalty'),
      method: 'post',
      path: '/loyalty/holds/{holdId}/release',
      operationId: 'releaseLoyaltyHold',
      summary: 'Release a points hold early',
      security,
      request: {
        headers: IdempotencyHeader,
        params: z.object({ holdId: z.coerce.number().int().positive() }),
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({ reason: z.string().min(1) }).openapi('LoyaltyHoldRelease'),
            },
          },
        },
      },
      responses: {
        ...json(
          WriteResultSchema,
          'The release (or the stored result of an earlier one with the same key)',
        ),
        404: { ...errors[400], description: 'Unknown hold' },
        503: { ...errors[400], description: 'The server runs without a ledger' },
      },
    }),
    async (c) => {
      const ledger = open()
      const r = await releaseHold(ledger, {
        holdId: c.req.valid('param').holdId,
        idempotencyKey: c.req.valid('header')['idempotency-key'],
        reason: c.req.valid('json').reason,
      })
      return answer(c, r)
    },
  )
  return app
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
