/**
 * Writing the member × month table (`engine/metrics/rollups.ts` says what it holds and when queries read it)
 * from the member × day rollup, with the default qualifying and engagement events: whole, whenever the day
 * rollup is rebuilt, or, inside an ingest's transaction, for the member-months of the member-days the load
 * touched (every month of a merged member). Both in SQL, after the day rollup is current.
 * @module
 */
import { DEFAULT_SETTINGS, type MetricSettings } from '../../engine/metrics/context.js'
import {
  MONTH_ROLLUP_STATE_TABLE,
  MONTH_ROLLUP_TABLE,
  ROLLUP_TABLE,
  monthRollupSettingsKey,
  rollupActiveCondition,
  rollupEngagedCondition,
} from '../../engine/metrics/rollups.js'
import { ident, sql, type Fragment } from '../../engine/sql/fragment.js'
import type { DuckDbDriver } from '../driver.js'

/** Creates the month table and its state when missing. */
async function ensureMonthTables(driver: DuckDbDriver): Promise<void> {
  await driver.execute(sql`CREATE TABLE IF NOT EXISTS ${ident(MONTH_ROLLUP_TABLE)} (
    member_id BIGINT NOT NULL, month TIMESTAMP NOT NULL, active INTEGER NOT NULL, engaged INTEGER NOT NULL,
    prev_active INTEGER NOT NULL, orders BIGINT NOT NULL, amount DECIMAL(18,4), last_ts TIMESTAMP,
    last_order_ts TIMESTAMP)`)
  await driver.execute(sql`CREATE TABLE IF NOT EXISTS ${ident(MONTH_ROLLUP_STATE_TABLE)} (
    day_rows BIGINT NOT NULL, qualifying_events VARCHAR NOT NULL, engagement_events VARCHAR NOT NULL,
    month_rows BIGINT NOT NULL)`)
}

/**
 * The member-months of the day rollup with their flags and purchases, restricted by `keep` (a condition over the
 * day rollup aliased `r`), or all of them; `prev_active` is filled afterwards. Inactive months are kept: a
 * quarter whose member is active in one month and engaged in another is an engaged quarter.
 */
function monthRows(settings: MetricSettings, keep?: Fragment): Fragment {
  const where = keep === undefined ? sql`` : sql` WHERE ${keep}`
  return sql`SELECT r.member_id, date_trunc('month', r.day) AS month,
      max(CASE WHEN ${rollupActiveCondition(settings)} THEN 1 ELSE 0 END) AS active,
      max(CASE WHEN ${rollupEngagedCondition(settings)} THEN 1 ELSE 0 END) AS engaged,
      0 AS prev_active,
      sum(CASE WHEN r.fact = 'order' THEN r.n ELSE 0 END) AS orders,
      CAST(sum(CASE WHEN r.fact = 'order' THEN r.amount END) AS DECIMAL(18,4)) AS amount,
      max(CASE WHEN r.fact = 'order' OR r.fact = 'event' THEN r.last_ts END) AS last_ts,
      max(CASE WHEN r.fact = 'order' THEN r.last_ts END) AS last_order_ts
    FROM ${ident(ROLLUP_TABLE)} r${where}
    GROUP BY 1, 2`
}

/**
 * Sets `prev_active` (the member was active in the month before) on the rows of the members `members` (a
 * query of `member_id`s), or on every row.
 */
async function markPreviousActive(driver: DuckDbDriver, members?: Fragment): Promise<void> {
  const t = ident(MONTH_ROLLUP_TABLE)
  const only = members === undefined ? sql`` : sql` AND ${t}.member_id IN (${members})`
  await driver.execute(sql`UPDATE ${t} SET prev_active = CASE WHEN EXISTS (SELECT 1 FROM ${t} p
      WHERE p.member_id = ${t}.member_id AND p.month = ${t}.month - INTERVAL 1 MONTH AND p.active = 1) THEN 1 ELSE 0 END
    WHERE true${only}`)
}

async function writeState(driver: DuckDbDriver, settings: MetricSettings): Promise<void> {
  const key = monthRollupSettingsKey(settings)
  await driver.execute(sql`DELETE FROM ${ident(MONTH_ROLLUP_STATE_TABLE)}`)
  await driver.execute(sql`INSERT INTO ${ident(MONTH_ROLLUP_STATE_TABLE)}
    SELECT (SELECT count(*) FROM ${ident(ROLLUP_TABLE)}), ${key.qualifying}, ${key.engagement}, count(*)
    FROM ${ident(MONTH_ROLLUP_TABLE)}`)
}

/** Recomputes the month table from the day rollup, in the caller's transaction. Returns its rows. */
export async function rebuildMonthRollup(
  driver: DuckDbDriver,
  settings: MetricSettings = DEFAULT_SETTINGS,
): Promise<number> {
  await ensureMonthTables(driver)
  await driver.execute(sql`DELETE FROM ${ident(MONTH_ROLLUP_TABLE)}`)
  // From scratch, the previous month's flag comes from joining the new rows to themselves (one pass, where
  // updating every row would rewrite the table).
  await driver.execute(sql`INSERT INTO ${ident(MONTH_ROLLUP_TABLE)}
    WITH g AS (${monthRows(settings)})
    SELECT g.member_id, g.month, g.active, g.engaged, CASE WHEN p.member_id IS NULL THEN 0 ELSE 1 END,
      g.orders, g.amount, g.last_ts, g.last_order_ts
    FROM g LEFT JOIN g p ON p.member_id = g.member_id AND p.month = g.month - INTERVAL 1 MONTH AND p.active = 1`)
  await writeState(driver, settings)
  const r = await driver.first<{ n: bigint }>(
    sql`SELECT count(*) AS n FROM ${ident(MONTH_ROLLUP_TABLE)}`,
  )
  return Number(r?.n ?? 0)
}

/**
 * Recomputes the member-months of the member-days in `days` (a table of `member_id`, `day`) and every month of
 * the members in `members` (a table of `member_id`), in the caller's transaction, after the day rollup was
 * brought up to date. The caller checks first that the month table was current before the load
 * (`monthRollupServes`); otherwise it rebuilds it.
 */
export async function refreshMonthRollup(
  driver: DuckDbDriver,
  days: Fragment,
  members: Fragment,
  settings: MetricSettings = DEFAULT_SETTINGS,
): Promise<void> {
  // The member-months to recompute, as a condition over a member id and a month start.
  const touched = (
    member: Fragment,
    month: Fragment,
  ) => sql`(${member} IN (SELECT member_id FROM ${members})
    OR EXISTS (SELECT 1 FROM ${days} t WHERE t.member_id = ${member} AND date_trunc('month', t.day) = ${month}))`
  const target = ident(MONTH_ROLLUP_TABLE)
  await driver.execute(
    sql`DELETE FROM ${target} WHERE ${touched(sql`${target}.member_id`, sql`${target}.month`)}`,
  )
  await driver.execute(
    sql`INSERT INTO ${target} ${monthRows(settings, touched(sql`r.member_id`, sql`date_trunc('month', r.day)`))}`,
  )
  // A month's flag of the month before changes with that month: every month of a touched member is marked again.
  await markPreviousActive(
    driver,
    sql`SELECT member_id FROM ${members} UNION SELECT member_id FROM ${days}`,
  )
  await writeState(driver, settings)
}
