/**
 * The loyalty program configuration: earn rules, redemption catalogue, expiry, pending period and the tier
 * ladder, read from a YAML or JSON file and validated with zod. Every rate and multiplier is a decimal with at
 * most four places, so points are computed exactly in integer arithmetic (see `rules.ts`).
 * @module
 */
import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { ConfigError } from '../core/errors.js'

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
const idSchema = z.string().regex(ID_RE, 'letters, digits, _ . - (1–64 characters)')

/**
 * A non-negative decimal with at most four places, as program rates and order amounts are written: the one
 * pattern the program file, the ledger's amount check and the API's amount field share.
 */
export const AMOUNT_RE = /^\d+(\.\d{1,4})?$/

/** A decimal given as a number or string with at most four decimal places (exact in scaled integers). */
const decimalSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const s = typeof v === 'number' ? String(v) : v.trim()
  if (!AMOUNT_RE.test(s)) {
    ctx.addIssue({ code: 'custom', message: 'a non-negative decimal with at most 4 places' })
    return z.NEVER
  }
  return s
})

const pointsSchema = z.number().int('points are whole numbers').nonnegative()
const dateSchema = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const s = v instanceof Date ? v.toISOString().slice(0, 10) : v
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(Date.parse(`${s}T00:00:00Z`))) {
    ctx.addIssue({ code: 'custom', message: 'a date YYYY-MM-DD' })
    return z.NEVER
  }
  return s
})

export const ROUNDING_MODES = ['floor', 'round', 'ceil'] as const
export type RoundingMode = (typeof ROUNDING_MODES)[number]

const campaignSchema = z
  .object({
    id: idSchema,
    name: z.string().optional(),
    /** First day (inclusive, program time zone). */
    starts: dateSchema,
    /** Last day (inclusive, program time zone). */
    ends: dateSchema,
    /** Multiplies spend points of orders placed in the date range. */
    multiplier: decimalSchema.default('1'),
    /** A flat bonus granted once per member by an explicit `campaign` earn within the range. */
    bonus_points: pointsSchema.default(0),
    /** Limit the multiplier to these order channels (all when absent). */
    channels: z.array(z.string().min(1)).optional(),
  })
  .strict()
  .refine((c) => c.starts <= c.ends, { message: 'starts must not be after ends', path: ['ends'] })

const streakBonusSchema = z
  .object({
    /** Granted on every day the streak length is a multiple of `every_days` (e.g. every 7th day). */
    every_days: z.number().int().min(2),
    points: pointsSchema,
  })
  .strict()

const earnSchema = z
  .object({
    spend: z
      .object({
        /** Points per `unit` currency units of net spend, before multipliers. */
        points_per_unit: decimalSchema.default('1'),
        unit: decimalSchema.default('1'),
        category_multipliers: z.record(z.string(), decimalSchema).default({}),
        channel_multipliers: z.record(z.string(), decimalSchema).default({}),
      })
      .strict()
      .default({
        points_per_unit: '1',
        unit: '1',
        category_multipliers: {},
        channel_multipliers: {},
      }),
    check_in: z
      .object({ points: pointsSchema, streak_bonus: z.array(streakBonusSchema).default([]) })
      .strict()
      .optional(),
    review: z
      .object({ points: pointsSchema, max_per_day: z.number().int().positive().optional() })
      .strict()
      .optional(),
    referral: z.object({ points: pointsSchema }).strict().optional(),
    birthday: z.object({ points: pointsSchema }).strict().optional(),
    campaigns: z.array(campaignSchema).default([]),
    caps: z
      .object({
        /** Most spend points one order can earn. */
        per_order: z.number().int().positive().optional(),
        /** Most points (all earn kinds) one member can earn on one day. */
        per_day: z.number().int().positive().optional(),
        /**
         * Most points (all earn kinds) one member can earn in one calendar year of the program's UTC offset
         * (1 January to 31 December), counted like `per_day`: earned points, returns do not give room back.
         */
        per_year: z
          .number()
          .int('points are whole numbers')
          .positive('a cap is at least 1 point')
          .optional(),
      })
      .strict()
      .default({}),
  })
  .strict()

const rewardSchema = z
  .object({
    id: idSchema,
    kind: z.enum(['goods', 'coupon', 'service']),
    name: z.string().min(1),
    points: z
      .number()
      .int('points are whole numbers')
      .positive('a reward costs at least one point'),
    /** Units available in all; absent means unlimited. */
    stock: z.number().int().nonnegative().optional(),
    valid_from: dateSchema.optional(),
    /** Last day it can be redeemed (inclusive); after it the reward is expired. */
    valid_until: dateSchema.optional(),
    /** Only members of these tiers may redeem it (all when absent). */
    tiers: z.array(idSchema).optional(),
  })
  .strict()

