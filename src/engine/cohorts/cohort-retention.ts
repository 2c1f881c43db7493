/**
 * Cohort retention (留存率): for each cohort (members grouped by the period of their registration or first
 * purchase) and period k = 0, 1, …, the members active in period k (N-period form) or in period k or later
 * (unbounded form), over the members eligible for that cell.
 *
 * Conventions (as in Amplitude and PostHog): period 0 is the cohort's own period, counting activity at or
 * after the anchor; periods are calendar periods of the grain. A cell is complete only when its period has
 * ended before `asOf`; members of a cohort whose period k has not ended are too young for it and are left
 * out of its denominator (for calendar cohorts that is the whole cohort, so the cell's rate is null and its
 * count so far is reported as in progress). Averages across cohorts weight complete cells by cohort size:
 * Σ active / Σ eligible.
 * @module
 */
import type { Driver } from '../drivers/driver.js'
import type { SqlDialect } from '../dialects/dialect.js'
import { sql, type Fragment } from '../sql/fragment.js'
import { monthRollupCurrent, rollupIsCurrent } from '../metrics/rollups.js'
import {
  activityStream,
  cohortMembers,
  monthTableServesActivity,
  rollupServesActivity,
  type RollupRead,
} from './cohort-members.js'
import { cohortSpecSchema, type CohortSpec, type CohortSpecInput } from './cohort-spec.js'
import { normaliseInstant, periodIndex, periodLabel, timestampParam } from './time-sql.js'

/** The two forms of retention (DOMAIN §2). */
export const RETENTION_FORMS = ['n-period', 'unbounded'] as const
export type RetentionForm = (typeof RETENTION_FORMS)[number]

export interface RetentionCell {
  /** Period index; 0 is the cohort's own period. */
  readonly period: number
  /** Members active in the period (or, unbounded, in it or later), complete or not. */
  readonly active: number
  /** Members whose period has ended before asOf: the denominator (0 for incomplete cells). */
  readonly eligible: number
  /** active / eligible, or null when no member is eligible. */
  readonly rate: number | null
  readonly complete: boolean
}

export interface RetentionCohort {
  /** First day of the cohort period, YYYY-MM-DD. */
  readonly cohort: string
  /** Dimension value (null without a dimension, or when unknown). */
  readonly dimension: string | null
  readonly size: number
  readonly cells: readonly RetentionCell[]
}

export interface RetentionAverage {
  readonly period: number
  readonly active: number
  readonly eligible: number
  readonly rate: number | null
  /** Cohorts contributing a complete cell. */
  readonly cohorts: number
}

export interface RetentionTable {
  readonly spec: CohortSpec
  readonly form: RetentionForm
  readonly cohorts: readonly RetentionCohort[]
  /** Size-weighted averages over complete cells, per dimension value (key '' without a dimension). */
  readonly averages: Readonly<Record<string, readonly RetentionAverage[]>>
}

/** `(cohort, dim, size, current_index)`: cohort sizes and the index of the period holding `asOf`. */
export function buildCohortSizesQuery(dialect: SqlDialect, spec: CohortSpec): Fragment {
  const asOf = timestampParam(normaliseInstant(spec.asOf))
  const current = periodIndex(spec.grain, sql`cohort_start`, dialect.dateTrunc(spec.grain, asOf))
  return sql`SELECT ${periodLabel(dialect, spec.grain, sql`cohort_start`)} AS cohort, dim, count(*) AS size, ${current} AS current_index
    FROM (${cohortMembers(dialect, spec)}) cm GROUP BY cohort_start, dim ORDER BY cohort_start, dim`
}

/**
 * `(cohort, dim, k, members)`: for the N-period form the distinct members active in period k; for the
 * unbounded form the members whose last active period is k (capped at `spec.periods`), which the runner
 * turns into "k or later" by suffix sums.
 */
