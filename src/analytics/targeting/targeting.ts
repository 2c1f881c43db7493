/**
 * Budgeted uplift targeting: learn from a past randomised campaign (touches with a holdout) how each
 * offer moves each member, then choose, for every member now, the offer (or none) with the largest
 * expected incremental value minus cost, and fill the budget greedily by net value per cost.
 *
 * Learning: features are the churn-risk model's (`featureMatrix` of `risk/`) on the day before the
 * campaign, the order value, history counts and the member's coupon and service-complaint habit
 * probabilities (`models/latent-habit.ts`); the outcome is a purchase within `horizon_days` after it
 * (retention). A multi-armed bring-back model (or X- or T-learner) gives each member's incremental
 * retention per arm; one logistic regression
 * per coupon arm gives P(redeem). Value of a retained member: their expected order value, the
 * Gamma–Gamma conditional mean of their gross order values (Fader, Hardie & Lee 2005). Evaluation: the
 * randomised members are split 70/30 by member id; the Qini curve of each arm on the 30 % the models
 * never saw.
 *
 * Choosing (now, features at `asOf`): net_a = Δretention_a · order value − cost_a, with cost_a = contact +
 * coupon face value · P(redeem) + extra points · liability value · expected spend; members whose best net
 * is not positive are left out (negative-uplift members and cannibalised full-price buyers). Intervals:
 * the chosen list is re-valued under models refitted on bootstrap resamples of the randomised members
 * (percentile interval; the order value is held fixed).
 * @module
 */
import { InputError, NotFoundError } from '../../core/errors.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { churnFeatures, type ChurnFeatureTable } from '../../duckdb/summaries/churn-features.js'
import { sql } from '../../engine/sql/fragment.js'
import { lastPurchaseDay } from '../../engine/summaries/repeat-buying.js'
import { conditionalExpectedAverageSpendMany, fitGammaGamma } from '../../models/gamma-gamma.js'
import {
  fitLogisticRegression,
  predictLogistic,
  type LogisticModel,
} from '../../models/logistic-regression.js'
import {
  fitUplift,
  predictUplift,
  qiniCurve,
  type QiniReport,
  type UpliftData,
  type UpliftLearner,
  type UpliftModel,
  UPLIFT_LEARNERS,
} from '../../models/uplift.js'
import { fitLatentHabit, type HabitIndicator } from '../../models/latent-habit.js'
import { featureMatrix, pAliveAt, RISK_FEATURES } from '../risk/risk.js'
import { expectedArmCost, type ArmConfig, type ArmsFile } from './arms.js'

const FEATURES = Object.keys(RISK_FEATURES)
const DAY_MS = 86_400_000

function shiftDay(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10)
}

/** An estimate with its bootstrap percentile interval (null bounds without a bootstrap). */
export interface Interval {
  readonly estimate: number
  readonly low: number | null
  readonly high: number | null
}

/** Expected effect of a set of (member, arm) choices. */
export interface PolicySummary {
  readonly members: number
  /** Expected incremental retained members, incremental revenue, cost (CNY), revenue − cost, ROI. */
  readonly retained: Interval
  readonly revenue: Interval
  readonly cost: Interval
  readonly net: Interval
  /** (revenue − cost) / cost; null when nothing is spent. */
  readonly roi: Interval | null
  readonly byArm: Readonly<Record<string, { readonly members: number; readonly cost: number }>>
}

/** One chosen member. */
export interface TargetRow {
  readonly memberId: number
  readonly arm: string
  /** Estimated incremental retention (probability points as a fraction), order value, cost, net value. */
  readonly uplift: number
  readonly orderValue: number
  readonly cost: number
  readonly net: number
}

/** Qini evaluation of one arm by one learner on the held-out randomised members. */
export interface ArmQini extends QiniReport {
  readonly arm: string
  readonly learner: UpliftLearner
}

/** What {@link planTargeting} returns. */
export interface TargetingPlan {
  readonly campaignId: string
  readonly campaignStart: string
  /** Features of the randomised members are taken on this day (the day before the campaign). */
  readonly cutoff: string
  readonly horizonDays: number
  readonly asOf: string
  readonly learner: UpliftLearner
  readonly budget: number
  /** Randomised members with purchase history, per arm (holdout included). */
  readonly randomised: Readonly<Record<string, number>>
  readonly qini: readonly ArmQini[]
  readonly candidates: number
  /** Members whose best arm has no positive expected net value (left out whatever the budget). */
  readonly excludedNonPositive: number
  readonly policy: PolicySummary
  readonly rows: readonly TargetRow[]
}

/** Options of {@link planTargeting}. */
export interface TargetingOptions {
  /** Budget (CNY) for the expected cost of the chosen offers. */
  readonly budget: number
  readonly learner?: UpliftLearner
  /** Scoring day (default: the last purchase day). */
  readonly asOf?: string
  /** Bootstrap resamples for the intervals (0: none). Default 50. */
  readonly bootstrap?: number
  /** Seed of the bootstrap and of the random comparison policy. Default 1. */
  readonly seed?: number
  /** Only these members may be chosen (e.g. those with known true effects). */
  readonly candidates?: ReadonlySet<number>
}

/** The randomised campaign's per-member arm (index into the arms file order, −1 for the holdout). */
interface CampaignAssignments {
  readonly campaignId: string
  readonly start: string
  readonly arm: Map<number, number>
}

