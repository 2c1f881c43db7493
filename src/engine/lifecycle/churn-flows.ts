/**
 * Churn and reactivation by period under the lifecycle definition (see {@link buildPurchaseSpellsQuery}),
 * for the metric catalog's churn rate (流失率) and reactivation counts:
 *
 * - `notChurnedAtStart`: members with a purchase before the period start who are not churned just before the
 *   start (their last purchase before the start is at most `churnDays` old);
 * - `churned`: those of them who become churned during the period (churn moment in [start, end));
 * - `reactivated`: members whose purchase in the period ends a gap of at least `churnDays`.
 *
 * churn rate = churned / notChurnedAtStart. Members who make their first purchase during a period are not
 * in its denominator (and so never in its numerator, which matters only for periods longer than churnDays).
 * Periods must end no later than the data does: a churn moment is only known once `churnDays` have passed.
 * @module
 */
import type { Driver } from '../drivers/driver.js'
import type { Grain } from '../dialects/dialect.js'
import { sql, type Fragment } from '../sql/fragment.js'
import { valuesRelation } from '../sql/values.js'
import { daysBetween } from '../cohorts/time-sql.js'
import { lifecycleConfigSchema, type LifecycleConfigInput } from './lifecycle-config.js'
import { periodRange, type Period } from './period-range.js'
import { buildPurchaseSpellsQuery } from './purchase-spells.js'
import { startOfDayIn, utcTimestampText } from '../../core/time-zone.js'

export interface ChurnFlow {
  /** First day of the period, YYYY-MM-DD. */
  readonly periodStart: string
  /** First day of the next period (exclusive). */
  readonly periodEnd: string
  readonly notChurnedAtStart: number
  readonly churned: number
  readonly reactivated: number
  /** churned / notChurnedAtStart, or null when the denominator is 0. */
  readonly churnRate: number | null
}

/**
 * `(idx, not_churned_at_start, churned, reactivated)` per period; the periods' first days are days in
 * `timezone` (default UTC).
 */
export function buildChurnFlowsQuery(
  periods: readonly Period[],
  churnDays: number,
  timezone = 'UTC',
): Fragment {
  const last = periods.at(-1)
  if (last === undefined) throw new Error('no periods')
  const at = (day: string) => utcTimestampText(startOfDayIn(day, timezone))
  const per = valuesRelation(
    'per0',
    ['idx', 'a', 'b'],
    periods.map((p, i) => [i, at(p.start), at(p.end)]),
  )
  const s = sql`per.s`
  const e = sql`per.e`
  // Not churned just before the start: a churn falling exactly on the start counts in the period it opens.
  // Every count requires sp.start_ts < per.e, so a cross join gives the same counts as joining on it (ClickHouse
  // joins on equalities only); a period without rows (no purchase at all) is filled in by getChurnFlows.
  const covers = sql`sp.start_ts < ${s} AND (sp.last_ts >= ${s} OR ${daysBetween(sql`sp.last_ts`, s)} <= ${churnDays})`
  return sql`WITH sp AS (${buildPurchaseSpellsQuery(at(last.end), churnDays)}),
    per AS (SELECT idx, CAST(a AS TIMESTAMP) AS s, CAST(b AS TIMESTAMP) AS e FROM ${per})
    SELECT per.idx,
      count(DISTINCT CASE WHEN ${covers} THEN sp.member_id END) AS not_churned_at_start,
      count(DISTINCT CASE WHEN ${covers} AND ${daysBetween(sql`sp.last_ts`, e)} > ${churnDays} THEN sp.member_id END) AS churned,
      count(DISTINCT CASE WHEN sp.spell > 1 AND sp.start_ts >= ${s} AND sp.start_ts < ${e} THEN sp.member_id END) AS reactivated
    FROM per CROSS JOIN sp
    GROUP BY per.idx ORDER BY per.idx`
}

/**
 * Churn and reactivation per period of `grain` from the period holding `from` through the one holding `to`
 * (dates YYYY-MM-DD), with the lifecycle config's `churnDays`.
 *
 * ```ts
 * const flows = await getChurnFlows(db.driver, { from: '2026-01-01', to: '2026-06-30', grain: 'month' })
 * // [{ periodStart: '2026-01-01', periodEnd: '2026-02-01', notChurnedAtStart, churned, reactivated, churnRate }, …]
 * ```
 */
export async function getChurnFlows(
  driver: Driver,
  options: {
    from: string
    to: string
    grain: Grain
    config?: LifecycleConfigInput
    timezone?: string
  },
): Promise<ChurnFlow[]> {
  const config = lifecycleConfigSchema.parse(options.config ?? {})
  const periods = periodRange(options.grain, options.from, options.to)
  const rows = await driver.all<{
    idx: number
    notChurnedAtStart: bigint
    churned: bigint
    reactivated: bigint
  }>(buildChurnFlowsQuery(periods, config.churnDays, options.timezone))
  const byIdx = new Map(rows.map((r) => [Number(r.idx), r]))
  return periods.map((p, i) => {
    const r = byIdx.get(i)
    const denominator = Number(r?.notChurnedAtStart ?? 0)
    const churned = Number(r?.churned ?? 0)
    return {
      periodStart: p.start,
      periodEnd: p.end,
      notChurnedAtStart: denominator,
      churned,
      reactivated: Number(r?.reactivated ?? 0),
      churnRate: denominator > 0 ? churned / denominator : null,
    }
  })
}
