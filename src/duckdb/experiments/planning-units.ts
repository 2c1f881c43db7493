/**
 * Populations for planning an experiment before it runs: recent new members (t0 = registration) or the
 * members active before a reference time (t0 = that time). Columns (member_id, arm_name, t0).
 * @module
 */
import type { DuckDbDriver } from '../driver.js'
import { sql, type Fragment } from '../../engine/sql/fragment.js'

/** The last order or event in the data (ISO), or null for an empty database. */
export async function lastActivity(driver: DuckDbDriver): Promise<string | null> {
  const r = await driver.first<{ dataEnd: string | null }>(
    sql`SELECT strftime(greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events)),
      '%Y-%m-%dT%H:%M:%SZ') AS data_end`,
  )
  return r?.dataEnd ?? null
}

/** Members registered in [from, to) (ISO timestamps), each starting at registration. */
export function newMemberUnits(from: string, to: string): Fragment {
  return sql`SELECT member_id, 'all' AS arm_name, registered_at AS t0 FROM members
    WHERE registered_at >= CAST(${from} AS TIMESTAMP) AND registered_at < CAST(${to} AS TIMESTAMP)`
}

/** Members with a purchase or event in the `activeDays` before `t0` (ISO), all starting at t0. */
export function activeMemberUnits(t0: string, activeDays: number): Fragment {
  const start = sql`CAST(${t0} AS TIMESTAMP) - to_days(${activeDays}::INTEGER)`
  return sql`SELECT member_id, 'all' AS arm_name, CAST(${t0} AS TIMESTAMP) AS t0 FROM (
      SELECT member_id FROM orders WHERE status <> 'cancelled' AND ordered_at >= ${start}
        AND ordered_at < CAST(${t0} AS TIMESTAMP) AND member_id IS NOT NULL
      UNION SELECT member_id FROM events WHERE ts >= ${start} AND ts < CAST(${t0} AS TIMESTAMP)
        AND member_id IS NOT NULL)`
}
