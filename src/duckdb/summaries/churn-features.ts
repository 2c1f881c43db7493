/**
 * Per-member behaviour at a cutoff day, for churn-risk scoring and early-warning rules: purchase recency
 * against the member's own cadence, purchase and session trends, order value against the member's own
 * baseline, logins, complaints, returns, negative reviews and NPS, plus the time-split label (no purchase
 * in the H days after the cutoff). One query, fetched into Float64Arrays.
 *
 * Windows (days, cutoff inclusive): purchases and feedback compare (c−90, c] with (c−180, c−90]; sessions
 * and page views compare (c−30, c] with (c−90, c−30] (60 days, halved when compared). The AOV baseline is
 * every order up to c−90. A complaint is feedback of kind `complaint` or `support_ticket`; a negative
 * review is a `review` scored ≤ 2. Population: members with a purchase on or before the cutoff.
 * `cadence_days` is the mean gap between purchase days (span ÷ gaps), a model feature; `median_gap_days` the
 * median of the gaps, the member's own cadence for the early warning (one long pause does not stretch it).
 *
 * For the churn-reason classes, the year to the cutoff (c−365, c]: complaints, low CSAT (≤ 2) and negative
 * reviews, the mean NPS answer, orders and returns, and the returns whose reason is a fault of the goods or
 * the service (any reason that is not a change of mind, see {@link CHANGE_OF_MIND}).
 * @module
 */
import type { DuckDbDriver } from '../driver.js'
import { join, sql } from '../../engine/sql/fragment.js'
import { fetchFloat64Columns } from '../../engine/summaries/columns.js'
import { parseDay } from '../../engine/summaries/repeat-buying.js'

export const CHURN_FEATURE_COLUMNS = [
  'member_id',
  'recency_days',
  'cadence_days',
  'median_gap_days',
  'purchase_days',
  'purchases_90',
  'purchases_prev_90',
  'aov_90',
  'aov_baseline',
  'sessions_30',
  'sessions_prev_60',
  'page_views_30',
  'page_views_prev_60',
  'days_since_login',
  'tenure_days',
  'complaints_90',
  'complaints_prev_90',
  'returns_90',
  'negative_reviews_90',
  'last_nps',
  'coupon_share',
  'complaints_365',
  'low_csat_365',
  'negative_reviews_365',
  'nps_mean_365',
  'orders_365',
  'returns_365',
  'service_returns_365',
  'churned',
] as const

/**
 * Return reasons that blame no one (the buyer changed their mind); every other stated reason counts as a
 * fault of the goods or the service. Matched case-insensitively as substrings.
 */
export const CHANGE_OF_MIND: readonly string[] = [
  '不想要',
  '不喜欢',
  '拍错',
  '买错',
  '无理由',
  'changed my mind',
  'change of mind',
  'no longer needed',
  'not needed',
  'ordered by mistake',
]
export type ChurnFeatureColumn = (typeof CHURN_FEATURE_COLUMNS)[number]

/** Raw columns (NaN where a member has no value, e.g. no NPS answer; `churned` NaN without a label). */
export type ChurnFeatureTable = Readonly<Record<ChurnFeatureColumn, Float64Array>>

/**
 * Features at `cutoff` (YYYY-MM-DD). With `horizonDays`, `churned` = 1 when the member has no purchase in
 * (cutoff, cutoff + H], else 0 (the caller makes sure the data reach that far). Ordered by member_id.
 */
