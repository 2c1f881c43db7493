/**
 * The overview printed by the main job: members, buyers, revenue and activity for one calendar month, read
 * from the metric catalog (so that the overview and `metrics get` cannot disagree), and all-time totals.
 *
 * Definitions (DOMAIN §2): a purchase is an order whose status is not `cancelled` (refunds are subtracted
 * through the returns table, so a refunded order still counts as a purchase and its money leaves revenue when
 * the return is recorded); net revenue = Σ net_amount of purchases − Σ returns, each in the period of its own
 * timestamp; an active member has ≥1 event or purchase in the period; repurchase rate = buyers with ≥2
 * purchases in the period / buyers in the period.
 * @module
 */
import { InputError } from '../../core/errors.js'
import type { SqlDialect } from '../dialects/dialect.js'
import type { Driver } from '../drivers/driver.js'
import { sql, type Fragment } from '../sql/fragment.js'
import { dataSpan, lastCompletePeriod, periodStart, runMetrics } from './run.js'

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
function latestMonthQuery(d: SqlDialect, timezone: string): Fragment {
  return sql`SELECT ${d.dateText(d.dateTrunc('month', d.localTime(sql`max(ts)`, timezone)), 'day')} AS month FROM (
    SELECT max(ordered_at) AS ts FROM orders UNION ALL SELECT max(ts) FROM events)`
}

/** The all-time figures (one row, snake_case columns): what the catalog's per-period metrics do not hold. */
export function buildAllTimeQuery(d: SqlDialect): Fragment {
  return sql`WITH purchases AS (SELECT member_id, net_amount FROM orders WHERE status <> 'cancelled')
    SELECT (SELECT count(*) FROM members) AS all_members,
      (SELECT count(DISTINCT member_id) FROM purchases) AS all_buyers,
      (SELECT count(*) FROM purchases) AS all_orders,
      CAST((SELECT coalesce(sum(net_amount), 0) FROM purchases) - (SELECT coalesce(sum(amount), 0) FROM returns) AS DOUBLE) AS all_net_revenue,
      (SELECT count(*) FROM identities) AS all_identities,
      (SELECT count(*) FROM member_merges) AS all_merged,
      (SELECT ${d.dateText(sql`min(t)`, 'day')} FROM (SELECT min(ordered_at) AS t FROM orders UNION ALL SELECT min(ts) FROM events)) AS first_activity,
      (SELECT ${d.dateText(sql`max(t)`, 'day')} FROM (SELECT max(ordered_at) AS t FROM orders UNION ALL SELECT max(ts) FROM events)) AS last_activity`
}

/** The catalog metrics the month's figures are read from, by overview field. */
const MONTH_METRICS = {
  membersAtMonthEnd: 'members_total',
  newMembers: 'new_members',
  activeMembers: 'active_members',
  buyers: 'buyers',
  orders: 'orders',
  netRevenue: 'net_revenue',
  returnsAmount: 'returned_amount',
  averageOrderValue: 'aov',
  repurchaseRate: 'repurchase_rate',
} as const

/**
 * The overview for a month (`YYYY-MM`), by default the data's last complete month; undefined when the
 * database holds no orders or events. Months are counted in `options.timezone` (default UTC).
 */
export async function getOverview(
  driver: Driver,
  month?: string,
  options: { readonly timezone?: string } = {},
): Promise<Overview | undefined> {
  const timezone = options.timezone ?? 'UTC'
  let start: string
  if (month === undefined) {
    // The data's last complete month: a month the data has only begun (a few hours of it in the reporting
    // zone, or a few days) would show a collapse that is only missing data. Data shorter than a month shows
    // the month it is in.
    const latest = await driver.first<{ month: string | null }>(
      latestMonthQuery(driver.dialect, timezone),
    )
    if (!latest?.month) return undefined
    const complete = await lastCompletePeriod(driver, 'month', timezone)
    const first = await dataSpan(driver, timezone)
    start =
      complete !== undefined && first !== undefined && complete >= periodStart(first.first, 'month')
        ? complete
        : latest.month
  } else {
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) {
      throw InputError.single({ field: 'month', value: month, reason: 'expected YYYY-MM' })
    }
    start = `${month}-01`
  }
  const result = await runMetrics(driver, {
    metrics: Object.values(MONTH_METRICS),
    from: start,
    to: start,
    grain: 'month',
    timezone,
  })
  const values = result.rows[0]?.values ?? {}
  const v = (k: keyof typeof MONTH_METRICS): number | null => values[MONTH_METRICS[k]] ?? null
  const all = (await driver.first(buildAllTimeQuery(driver.dialect))) ?? {}
  const n = (k: string): number => Number(all[k] ?? 0)
  return {
    month: start,
    membersAtMonthEnd: v('membersAtMonthEnd') ?? 0,
    newMembers: v('newMembers') ?? 0,
    activeMembers: v('activeMembers') ?? 0,
    buyers: v('buyers') ?? 0,
    orders: v('orders') ?? 0,
    netRevenue: v('netRevenue') ?? 0,
    returnsAmount: v('returnsAmount') ?? 0,
    averageOrderValue: v('averageOrderValue'),
    repurchaseRate: v('repurchaseRate'),
    allTime: {
      members: n('allMembers'),
      buyers: n('allBuyers'),
      orders: n('allOrders'),
      netRevenue: n('allNetRevenue'),
      identities: n('allIdentities'),
      mergedMembers: n('allMerged'),
      firstActivity: (all['firstActivity'] as string | null) ?? null,
      lastActivity: (all['lastActivity'] as string | null) ?? null,
    },
  }
}
