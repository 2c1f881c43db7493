/**
 * The default "as of" instant of the lifecycle, RFM, cohort and survival commands: the start of the day after
 * the latest order or event, so that "today" on a loaded database includes everything in it.
 * @module
 */
import type { Driver } from '../drivers/driver.js'
import { sql } from '../sql/fragment.js'

/**
 * `YYYY-MM-DD` of the day after the latest activity, the days counted in `timezone` (default UTC), or undefined
 * for a database without activity.
 */
export async function findDefaultAsOf(
  driver: Driver,
  timezone = 'UTC',
): Promise<string | undefined> {
  const d = driver.dialect
  const row = await driver.first<{ latest: string | null }>(
    sql`SELECT ${d.dateText(d.localTime(sql`max(t)`, timezone), 'day')} AS latest FROM (
      SELECT max(ordered_at) AS t FROM orders UNION ALL SELECT max(ts) FROM events)`,
  )
  if (!row?.latest) return undefined
  const next = new Date(Date.parse(`${row.latest}T00:00:00Z`) + 86_400_000)
  return next.toISOString().slice(0, 10)
}