async function findCampaign(driver: DuckDbDriver, arms: ArmsFile): Promise<CampaignAssignments> {
  const offers = Object.values(arms.arms).map((a) => a.offer)
  const campaigns = await driver.all<{ campaignId: string; started: string; offers: string[] }>(
    sql`SELECT campaign_id, strftime(min(sent_at), '%Y-%m-%dT%H:%M:%SZ') AS started,
        list(DISTINCT offer) FILTER (WHERE offer IS NOT NULL) AS offers
      FROM touches
      ${arms.campaign === undefined ? sql`` : sql`WHERE campaign_id = ${arms.campaign}`}
      GROUP BY campaign_id HAVING count(*) FILTER (WHERE treatment_group = 'holdout') > 0
      ORDER BY started DESC, campaign_id`,
  )
  const found = campaigns.find((c) => offers.every((o) => (c.offers ?? []).includes(o)))
  if (found === undefined) {
    throw new NotFoundError(
      arms.campaign === undefined
        ? `no campaign with a holdout has touches with every arm's offer (${offers.join(' | ')}): load the campaign's touches, or set campaign and the offers in the arms file`
        : `campaign ${arms.campaign} has no holdout touches or lacks an arm's offer (${offers.join(' | ')})`,
    )
  }
  const rows = await driver.all<{ memberId: number; grp: string; offer: string | null }>(
    sql`SELECT member_id::DOUBLE AS member_id, arg_min(treatment_group, sent_at) AS grp,
        arg_min(offer, sent_at) AS offer
      FROM touches WHERE campaign_id = ${found.campaignId} AND member_id IS NOT NULL
      GROUP BY member_id`,
  )
  const arm = new Map<number, number>()
  for (const r of rows) {
    if (r.grp === 'holdout') arm.set(r.memberId, -1)
    else {
      const k = offers.indexOf(r.offer ?? '')
      if (k >= 0) arm.set(r.memberId, k)
    }
  }
  return { campaignId: found.campaignId, start: found.started, arm }
}

/** Members who used each coupon arm's coupon on an order in (cutoff, cutoff + H] days. */
async function redemptions(
  driver: DuckDbDriver,
  arms: ArmsFile,
  cutoff: string,
): Promise<Map<string, Set<number>>> {
  const out = new Map<string, Set<number>>()
  for (const [name, a] of Object.entries(arms.arms)) {
    if (a.coupon_id === undefined) continue
    const rows = await driver.all<{ memberId: number }>(
      sql`SELECT DISTINCT member_id::DOUBLE AS member_id FROM orders
        WHERE coupon_id = ${a.coupon_id} AND member_id IS NOT NULL AND status <> 'cancelled'
          AND CAST(ordered_at AS DATE) > CAST(${cutoff} AS DATE)
          AND CAST(ordered_at AS DATE) <= CAST(${shiftDay(cutoff, arms.horizon_days)} AS DATE)`,
    )
    out.set(name, new Set(rows.map((r) => r.memberId)))
  }
  return out
}

/**
 * Expected gross order value per member at `cutoff` (Gamma–Gamma conditional mean over their
 * non-cancelled orders up to the cutoff), aligned with `memberId` (sorted); NaN where unknown.
 */
async function orderValues(
  driver: DuckDbDriver,
  cutoff: string,
  memberId: Float64Array,
): Promise<Float64Array> {
  const rows = await driver.all<{ memberId: number; x: number; zbar: number }>(
    sql`SELECT member_id::DOUBLE AS member_id, count(*)::DOUBLE AS x, avg(gross_amount)::DOUBLE AS zbar
      FROM orders WHERE member_id IS NOT NULL AND status <> 'cancelled' AND gross_amount > 0
        AND CAST(ordered_at AS DATE) <= CAST(${cutoff} AS DATE)
      GROUP BY member_id ORDER BY member_id`,
  )
  const x = Float64Array.from(rows, (r) => r.x)
  const zbar = Float64Array.from(rows, (r) => r.zbar)
  const fit = fitGammaGamma(x, zbar)
  const value = conditionalExpectedAverageSpendMany(fit.params, x, zbar)
  const out = new Float64Array(memberId.length).fill(NaN)
  let j = 0
  for (let i = 0; i < memberId.length; i++) {
    const id = memberId[i] as number
    while (j < rows.length && (rows[j]?.memberId as number) < id) j++
    if (j < rows.length && rows[j]?.memberId === id) out[i] = value[j] as number
  }
  return out
}

function sum(a: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] as number
  return s
}

/** Columns of {@link memberHistory}, in order. */
const HISTORY_FEATURES = [
  'log_complaints_all',
  'log_returns_all',
  'log_detractor_answers',
  'coupon_orders_all',
  'full_price_orders_all',
  'complaints_all',
  'tickets_all',
  'returns_all',
  'low_csat_all',
  'negative_reviews_all',
  'feedback_answers_all',
  'check_ins_all',
  'coupon_claims_all',
  'sessions_all',
  'coupons_issued_all',
  'coupons_redeemed_all',
  'log_tenure_days',
  'coupon_habit',
  'service_habit',
] as const

