/**
 * The members behind one cohort cell, so that a cell can be saved as a segment and exported.
 * @module
 */
import { z } from 'zod'
import type { SqlDialect } from '../dialects/dialect.js'
import { sql, type Fragment } from '../sql/fragment.js'
import { activityStream, cohortMembers } from './cohort-members.js'
import { cohortSpecSchema } from './cohort-spec.js'
import { periodIndex } from './time-sql.js'

/**
 * A cohort cell: the cohort starting on `cohort` (YYYY-MM-DD); with `period`, only its members active in
 * that period (`unbounded`: in it or later); with `active: false`, those not active there instead.
 */
export const cohortCellSchema = cohortSpecSchema
  .omit({ periods: true, from: true, to: true })
  .extend({
    cohort: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    period: z.number().int().min(0).optional(),
    unbounded: z.boolean().default(false),
    active: z.boolean().default(true),
    /** Only members with this dimension value. */
    dimensionValue: z.string().optional(),
  })
  .strict()
export type CohortCell = z.infer<typeof cohortCellSchema>

/** `SELECT member_id` of the cell's members. */
export function buildCohortCellMembersQuery(dialect: SqlDialect, cell: CohortCell): Fragment {
  const cm = cohortMembers(dialect, cell)
  const dim = cell.dimensionValue === undefined ? sql`` : sql` AND cm.dim = ${cell.dimensionValue}`
  const inCohort = sql`CAST(cm.cohort_start AS DATE) = CAST(${cell.cohort} AS DATE)${dim}`
  if (cell.period === undefined) return sql`SELECT cm.member_id FROM (${cm}) cm WHERE ${inCohort}`
  const k = periodIndex(cell.grain, sql`cm.cohort_start`, dialect.dateTrunc(cell.grain, sql`a.ts`))
  const cmp = cell.unbounded ? sql`>=` : sql`=`
  const activeSet = sql`SELECT DISTINCT cm.member_id FROM (${cm}) cm
    JOIN (${activityStream(cell.activity, cell.asOf, dialect, cell.timezone)}) a ON a.member_id = cm.member_id AND a.ts >= cm.anchor_ts
    WHERE ${inCohort} AND ${k} ${cmp} ${cell.period}`
  if (cell.active) return activeSet
  return sql`SELECT cm.member_id FROM (${cm}) cm WHERE ${inCohort} AND cm.member_id NOT IN (${activeSet})`
}