export async function churnFeatures(
  driver: DuckDbDriver,
  cutoff: string,
  horizonDays?: number,
): Promise<ChurnFeatureTable> {
  parseDay(cutoff, 'cutoff')
  const h = horizonDays ?? null
  const c = sql`CAST(${cutoff} AS DATE)`
  const changeOfMind = join(
    CHANGE_OF_MIND.map((w) => sql`contains(lower(reason), ${w})`),
    ' OR ',
  )
  const q = sql`WITH
    days AS (SELECT member_id, CAST(ordered_at AS DATE) AS day, sum(net_amount)::DOUBLE AS value, count(*) AS orders,
               count(coupon_id) AS coupon_orders
             FROM orders WHERE status <> 'cancelled' AND member_id IS NOT NULL GROUP BY 1, 2),
    p AS (SELECT member_id,
            date_diff('day', max(day) FILTER (WHERE day <= ${c}), ${c}) AS recency_days,
            CASE WHEN count(*) FILTER (WHERE day <= ${c}) >= 2
              THEN date_diff('day', min(day), max(day) FILTER (WHERE day <= ${c}))::DOUBLE
                   / (count(*) FILTER (WHERE day <= ${c}) - 1) END AS cadence_days,
            count(*) FILTER (WHERE day <= ${c}) AS purchase_days,
            count(*) FILTER (WHERE day > ${c} - 90 AND day <= ${c}) AS purchases_90,
            count(*) FILTER (WHERE day > ${c} - 180 AND day <= ${c} - 90) AS purchases_prev_90,
            sum(value) FILTER (WHERE day > ${c} - 90 AND day <= ${c})
              / sum(orders) FILTER (WHERE day > ${c} - 90 AND day <= ${c}) AS aov_90,
            sum(value) FILTER (WHERE day <= ${c} - 90) / sum(orders) FILTER (WHERE day <= ${c} - 90) AS aov_baseline,
            sum(coupon_orders) FILTER (WHERE day <= ${c})::DOUBLE / sum(orders) FILTER (WHERE day <= ${c}) AS coupon_share,
            sum(orders) FILTER (WHERE day > ${c} - 365 AND day <= ${c}) AS orders_365,
            CASE WHEN ${h}::INTEGER IS NULL THEN NULL
              WHEN count(*) FILTER (WHERE day > ${c} AND day <= ${c} + ${h}::INTEGER) > 0 THEN 0 ELSE 1 END AS churned
          FROM days GROUP BY member_id HAVING min(day) <= ${c}),
    g AS (SELECT member_id, quantile_cont(gap, 0.5) AS median_gap_days FROM (
            SELECT member_id, date_diff('day', lag(day) OVER (PARTITION BY member_id ORDER BY day), day)::DOUBLE AS gap
            FROM days WHERE day <= ${c}) WHERE gap IS NOT NULL GROUP BY member_id),
    e AS (SELECT member_id,
            count(*) FILTER (WHERE event_type = 'session_start' AND ts >= ${c} - 29) AS sessions_30,
            count(*) FILTER (WHERE event_type = 'session_start' AND ts < ${c} - 29 AND ts >= ${c} - 89) AS sessions_prev_60,
            count(*) FILTER (WHERE event_type = 'page_view' AND ts >= ${c} - 29) AS page_views_30,
            count(*) FILTER (WHERE event_type = 'page_view' AND ts < ${c} - 29 AND ts >= ${c} - 89) AS page_views_prev_60,
            date_diff('day', CAST(max(ts) FILTER (WHERE event_type = 'login') AS DATE), ${c}) AS days_since_login
          FROM events WHERE ts < ${c} + 1 AND member_id IS NOT NULL GROUP BY member_id),
    f AS (SELECT member_id,
            count(*) FILTER (WHERE kind IN ('complaint', 'support_ticket') AND ts >= ${c} - 89) AS complaints_90,
            count(*) FILTER (WHERE kind IN ('complaint', 'support_ticket') AND ts < ${c} - 89 AND ts >= ${c} - 179) AS complaints_prev_90,
            count(*) FILTER (WHERE kind = 'review' AND score <= 2 AND ts >= ${c} - 89) AS negative_reviews_90,
            arg_max(score, ts) FILTER (WHERE kind = 'nps' AND score IS NOT NULL) AS last_nps,
            count(*) FILTER (WHERE kind IN ('complaint', 'support_ticket') AND ts >= ${c} - 364) AS complaints_365,
            count(*) FILTER (WHERE kind = 'csat' AND score <= 2 AND ts >= ${c} - 364) AS low_csat_365,
            count(*) FILTER (WHERE kind = 'review' AND score <= 2 AND ts >= ${c} - 364) AS negative_reviews_365,
            avg(score) FILTER (WHERE kind = 'nps' AND score IS NOT NULL AND ts >= ${c} - 364) AS nps_mean_365
          FROM feedback WHERE ts < ${c} + 1 AND member_id IS NOT NULL GROUP BY member_id),
    r AS (SELECT member_id, count(*) FILTER (WHERE returned_at >= ${c} - 89) AS returns_90,
            count(*) AS returns_365,
            count(*) FILTER (WHERE reason IS NOT NULL AND trim(reason) <> '' AND NOT (${changeOfMind})) AS service_returns_365
          FROM returns
          WHERE returned_at < ${c} + 1 AND returned_at >= ${c} - 364 AND member_id IS NOT NULL GROUP BY member_id)
    SELECT p.member_id::DOUBLE AS member_id, p.recency_days::DOUBLE AS recency_days, p.cadence_days::DOUBLE AS cadence_days,
      g.median_gap_days::DOUBLE AS median_gap_days, p.purchase_days::DOUBLE AS purchase_days, p.purchases_90::DOUBLE AS purchases_90,
      p.purchases_prev_90::DOUBLE AS purchases_prev_90, p.aov_90::DOUBLE AS aov_90, p.aov_baseline::DOUBLE AS aov_baseline,
      coalesce(e.sessions_30, 0)::DOUBLE AS sessions_30, coalesce(e.sessions_prev_60, 0)::DOUBLE AS sessions_prev_60,
      coalesce(e.page_views_30, 0)::DOUBLE AS page_views_30, coalesce(e.page_views_prev_60, 0)::DOUBLE AS page_views_prev_60,
      e.days_since_login::DOUBLE AS days_since_login,
      date_diff('day', CAST(m.registered_at AS DATE), ${c})::DOUBLE AS tenure_days,
      coalesce(f.complaints_90, 0)::DOUBLE AS complaints_90, coalesce(f.complaints_prev_90, 0)::DOUBLE AS complaints_prev_90,
      coalesce(r.returns_90, 0)::DOUBLE AS returns_90, coalesce(f.negative_reviews_90, 0)::DOUBLE AS negative_reviews_90,
      f.last_nps::DOUBLE AS last_nps, p.coupon_share::DOUBLE AS coupon_share,
      coalesce(f.complaints_365, 0)::DOUBLE AS complaints_365, coalesce(f.low_csat_365, 0)::DOUBLE AS low_csat_365,
      coalesce(f.negative_reviews_365, 0)::DOUBLE AS negative_reviews_365, f.nps_mean_365::DOUBLE AS nps_mean_365,
      coalesce(p.orders_365, 0)::DOUBLE AS orders_365, coalesce(r.returns_365, 0)::DOUBLE AS returns_365,
      coalesce(r.service_returns_365, 0)::DOUBLE AS service_returns_365,
      p.churned::DOUBLE AS churned
    FROM p LEFT JOIN members m USING (member_id) LEFT JOIN g USING (member_id) LEFT JOIN e USING (member_id) LEFT JOIN f USING (member_id)
      LEFT JOIN r USING (member_id)
    ORDER BY p.member_id`
  return fetchFloat64Columns(driver, q, CHURN_FEATURE_COLUMNS)
}