/**
 * History over the whole membership up to `day`, per member aligned with `memberId`: complaints and
 * support tickets, returns and NPS answers of 6 or less (detractors), on the log scale as before, and
 * as plain counts with the orders split into those with a coupon and those at full price. The risk
 * features count the last 90 days only, and a share hides how much evidence lies behind it: when each
 * order independently carries a coupon (or each week a complaint) with a probability that depends on a
 * member's hidden habit, the log-odds of the habit given the history is linear in those counts, which
 * is what the uplift models' logistic and linear forms can use.
 */
async function memberHistory(
  driver: DuckDbDriver,
  day: string,
  memberId: Float64Array,
): Promise<Float64Array[]> {
  const rows = await driver.all<{
    memberId: number
    complaints: number
    tickets: number
    returns: number
    detractor: number
    couponOrders: number
    fullPriceOrders: number
    lowCsat: number
    negativeReviews: number
    answers: number
    npsAnswers: number
    csatAnswers: number
    reviews: number
    checkIns: number
    couponClaims: number
    sessions: number
    issued: number
    redeemed: number
    tenure: number
  }>(
    sql`WITH f AS (
        SELECT member_id, count(*) FILTER (WHERE kind = 'complaint') AS complaints,
          count(*) FILTER (WHERE kind = 'support_ticket') AS tickets,
          count(*) FILTER (WHERE kind = 'nps' AND score <= 6) AS detractor,
          count(*) FILTER (WHERE kind = 'csat' AND score <= 2) AS low_csat,
          count(*) FILTER (WHERE kind = 'review' AND score <= 2) AS negative_reviews,
          count(*) FILTER (WHERE kind IN ('nps', 'csat', 'review')) AS answers,
          count(*) FILTER (WHERE kind = 'nps') AS nps_answers,
          count(*) FILTER (WHERE kind = 'csat') AS csat_answers,
          count(*) FILTER (WHERE kind = 'review') AS reviews
        FROM feedback WHERE member_id IS NOT NULL AND CAST(ts AS DATE) <= CAST(${day} AS DATE)
        GROUP BY member_id),
      r AS (
        SELECT o.member_id, count(*) AS returns FROM returns x JOIN orders o ON o.order_id = x.order_id
        WHERE o.member_id IS NOT NULL AND CAST(x.returned_at AS DATE) <= CAST(${day} AS DATE)
        GROUP BY o.member_id),
      o AS (
        SELECT member_id, count(coupon_id) AS coupon_orders, count(*) - count(coupon_id) AS full_price
        FROM orders WHERE member_id IS NOT NULL AND status <> 'cancelled'
          AND CAST(ordered_at AS DATE) <= CAST(${day} AS DATE)
        GROUP BY member_id),
      e AS (
        SELECT member_id, count(*) FILTER (WHERE event_type = 'check_in') AS check_ins,
          count(*) FILTER (WHERE event_type = 'coupon_claim') AS coupon_claims,
          count(*) FILTER (WHERE event_type = 'session_start') AS sessions
        FROM events WHERE member_id IS NOT NULL AND CAST(ts AS DATE) <= CAST(${day} AS DATE)
        GROUP BY member_id),
      fr AS (SELECT coalesce(f.member_id, r.member_id) AS member_id, f.complaints, f.tickets,
          f.detractor, f.low_csat, f.negative_reviews, f.answers, f.nps_answers, f.csat_answers,
          f.reviews, r.returns
        FROM f FULL JOIN r ON r.member_id = f.member_id),
      c AS (
        SELECT member_id, count(*) AS issued,
          count(*) FILTER (WHERE redeemed_at IS NOT NULL AND CAST(redeemed_at AS DATE) <= CAST(${day} AS DATE)) AS redeemed
        FROM coupons WHERE member_id IS NOT NULL AND CAST(issued_at AS DATE) <= CAST(${day} AS DATE)
        GROUP BY member_id),
      fre AS (SELECT coalesce(fr.member_id, e.member_id) AS member_id, fr.*, e.check_ins,
          e.coupon_claims, e.sessions FROM fr FULL JOIN e ON e.member_id = fr.member_id)
      SELECT coalesce(fr.member_id, o.member_id)::DOUBLE AS member_id,
        coalesce(fr.complaints, 0)::DOUBLE AS complaints, coalesce(fr.tickets, 0)::DOUBLE AS tickets,
        coalesce(fr.returns, 0)::DOUBLE AS returns, coalesce(fr.detractor, 0)::DOUBLE AS detractor,
        coalesce(o.coupon_orders, 0)::DOUBLE AS coupon_orders,
        coalesce(o.full_price, 0)::DOUBLE AS full_price_orders,
        coalesce(fr.low_csat, 0)::DOUBLE AS low_csat,
        coalesce(fr.negative_reviews, 0)::DOUBLE AS negative_reviews,
        coalesce(fr.answers, 0)::DOUBLE AS answers,
        coalesce(fr.nps_answers, 0)::DOUBLE AS nps_answers,
        coalesce(fr.csat_answers, 0)::DOUBLE AS csat_answers,
        coalesce(fr.reviews, 0)::DOUBLE AS reviews, coalesce(fr.check_ins, 0)::DOUBLE AS check_ins,
        coalesce(fr.coupon_claims, 0)::DOUBLE AS coupon_claims,
        coalesce(fr.sessions, 0)::DOUBLE AS sessions, coalesce(c.issued, 0)::DOUBLE AS issued,
        coalesce(c.redeemed, 0)::DOUBLE AS redeemed,
        coalesce(date_diff('day', CAST(m.registered_at AS DATE), CAST(${day} AS DATE)), 0)::DOUBLE AS tenure
      FROM fre AS fr FULL JOIN o ON o.member_id = fr.member_id
        LEFT JOIN c ON c.member_id = coalesce(fr.member_id, o.member_id)
        LEFT JOIN members m ON m.member_id = coalesce(fr.member_id, o.member_id)
      ORDER BY member_id`,
  )
  const out = HISTORY_FEATURES.map(() => new Float64Array(memberId.length))
  const tenureWeeks = new Float64Array(memberId.length)
  // Detractor NPS answers and NPS answers, low CSAT and CSAT answers, negative reviews and reviews.
  const answered = [0, 1, 2, 3, 4, 5].map(() => new Float64Array(memberId.length)) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ]
  let j = 0
  for (let i = 0; i < memberId.length; i++) {
    const id = memberId[i] as number
    while (j < rows.length && (rows[j]?.memberId as number) < id) j++
    const r = rows[j]
    if (r === undefined || r.memberId !== id) continue
    const values = [
      Math.log1p(r.complaints + r.tickets),
      Math.log1p(r.returns),
      Math.log1p(r.detractor),
      r.couponOrders,
      r.fullPriceOrders,
      r.complaints,
      r.tickets,
      r.returns,
      r.lowCsat,
      r.negativeReviews,
      r.answers,
      r.checkIns,
      r.couponClaims,
      r.sessions,
      r.issued,
      r.redeemed,
      Math.log1p(Math.max(0, r.tenure)),
    ]
    values.forEach((v, k) => ((out[k] as Float64Array)[i] = v))
    answered[0][i] = r.detractor
    answered[1][i] = r.npsAnswers
    answered[2][i] = r.lowCsat
    answered[3][i] = r.csatAnswers
    answered[4][i] = r.negativeReviews
    answered[5][i] = r.reviews
    tenureWeeks[i] = Math.max(0, r.tenure) / 7
  }
  const col = (name: (typeof HISTORY_FEATURES)[number]) =>
    out[HISTORY_FEATURES.indexOf(name)] as Float64Array
  const orders = col('coupon_orders_all').map(
    (v, i) => v + (col('full_price_orders_all')[i] as number),
  )
  const atMost = (a: Float64Array, b: Float64Array) => a.map((v, i) => Math.min(v, b[i] as number))
  const sessions = col('sessions_all')
  const habits: { name: (typeof HISTORY_FEATURES)[number]; indicators: HabitIndicator[] }[] = [
    {
      name: 'coupon_habit',
      indicators: [
        {
          kind: 'binomial',
          name: 'coupon orders',
          successes: col('coupon_orders_all'),
          trials: orders,
        },
        {
          kind: 'binomial',
          name: 'coupon claims',
          successes: atMost(col('coupon_claims_all'), sessions),
          trials: sessions,
        },
        {
          kind: 'binomial',
          name: 'check-ins',
          successes: atMost(col('check_ins_all'), sessions),
          trials: sessions,
        },
        {
          kind: 'binomial',
          name: 'coupons redeemed',
          successes: atMost(col('coupons_redeemed_all'), col('coupons_issued_all')),
          trials: col('coupons_issued_all'),
        },
      ],
    },
    {
      name: 'service_habit',
      indicators: [
        {
          kind: 'poisson',
          name: 'complaints',
          count: col('complaints_all'),
          exposure: tenureWeeks,
        },
        { kind: 'poisson', name: 'tickets', count: col('tickets_all'), exposure: tenureWeeks },
        {
          kind: 'binomial',
          name: 'returns',
          successes: atMost(col('returns_all'), orders),
          trials: orders,
        },
        { kind: 'binomial', name: 'NPS detractor', successes: answered[0], trials: answered[1] },
        { kind: 'binomial', name: 'low CSAT', successes: answered[2], trials: answered[3] },
        { kind: 'binomial', name: 'negative review', successes: answered[4], trials: answered[5] },
      ],
    },
  ]
  for (const h of habits) {
    // An indicator without any trials or exposure (a table not loaded) says nothing: left out.
    const usable = h.indicators.filter((ind) =>
      ind.kind === 'binomial' ? sum(ind.trials) > 0 : sum(ind.exposure) > 0,
    )
    if (usable.length > 0 && memberId.length > 0) col(h.name).set(fitLatentHabit(usable).posterior)
  }
  return out
}

