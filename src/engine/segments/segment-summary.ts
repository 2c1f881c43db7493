/**
 * A saved segment's size and value: its members, and their net revenue (purchases not cancelled, less
 * returns) in a window.
 * @module
 */
import type { Driver } from '../drivers/driver.js'
import { normaliseInstant, timestampParam } from '../cohorts/time-sql.js'
import { sql, type Fragment } from '../sql/fragment.js'
import type { SqlDialect } from '../dialects/dialect.js'
import { buildSegmentMembersQuery, checkSegmentStores } from './segment-members.js'
import type { SegmentFilter } from './segment-schema.js'

export interface SegmentSize {
  readonly members: number
  /** Members with a purchase in the window. */
  readonly buyers: number
  /** Net revenue of the members in the window. */
  readonly revenue: number
}

/** `(members, buyers, revenue)` of a segment, revenue over [from, to). */
export function buildSegmentSizeQuery(
  dialect: SqlDialect,
  filter: SegmentFilter,
  defaultAsOf: string,
  window: { from: string; to: string },
): Fragment {
  const from = timestampParam(normaliseInstant(window.from))
  const to = timestampParam(normaliseInstant(window.to))
  return sql`WITH s AS (${buildSegmentMembersQuery(dialect, filter, defaultAsOf)}),
    o AS (SELECT member_id, sum(net_amount) AS spend FROM orders
      WHERE status <> 'cancelled' AND ordered_at >= ${from} AND ordered_at < ${to} GROUP BY member_id),
    r AS (SELECT member_id, sum(amount) AS returned FROM returns
      WHERE member_id IS NOT NULL AND returned_at >= ${from} AND returned_at < ${to} GROUP BY member_id)
    SELECT count(*) AS members, count(o.member_id) AS buyers,
      CAST(coalesce(sum(coalesce(o.spend, 0) - coalesce(r.returned, 0)), 0) AS DOUBLE) AS revenue
    FROM s LEFT JOIN o ON o.member_id = s.member_id LEFT JOIN r ON r.member_id = s.member_id`
}

export async function getSegmentSize(
  driver: Driver,
  filter: SegmentFilter,
  defaultAsOf: string,
  window: { from: string; to: string },
): Promise<SegmentSize> {
  await checkSegmentStores(driver, filter)
  const row = await driver.first<{ members: bigint; buyers: bigint; revenue: number }>(
    buildSegmentSizeQuery(driver.dialect, filter, defaultAsOf, window),
  )
  return {
    members: Number(row?.members ?? 0),
    buyers: Number(row?.buyers ?? 0),
    revenue: row?.revenue ?? 0,
  }
}

/** How many members a segment holds at an instant. */
export async function countSegmentMembers(
  driver: Driver,
  filter: SegmentFilter,
  asOf: string,
): Promise<number> {
  await checkSegmentStores(driver, filter)
  const row = await driver.first<{ n: bigint }>(
    sql`SELECT count(*) AS n FROM (${buildSegmentMembersQuery(driver.dialect, filter, asOf)}) AS members`,
  )
  return Number(row?.n ?? 0)
}
