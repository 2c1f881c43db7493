/**
 * Voice-of-the-member queries: answer counts of NPS, CSAT and reviews per period (and dimension), service
 * counts per period (active members, tickets, complaints, returns), return reasons, feedback texts, and
 * the units of the complaint → churn comparison.
 *
 * Periods are UTC calendar periods (`date_trunc`); a purchase is an order whose status is not cancelled;
 * active = ≥ 1 purchase or event in the period (docs/metrics.md).
 * @module
 */
import { InputError } from '../../core/errors.js'
import type { DuckDbDriver } from '../driver.js'
import { ident, join, sql, unsafeRaw, type Fragment } from '../../engine/sql/fragment.js'

export const VOICE_GRAINS = ['week', 'month', 'quarter', 'year'] as const
export type VoiceGrain = (typeof VOICE_GRAINS)[number]

/** Dimensions answers can be split by: the feedback channel or a member field. */
export const VOICE_DIMENSIONS = ['channel', 'registration_channel', 'region'] as const
export type VoiceDimension = (typeof VOICE_DIMENSIONS)[number]

/** A date range [from, to) as YYYY-MM-DD. */
export interface DateRange {
  readonly from: string
  readonly to: string
}

function grainSql(grain: VoiceGrain): Fragment {
  if (!VOICE_GRAINS.includes(grain))
    throw InputError.single({
      field: 'grain',
      value: grain,
      reason: `one of ${VOICE_GRAINS.join(', ')}`,
    })
  return unsafeRaw(`'${grain}'`)
}

function dimensionSql(by: VoiceDimension | undefined): Fragment {
  if (by === undefined) return sql`'all'`
  if (!VOICE_DIMENSIONS.includes(by))
    throw InputError.single({
      field: 'by',
      value: by,
      reason: `one of ${VOICE_DIMENSIONS.join(', ')}`,
    })
  return by === 'channel'
    ? sql`coalesce(f.channel, '(none)')`
    : sql`coalesce(CAST(m.${ident(by)} AS VARCHAR), '(none)')`
}

const range = (col: Fragment, r: DateRange) =>
  sql`${col} >= CAST(${r.from} AS TIMESTAMP) AND ${col} < CAST(${r.to} AS TIMESTAMP)`

/** Counts behind NPS, CSAT and review ratings for one period × dimension value. */
export interface AnswerCounts {
  readonly period: string
  readonly dimension: string
  readonly npsN: number
  readonly promoters: number
  readonly passives: number
  readonly detractors: number
  readonly csatN: number
  /** CSAT answers scoring 4–5. */
  readonly csatSatisfied: number
  readonly reviewN: number
  readonly reviewSum: number
  readonly reviewSumSq: number
  /** Reviews scoring 1–2. */
  readonly reviewNegative: number
}

/** NPS, CSAT and review answer counts per period and dimension value. */
export async function answerCounts(
  driver: DuckDbDriver,
  r: DateRange,
  grain: VoiceGrain,
  by?: VoiceDimension,
): Promise<AnswerCounts[]> {
  const rows =
    await driver.all(sql`SELECT strftime(date_trunc(${grainSql(grain)}, f.ts), '%Y-%m-%d') AS period,
      ${dimensionSql(by)} AS dimension,
      count(*) FILTER (WHERE f.kind = 'nps' AND f.score IS NOT NULL) AS nps_n,
      count(*) FILTER (WHERE f.kind = 'nps' AND f.score >= 9) AS promoters,
      count(*) FILTER (WHERE f.kind = 'nps' AND f.score >= 7 AND f.score < 9) AS passives,
      count(*) FILTER (WHERE f.kind = 'nps' AND f.score < 7) AS detractors,
      count(*) FILTER (WHERE f.kind = 'csat' AND f.score IS NOT NULL) AS csat_n,
      count(*) FILTER (WHERE f.kind = 'csat' AND f.score >= 4) AS csat_satisfied,
      count(*) FILTER (WHERE f.kind = 'review' AND f.score IS NOT NULL) AS review_n,
      coalesce(sum(f.score) FILTER (WHERE f.kind = 'review'), 0)::DOUBLE AS review_sum,
      coalesce(sum(f.score * f.score) FILTER (WHERE f.kind = 'review'), 0)::DOUBLE AS review_sum_sq,
      count(*) FILTER (WHERE f.kind = 'review' AND f.score <= 2) AS review_negative
    FROM feedback f LEFT JOIN members m ON m.member_id = f.member_id
    WHERE ${range(sql`f.ts`, r)} AND f.kind IN ('nps', 'csat', 'review')
    GROUP BY 1, 2 ORDER BY 1, 2`)
  return rows.map((x) => ({
    period: String(x['period']),
    dimension: String(x['dimension']),
    npsN: Number(x['npsN']),
    promoters: Number(x['promoters']),
    passives: Number(x['passives']),
    detractors: Number(x['detractors']),
    csatN: Number(x['csatN']),
    csatSatisfied: Number(x['csatSatisfied']),
    reviewN: Number(x['reviewN']),
    reviewSum: Number(x['reviewSum']),
    reviewSumSq: Number(x['reviewSumSq']),
    reviewNegative: Number(x['reviewNegative']),
  }))
}