/** The uplift models' features: the risk model's, then the order value and the member's history. */
export const TARGETING_FEATURES = [...FEATURES, 'log_order_value', ...HISTORY_FEATURES] as const

/**
 * The features of the bring-back model's share of would-be non-buyers an offer brings back: the
 * member's coupon and service-complaint habits and their order value. Purchase timing enters through
 * the holdout's response 1 − μ₀ only. Three features instead of thirty: the share is learnt from a few
 * hundred randomised members per offer, and each extra weight adds noise to every member's estimate.
 */
const EFFECT_FEATURES: readonly string[] = ['coupon_habit', 'service_habit', 'log_order_value']

/** Features of every member with a purchase by `day` (and the outcome with `horizon`). */
async function membersAt(
  driver: DuckDbDriver,
  day: string,
  horizon?: number,
): Promise<{ f: ChurnFeatureTable; X: Float64Array; value: Float64Array }> {
  const f = await churnFeatures(driver, day, horizon)
  const pa = await pAliveAt(driver, day, f.member_id)
  const value = await orderValues(driver, day, f.member_id)
  const risk = featureMatrix(f, pa.pAlive)
  const history = await memberHistory(driver, day, f.member_id)
  const p = FEATURES.length
  const q = TARGETING_FEATURES.length
  const n = f.member_id.length
  const X = new Float64Array(n * q)
  for (let i = 0; i < n; i++) {
    X.set(risk.subarray(i * p, (i + 1) * p), i * q)
    const v = value[i] as number
    X[i * q + p] = Number.isFinite(v) && v > 0 ? Math.log(v) : 0
    history.forEach((h, k) => (X[i * q + p + 1 + k] = h[i] as number))
  }
  return { f, X, value }
}

