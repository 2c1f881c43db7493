/**
 * Bracket retention: the share of a cohort's members active on any day of a custom range of days since
 * their anchor (e.g. days 1–7, 8–30, 31–90), as Amplitude's "bracket" retention. Day 0 is the calendar day
 * (UTC) of the anchor. A member is eligible for a bracket only once its last day has ended before `asOf`,
 * so younger members never dilute a bracket's rate.
 * @module
 */
import { z } from 'zod'
import type { Driver } from '../drivers/driver.js'
import type { SqlDialect } from '../dialects/dialect.js'
import { sql, type Fragment } from '../sql/fragment.js'
import { valuesRelation } from '../sql/values.js'
import { activityStream, cohortMembers } from './cohort-members.js'
import { cohortSpecSchema, type CohortSpec, type CohortSpecInput } from './cohort-spec.js'
import { normaliseInstant, periodLabel, timestampParam } from './time-sql.js'

/** An inclusive range of days since the anchor. */
export const bracketSchema = z
  .object({ from: z.number().int().min(0), to: z.number().int().min(0) })
  .strict()
  .refine((b) => b.to >= b.from, { message: 'a bracket ends on or after its start' })
export type Bracket = z.infer<typeof bracketSchema>

/** Default brackets: the first week after day 0, the rest of the first month, the rest of the quarter. */
export const DEFAULT_BRACKETS: readonly Bracket[] = [
  { from: 1, to: 7 },
  { from: 8, to: 30 },
  { from: 31, to: 90 },
]

/** Parses `1-7,8-30,31-90`. */
export function parseBrackets(text: string): Bracket[] {
  return text.split(',').map((part) => {
    const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part)
    if (!m) throw new Error(`invalid bracket ${JSON.stringify(part)} (expected from-to, e.g. 8-30)`)
    return bracketSchema.parse({ from: Number(m[1]), to: Number(m[2]) })
  })
}

export interface BracketCell {
  readonly bracket: Bracket
  readonly eligible: number
  readonly active: number
  readonly rate: number | null
}

export interface BracketCohort {
  readonly cohort: string
  readonly dimension: string | null
  readonly size: number
  readonly cells: readonly BracketCell[]
}

/** `(cohort, dim, idx, size, eligible, active)` for every cohort × bracket. */
export function buildBracketRetentionQuery(
  dialect: SqlDialect,
  spec: CohortSpec,
  brackets: readonly Bracket[],
): Fragment {
  const asOf = timestampParam(normaliseInstant(spec.asOf))
  const values = valuesRelation(
    't',
    ['idx', 'lo', 'hi'],
    brackets.map((b, i) => [i, b.from, b.to]),
  )
  return sql`WITH cm AS (${cohortMembers(dialect, spec)}),
    b AS (SELECT * FROM ${values}),
    days AS (
      SELECT DISTINCT cm.member_id, date_diff('day', CAST(cm.anchor_ts AS DATE), CAST(a.ts AS DATE)) AS d
      FROM cm JOIN (${activityStream(spec.activity, spec.asOf, dialect, spec.timezone)}) a ON a.member_id = cm.member_id AND a.ts >= cm.anchor_ts
    ),
    hit AS (SELECT DISTINCT days.member_id AS member_id, b.idx AS idx FROM days JOIN b ON days.d BETWEEN b.lo AND b.hi),
    mb AS (
      SELECT cm.member_id AS member_id, cm.cohort_start AS cohort_start, cm.dim AS dim, b.idx AS idx,
        date_diff('day', cm.anchor_ts, ${asOf}) > b.hi AS eligible,
        hit.member_id IS NOT NULL AS active
      FROM cm CROSS JOIN b LEFT JOIN hit ON hit.member_id = cm.member_id AND hit.idx = b.idx
    )
    SELECT ${periodLabel(dialect, spec.grain, sql`cohort_start`)} AS cohort, dim, idx, count(*) AS size,
      count(CASE WHEN eligible THEN 1 END) AS eligible, count(CASE WHEN eligible AND active THEN 1 END) AS active
    FROM mb GROUP BY cohort_start, dim, idx ORDER BY cohort_start, dim, idx`
}

/** Runs bracket retention for the cohorts of `input` (its `periods` and `form` do not apply). */
export async function getBracketRetention(
  driver: Driver,
  input: CohortSpecInput,
  brackets: readonly Bracket[] = DEFAULT_BRACKETS,
): Promise<BracketCohort[]> {
  const spec = cohortSpecSchema.parse(input)
  const parsed = brackets.map((b) => bracketSchema.parse(b))
  const rows = await driver.all<{
    cohort: string
    dim: string | null
    idx: number
    size: bigint
    eligible: bigint
    active: bigint
  }>(buildBracketRetentionQuery(driver.dialect, spec, parsed))
  const out = new Map<
    string,
    { cohort: string; dimension: string | null; size: number; cells: BracketCell[] }
  >()
  for (const r of rows) {
    const id = `${r.cohort}\u0000${r.dim ?? ''}`
    const c = out.get(id) ?? { cohort: r.cohort, dimension: r.dim, size: Number(r.size), cells: [] }
    const eligible = Number(r.eligible)
    const active = Number(r.active)
    c.cells[r.idx] = {
      bracket: parsed[r.idx] as Bracket,
      eligible,
      active,
      rate: eligible > 0 ? active / eligible : null,
    }
    out.set(id, c)
  }
  return [...out.values()]
}
