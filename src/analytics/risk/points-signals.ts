/**
 * Loyalty input to the early warning (issue 6 "upcoming-expiry warning"): the points each member holds in
 * buckets that expire within a window after a scoring day, and the earliest of those expiry times, read from
 * the ledger's buckets synced into the engine (`loyalty_buckets`). The remaining points are as of the last
 * sync, so the figure is meant for scoring today, not for past cutoffs.
 * @module
 */
import { tableExists } from '../../engine/drivers/driver.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { sql } from '../../engine/sql/fragment.js'
import { addDays, startOfDayIn, utcTimestampText } from '../../core/time-zone.js'

/**
 * The window of "expiring within `days` days" for scores as of the day `asOf`: from the scoring instant — the end
 * of `asOf` (the features count the cutoff day in full), i.e. the start of the next day in `zone` — to the
 * same time of day `days` local days later; the start is excluded, the end included. For 2026-10-31, 30 days
 * in Asia/Shanghai: (2026-10-31T16:00Z, 2026-11-30T16:00Z], so points that expire at the end of November
 * Beijing time are inside.
 */
export function expiringWindow(
  asOf: string,
  days: number,
  zone: string,
): { readonly from: Date; readonly to: Date } {
  return {
    from: startOfDayIn(addDays(asOf, 1), zone),
    to: startOfDayIn(addDays(asOf, 1 + days), zone),
  }
}

/** Points expiring within the window, per member of the input (index-aligned). */
export interface ExpiringPoints {
  /** Remaining points in buckets expiring in (asOf, asOf + days]; 0 when none, NaN without a sync. */
  readonly points: Float64Array
  /** The earliest expiry time among those buckets (ISO, UTC), null when none. */
  readonly firstExpiresAt: ReadonlyArray<string | null>
}

/**
 * Remaining points of each member of `memberIds` in buckets expiring inside {@link expiringWindow} (scores as
 * of the day `asOf` in the project time zone `zone`), with the earliest expiry. Buckets expiring at or before
 * the scoring instant are left out: the ledger's expiry job takes them, they are no longer "about to" expire.
 */
export async function expiringPoints(
  driver: DuckDbDriver,
  asOf: string,
  memberIds: Float64Array,
  days: number,
  zone: string,
): Promise<ExpiringPoints> {
  const window = expiringWindow(asOf, days, zone)
  const points = new Float64Array(memberIds.length).fill(NaN)
  const firstExpiresAt: (string | null)[] = new Array<string | null>(memberIds.length).fill(null)
  if (!(await tableExists(driver, 'loyalty_buckets'))) return { points, firstExpiresAt }
  points.fill(0)
  const rows = await driver.all<{
    memberId: bigint | number
    points: bigint | number
    firstExpiresAt: string
  }>(
    sql`SELECT member_id, sum(remaining) AS points,
        ${driver.dialect.dateText(sql`min(expires_at)`, 'instant')} AS first_expires_at
      FROM loyalty_buckets
      WHERE member_id IS NOT NULL AND remaining > 0
        AND expires_at > CAST(${utcTimestampText(window.from)} AS TIMESTAMP)
        AND expires_at <= CAST(${utcTimestampText(window.to)} AS TIMESTAMP)
      GROUP BY member_id`,
  )
  if (rows.length === 0) return { points, firstExpiresAt }
  const byMember = new Map<number, { points: number; first: string }>()
  for (const r of rows)
    byMember.set(Number(r.memberId), { points: Number(r.points), first: r.firstExpiresAt })
  for (let i = 0; i < memberIds.length; i++) {
    const m = byMember.get(memberIds[i] as number)
    if (m === undefined) continue
    points[i] = m.points
    firstExpiresAt[i] = m.first
  }
  return { points, firstExpiresAt }
}