/** Knuth's multiplicative hash: a fixed, even split of member ids. */
function heldOut(memberId: number): boolean {
  return (Math.imul(memberId >>> 0, 2654435761) >>> 0) % 10 >= 7
}

/** mulberry32, for the bootstrap and the random comparison policy. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Training {
  readonly data: UpliftData
  readonly memberId: Float64Array
  /** Per coupon arm (arms-file order, null for others): redeemed 0/1 per row. */
  readonly redeemed: readonly (Float64Array | null)[]
}

interface Fitted {
  readonly uplift: UpliftModel
  readonly redeem: readonly (LogisticModel | null)[]
}

function subset(t: Training, rows: readonly number[]): Training {
  const p = t.data.features.length
  const X = new Float64Array(rows.length * p)
  rows.forEach((r, i) => X.set(t.data.X.subarray(r * p, (r + 1) * p), i * p))
  const pick = (a: ArrayLike<number>) => Float64Array.from(rows, (r) => a[r] as number)
  return {
    data: { ...t.data, X, arm: pick(t.data.arm), y: pick(t.data.y) },
    memberId: pick(t.memberId),
    redeemed: t.redeemed.map((r) => (r === null ? null : pick(r))),
  }
}

function fitAll(t: Training, learner: UpliftLearner): Fitted {
  const uplift = fitUplift(t.data, { learner, effectFeatures: EFFECT_FEATURES })
  const p = t.data.features.length
  const redeem = t.redeemed.map((r, k) => {
    if (r === null) return null
    const rows: number[] = []
    for (let i = 0; i < r.length; i++) if (t.data.arm[i] === k + 1) rows.push(i)
    const X = new Float64Array(rows.length * p)
    rows.forEach((row, i) => X.set(t.data.X.subarray(row * p, (row + 1) * p), i * p))
    const y = Float64Array.from(rows, (row) => r[row] as number)
    const positives = y.reduce((s, v) => s + v, 0)
    if (positives === 0 || positives === y.length) return null
    return fitLogisticRegression(X, y, t.data.features, { l2: 1e-2 })
  })
  return { uplift, redeem }
}

/** Per arm and member: estimated uplift, P(buy | arm), P(redeem), cost and net value. */
interface Estimates {
  readonly uplift: readonly Float64Array[]
  readonly cost: readonly Float64Array[]
  readonly net: readonly Float64Array[]
  /** P(buy) without a touch: the holdout response. */
  readonly control: Float64Array
}

function estimate(fitted: Fitted, arms: ArmsFile, X: Float64Array, value: Float64Array): Estimates {
  const pred = predictUplift(fitted.uplift, X)
  const configs = Object.values(arms.arms)
  const n = value.length
  const uplift: Float64Array[] = []
  const cost: Float64Array[] = []
  const net: Float64Array[] = []
  configs.forEach((arm, k) => {
    const up = pred.uplift[k] as Float64Array
    const redeemModel = fitted.redeem[k] ?? null
    const redeem = redeemModel === null ? null : predictLogistic(redeemModel, X)
    const c = new Float64Array(n)
    const v = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const buy = Math.min(1, Math.max(0, (pred.control[i] as number) + (up[i] as number)))
      c[i] = expectedArmCost(
        arm,
        redeem === null ? 0 : (redeem[i] as number),
        buy,
        value[i] as number,
      )
      v[i] = (up[i] as number) * (value[i] as number) - (c[i] as number)
    }
    uplift.push(up)
    cost.push(c)
    net.push(v)
  })
  return { uplift, cost, net, control: pred.control }
}

/**
 * Greedy budgeted choice: each member's best arm if its net value is positive, taken in decreasing net
 * value per cost while the budget lasts (a member who no longer fits is skipped, cheaper ones may still).
 * Returns the arm per member (−1: none). `net` and `cost` are per arm, then per member.
 */