const expirySchema = z.discriminatedUnion('policy', [
  z
    .object({
      /** Points expire at the end of the `months`-th calendar month after the month they were earned in. */
      policy: z.literal('end_of_month'),
      months: z.number().int().positive().max(120),
    })
    .strict(),
  z.object({ policy: z.literal('days'), days: z.number().int().positive() }).strict(),
  z.object({ policy: z.literal('never') }).strict(),
])

const tierSchema = z
  .object({
    id: idSchema,
    name: z.string().min(1),
    /** The tier's name in Chinese, for the dashboard and reports in zh (`name` when absent). */
    name_zh: z.string().min(1).optional(),
    /** Qualification threshold in the ladder's basis (spend in currency, orders, or points earned). */
    threshold: decimalSchema,
    points_multiplier: decimalSchema.default('1'),
    benefits: z.array(z.string().min(1)).default([]),
  })
  .strict()

const tiersSchema = z
  .object({
    basis: z.enum(['spend', 'orders', 'points_earned']),
    window_months: z.number().int().positive().max(60).default(12),
    review_every_months: z.number().int().positive().max(24).default(3),
    /** Days a member keeps the tier after a review finds them below it (the next review downgrades). */
    grace_days: z.number().int().nonnegative().default(30),
    levels: z.array(tierSchema).min(1),
  })
  .strict()
  .superRefine((t, ctx) => {
    const first = t.levels[0]
    if (first && Number(first.threshold) !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['levels', 0, 'threshold'],
        message: 'the first tier must have threshold 0',
      })
    }
    for (let i = 1; i < t.levels.length; i++) {
      const prev = t.levels[i - 1]
      const cur = t.levels[i]
      if (prev && cur && compareDecimal(cur.threshold, prev.threshold) <= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['levels', i, 'threshold'],
          message: 'thresholds must increase',
        })
      }
    }
    const ids = new Set<string>()
    t.levels.forEach((l, i) => {
      if (ids.has(l.id))
        ctx.addIssue({ code: 'custom', path: ['levels', i, 'id'], message: 'duplicate tier id' })
      ids.add(l.id)
    })
  })

/**
 * A budget across members: points issued in a calendar month (all earns, or the order earns of some channels)
 * or the program's whole liability (points outstanding). The backtest reports the day each would have been hit
 * and the points beyond it; the live ledger does not refuse earns on a budget.
 */
const budgetSchema = z
  .object({
    id: idSchema,
    /** `global`: every member's earns; `channel`: the earns of orders placed in the `match` channels. */
    scope: z.enum(['global', 'channel']),
    match: z.array(z.string().min(1)).min(1).optional(),
    /** Most points issued in one calendar month of the program's offset. */
    max_points_per_month: z
      .number()
      .int('points are whole numbers')
      .positive('a budget is at least 1 point')
      .optional(),
    /** Most points outstanding (Σ of the members' positive balances) at any day's end; `global` scope only. */
    max_liability: z
      .number()
      .int('points are whole numbers')
      .positive('a budget is at least 1 point')
      .optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    const limits = [b.max_points_per_month, b.max_liability].filter((v) => v !== undefined)
    if (limits.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_points_per_month'],
        message: 'a budget sets exactly one of max_points_per_month and max_liability',
      })
    }
    if (b.scope === 'channel' && b.match === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['match'],
        message: 'a channel budget lists its channels',
      })
    if (b.scope === 'global' && b.match !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['match'],
        message: 'a global budget matches no channel',
      })
    if (b.max_liability !== undefined && b.scope !== 'global') {
      ctx.addIssue({
        code: 'custom',
        path: ['max_liability'],
        message: 'a liability budget is global (points outstanding belong to no channel)',
      })
    }
  })

const offsetSchema = z
  .string()
  .regex(/^[+-](0\d|1[0-4]):[0-5]\d$/, 'a fixed UTC offset such as +08:00')
  .default('+00:00')

