/**
 * The members of each cohort with their anchor time, cohort period and dimension value, and the activity
 * stream they are measured on. Both are subqueries the retention, bracket and LTV builders start from.
 * @module
 */
import { isMonthAligned, type SqlDialect } from '../dialects/dialect.js'
import { MONTH_ROLLUP_TABLE, ROLLUP_TABLE } from '../metrics/rollups.js'
import { ident, sql, type Fragment } from '../sql/fragment.js'
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
  /** The zone whose wall time the timestamps are read in (default UTC); `asOf`, `from`, `to` are in it. */
  readonly timezone?: string | undefined
}

/** A timestamp column read as its wall time in `timezone` (as is for UTC). */
export function wallTime(
  dialect: SqlDialect,
  column: Fragment,
  timezone: string | undefined,
): Fragment {
  return timezone === undefined || timezone === 'UTC' ? column : dialect.localTime(column, timezone)
}

/**
 * `(member_id, anchor_ts, cohort_start, dim)`: one row per member whose anchor falls in [from, to) and
 * before `asOf`. `cohort_start` is the start of the anchor's period.
 */
export function cohortMembers(dialect: SqlDialect, input: CohortMembersInput): Fragment {
  const asOf = timestampParam(normaliseInstant(input.asOf))
  const w = (c: Fragment) => wallTime(dialect, c, input.timezone)
  const anchors =
    input.anchor === 'registration'
      ? sql`SELECT member_id, ${w(sql`registered_at`)} AS anchor_ts FROM members`
      : sql`SELECT member_id, min(${w(sql`ordered_at`)}) AS anchor_ts FROM orders WHERE status <> 'cancelled' GROUP BY member_id`
  const from =
    input.from === undefined
      ? sql``
      : sql` AND a.anchor_ts >= ${timestampParam(normaliseInstant(input.from))}`
  const to =
    input.to === undefined
      ? sql``
      : sql` AND a.anchor_ts < ${timestampParam(normaliseInstant(input.to))}`
  return sql`SELECT a.member_id, a.anchor_ts, ${dialect.dateTrunc(input.grain, sql`a.anchor_ts`)} AS cohort_start, d.dim
    FROM (${anchors}) a LEFT JOIN (${dimensionSubquery(dialect, input.dimension)}) d ON d.member_id = a.member_id
    WHERE a.anchor_ts < ${asOf}${from}${to}`
}

/**
 * `(member_id, ts)` of the activity before `asOf`, the times read as wall times in `timezone` (default UTC;
 * `asOf` is a wall time there too).
 */
export function activityStream(
  activity: Activity,
  asOf: string,
  dialect?: SqlDialect,
  timezone?: string,
  /** Read the day rollup, or the month table with the day rollup for the month of `asOf` (see below). */
  fromRollup: RollupRead = false,
): Fragment {
  if (fromRollup === 'months' && dialect !== undefined)
    return monthActivityStream(dialect, activity, asOf)
  if (fromRollup !== false) return rollupActivityStream(activity, asOf)
  const before = timestampParam(normaliseInstant(asOf))
  const w = (c: Fragment) => (dialect === undefined ? c : wallTime(dialect, c, timezone))
  const purchases = sql`SELECT member_id, ${w(sql`ordered_at`)} AS ts FROM orders WHERE status <> 'cancelled' AND ${w(sql`ordered_at`)} < ${before}`
  const events = sql`SELECT member_id, ${w(sql`ts`)} AS ts FROM events WHERE ${w(sql`ts`)} < ${before}`
  if (activity === 'purchase') return purchases
  if (activity === 'event') return events
  if (activity === 'any') return sql`${purchases} UNION ALL ${events}`
  const type = activity.slice('event:'.length)
  return sql`SELECT member_id, ${w(sql`ts`)} AS ts FROM events WHERE ${w(sql`ts`)} < ${before} AND event_type = ${type}`
}

/**
 * Whether {@link activityStream} may read the member × day rollup (keyed by the stream's zone, checked by the
 * caller): `asOf` must fall on midnight, so that a day before it holds only facts before it.
 */
export function rollupServesActivity(asOf: string): boolean {
  return normaliseInstant(asOf).endsWith(' 00:00:00')
}

/**
 * How a cohort query reads activity: the raw tables (`false`), the member × day rollup (`true`) or the member ×
 * month table for the months before that of `asOf` (`months`, {@link monthTableServesActivity}).
 */
export type RollupRead = boolean | 'months'

/**
 * Whether the month table may give the activity of a cohort query that the day rollup serves: a grain of whole
 * months, and activity it keeps the latest time of (any purchase or event, or purchases).
 */
export function monthTableServesActivity(activity: Activity, grain: CohortGrain): boolean {
  return isMonthAligned(grain) && (activity === 'any' || activity === 'purchase')
}

/**
 * The activity stream from the member × month table: one row per member and month before the month of `asOf`,
 * at the month's latest order or event (or order) time, and the day rollup's rows for the days of the month of
 * `asOf` before it. Joined on `ts >= anchor` and bucketed by the month-aligned period of `ts`, it finds the same
 * member-periods as the facts: a month has a fact at or after the anchor exactly when its latest one is.
 */
function monthActivityStream(dialect: SqlDialect, activity: Activity, asOf: string): Fragment {
  if (!rollupServesActivity(asOf))
    throw new Error(`the rollup serves activity before midnight only, not ${asOf}`)
  const before = timestampParam(normaliseInstant(asOf))
  const monthStart = dialect.dateTrunc('month', before)
  const latest = activity === 'purchase' ? sql`m.last_order_ts` : sql`m.last_ts`
  return sql`SELECT m.member_id AS member_id, ${latest} AS ts FROM ${ident(MONTH_ROLLUP_TABLE)} m
    WHERE ${latest} IS NOT NULL AND m.month < ${monthStart}
    UNION ALL
    SELECT r.member_id AS member_id, r.last_ts AS ts FROM ${ident(ROLLUP_TABLE)} r
    WHERE ${rollupKinds(activity)} AND r.day >= ${monthStart} AND r.day < ${before}`
}

/** The day rollup's rows (aliased `r`) of an activity. */
function rollupKinds(activity: Activity): Fragment {
  return activity === 'purchase'
    ? sql`r.fact = 'order'`
    : activity === 'event'
      ? sql`r.fact = 'event'`
      : activity === 'any'
        ? sql`(r.fact = 'order' OR r.fact = 'event')`
        : sql`r.fact = 'event' AND r.event_type = ${activity.slice('event:'.length)}`
}

/**
 * The activity stream from the member × day rollup: one row per member, day and kind of fact, at the day's
 * latest time. Joined on `ts >= anchor` and bucketed by the period of `ts`, it finds the same member-periods as
 * the facts: a day has a fact at or after the anchor exactly when its latest one is.
 */
function rollupActivityStream(activity: Activity, asOf: string): Fragment {
  if (!rollupServesActivity(asOf))
    throw new Error(`the rollup serves activity before midnight only, not ${asOf}`)
  return sql`SELECT r.member_id AS member_id, r.last_ts AS ts FROM ${ident(ROLLUP_TABLE)} r
    WHERE ${rollupKinds(activity)} AND r.day < ${timestampParam(normaliseInstant(asOf))}`
}