export function chooseWithinBudget(
  net: readonly ArrayLike<number>[],
  cost: readonly ArrayLike<number>[],
  budget: number,
  eligible?: (i: number) => boolean,
): Int32Array {
  const n = net[0]?.length ?? 0
  const arm = new Int32Array(n).fill(-1)
  const best: { i: number; k: number; ratio: number }[] = []
  for (let i = 0; i < n; i++) {
    if (eligible && !eligible(i)) continue
    let k = -1
    let v = 0
    for (let a = 0; a < net.length; a++) {
      const x = net[a]?.[i] as number
      if (x > v) {
        v = x
        k = a
      }
    }
    if (k < 0) continue
    const c = cost[k]?.[i] as number
    best.push({ i, k, ratio: c > 0 ? v / c : Infinity })
  }
  best.sort((a, b) => b.ratio - a.ratio || a.i - b.i)
  let spent = 0
  for (const b of best) {
    const c = cost[b.k]?.[b.i] as number
    if (spent + c > budget) continue
    spent += c
    arm[b.i] = b.k
  }
  return arm
}

/** Members in `order` sent arm `k` while the budget lasts. */
export function rankWithinBudget(
  order: readonly number[],
  k: number,
  cost: readonly ArrayLike<number>[],
  budget: number,
  n: number,
): Int32Array {
  const arm = new Int32Array(n).fill(-1)
  let spent = 0
  for (const i of order) {
    const c = cost[k]?.[i] as number
    if (spent + c > budget) continue
    spent += c
    arm[i] = k
  }
  return arm
}

function percentile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return (sorted[lo] as number) + (pos - lo) * ((sorted[hi] as number) - (sorted[lo] as number))
}

function interval(estimate: number, draws: number[]): Interval {
  if (draws.length < 2) return { estimate, low: null, high: null }
  const s = [...draws].sort((a, b) => a - b)
  return { estimate, low: percentile(s, 0.025), high: percentile(s, 0.975) }
}

function totals(
  choice: Int32Array,
  e: Estimates,
  value: Float64Array,
): { retained: number; revenue: number; cost: number } {
  let retained = 0
  let revenue = 0
  let cost = 0
  for (let i = 0; i < choice.length; i++) {
    const k = choice[i] as number
    if (k < 0) continue
    const up = e.uplift[k]?.[i] as number
    retained += up
    revenue += up * (value[i] as number)
    cost += e.cost[k]?.[i] as number
  }
  return { retained, revenue, cost }
}

/** The randomised campaign's members with features, outcome and coupon use, for fitting the models. */
async function prepareTraining(
  driver: DuckDbDriver,
  arms: ArmsFile,
  options: { readonly learner?: UpliftLearner; readonly asOf?: string },
): Promise<{
  learner: UpliftLearner
  names: string[]
  asOf: string
  campaign: CampaignAssignments
  cutoff: string
  all: Training
  randomised: Record<string, number>
}> {
  const learner = options.learner ?? 'bring-back'
  const names = Object.keys(arms.arms)
  const last = await lastPurchaseDay(driver)
  if (last === null) throw new InputError('no purchases in the database: load orders first')
  const asOf = options.asOf ?? last
  const campaign = await findCampaign(driver, arms)
  const cutoff = shiftDay(campaign.start.slice(0, 10), -1)
  if (shiftDay(cutoff, arms.horizon_days) > last) {
    throw InputError.single({
      field: 'horizon_days',
      value: String(arms.horizon_days),
      reason: `campaign ${campaign.campaignId} started ${campaign.start.slice(0, 10)}: its ${arms.horizon_days}-day outcome window ends after the last purchase day ${last}`,
    })
  }

  // Randomised members with history at the cutoff, their outcome and coupon use.
  const train = await membersAt(driver, cutoff, arms.horizon_days)
  const redeemedBy = await redemptions(driver, arms, cutoff)
  const rows: number[] = []
  const armOf: number[] = []
  for (let i = 0; i < train.f.member_id.length; i++) {
    const a = campaign.arm.get(train.f.member_id[i] as number)
    if (a === undefined || !Number.isFinite(train.value[i])) continue
    rows.push(i)
    armOf.push(a + 1)
  }
  const p = TARGETING_FEATURES.length
  const all: Training = {
    data: {
      X: Float64Array.from({ length: rows.length * p }, (_, k) => {
        const r = rows[Math.floor(k / p)] as number
        return train.X[r * p + (k % p)] as number
      }),
      features: TARGETING_FEATURES,
      arm: Int32Array.from(armOf),
      y: Float64Array.from(rows, (r) => 1 - (train.f.churned[r] as number)),
      arms: names.length,
    },
    memberId: Float64Array.from(rows, (r) => train.f.member_id[r] as number),
    redeemed: names.map((name) => {
      const set = redeemedBy.get(name)
      return set === undefined
        ? null
        : Float64Array.from(rows, (r) => (set.has(train.f.member_id[r] as number) ? 1 : 0))
    }),
  }
  const randomised: Record<string, number> = { holdout: 0 }
  for (const n of names) randomised[n] = 0
  for (const a of armOf) {
    const key = a === 0 ? 'holdout' : (names[a - 1] as string)
    randomised[key] = (randomised[key] ?? 0) + 1
  }

  return { learner, names, asOf, campaign, cutoff, all, randomised }
}

/**
 * Learns from the randomised campaign named in (or found from) the arms file and chooses the members to
 * send each offer to within the budget. Throws NotFoundError without a matching campaign and InputError
 * when the campaign's outcome window is not yet over at the last purchase day.
 */