/** Service counts of one period. */
export interface ServiceCounts {
  readonly period: string
  readonly activeMembers: number
  readonly tickets: number
  readonly complaints: number
  /** Active members with at least one complaint in the period. */
  readonly complainers: number
  readonly orders: number
  readonly spend: number
  readonly returnedOrders: number
  readonly returnedAmount: number
}

/** Active members, support tickets, complaints and returns per period. */
export async function serviceCounts(
  driver: DuckDbDriver,
  r: DateRange,
  grain: VoiceGrain,
): Promise<ServiceCounts[]> {
  const g = grainSql(grain)
  const rows = await driver.all(sql`WITH
    act AS (SELECT date_trunc(${g}, ordered_at) AS p, member_id FROM orders
              WHERE status <> 'cancelled' AND ${range(sql`ordered_at`, r)}
            UNION SELECT date_trunc(${g}, ts), member_id FROM events WHERE ${range(sql`ts`, r)}),
    a AS (SELECT p, count(DISTINCT member_id) AS active_members FROM act GROUP BY p),
    f AS (SELECT date_trunc(${g}, ts) AS p,
            count(*) FILTER (WHERE kind = 'support_ticket') AS tickets,
            count(*) FILTER (WHERE kind = 'complaint') AS complaints
          FROM feedback WHERE ${range(sql`ts`, r)} GROUP BY 1),
    c AS (SELECT act.p, count(DISTINCT fb.member_id) AS complainers FROM feedback fb
            JOIN act ON act.member_id = fb.member_id AND act.p = date_trunc(${g}, fb.ts)
          WHERE fb.kind = 'complaint' AND ${range(sql`fb.ts`, r)} GROUP BY 1),
    o AS (SELECT date_trunc(${g}, ordered_at) AS p, count(*) AS orders, sum(net_amount)::DOUBLE AS spend
          FROM orders WHERE status <> 'cancelled' AND ${range(sql`ordered_at`, r)} GROUP BY 1),
    rt AS (SELECT date_trunc(${g}, returned_at) AS p, count(DISTINCT order_id) AS returned_orders,
             sum(amount)::DOUBLE AS returned_amount
           FROM returns WHERE ${range(sql`returned_at`, r)} GROUP BY 1)
    SELECT strftime(a.p, '%Y-%m-%d') AS period, a.active_members, coalesce(f.tickets, 0) AS tickets,
      coalesce(f.complaints, 0) AS complaints, coalesce(c.complainers, 0) AS complainers,
      coalesce(o.orders, 0) AS orders, coalesce(o.spend, 0) AS spend,
      coalesce(rt.returned_orders, 0) AS returned_orders, coalesce(rt.returned_amount, 0) AS returned_amount
    FROM a LEFT JOIN f ON f.p = a.p LEFT JOIN c ON c.p = a.p LEFT JOIN o ON o.p = a.p LEFT JOIN rt ON rt.p = a.p
    ORDER BY a.p`)
  return rows.map((x) => ({
    period: String(x['period']),
    activeMembers: Number(x['activeMembers']),
    tickets: Number(x['tickets']),
    complaints: Number(x['complaints']),
    complainers: Number(x['complainers']),
    orders: Number(x['orders']),
    spend: Number(x['spend']),
    returnedOrders: Number(x['returnedOrders']),
    returnedAmount: Number(x['returnedAmount']),
  }))
}

/** Returns by reason in the range. */
export async function returnReasons(
  driver: DuckDbDriver,
  r: DateRange,
): Promise<{ reason: string; returns: number; amount: number }[]> {
  const rows =
    await driver.all(sql`SELECT coalesce(reason, '(none)') AS reason, count(*) AS returns,
      coalesce(sum(amount), 0)::DOUBLE AS amount
    FROM returns WHERE ${range(sql`returned_at`, r)} GROUP BY 1 ORDER BY 2 DESC, 1`)
  return rows.map((x) => ({
    reason: String(x['reason']),
    returns: Number(x['returns']),
    amount: Number(x['amount']),
  }))
}

/** One feedback text. */
export interface FeedbackText {
  readonly feedbackId: string
  readonly memberId: number | null
  readonly ts: string
  readonly kind: string
  readonly score: number | null
  readonly channel: string | null
  readonly text: string
}

