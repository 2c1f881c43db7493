/**
 * Purchase spells: the stretches in which a member is not churned. A spell starts with a member's first
 * purchase or with a purchase that follows a gap of at least `churnDays` (a reactivation), and ends — the
 * member becomes churned — `churnDays` after its last purchase. Spell 1 is the member's first; spell n > 1
 * starts with their (n − 1)-th reactivation. This is the lifecycle definition of churn used by the churn and
 * reactivation rates and by the survival curve.
 * @module
 */
import { sql, type Fragment } from '../sql/fragment.js'
import { previousValue } from '../sql/window.js'
import {
  daysBetween,
  normaliseInstant,
  purchasesBefore,
  timestampParam,
} from '../cohorts/time-sql.js'

/**
 * `(member_id, spell, start_ts, last_ts, closed)`: `closed` is true when the spell's churn moment
 * (last_ts + churnDays) lies before `asOf`, i.e. the churn has been observed.
 */
export function buildPurchaseSpellsQuery(asOfText: string, churnDays: number): Fragment {
  const asOf = timestampParam(normaliseInstant(asOfText))
  return sql`SELECT member_id, spell, min(ts) AS start_ts, max(ts) AS last_ts,
      ${daysBetween(sql`max(ts)`, asOf)} >= ${churnDays} AS closed
    FROM (
      SELECT member_id, ts, sum(CASE WHEN prev_ts IS NULL OR ${daysBetween(sql`prev_ts`, sql`ts`)} >= ${churnDays} THEN 1 ELSE 0 END)
        OVER (PARTITION BY member_id ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS spell
      FROM (SELECT member_id, ts, ${previousValue(sql`ts`, sql`PARTITION BY member_id ORDER BY ts`)} AS prev_ts
        FROM (${purchasesBefore(asOf)}) p) l
    ) n
    GROUP BY member_id, spell`
}
