/**
 * Cumulative revenue per cohort member (historical LTV curves, DOMAIN §2 "Value") and the acquisition-cost
 * payback of each registration cohort and channel.
 *
 * Revenue is net revenue: Σ net_amount of purchases (orders not cancelled) − Σ returns, each in the period
 * of its own timestamp, counted from the member's anchor on. LTV(k) = revenue of the cohort's members in
 * periods 0…k / cohort size; like retention cells, it is reported only for periods that have ended.
 * Payback compares LTV(k) with the cost per new member (acquisition_spend of the cohort's periods and channel
 * / members registered); it is revenue payback, not margin payback: apply a margin to the result if needed.
 * @module
 */
import type { Driver } from '../drivers/driver.js'
import type { SqlDialect } from '../dialects/dialect.js'
import { sql, type Fragment } from '../sql/fragment.js'
import { cohortMembers, wallTime } from './cohort-members.js'
import { buildCohortSizesQuery } from './cohort-retention.js'
import { cohortSpecSchema, type CohortSpec, type CohortSpecInput } from './cohort-spec.js'
import { normaliseInstant, periodIndex, periodLabel, timestampParam } from './time-sql.js'

export interface LtvPoint {
  readonly period: number
  /** Net revenue of the cohort in this period. */
  readonly revenue: number
  /** Cumulative net revenue per cohort member through this period; null when the period has not ended. */
  readonly ltv: number | null
}

export interface LtvCurve {
  readonly cohort: string
  readonly dimension: string | null
  readonly size: number
  readonly points: readonly LtvPoint[]
}

export interface PaybackRow {
  readonly cohort: string
  readonly channel: string | null
  readonly members: number
  readonly spend: number
  /** spend / members, or null without members. */
  readonly costPerMember: number | null
  /** First period whose cumulative revenue per member reaches the cost, or null if none has yet. */
  readonly paybackPeriod: number | null
  /** Cumulative revenue per member at the last complete period. */
  readonly ltvToDate: number | null
}

/** `(cohort, dim, k, revenue)`: net revenue by cohort and period (purchases minus returns). */
export function buildCohortRevenueQuery(dialect: SqlDialect, spec: CohortSpec): Fragment {
  const asOf = timestampParam(normaliseInstant(spec.asOf))
  const ordered = wallTime(dialect, sql`ordered_at`, spec.timezone)
  const returned = wallTime(dialect, sql`returned_at`, spec.timezone)
  const k = periodIndex(spec.grain, sql`cm.cohort_start`, dialect.dateTrunc(spec.grain, sql`m.ts`))
  return sql`WITH cm AS (${cohortMembers(dialect, spec)}),
    money AS (
      SELECT member_id, ${ordered} AS ts, net_amount AS amount FROM orders WHERE status <> 'cancelled' AND ${ordered} < ${asOf}
      UNION ALL SELECT member_id, ${returned}, -amount FROM returns WHERE ${returned} < ${asOf} AND member_id IS NOT NULL
    )
    SELECT ${periodLabel(dialect, spec.grain, sql`cm.cohort_start`)} AS cohort, cm.dim, ${k} AS k, CAST(sum(m.amount) AS DOUBLE) AS revenue
    FROM cm JOIN money m ON m.member_id = cm.member_id AND m.ts >= cm.anchor_ts
    GROUP BY cm.cohort_start, cm.dim, k HAVING ${k} <= ${spec.periods}`
}

/** LTV curves by cohort (and dimension). `activity` in the spec does not apply. */
export async function getCohortLtv(driver: Driver, input: CohortSpecInput): Promise<LtvCurve[]> {
  const spec = cohortSpecSchema.parse(input)
  const sizes = await driver.all<{
    cohort: string
    dim: string | null
    size: bigint
    currentIndex: number
  }>(buildCohortSizesQuery(driver.dialect, spec))
  const revenue = await driver.all<{
    cohort: string
    dim: string | null
    k: number
    revenue: number
  }>(buildCohortRevenueQuery(driver.dialect, spec))
  const byCohort = new Map<string, number[]>()
  for (const r of revenue) {
    const id = `${r.cohort}\u0000${r.dim ?? ''}`
    const arr = byCohort.get(id) ?? new Array<number>(spec.periods + 1).fill(0)
    arr[r.k] = r.revenue
    byCohort.set(id, arr)
  }
  return sizes.map((s) => {
    const rev =
      byCohort.get(`${s.cohort}\u0000${s.dim ?? ''}`) ?? new Array<number>(spec.periods + 1).fill(0)
    const size = Number(s.size)
    let cumulative = 0
    const points: LtvPoint[] = rev.map((r, k) => {
      cumulative += r
      const complete = k < Number(s.currentIndex)
      return { period: k, revenue: r, ltv: complete && size > 0 ? cumulative / size : null }
    })
    return { cohort: s.cohort, dimension: s.dim, size, points }
  })
}

/** `(cohort, channel, spend)`: acquisition spend summed by the cohort period of `period_start` and channel. */
export function buildAcquisitionSpendQuery(dialect: SqlDialect, spec: CohortSpec): Fragment {
  return sql`SELECT ${periodLabel(dialect, spec.grain, sql`CAST(period_start AS TIMESTAMP)`)} AS cohort, channel,
      CAST(sum(amount) AS DOUBLE) AS spend
    FROM acquisition_spend GROUP BY 1, 2`
}

/**
 * Payback per registration cohort and registration channel. Spend rows are assigned to the cohort period
 * holding their `period_start`, so spend periods should be no finer than the cohort grain.
 */
export async function getCohortPayback(
  driver: Driver,
  input: Omit<CohortSpecInput, 'anchor' | 'dimension' | 'activity'>,
): Promise<PaybackRow[]> {
  const spec = cohortSpecSchema.parse({
    ...input,
    anchor: 'registration',
    dimension: 'registration_channel',
  })
  const curves = await getCohortLtv(driver, spec)
  const spend = await driver.all<{ cohort: string; channel: string; spend: number }>(
    buildAcquisitionSpendQuery(driver.dialect, spec),
  )
  const spendBy = new Map(spend.map((s) => [`${s.cohort}\u0000${s.channel}`, s.spend]))
  return curves.map((c) => {
    const sp = spendBy.get(`${c.cohort}\u0000${c.dimension ?? ''}`) ?? 0
    const cost = c.size > 0 ? sp / c.size : null
    const complete = c.points.filter((p) => p.ltv !== null)
    const hit = cost === null ? undefined : complete.find((p) => (p.ltv ?? 0) >= cost)
    return {
      cohort: c.cohort,
      channel: c.dimension,
      members: c.size,
      spend: sp,
      costPerMember: cost,
      paybackPeriod: hit === undefined ? null : hit.period,
      ltvToDate: complete.at(-1)?.ltv ?? null,
    }
  })
}
