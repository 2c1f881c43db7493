/**
 * The member × day activity rollup that ingest keeps (`duckdb/rollups/`), as the metric compiler sees it: its
 * tables, and whether it may stand in for the raw facts of a query.
 *
 * `member_day_activity` holds one row per member, local day (in the zone recorded in `rollup_state`) and kind
 * of fact: `order` (purchases: orders not cancelled, with their count and net amount), `event` (one row per
 * event type) and `review` (feedback of kind `review`). Each row has the number of facts `n`, the sum of
 * `amount` (orders only) and the latest wall-clock time `last_ts` of the day's facts. Kept per event type, the
 * rollup answers for any qualifying and engagement event settings.
 *
 * The rollup is read only when it is current: `rollup_state` names the zone it is keyed by, which must be the
 * query's zone, and the row counts of `orders`, `events` and `feedback` it was computed from, which must be the
 * tables' counts now (a writer other than ingest or `memberlens rollups rebuild` changes them, and the
 * rollup is then passed over until it is rebuilt).
 *
 * `member_month_activity` is the member × month table derived from it: one row per member and local month with
 * any fact, with `active` = 1 when the month has a purchase or a qualifying event, `engaged` = 1 when it has
 * an engagement event or a review, `prev_active` = 1 when the member was active in the month before, the
 * month's purchases (their count `orders` and net `amount`), and the latest time of an order or event
 * (`last_ts`) and of an order (`last_order_ts`), which the cohort matrix reads (`cohort-members.ts`). Its flags depend on the qualifying and engagement event settings, so
 * `rollup_month_state` records the settings it was computed with and the day rollup's row count it was computed
 * from; queries read it in place of grouping the day rollup into months when both match (the default settings,
 * which the CLI and the API use, always do once ingest or a rebuild wrote it), at the month, quarter and year
 * grains, unmoved by an event-aligned shift.
 * @module
 */
import { tableExists, type Driver } from '../drivers/driver.js'
import { ident, join, sql, type Fragment } from '../sql/fragment.js'
import type { MetricSettings } from './context.js'

/** The member × day × fact table. */
export const ROLLUP_TABLE = 'member_day_activity'
/** One row: the zone the rollup is keyed by and the row counts it was computed from. */
export const ROLLUP_STATE_TABLE = 'rollup_state'
/** Key of the rollup table (no NULLs: `event_type` is '' for orders and reviews). */
export const ROLLUP_KEY = ['member_id', 'day', 'fact', 'event_type'] as const
/** Key of the state table. */
export const ROLLUP_STATE_KEY = ['timezone'] as const
/** The raw tables the rollup is computed from. */
export const ROLLUP_SOURCES = ['orders', 'events', 'feedback'] as const

/** What `rollup_state` records. */
export interface RollupState {
  readonly timezone: string
  readonly ordersRows: number
  readonly eventsRows: number
  readonly feedbackRows: number
  /** Rows of the rollup table. */
  readonly rollupRows: number
  /** When the rollup was last written (ISO instant). */
  readonly updatedAt: string
}

/** The recorded state, or undefined when the database has no rollup. */
export async function readRollupState(driver: Driver): Promise<RollupState | undefined> {
  if (!(await tableExists(driver, ROLLUP_STATE_TABLE))) return undefined
  if (!(await tableExists(driver, ROLLUP_TABLE))) return undefined
  const r = await driver.first<{
    timezone: string
    ordersRows: number | bigint
    eventsRows: number | bigint
    feedbackRows: number | bigint
    rollupRows: number | bigint
    updatedAt: unknown
  }>(sql`SELECT timezone, orders_rows, events_rows, feedback_rows, rollup_rows,
      updated_at FROM rollup_state LIMIT 1`)
  if (r === undefined) return undefined
  return {
    timezone: r.timezone,
    ordersRows: Number(r.ordersRows),
    eventsRows: Number(r.eventsRows),
    feedbackRows: Number(r.feedbackRows),
    rollupRows: Number(r.rollupRows),
    updatedAt: String(r.updatedAt),
  }
}

/** The current row counts of the raw tables the rollup reads. */
export async function sourceRowCounts(
  driver: Driver,
): Promise<{ ordersRows: number; eventsRows: number; feedbackRows: number }> {
  const r = await driver.first<{ o: number | bigint; e: number | bigint; f: number | bigint }>(
    sql`SELECT (SELECT count(*) FROM orders) AS o, (SELECT count(*) FROM events) AS e,
      (SELECT count(*) FROM feedback) AS f`,
  )
  return {
    ordersRows: Number(r?.o ?? 0),
    eventsRows: Number(r?.e ?? 0),
    feedbackRows: Number(r?.f ?? 0),
  }
}

