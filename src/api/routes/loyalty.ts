/**
 * Loyalty operations over HTTP: enroll, earn (an order or a bonus), redeem, balance and history, on the
 * points ledger (`Ledger` from src/ledger). Scope `loyalty` (operator and admin). Every write needs an
 * `Idempotency-Key` header: repeating a request with the same key answers the first result
 * (`replayed: true`, header `Idempotent-Replayed: true`) and changes nothing; the same key with a different
 * request is 409 LEDGER_CONFLICT.
 *
 * The ledger is its own database (PGlite or PostgreSQL) with its own connection, so these writes never queue
 * behind an analytics query on the member database; their audit rows go to the audit database, also apart.
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import {
  BONUS_KINDS,
  IDEMPOTENCY_KEY_RE,
  MEMBER_ID_RE,
  type Ledger,
  type WriteResult,
} from '../../ledger/ledger.service.js'
import { apiError } from '../error-handler.js'
import type { RouteServices, ServiceApp, ServiceEnv } from './services.js'
import { scoped } from '../require-scope.js'

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
  .union([z.string().regex(/^\d+(\.\d{1,4})?$/), z.number().nonnegative()])
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
    at,
  })
  .strict()
  .refine((b) => (b.rewardId === undefined) !== (b.points === undefined), {
    message: 'give either rewardId (a catalogue reward) or points (points as payment)',
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

const dateOf = (s: string | undefined) => (s === undefined ? {} : { at: new Date(s) })

export function registerLoyaltyRoutes(app: ServiceApp, s: RouteServices): void {
  const { security, json } = s
  /** The ledger, or the answer saying why it cannot be used. */
  const open = (c: Context<ServiceEnv>): Ledger | Response => {
    if (!s.ledger)
      return apiError(
        c,
        'UNAVAILABLE',
        'no loyalty ledger: start `memberlens serve` with --ledger and --program',
      )
    return s.ledger
  }
  const answer = (c: Context<ServiceEnv>, r: WriteResult) => {
    if (r.replayed) c.header('Idempotent-Replayed', 'true')
    return c.json(r as z.infer<typeof WriteResultSchema>, 200)
  }
  const write = (path: string, schema: z.ZodType, description: string) =>
    createRoute({
      ...scoped('loyalty'),
      method: 'post',
      path,
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
        404: { description: 'Unknown member (not enrolled)' },
        409: {
          description:
            'LEDGER_CONFLICT (key reused for another request, or a rule allows it once), INSUFFICIENT_POINTS or REWARD_OUT_OF_STOCK',
        },
        503: { description: 'The server runs without a ledger' },
      },
    })

  app.openapi(
    write('/api/v1/loyalty/enroll', EnrollBody, 'Opens a member account in the entry tier.'),
    async (c) => {
      const ledger = open(c)
      if (ledger instanceof Response) return ledger as never
      const b = c.req.valid('json') as z.infer<typeof EnrollBody>
      const r = await ledger.enroll({
        memberId: b.memberId,
        idempotencyKey: c.req.valid('header')['idempotency-key'],
        ...(b.birthday === undefined ? {} : { birthday: b.birthday }),
        ...dateOf(b.at),
      })
      return answer(c, r) as never
    },
  )

  app.openapi(
    write(
      '/api/v1/loyalty/earn',
      EarnBody,
      'Earns points for an order (`type: order`, by the program’s spend rule) or a bonus (`type: bonus`: check-in, review, referral, birthday, campaign).',
    ),
    async (c) => {
      const ledger = open(c)
      if (ledger instanceof Response) return ledger as never
      const b = c.req.valid('json') as z.infer<typeof EarnBody>
      const idempotencyKey = c.req.valid('header')['idempotency-key']
      const r =
        b.type === 'order'
          ? await ledger.earnForOrder({
              memberId: b.memberId,
              idempotencyKey,
              orderId: b.orderId,
              amount: b.amount,
              channel: b.channel,
              ...dateOf(b.at),
            })
          : await ledger.earnBonus({
              memberId: b.memberId,
              idempotencyKey,
              kind: b.kind,
              ...(b.sourceId === undefined ? {} : { sourceId: b.sourceId }),
              ...dateOf(b.at),
            })
      return answer(c, r) as never
    },
  )

  app.openapi(
    write(
      '/api/v1/loyalty/redeem',
      RedeemBody,
      'Redeems a catalogue reward (`rewardId`, `quantity`) or spends `points` as payment; spendable points are used earliest-expiring first.',
    ),
    async (c) => {
      const ledger = open(c)
      if (ledger instanceof Response) return ledger as never
      const b = c.req.valid('json') as z.infer<typeof RedeemBody>
      const r = await ledger.redeem({
        memberId: b.memberId,
        idempotencyKey: c.req.valid('header')['idempotency-key'],
        ...(b.rewardId === undefined ? {} : { rewardId: b.rewardId }),
        ...(b.quantity === undefined ? {} : { quantity: b.quantity }),
        ...(b.points === undefined ? {} : { points: b.points }),
        ...(b.channel === undefined ? {} : { channel: b.channel }),
        ...dateOf(b.at),
      })
      return answer(c, r) as never
    },
  )

  app.openapi(
    createRoute({
      ...scoped('loyalty'),
      method: 'get',
      path: '/api/v1/loyalty/members/{memberId}/balance',
      security,
      request: { params: z.object({ memberId }) },
      responses: json(
        BalanceSchema,
        'Balance, spendable and pending points, debt, tier, next expiry',
      ),
    }),
    async (c) => {
      const ledger = open(c)
      if (ledger instanceof Response) return ledger as never
      const b = await ledger.balance(c.req.valid('param').memberId)
      return c.json(JSON.parse(JSON.stringify(b)) as z.infer<typeof BalanceSchema>, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('loyalty'),
      method: 'get',
      path: '/api/v1/loyalty/members/{memberId}/history',
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
        z.object({ entries: z.array(EntrySchema), next: z.number().nullable() }),
        'Ledger entries, newest first; `next` is the `before` of the next page',
      ),
    }),
    async (c) => {
      const ledger = open(c)
      if (ledger instanceof Response) return ledger as never
      const q = c.req.valid('query')
      const entries = await ledger.history(c.req.valid('param').memberId, {
        limit: q.limit,
        ...(q.before === undefined ? {} : { beforeEntryId: q.before }),
      })
      const next = entries.length === q.limit ? (entries.at(-1)?.entryId ?? null) : null
      return c.json(
        JSON.parse(JSON.stringify({ entries, next })) as {
          entries: z.infer<typeof EntrySchema>[]
          next: number | null
        },
        200,
      )
    },
  )
}
