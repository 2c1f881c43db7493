/**
 * The overview printed by the main job: members, buyers, revenue and activity for one calendar month and for
 * all time, computed in one query inside the engine.
 *
 * Definitions (DOMAIN §2): a purchase is an order whose status is not `cancelled` (refunds are subtracted
 * through the returns table, so a refunded order still counts as a purchase and its money leaves revenue when
 * the return is recorded); net revenue = Σ net_amount of purchases − Σ returns, each in the period of its own
 * timestamp; an active member has ≥1 event or purchase in the period; repurchase rate = buyers with ≥2
 * purchases in the period / buyers in the period.
 * @module
 */
import { InputError } from '../../core/errors.js'
import type { Driver } from '../drivers/driver.js'
import { sql, type Fragment } from '../sql/fragment.js'

export interface Overview {
  /** First day of the month reported (YYYY-MM-DD). */
  readonly month: string
  readonly membersAtMonthEnd: number
  readonly newMembers: number
  readonly activeMembers: number
  readonly buyers: number
  readonly orders: number
  readonly netRevenue: number
  readonly returnsAmount: number
  readonly averageOrderValue: number | null
  readonly repurchaseRate: number | null
  readonly allTime: {
    readonly members: number
    readonly buyers: number
    readonly orders: number
    readonly netRevenue: number
    readonly identities: number
    readonly mergedMembers: number
    readonly firstActivity: string | null
    readonly lastActivity: string | null
  }
}

/** The month of the latest order or event (first day, YYYY-MM-DD), or null when there is no activity. */
export function buildLatestMonthQuery(): Fragment {
  return sql`SELECT strftime(date_trunc('month', max(ts)), '%Y-%m-%d') AS month FROM (
    SELECT max(ordered_at) AS ts FROM orders UNION ALL SELECT max(ts) FROM events)`
}

/** One row with every field of {@link Overview} (snake_case) for the month starting at `monthStart`. */
export function buildOverviewQuery(monthStart: string): Fragment {
  return sql`WITH bounds AS (
      SELECT ${monthStart}::DATE::TIMESTAMP AS lo, (${monthStart}::DATE + INTERVAL 1 MONTH)::TIMESTAMP AS hi
    ), purchases AS (
      SELECT member_id, ordered_at, net_amount FROM orders WHERE status <> 'cancelled'
    ), in_month AS (
      SELECT p.* FROM purchases p, bounds b WHERE p.ordered_at >= b.lo AND p.ordered_at < b.hi
    ), per_buyer AS (
      SELECT member_id, count(*) AS n FROM in_month GROUP BY member_id
    ), active AS (
      SELECT member_id FROM in_month
      UNION SELECT e.member_id FROM events e, bounds b WHERE e.ts >= b.lo AND e.ts < b.hi
    ), returned AS (
      SELECT coalesce(sum(r.amount), 0) AS amount FROM returns r, bounds b WHERE r.returned_at >= b.lo AND r.returned_at < b.hi
    )
    SELECT ${monthStart} AS month,
      (SELECT count(*) FROM members m, bounds b WHERE m.registered_at < b.hi) AS members_at_month_end,
      (SELECT count(*) FROM members m, bounds b WHERE m.registered_at >= b.lo AND m.registered_at < b.hi) AS new_members,
      (SELECT count(*) FROM active) AS active_members,
      (SELECT count(*) FROM per_buyer) AS buyers,
      (SELECT count(*) FROM in_month) AS orders,
      ((SELECT coalesce(sum(net_amount), 0) FROM in_month) - (SELECT amount FROM returned))::DOUBLE AS net_revenue,
      (SELECT amount FROM returned)::DOUBLE AS returns_amount,
      (((SELECT coalesce(sum(net_amount), 0) FROM in_month) - (SELECT amount FROM returned))
        / nullif((SELECT count(*) FROM in_month), 0))::DOUBLE AS average_order_value,
      ((SELECT count(*) FROM per_buyer WHERE n >= 2) / nullif((SELECT count(*) FROM per_buyer), 0))::DOUBLE AS repurchase_rate,
      (SELECT count(*) FROM members) AS all_members,
      (SELECT count(DISTINCT member_id) FROM purchases) AS all_buyers,
      (SELECT count(*) FROM purchases) AS all_orders,
      ((SELECT coalesce(sum(net_amount), 0) FROM purchases) - (SELECT coalesce(sum(amount), 0) FROM returns))::DOUBLE AS all_net_revenue,
      (SELECT count(*) FROM identities) AS all_identities,
      (SELECT count(*) FROM member_merges) AS all_merged,
      (SELECT strftime(min(t), '%Y-%m-%d') FROM (SELECT min(ordered_at) AS t FROM orders UNION ALL SELECT min(ts) FROM events)) AS first_activity,
      (SELECT strftime(max(t), '%Y-%m-%d') FROM (SELECT max(ordered_at) AS t FROM orders UNION ALL SELECT max(ts) FROM events)) AS last_activity`
}

/** Shapes the row of {@link buildOverviewQuery} (camelCase keys from the driver). */
export function toOverview(row: Record<string, unknown>): Overview {
  const n = (k: string): number => Number(row[k] ?? 0)
  const nn = (k: string): number | null =>
    row[k] === null || row[k] === undefined ? null : Number(row[k])
  return {
    month: String(row['month']),
    membersAtMonthEnd: n('membersAtMonthEnd'),
    newMembers: n('newMembers'),
    activeMembers: n('activeMembers'),
    buyers: n('buyers'),
    orders: n('orders'),
    netRevenue: n('netRevenue'),
    returnsAmount: n('returnsAmount'),
    averageOrderValue: nn('averageOrderValue'),
    repurchaseRate: nn('repurchaseRate'),
    allTime: {
      members: n('allMembers'),
      buyers: n('allBuyers'),
      orders: n('allOrders'),
      netRevenue: n('allNetRevenue'),
      identities: n('allIdentities'),
      mergedMembers: n('allMerged'),
      firstActivity: (row['firstActivity'] as string | null) ?? null,
      lastActivity: (row['lastActivity'] as string | null) ?? null,
    },
  }
}

/**
 * The overview for a month (`YYYY-MM`), by default the month of the latest activity; undefined when the
 * database holds no orders or events.
 */
export async function getOverview(driver: Driver, month?: string): Promise<Overview | undefined> {
  let start: string
  if (month === undefined) {
    const latest = await driver.first<{ month: string | null }>(buildLatestMonthQuery())
    if (!latest?.month) return undefined
    start = latest.month
  } else {
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) {
      throw InputError.single({ field: 'month', value: month, reason: 'expected YYYY-MM' })
    }
    start = `${month}-01`
  }
  const row = await driver.first(buildOverviewQuery(start))
  return row === undefined ? undefined : toOverview(row)
}