/** The whole program file. */
export const programSchema = z
  .object({
    program: idSchema,
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as CNY'),
    /** Currency value of one point, for the liability in money. */
    point_value: decimalSchema,
    /**
     * The program's fixed UTC offset: days (check-in, caps, birthdays, campaigns) and month ends (expiry) are
     * counted in it. A fixed offset, not a zone name: the programs we target (e.g. +08:00) have no DST, and
     * this keeps the rule exact without a time-zone database.
     */
    utc_offset: offsetSchema,
    rounding: z.enum(ROUNDING_MODES).default('floor'),
    /** Days after an order before its points can be spent (e.g. the return window); 0 = at once. */
    pending_days: z.number().int().nonnegative().max(365).default(0),
    earn: earnSchema,
    redemption: z
      .object({ catalogue: z.array(rewardSchema).default([]) })
      .strict()
      .default({ catalogue: [] }),
    expiry: expirySchema,
    tiers: tiersSchema,
    /** Budgets across members, reported by the backtest (see `budgetSchema`). */
    budgets: z.array(budgetSchema).default([]),
  })
  .strict()
  .superRefine((p, ctx) => {
    const budgetIds = new Set<string>()
    p.budgets.forEach((b, i) => {
      if (budgetIds.has(b.id))
        ctx.addIssue({ code: 'custom', path: ['budgets', i, 'id'], message: 'duplicate budget id' })
      budgetIds.add(b.id)
    })
    const tierIds = new Set(p.tiers.levels.map((l) => l.id))
    const ids = new Set<string>()
    p.redemption.catalogue.forEach((r, i) => {
      if (ids.has(r.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['redemption', 'catalogue', i, 'id'],
          message: 'duplicate reward id',
        })
      }
      ids.add(r.id)
      for (const t of r.tiers ?? []) {
        if (!tierIds.has(t)) {
          ctx.addIssue({
            code: 'custom',
            path: ['redemption', 'catalogue', i, 'tiers'],
            message: `unknown tier ${t}`,
          })
        }
      }
      if (r.valid_from && r.valid_until && r.valid_from > r.valid_until) {
        ctx.addIssue({
          code: 'custom',
          path: ['redemption', 'catalogue', i, 'valid_until'],
          message: 'before valid_from',
        })
      }
    })
    const campaigns = new Set<string>()
    p.earn.campaigns.forEach((c, i) => {
      if (campaigns.has(c.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['earn', 'campaigns', i, 'id'],
          message: 'duplicate campaign id',
        })
      }
      campaigns.add(c.id)
    })
  })

/** A validated loyalty program. */
export type Program = z.infer<typeof programSchema>
export type Reward = Program['redemption']['catalogue'][number]
export type TierLevel = Program['tiers']['levels'][number]
export type Campaign = Program['earn']['campaigns'][number]
export type Budget = Program['budgets'][number]

/**
 * Validates an already-parsed program document.
 * @throws ConfigError naming every problem with its path, e.g. `tiers.levels.1.threshold: thresholds must increase`.
 */
export function parseProgram(data: unknown, source = 'program'): Program {
  const parsed = programSchema.safeParse(data)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    throw new ConfigError(`${source}: ${issues.join('; ')}`)
  }
  return parsed.data
}

/** Parses program text: JSON when `format` is json (or the text starts with `{`), YAML otherwise. */
export function parseProgramText(
  text: string,
  source = 'program',
  format?: 'json' | 'yaml',
): Program {
  const json = format === 'json' || (format === undefined && text.trimStart().startsWith('{'))
  let data: unknown
  try {
    data = json ? JSON.parse(text) : parseYaml(text)
  } catch (error) {
    throw new ConfigError(
      `${source}: not valid ${json ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
      error,
    )
  }
  return parseProgram(data, source)
}

/** Reads and validates a program file (`.json`, otherwise YAML). */
export async function loadProgram(path: string): Promise<Program> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`${path}: program file not found or not readable`, error)
  }
  return parseProgramText(text, path, path.endsWith('.json') ? 'json' : 'yaml')
}

/** Looks up a tier; the ladder's first tier is the entry tier. */
export function findTier(program: Program, id: string): TierLevel | undefined {
  return program.tiers.levels.find((l) => l.id === id)
}

export function entryTier(program: Program): TierLevel {
  return program.tiers.levels[0] as TierLevel
}

/** Compares two non-negative decimal strings exactly. */
export function compareDecimal(a: string, b: string): number {
  const x = scaleDecimal(a)
  const y = scaleDecimal(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** Decimal places kept for money and multipliers (DuckDB stores money as DECIMAL(18,4)). */
export const SCALE_DIGITS = 4
export const SCALE = 10_000n

/**
 * A decimal string (optionally signed, at most four places) as an integer of ten-thousandths.
 * @throws RangeError when the text is not such a decimal (callers turn it into an InputError).
 */
export function scaleDecimal(s: string): bigint {
  const known = scaled.get(s)
  if (known !== undefined) return known
  const m = /^(-?)(\d+)(?:\.(\d{1,4}))?$/.exec(s.trim())
  if (!m) throw new RangeError(`not a decimal with at most ${SCALE_DIGITS} places: ${s}`)
  const frac = (m[3] ?? '').padEnd(SCALE_DIGITS, '0')
  const v = BigInt(m[2] as string) * SCALE + BigInt(frac)
  const value = m[1] === '-' ? -v : v
  // Multipliers, thresholds and common amounts recur on every order: remember recent texts (bounded).
  if (scaled.size >= SCALED_CACHE_SIZE) scaled.clear()
  scaled.set(s, value)
  return value
}
const SCALED_CACHE_SIZE = 8192
const scaled = new Map<string, bigint>()

/** The inverse of {@link scaleDecimal}: ten-thousandths back to a plain decimal string. */
export function unscaleDecimal(v: bigint): string {
  const neg = v < 0n
  const a = neg ? -v : v
  const int = a / SCALE
  const frac = (a % SCALE).toString().padStart(SCALE_DIGITS, '0').replace(/0+$/, '')
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`
}