export async function planTargeting(
  driver: DuckDbDriver,
  arms: ArmsFile,
  options: TargetingOptions,
): Promise<TargetingPlan & { readonly internals: PlanInternals }> {
  if (!(Number.isFinite(options.budget) && options.budget > 0)) {
    throw InputError.single({
      field: 'budget',
      value: String(options.budget),
      reason: 'a positive amount (CNY)',
    })
  }
  const { learner, names, asOf, campaign, cutoff, all, randomised } = await prepareTraining(
    driver,
    arms,
    options,
  )

  // Held-out evaluation: fit on 70 % of the randomised members, Qini on the other 30 %.
  const fitIdx: number[] = []
  const testIdx: number[] = []
  all.memberId.forEach((id, i) => (heldOut(id) ? testIdx : fitIdx).push(i))
  const test = subset(all, testIdx)
  const qini: ArmQini[] = []
  for (const l of UPLIFT_LEARNERS) {
    const model = fitUplift(subset(all, fitIdx).data, {
      learner: l,
      effectFeatures: EFFECT_FEATURES,
    })
    const pred = predictUplift(model, test.data.X)
    names.forEach((name, k) => {
      const idx: number[] = []
      for (let i = 0; i < test.data.y.length; i++) {
        const a = test.data.arm[i]
        if (a === 0 || a === k + 1) idx.push(i)
      }
      qini.push({
        arm: name,
        learner: l,
        ...qiniCurve(
          idx.map((i) => pred.uplift[k]?.[i] as number),
          idx.map((i) => (test.data.arm[i] === k + 1 ? 1 : 0)),
          idx.map((i) => test.data.y[i] as number),
        ),
      })
    })
  }

  // The models on every randomised member, applied to the members now.
  const fitted = fitAll(all, learner)
  const now = await membersAt(driver, asOf)
  const n = now.f.member_id.length
  const okValue = (i: number) =>
    Number.isFinite(now.value[i]) &&
    (options.candidates === undefined || options.candidates.has(now.f.member_id[i] as number))
  const est = estimate(fitted, arms, now.X, now.value)
  const choice = chooseWithinBudget(est.net, est.cost, options.budget, okValue)
  let candidates = 0
  let excluded = 0
  for (let i = 0; i < n; i++) {
    if (!okValue(i)) continue
    candidates++
    if (!est.net.some((v) => (v[i] as number) > 0)) excluded++
  }

  // Bootstrap: refit on resamples of the randomised members, re-value the same choice.
  const B = options.bootstrap ?? 50
  const random = seededRandom(options.seed ?? 1)
  const draws = {
    retained: [] as number[],
    revenue: [] as number[],
    cost: [] as number[],
    net: [] as number[],
    roi: [] as number[],
  }
  const m = all.data.y.length
  for (let b = 0; b < B; b++) {
    const idx = Array.from({ length: m }, () => Math.floor(random() * m))
    const refit = fitAll(subset(all, idx), learner)
    const t = totals(choice, estimate(refit, arms, now.X, now.value), now.value)
    draws.retained.push(t.retained)
    draws.revenue.push(t.revenue)
    draws.cost.push(t.cost)
    draws.net.push(t.revenue - t.cost)
    if (t.cost > 0) draws.roi.push((t.revenue - t.cost) / t.cost)
  }
  const t = totals(choice, est, now.value)
  const byArm: Record<string, { members: number; cost: number }> = {}
  for (const name of names) byArm[name] = { members: 0, cost: 0 }
  const out: TargetRow[] = []
  for (let i = 0; i < n; i++) {
    const k = choice[i] as number
    if (k < 0) continue
    const name = names[k] as string
    const entry = byArm[name] as { members: number; cost: number }
    entry.members++
    entry.cost += est.cost[k]?.[i] as number
    out.push({
      memberId: now.f.member_id[i] as number,
      arm: name,
      uplift: est.uplift[k]?.[i] as number,
      orderValue: now.value[i] as number,
      cost: est.cost[k]?.[i] as number,
      net: est.net[k]?.[i] as number,
    })
  }
  out.sort((a, b) => b.net / b.cost - a.net / a.cost || a.memberId - b.memberId)
  return {
    campaignId: campaign.campaignId,
    campaignStart: campaign.start,
    cutoff,
    horizonDays: arms.horizon_days,
    asOf,
    learner,
    budget: options.budget,
    randomised,
    qini,
    candidates,
    excludedNonPositive: excluded,
    policy: {
      members: out.length,
      retained: interval(t.retained, draws.retained),
      revenue: interval(t.revenue, draws.revenue),
      cost: interval(t.cost, draws.cost),
      net: interval(t.revenue - t.cost, draws.net),
      roi: t.cost > 0 ? interval((t.revenue - t.cost) / t.cost, draws.roi) : null,
      byArm,
    },
    rows: out,
    internals: {
      memberId: now.f.member_id,
      estimates: est,
      value: now.value,
      choice,
      eligible: okValue,
      X: now.X,
    },
  }
}

/** The per-member estimates behind a plan, for comparing policies (not part of the JSON output). */
export interface PlanInternals {
  readonly memberId: Float64Array
  readonly estimates: Estimates
  readonly value: Float64Array
  readonly choice: Int32Array
  readonly eligible: (i: number) => boolean
  /** Features of every member now (row-major, {@link TARGETING_FEATURES}). */
  readonly X: Float64Array
}

