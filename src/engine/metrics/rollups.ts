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
 * @module
 */
import { tableExists, type Driver } from '../drivers/driver.js'
import { sql } from '../sql/fragment.js'

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
