/**
 * The default "as of" instant of the lifecycle, RFM, cohort and survival commands: the start of the day after
 * the latest order or event, so that "today" on a loaded database includes everything in it.
 * @module
 */
import { utcTimestampText, wallTimeIn } from '../../core/time-zone.js'
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

/** An "as of" moment in the project time zone: as the user reads it, and as the query builders take it. */
export interface ZonedAsOf {
  /** The local date (or date and time) in `zone`, as given or found: `2026-11-01`. */
  readonly local: string
  readonly zone: string
  /** The same moment as the engine's UTC timestamp text, `YYYY-MM-DD HH:MM:SS`, for the query builders. */
  readonly instant: string
  /** For text output: `2026-11-01 00:00 Asia/Shanghai`. */
  readonly label: string
}

/**
 * `local` (a wall date or date and time, already validated) read in `zone`, or without it the start of the day
 * after the latest activity, days counted in `zone`; undefined for a database without activity.
 */
export async function findZonedAsOf(
  driver: Driver,
  local: string | undefined,
  zone: string,
): Promise<ZonedAsOf | undefined> {
  const wall = local?.replace('T', ' ') ?? (await findDefaultAsOf(driver, zone))
  if (wall === undefined) return undefined
  const time = wall.length > 10 ? wall.slice(11, 16) : '00:00'
  return {
    local: wall,
    zone,
    instant: utcTimestampText(wallTimeIn(wall, zone)),
    label: `${wall.slice(0, 10)} ${time} ${zone}`,
  }
}