/** Whether the rollup exists, is keyed by `timezone` and was computed from the tables as they are now. */
export async function rollupIsCurrent(driver: Driver, timezone: string): Promise<boolean> {
  const state = await readRollupState(driver)
  if (state === undefined || state.timezone !== timezone) return false
  const now = await sourceRowCounts(driver)
  return (
    now.ordersRows === state.ordersRows &&
    now.eventsRows === state.eventsRows &&
    now.feedbackRows === state.feedbackRows
  )
}

/** The member × month table of active member-months. */
export const MONTH_ROLLUP_TABLE = 'member_month_activity'
/** One row: the settings the month table was computed with and the day rollup's row count it came from. */
export const MONTH_ROLLUP_STATE_TABLE = 'rollup_month_state'
/** Key of the month table. */
export const MONTH_ROLLUP_KEY = ['member_id', 'month'] as const
/** Key of its state table. */
export const MONTH_ROLLUP_STATE_KEY = ['day_rows'] as const

const inList = (xs: readonly string[]): Fragment => join(xs.map((x) => sql`${x}`))

/**
 * The day rollup's rows (aliased `r`) that make a member active on their day: orders, and events of a
 * qualifying type (every type when the settings name none).
 */
export function rollupActiveCondition(settings: MetricSettings): Fragment {
  const q = settings.qualifyingEvents
  return q.length === 0
    ? sql`(r.fact = 'order' OR r.fact = 'event')`
    : sql`(r.fact = 'order' OR (r.fact = 'event' AND r.event_type IN (${inList(q)})))`
}

/** The day rollup's rows (aliased `r`) that make a member engaged: reviews and engagement events. */
export function rollupEngagedCondition(settings: MetricSettings): Fragment {
  const e = settings.engagementEvents
  return e.length === 0
    ? sql`(r.fact = 'review')`
    : sql`(r.fact = 'review' OR (r.fact = 'event' AND r.event_type IN (${inList(e)})))`
}

/** The settings the month table's flags depend on, in a canonical text form (sorted, deduplicated). */
export function monthRollupSettingsKey(settings: MetricSettings): {
  readonly qualifying: string
  readonly engagement: string
} {
  const canon = (xs: readonly string[]) => JSON.stringify([...new Set(xs)].sort())
  return {
    qualifying: canon(settings.qualifyingEvents),
    engagement: canon(settings.engagementEvents),
  }
}

/**
 * Whether the month table may answer a query with `settings` whose day rollup is current: it exists, was
 * computed from the day rollup as it is now (the day rollup has the row count it recorded) and with the same
 * qualifying and engagement events.
 */
export async function monthRollupServes(
  driver: Driver,
  settings: MetricSettings,
): Promise<boolean> {
  const key = monthRollupSettingsKey(settings)
  const r = await readMonthState(driver)
  return (
    r !== undefined &&
    r.current &&
    r.qualifyingEvents === key.qualifying &&
    r.engagementEvents === key.engagement
  )
}

/**
 * Whether the month table's columns that do not depend on the event settings (purchases, latest times) are
 * current: it was computed from the day rollup as it is now.
 */
export async function monthRollupCurrent(driver: Driver): Promise<boolean> {
  return (await readMonthState(driver))?.current === true
}

async function readMonthState(driver: Driver): Promise<
  | {
      readonly current: boolean
      readonly qualifyingEvents: string
      readonly engagementEvents: string
    }
  | undefined
> {
  if (!(await tableExists(driver, MONTH_ROLLUP_STATE_TABLE))) return undefined
  if (!(await tableExists(driver, MONTH_ROLLUP_TABLE))) return undefined
  const r = await driver.first<{
    dayRows: number | bigint
    qualifyingEvents: string
    engagementEvents: string
    dayRowsNow: number | bigint
  }>(sql`SELECT day_rows, qualifying_events, engagement_events,
      (SELECT count(*) FROM ${ident(ROLLUP_TABLE)}) AS day_rows_now
    FROM ${ident(MONTH_ROLLUP_STATE_TABLE)} LIMIT 1`)
  if (r === undefined) return undefined
  return {
    current: Number(r.dayRows) === Number(r.dayRowsNow),
    qualifyingEvents: r.qualifyingEvents,
    engagementEvents: r.engagementEvents,
  }
}
