/**
 * The members of each cohort with their anchor time, cohort period and dimension value, and the activity
 * stream they are measured on. Both are subqueries the retention, bracket and LTV builders start from.
 * @module
 */
import type { SqlDialect } from '../dialects/dialect.js'
import { sql, type Fragment } from '../sql/fragment.js'
import type { Activity, CohortAnchor, CohortGrain } from './cohort-spec.js'
import { dimensionSubquery, type Dimension } from './dimension.js'
import { normaliseInstant, timestampParam } from './time-sql.js'

export interface CohortMembersInput {
  readonly anchor: CohortAnchor
  readonly grain: CohortGrain
  readonly asOf: string
  readonly from?: string | undefined
  readonly to?: string | undefined
  readonly dimension?: Dimension | undefined
}

/**
 * `(member_id, anchor_ts, cohort_start, dim)`: one row per member whose anchor falls in [from, to) and
 * before `asOf`. `cohort_start` is the start of the anchor's period.
 */
export function cohortMembers(dialect: SqlDialect, input: CohortMembersInput): Fragment {
  const asOf = timestampParam(normaliseInstant(input.asOf))
  const anchors =
    input.anchor === 'registration'
      ? sql`SELECT member_id, registered_at AS anchor_ts FROM members`
      : sql`SELECT member_id, min(ordered_at) AS anchor_ts FROM orders WHERE status <> 'cancelled' GROUP BY member_id`
  const from =
    input.from === undefined
      ? sql``
      : sql` AND a.anchor_ts >= ${timestampParam(normaliseInstant(input.from))}`
  const to =
    input.to === undefined
      ? sql``
      : sql` AND a.anchor_ts < ${timestampParam(normaliseInstant(input.to))}`
  return sql`SELECT a.member_id, a.anchor_ts, ${dialect.dateTrunc(input.grain, sql`a.anchor_ts`)} AS cohort_start, d.dim
    FROM (${anchors}) a LEFT JOIN (${dimensionSubquery(input.dimension)}) d ON d.member_id = a.member_id
    WHERE a.anchor_ts < ${asOf}${from}${to}`
}

/** `(member_id, ts, amount)` of the activity, before `asOf`; amount is the net amount for purchases, else 0. */
export function activityStream(activity: Activity, asOf: string): Fragment {
  const before = timestampParam(normaliseInstant(asOf))
  const purchases = sql`SELECT member_id, ordered_at AS ts FROM orders WHERE status <> 'cancelled' AND ordered_at < ${before}`
  const events = sql`SELECT member_id, ts FROM events WHERE ts < ${before}`
  if (activity === 'purchase') return purchases
  if (activity === 'event') return events
  if (activity === 'any') return sql`${purchases} UNION ALL ${events}`
  const type = activity.slice('event:'.length)
  return sql`SELECT member_id, ts FROM events WHERE ts < ${before} AND event_type = ${type}`
}
