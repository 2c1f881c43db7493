/**
 * The per-member purchase summary that ingest keeps beside the member × day rollup (`duckdb/rollups/`), as
 * lifecycle stages and RFM see it: its tables, the query that computes it from `orders`, and whether it may
 * stand in for a scan of every purchase.
 *
 * `member_purchase_summary` holds one row per member with a purchase (an order not cancelled): the number of
 * purchases, the first and last purchase time, the median gap in days between consecutive purchases, the sum of
 * net amounts, and the latest purchase that ended a gap of at least `churn_days` (a return from churn, for the
 * churn threshold recorded in `member_purchase_state`). Each of these is what the raw lifecycle and RFM queries
 * compute per member from every purchase before their instant, so the summary answers for any instant after
 * the last purchase (the default instant is the day after the data's last activity).
 *
 * The summary is read only when it is current: `member_purchase_state` records the row count of `orders` it
 * was computed from, which must be the table's count now, and the time of the last purchase, which must lie
 * before the query's instant. Lifecycle stages read it only with the churn threshold it was computed for; RFM
 * only without a lookback window. Otherwise the raw tables are read.
 * @module
 */
import { tableExists, type Driver } from '../drivers/driver.js'
import { sql, type Fragment } from '../sql/fragment.js'
import { previousValue } from '../sql/window.js'
import { daysBetween } from '../cohorts/time-sql.js'

/** One row per member with a purchase. */
export const PURCHASE_SUMMARY_TABLE = 'member_purchase_summary'
/** One row: the `orders` row count, last purchase and churn threshold the summary was computed with. */
export const PURCHASE_SUMMARY_STATE_TABLE = 'member_purchase_state'
/** Key of the summary table. */
export const PURCHASE_SUMMARY_KEY = ['member_id'] as const
/** Key of the state table. */
export const PURCHASE_SUMMARY_STATE_KEY = ['churn_days'] as const
/** The churn threshold (days) the summary's `reactivated_at` is computed for: the lifecycle default. */
export const PURCHASE_SUMMARY_CHURN_DAYS = 365

/** What `member_purchase_state` records. */
export interface PurchaseSummaryState {
  readonly ordersRows: number
  /** The latest purchase time (UTC, `YYYY-MM-DD HH:MM:SS`), or null when there is none. */
  readonly lastPurchaseAt: string | null
  readonly churnDays: number
  readonly summaryRows: number
  readonly updatedAt: string
}

/**
 * The summary's rows computed from `orders`: for the members matched by `keep` (a condition over `member_id`
 * of the orders, aliased `o`), or every member.
 */
export function purchaseSummaryRows(
  keep?: Fragment,
  churnDays = PURCHASE_SUMMARY_CHURN_DAYS,
): Fragment {
  const also = keep === undefined ? sql`` : sql` AND ${keep}`
  return sql`SELECT member_id, count(*) AS purchases, min(ts) AS first_ts, max(ts) AS last_ts,
      median(gap) AS median_gap_days, sum(amount) AS net_amount,
      max(CASE WHEN gap >= ${churnDays} THEN ts END) AS reactivated_at
    FROM (
      SELECT member_id, ts, amount,
        ${daysBetween(previousValue(sql`ts`, sql`PARTITION BY member_id ORDER BY ts`), sql`ts`)} AS gap
      FROM (SELECT o.member_id, o.ordered_at AS ts, o.net_amount AS amount FROM orders o
        WHERE o.status <> 'cancelled' AND o.member_id IS NOT NULL${also}) p
    ) g
    GROUP BY member_id`
}

/** The recorded state, or undefined when the database has no summary. */
export async function readPurchaseSummaryState(
  driver: Driver,
): Promise<PurchaseSummaryState | undefined> {
  if (!(await tableExists(driver, PURCHASE_SUMMARY_STATE_TABLE))) return undefined
  if (!(await tableExists(driver, PURCHASE_SUMMARY_TABLE))) return undefined
  const r = await driver.first<{
    ordersRows: number | bigint
    lastPurchaseAt: unknown
    churnDays: number
    summaryRows: number | bigint
    updatedAt: unknown
  }>(sql`SELECT orders_rows, CAST(last_purchase_at AS VARCHAR) AS last_purchase_at, churn_days,
      summary_rows, CAST(updated_at AS VARCHAR) AS updated_at FROM member_purchase_state LIMIT 1`)
  if (r === undefined) return undefined
  return {
    ordersRows: Number(r.ordersRows),
    lastPurchaseAt: r.lastPurchaseAt === null ? null : String(r.lastPurchaseAt).slice(0, 19),
    churnDays: Number(r.churnDays),
    summaryRows: Number(r.summaryRows),
    updatedAt: String(r.updatedAt),
  }
}

/** Whether the summary was computed from `orders` as the table is now. */
export async function purchaseSummaryIsCurrent(driver: Driver): Promise<boolean> {
  const state = await readPurchaseSummaryState(driver)
  if (state === undefined) return false
  const r = await driver.first<{ n: number | bigint }>(sql`SELECT count(*) AS n FROM orders`)
  return Number(r?.n ?? 0) === state.ordersRows
}

/**
 * Whether a query as of `asOf` (normalised `YYYY-MM-DD HH:MM:SS`, UTC) may read the summary: it is current and
 * every purchase lies before `asOf`. `churnDays`, when given, must be the threshold it was computed for.
 */
export async function purchaseSummaryCovers(
  driver: Driver,
  asOf: string,
  churnDays?: number,
): Promise<boolean> {
  const state = await readPurchaseSummaryState(driver)
  if (state === undefined) return false
  if (churnDays !== undefined && churnDays !== state.churnDays) return false
  if (state.lastPurchaseAt !== null && !(state.lastPurchaseAt < asOf)) return false
  return purchaseSummaryIsCurrent(driver)
}

/** `YYYY-MM-DD HH:MM:SS` of `days` whole days (rounded up) plus one before `asOf`: a sargable lower bound. */
export function lowerBoundBefore(asOf: string, days: number): string {
  const t = Date.parse(`${asOf.replace(' ', 'T')}Z`) - (Math.ceil(days) + 1) * 86_400_000
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ')
}
