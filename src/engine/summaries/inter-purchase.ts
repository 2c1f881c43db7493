/**
 * The summary BG/CNBD-k needs beyond (x, t_x, T): Σ over members of Σ log(gap between successive purchase
 * days) in the calibration period, in the summaries' time unit (`litt` of Platzer & Reutterer 2016). It is
 * computed in SQL on the same purchase days as the repeat-buying summaries (same-day purchases merged,
 * the project's calendar days), so the purchases never leave the engine.
 * @module
 */
import { InputError } from '../../core/errors.js'
import type { Driver } from '../drivers/driver.js'
import { sql, type Fragment } from '../sql/fragment.js'
import { purchaseDays, resolveSummaryOptions, type SummaryOptions } from './repeat-buying.js'

const UNIT_DAYS = { week: 7, day: 1 } as const

/**
 * The query: purchase days up to the calibration end, each day's gap to the member's previous purchase day
 * (the first day has none: with the `first-purchase` origin the clock starts there), and Σ ln(gap).
 * ```sql
 * WITH days AS (… purchase days …)
 * SELECT sum(ln(gap)), count(gap) FROM (SELECT date_diff('day', lag(day) OVER (PARTITION BY member_id
 *   ORDER BY day), day) / 7 AS gap FROM days)
 * ```
 */
export function logGapsQuery(options: SummaryOptions): Fragment {
  const o = resolveSummaryOptions(options)
  if (o.origin !== 'first-purchase') {
    throw InputError.single({
      field: 'origin',
      value: o.origin,
      reason:
        'BG/CNBD-k models the gaps between purchases, so the clock starts at the first purchase (origin first-purchase)',
    })
  }
  return sql`WITH days AS (${purchaseDays(o.calibrationEnd, o.timezone)})
    SELECT coalesce(sum(ln(gap)), 0)::DOUBLE AS litt, count(gap)::DOUBLE AS gaps
    FROM (SELECT date_diff('day', lag(day) OVER (PARTITION BY member_id ORDER BY day), day)::DOUBLE
            / ${UNIT_DAYS[o.unit]} AS gap
          FROM days)
    WHERE gap IS NOT NULL`
}

/**
 * Σ log gaps between successive purchase days over every member (`litt`), and the number of gaps (equal to
 * Σ x of the summaries), for the options' calibration end, unit and time zone.
 */
export async function logGapsTotal(
  driver: Driver,
  options: SummaryOptions,
): Promise<{ litt: number; gaps: number }> {
  const rows = await driver.all<{ litt: number; gaps: number }>(logGapsQuery(options))
  const row = rows[0]
  return { litt: Number(row?.litt ?? 0), gaps: Number(row?.gaps ?? 0) }
}