/** The expected outcome of sending one arm to every member of a segment (before launch). */
export interface CampaignSimulation {
  /** The randomised campaign the models learned from. */
  readonly learnedFrom: string
  readonly asOf: string
  readonly learner: UpliftLearner
  readonly arm: string
  readonly members: number
  /** Expected cost by part (point estimates): contact, coupon face value × P(redeem), points at liability. */
  readonly costParts: {
    readonly contact: number
    readonly coupons: number
    readonly points: number
  }
  readonly expectedRedemptions: number
  readonly cost: Interval
  /** Expected members retained (bought in the horizon) because of the arm. */
  readonly retained: Interval
  /** Expected incremental value: retained × the member's expected order value. */
  readonly value: Interval
  readonly net: Interval
  readonly roi: Interval | null
  /**
   * For a coupon arm, the redemption rate at which the expected value pays for the expected cost (holding
   * the uplift fixed): (value − contact − points) ÷ (coupon value × members); null without a coupon.
   * Above 1 the arm pays even if every coupon is used; below 0 it never pays.
   */
  readonly breakEvenRedemptionRate: number | null
}

/** Sums of one arm's parts over the chosen members. */
function armSums(
  fitted: Fitted,
  arm: ArmConfig,
  k: number,
  X: Float64Array,
  value: Float64Array,
  rows: readonly number[],
): {
  contact: number
  coupons: number
  points: number
  redemptions: number
  retained: number
  value: number
} {
  const pred = predictUplift(fitted.uplift, X)
  const up = pred.uplift[k] as Float64Array
  const model = fitted.redeem[k] ?? null
  const redeem = model === null ? null : predictLogistic(model, X)
  const perYuan = (arm.points_multiplier - 1) * arm.points_per_yuan * arm.point_value
  const out = { contact: 0, coupons: 0, points: 0, redemptions: 0, retained: 0, value: 0 }
  for (const i of rows) {
    const u = up[i] as number
    const v = value[i] as number
    const buy = Math.min(1, Math.max(0, (pred.control[i] as number) + u))
    const r = redeem === null ? 0 : (redeem[i] as number)
    out.contact += arm.contact_cost
    out.coupons += arm.coupon_value * r
    out.redemptions += arm.coupon_value > 0 ? r : 0
    out.points += perYuan * buy * v
    out.retained += u
    out.value += u * v
  }
  return out
}

/**
 * Simulates sending `arm` to every member of `members` (all members with a purchase when omitted) with
 * the uplift and redemption models learned from the randomised campaign of the arms file; intervals are
 * bootstrap percentiles over refits on resampled campaign members.
 */
export async function simulateCampaign(
  driver: DuckDbDriver,
  arms: ArmsFile,
  options: {
    readonly arm: string
    readonly members?: ReadonlySet<number>
    readonly learner?: UpliftLearner
    readonly asOf?: string
    readonly bootstrap?: number
    readonly seed?: number
  },
): Promise<CampaignSimulation> {
  const names = Object.keys(arms.arms)
  const k = names.indexOf(options.arm)
  const config = arms.arms[options.arm]
  if (k < 0 || config === undefined) {
    throw InputError.single({
      field: 'arm',
      value: options.arm,
      reason: `not an arm of the arms file (${names.join(', ')})`,
    })
  }
  const { learner, asOf, campaign, all } = await prepareTraining(driver, arms, options)
  const fitted = fitAll(all, learner)
  const now = await membersAt(driver, asOf)
  const rows: number[] = []
  for (let i = 0; i < now.f.member_id.length; i++) {
    if (!Number.isFinite(now.value[i])) continue
    if (options.members !== undefined && !options.members.has(now.f.member_id[i] as number))
      continue
    rows.push(i)
  }
  const point = armSums(fitted, config, k, now.X, now.value, rows)
  const B = options.bootstrap ?? 50
  const random = seededRandom(options.seed ?? 1)
  const draws = { cost: [] as number[], retained: [] as number[], value: [] as number[] }
  const draws2 = { net: [] as number[], roi: [] as number[] }
  const m = all.data.y.length
  for (let b = 0; b < B && rows.length > 0; b++) {
    const idx = Array.from({ length: m }, () => Math.floor(random() * m))
    const s = armSums(fitAll(subset(all, idx), learner), config, k, now.X, now.value, rows)
    const cost = s.contact + s.coupons + s.points
    draws.cost.push(cost)
    draws.retained.push(s.retained)
    draws.value.push(s.value)
    draws2.net.push(s.value - cost)
    if (cost > 0) draws2.roi.push((s.value - cost) / cost)
  }
  const cost = point.contact + point.coupons + point.points
  const faceTotal = config.coupon_value * rows.length
  return {
    learnedFrom: campaign.campaignId,
    asOf,
    learner,
    arm: options.arm,
    members: rows.length,
    costParts: { contact: point.contact, coupons: point.coupons, points: point.points },
    expectedRedemptions: point.redemptions,
    cost: interval(cost, draws.cost),
    retained: interval(point.retained, draws.retained),
    value: interval(point.value, draws.value),
    net: interval(point.value - cost, draws2.net),
    roi: cost > 0 ? interval((point.value - cost) / cost, draws2.roi) : null,
    breakEvenRedemptionRate:
      faceTotal > 0 ? (point.value - point.contact - point.points) / faceTotal : null,
  }
}