export function buildRetentionActivityQuery(
  dialect: SqlDialect,
  spec: CohortSpec,
  form: RetentionForm,
  /**
   * Read the activity from the member × day rollup (current, keyed by the spec's zone; asOf at midnight), or
   * also from the member × month table (`months`).
   */
  fromRollup: RollupRead = false,
): Fragment {
  const k = periodIndex(spec.grain, sql`cm.cohort_start`, dialect.dateTrunc(spec.grain, sql`a.ts`))
  const base = sql`WITH cm AS (${cohortMembers(dialect, spec)}),
    mk AS (
      SELECT DISTINCT cm.member_id, cm.cohort_start, cm.dim, ${k} AS k
      FROM cm JOIN (${activityStream(spec.activity, spec.asOf, dialect, spec.timezone, fromRollup)}) a ON a.member_id = cm.member_id AND a.ts >= cm.anchor_ts
    )`
  const label = periodLabel(dialect, spec.grain, sql`cohort_start`)
  if (form === 'n-period') {
    return sql`${base} SELECT ${label} AS cohort, dim, k, count(*) AS members FROM mk
      WHERE k <= ${spec.periods} GROUP BY cohort_start, dim, k`
  }
  return sql`${base} SELECT ${label} AS cohort, dim, k, count(*) AS members FROM (
      SELECT member_id, cohort_start, dim, least(max(k), ${spec.periods}) AS k FROM mk GROUP BY member_id, cohort_start, dim
    ) GROUP BY cohort_start, dim, k`
}

const key = (cohort: string, dim: string | null): string => `${cohort}\u0000${dim ?? ''}`

/** Runs the cohort retention analysis; see the module comment for the conventions. */
export async function getCohortRetention(
  driver: Driver,
  input: CohortSpecInput,
  form: RetentionForm = 'n-period',
  /** `auto` (default): read activity from the member × day rollup when it is current; `off`: the raw tables. */
  rollups: 'auto' | 'off' = 'auto',
): Promise<RetentionTable> {
  const spec = cohortSpecSchema.parse(input)
  const days =
    rollups === 'auto' &&
    rollupServesActivity(spec.asOf) &&
    (await rollupIsCurrent(driver, spec.timezone ?? 'UTC'))
  const fromRollup: RollupRead =
    days &&
    monthTableServesActivity(spec.activity, spec.grain) &&
    (await monthRollupCurrent(driver))
      ? 'months'
      : days
  const sizes = await driver.all<{
    cohort: string
    dim: string | null
    size: bigint
    currentIndex: number
  }>(buildCohortSizesQuery(driver.dialect, spec))
  const counts = await driver.all<{
    cohort: string
    dim: string | null
    k: number
    members: bigint
  }>(buildRetentionActivityQuery(driver.dialect, spec, form, fromRollup))
  const byCell = new Map<string, number[]>()
  for (const c of counts) {
    const id = key(c.cohort, c.dim)
    const arr = byCell.get(id) ?? new Array<number>(spec.periods + 1).fill(0)
    arr[c.k] = Number(c.members)
    byCell.set(id, arr)
  }
  const cohorts: RetentionCohort[] = sizes.map((s) => {
    const raw = byCell.get(key(s.cohort, s.dim)) ?? new Array<number>(spec.periods + 1).fill(0)
    const active = form === 'n-period' ? raw : suffixSums(raw)
    const size = Number(s.size)
    const cells: RetentionCell[] = []
    for (let k = 0; k <= spec.periods; k++) {
      const complete = k < Number(s.currentIndex)
      const eligible = complete ? size : 0
      const a = active[k] ?? 0
      cells.push({
        period: k,
        active: a,
        eligible,
        rate: eligible > 0 ? a / eligible : null,
        complete,
      })
    }
    return { cohort: s.cohort, dimension: s.dim, size, cells }
  })
  return { spec, form, cohorts, averages: weightedAverages(cohorts, spec.periods) }
}

function suffixSums(xs: readonly number[]): number[] {
  const out = [...xs]
  for (let i = out.length - 2; i >= 0; i--) out[i] = (out[i] ?? 0) + (out[i + 1] ?? 0)
  return out
}

/** Σ active / Σ eligible over complete cells, per dimension value. */
export function weightedAverages(
  cohorts: readonly RetentionCohort[],
  periods: number,
): Record<string, RetentionAverage[]> {
  const out: Record<string, RetentionAverage[]> = {}
  const dims = [...new Set(cohorts.map((c) => c.dimension ?? ''))]
  for (const d of dims) {
    const rows: RetentionAverage[] = []
    for (let k = 0; k <= periods; k++) {
      let active = 0
      let eligible = 0
      let n = 0
      for (const c of cohorts) {
        if ((c.dimension ?? '') !== d) continue
        const cell = c.cells[k]
        if (cell === undefined || !cell.complete) continue
        active += cell.active
        eligible += cell.eligible
        n++
      }
      rows.push({
        period: k,
        active,
        eligible,
        rate: eligible > 0 ? active / eligible : null,
        cohorts: n,
      })
    }
    out[d] = rows
  }
  return out
}
