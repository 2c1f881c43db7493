/**
 * Loyalty input to the early warning (DOMAIN §4 "tier about to drop"; issue 6 "upcoming-downgrade warning"):
 * days from a scoring day to each member's scheduled tier downgrade, read from the ledger's accounts synced
 * into the engine (`loyalty_accounts.downgrade_due_at`, set when a review starts the grace period). The
 * accounts are as of the last sync, so the figure is meant for scoring today, not for past cutoffs.
 * @module
 */
import { tableExists } from '../../engine/drivers/driver.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { sql } from '../../engine/sql/fragment.js'
import { addDays, startOfDayIn, utcTimestampText } from '../../core/time-zone.js'

/**
 * Days from the scoring instant of the day `asOf` (YYYY-MM-DD: its end, the start of the next day in the project
 * time zone `zone`) to the scheduled downgrade of each member of `memberIds` (NaN when none is scheduled, the
 * member has no account, or the ledger has not been synced).
 */
export async function downgradeDueDays(
  driver: DuckDbDriver,
  asOf: string,
  memberIds: Float64Array,
  zone: string,
): Promise<Float64Array> {
  const from = utcTimestampText(startOfDayIn(addDays(asOf, 1), zone))
  const out = new Float64Array(memberIds.length).fill(NaN)
  if (!(await tableExists(driver, 'loyalty_accounts'))) return out
  const rows = await driver.all<{ memberId: bigint | number; days: number }>(
    sql`SELECT member_id, date_diff('second', CAST(${from} AS TIMESTAMP), min(downgrade_due_at)) / 86400.0 AS days
      FROM loyalty_accounts WHERE downgrade_due_at IS NOT NULL AND member_id IS NOT NULL GROUP BY member_id`,
  )
  if (rows.length === 0) return out
  const due = new Map<number, number>()
  for (const r of rows) due.set(Number(r.memberId), Number(r.days))
  for (let i = 0; i < memberIds.length; i++) {
    const d = due.get(memberIds[i] as number)
    if (d !== undefined) out[i] = d
  }
  return out
}