/** Feedback rows with text in the range, optionally of some kinds only. */
export async function feedbackTexts(
  driver: DuckDbDriver,
  r: DateRange,
  kinds?: readonly string[],
): Promise<FeedbackText[]> {
  const kindFilter = kinds && kinds.length > 0 ? sql`AND kind IN (${join(kinds)})` : sql``
  const rows = await driver.all(sql`SELECT feedback_id, member_id::DOUBLE AS member_id,
      strftime(ts, '%Y-%m-%dT%H:%M:%SZ') AS ts, kind, score::DOUBLE AS score, channel, text
    FROM feedback WHERE ${range(sql`ts`, r)} AND text IS NOT NULL AND trim(text) <> '' ${kindFilter}
    ORDER BY ts, feedback_id`)
  return rows.map((x) => ({
    feedbackId: String(x['feedbackId']),
    memberId: x['memberId'] === null ? null : Number(x['memberId']),
    ts: String(x['ts']),
    kind: String(x['kind']),
    score: x['score'] === null ? null : Number(x['score']),
    channel: x['channel'] === null ? null : String(x['channel']),
    text: String(x['text']),
  }))
}

/**
 * Units of the complaint → churn comparison (columns member_id, arm_name, t0): members whose first
 * complaint in [from, to) starts their clock (arm `complaint`), and members with no complaint from 90 days
 * before `from` to `windowDays` after `to` (arm `pool`), each with a t0 spread evenly over [from, to) by a
 * hash of the member id, registered before it.
 */
export function complaintUnits(r: DateRange, windowDays: number): Fragment {
  const from = sql`CAST(${r.from} AS TIMESTAMP)`
  const to = sql`CAST(${r.to} AS TIMESTAMP)`
  return sql`WITH c AS (SELECT member_id, min(ts) AS t0 FROM feedback
        WHERE kind = 'complaint' AND member_id IS NOT NULL AND ts >= ${from} AND ts < ${to} GROUP BY 1),
      excluded AS (SELECT DISTINCT member_id FROM feedback WHERE kind = 'complaint'
        AND ts >= ${from} - INTERVAL 90 DAY AND ts < ${to} + to_days(${windowDays}::INTEGER)),
      span AS (SELECT greatest(1, date_diff('second', ${from}, ${to})) AS s)
    SELECT member_id, 'complaint' AS arm_name, t0 FROM c
    UNION ALL
    SELECT m.member_id, 'pool' AS arm_name,
      ${from} + to_seconds((hash(m.member_id) % span.s)::BIGINT) AS t0
    FROM members m CROSS JOIN span
    WHERE m.member_id NOT IN (SELECT member_id FROM excluded WHERE member_id IS NOT NULL)
      AND m.registered_at < ${from} + to_seconds((hash(m.member_id) % span.s)::BIGINT)`
}

/** Members with negative signals in [from, to): complaints, low NPS, negative reviews, tickets. */
export interface MemberSignals {
  readonly memberId: number
  readonly complaints: number
  readonly tickets: number
  readonly negativeReviews: number
  readonly lastNps: number | null
  readonly lastFeedbackAt: string
  readonly lastPurchaseAt: string | null
}

/** Per member: counts of negative feedback in the range and the last NPS and purchase. */
export async function memberSignals(driver: DuckDbDriver, r: DateRange): Promise<MemberSignals[]> {
  const rows = await driver.all(sql`WITH f AS (SELECT member_id,
        count(*) FILTER (WHERE kind = 'complaint') AS complaints,
        count(*) FILTER (WHERE kind = 'support_ticket') AS tickets,
        count(*) FILTER (WHERE kind = 'review' AND score <= 2) AS negative_reviews,
        arg_max(score, ts) FILTER (WHERE kind = 'nps') AS last_nps,
        max(ts) AS last_feedback_at
      FROM feedback WHERE member_id IS NOT NULL AND ${range(sql`ts`, r)} GROUP BY 1),
      o AS (SELECT member_id, max(ordered_at) AS last_purchase_at FROM orders
        WHERE status <> 'cancelled' AND member_id IN (SELECT member_id FROM f) GROUP BY 1)
    SELECT f.member_id::DOUBLE AS member_id, f.complaints, f.tickets, f.negative_reviews,
      f.last_nps::DOUBLE AS last_nps, strftime(f.last_feedback_at, '%Y-%m-%dT%H:%M:%SZ') AS last_feedback_at,
      strftime(o.last_purchase_at, '%Y-%m-%dT%H:%M:%SZ') AS last_purchase_at
    FROM f LEFT JOIN o ON o.member_id = f.member_id
    WHERE f.complaints > 0 OR f.negative_reviews > 0 OR f.last_nps <= 6 OR f.tickets > 0
    ORDER BY f.member_id`)
  return rows.map((x) => ({
    memberId: Number(x['memberId']),
    complaints: Number(x['complaints']),
    tickets: Number(x['tickets']),
    negativeReviews: Number(x['negativeReviews']),
    lastNps: x['lastNps'] === null ? null : Number(x['lastNps']),
    lastFeedbackAt: String(x['lastFeedbackAt']),
    lastPurchaseAt: x['lastPurchaseAt'] === null ? null : String(x['lastPurchaseAt']),
  }))
}
