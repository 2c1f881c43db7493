/**
 * Writing the member × day activity rollup (`engine/metrics/rollups.ts` says what it holds and when queries
 * read it): from scratch (`memberlens rollups rebuild`) or, inside an ingest's transaction, for the member-days
 * the load touched.
 *
 * Incremental update: before a load writes its rows, {@link noteTouchedDays} records the (member, local day)
 * of every incoming row and of every stored row it replaces (a changed time, member or status moves a fact off
 * its old day); merged members are recorded whole ({@link noteMergedMembers}), since a merge moves every fact
 * of one member to another. {@link refreshTouched} then deletes those rows of the rollup and recomputes them
 * from the raw tables, in SQL, and records the tables' new row counts in `rollup_state`. Days are recorded with
 * the kind of fact the loaded table makes, so that a load of orders recomputes order rows from `orders` alone
 * and reads no events (a merge recomputes every kind).
 * @module
 */
import type { Clock } from '../../core/clock.js'
import { DEFAULT_TIME_ZONE } from '../../core/time-zone.js'
import type { ClickHouseDriver } from '../../engine/drivers/clickhouse-driver.js'
import { tableExists } from '../../engine/drivers/driver.js'
import { DEFAULT_SETTINGS } from '../../engine/metrics/context.js'
import {
  MONTH_ROLLUP_KEY,
  MONTH_ROLLUP_STATE_KEY,
  MONTH_ROLLUP_STATE_TABLE,
  MONTH_ROLLUP_TABLE,
  monthRollupServes,
  ROLLUP_KEY,
  ROLLUP_STATE_KEY,
  ROLLUP_STATE_TABLE,
  ROLLUP_TABLE,
  readRollupState,
  sourceRowCounts,
  type RollupState,
} from '../../engine/metrics/rollups.js'
import { ident, join, sql, type Fragment } from '../../engine/sql/fragment.js'
import { copyDuckDbTable, type CopyOptions } from '../clickhouse-copy.js'
import type { DuckDbDriver } from '../driver.js'
import {
  copyPurchaseSummaryTables,
  rebuildPurchaseSummary,
  refreshPurchaseSummary,
} from './member-purchases.js'
import { rebuildMonthRollup, refreshMonthRollup } from './member-months.js'

const TOUCHED_DAYS = '_ml_rollup_days'
const TOUCHED_MEMBERS = '_ml_rollup_members'

/** The kinds of fact of the rollup. */
type Fact = 'order' | 'event' | 'review'
const FACTS: readonly Fact[] = ['order', 'event', 'review']

/** The raw tables whose rows feed the rollup: their time column and the kind of fact they make. */
export const ROLLUP_FACT_SOURCES: Readonly<Record<string, { time: string; fact: Fact }>> = {
  orders: { time: 'ordered_at', fact: 'order' },
  events: { time: 'ts', fact: 'event' },
  feedback: { time: 'ts', fact: 'review' },
}

/** Creates the rollup tables when missing. */
export async function ensureRollupTables(driver: DuckDbDriver): Promise<void> {
  await driver.execute(sql`CREATE TABLE IF NOT EXISTS ${ident(ROLLUP_TABLE)} (
    member_id BIGINT NOT NULL, day TIMESTAMP NOT NULL, fact VARCHAR NOT NULL, event_type VARCHAR NOT NULL,
    n BIGINT NOT NULL, amount DECIMAL(38,4), last_ts TIMESTAMP NOT NULL)`)
  await driver.execute(sql`CREATE TABLE IF NOT EXISTS ${ident(ROLLUP_STATE_TABLE)} (
    timezone VARCHAR NOT NULL, orders_rows BIGINT NOT NULL, events_rows BIGINT NOT NULL,
    feedback_rows BIGINT NOT NULL, rollup_rows BIGINT NOT NULL, updated_at TIMESTAMP NOT NULL)`)
}

/** The local day (midnight, wall-clock) of a raw time column in `timezone`, as the metric sources count it. */
function localDay(driver: DuckDbDriver, column: Fragment, timezone: string): Fragment {
  return driver.dialect.dateTrunc('day', driver.dialect.localTime(column, timezone))
}

/**
 * The rollup's rows computed from the raw tables, for the kinds of fact `facts` (default all), restricted by
 * `keep` (a condition over `member_id` of the raw rows, aliased `s`), or all of them.
 */
function rollupRows(
  driver: DuckDbDriver,
  timezone: string,
  keep?: Fragment,
  facts: readonly Fact[] = FACTS,
): Fragment {
  const local = (c: string) => driver.dialect.localTime(sql`s.${ident(c)}`, timezone)
  const also = keep === undefined ? sql`` : sql` AND ${keep}`
  const branch: Record<Fact, Fragment> = {
    order: sql`SELECT s.member_id, ${local('ordered_at')} AS lt, 'order' AS fact, '' AS event_type,
        s.net_amount AS amount FROM orders s WHERE s.status <> 'cancelled' AND s.member_id IS NOT NULL${also}`,
    event: sql`SELECT s.member_id, ${local('ts')} AS lt, 'event' AS fact, s.event_type AS event_type,
        NULL AS amount FROM events s WHERE s.member_id IS NOT NULL${also}`,
    review: sql`SELECT s.member_id, ${local('ts')} AS lt, 'review' AS fact, '' AS event_type, NULL AS amount
        FROM feedback s WHERE s.kind = 'review' AND s.member_id IS NOT NULL${also}`,
  }
  return sql`SELECT f.member_id, ${driver.dialect.dateTrunc('day', sql`f.lt`)} AS day, f.fact, f.event_type,
      count(*) AS n, sum(f.amount) AS amount, max(f.lt) AS last_ts
    FROM (${join(
      facts.map((x) => branch[x]),
      ' UNION ALL ',
    )}) f
    GROUP BY 1, 2, 3, 4`
}

async function writeState(driver: DuckDbDriver, timezone: string, clock: Clock): Promise<void> {
  const counts = await sourceRowCounts(driver)
  await driver.execute(sql`DELETE FROM ${ident(ROLLUP_STATE_TABLE)}`)
  await driver.execute(sql`INSERT INTO ${ident(ROLLUP_STATE_TABLE)}
    SELECT ${timezone}, ${counts.ordersRows}, ${counts.eventsRows}, ${counts.feedbackRows}, count(*),
      CAST(${clock.now().toISOString()} AS TIMESTAMPTZ)::TIMESTAMP
    FROM ${ident(ROLLUP_TABLE)}`)
}

/** What {@link rebuildRollups} reports. */
export interface RebuildReport {
  readonly timezone: string
  readonly rows: number
  readonly members: number
  readonly days: number
  /** Rows of the member × month table computed with it. */
  readonly monthRows: number
  readonly seconds: number
}

/**
 * Writes the rollup, its month table and the purchase summary from scratch, the days keyed by `timezone`, in
 * the caller's transaction. Returns the month table's rows.
 */
async function writeFromScratch(
  driver: DuckDbDriver,
  timezone: string,
  clock: Clock,
): Promise<number> {
  await ensureRollupTables(driver)
  await driver.execute(sql`DELETE FROM ${ident(ROLLUP_TABLE)}`)
  await driver.execute(sql`INSERT INTO ${ident(ROLLUP_TABLE)} ${rollupRows(driver, timezone)}`)
  await writeState(driver, timezone, clock)
  const monthRows = await rebuildMonthRollup(driver)
  await rebuildPurchaseSummary(driver, { clock })
  return monthRows
}

/**
 * Recomputes the rollup from scratch, keyed by the local days of `timezone` (default: the zone it is keyed
 * by now, else the default project zone), in one transaction (the caller's, when it holds one), and reports
 * its size.
 */
export async function rebuildRollups(
  driver: DuckDbDriver,
  options: { readonly timezone?: string; readonly clock: Clock },
): Promise<RebuildReport> {
  const started = performance.now()
  return driver.transaction(async () => {
    const timezone =
      options.timezone ?? (await readRollupState(driver))?.timezone ?? DEFAULT_TIME_ZONE
    const monthRows = await writeFromScratch(driver, timezone, options.clock)
    const r = await driver.first<{ rows: bigint; members: bigint; days: bigint }>(
      sql`SELECT count(*) AS rows, count(DISTINCT member_id) AS members, count(DISTINCT day) AS days
        FROM ${ident(ROLLUP_TABLE)}`,
    )
    return {
      timezone,
      rows: Number(r?.rows ?? 0),
      members: Number(r?.members ?? 0),
      days: Number(r?.days ?? 0),
      monthRows,
      seconds: (performance.now() - started) / 1000,
    }
  })
}

/** What {@link rollupStatus} reports. */
export interface RollupStatus extends RollupState {
  /** The day rollup matches the raw tables. */
  readonly current: boolean
  /** Rows of the member × month table, when there is one. */
  readonly monthRows?: number
  /** The member × month table matches the day rollup (with the default event settings). */
  readonly monthsCurrent: boolean
}

/** The recorded state and whether it matches the raw tables now; undefined when there is no rollup. */
export async function rollupStatus(driver: DuckDbDriver): Promise<RollupStatus | undefined> {
  const state = await readRollupState(driver)
  if (state === undefined) return undefined
  const now = await sourceRowCounts(driver)
  const current =
    now.ordersRows === state.ordersRows &&
    now.eventsRows === state.eventsRows &&
    now.feedbackRows === state.feedbackRows
  const monthsCurrent = await monthRollupServes(driver, DEFAULT_SETTINGS)
  const months = (await tableExists(driver, MONTH_ROLLUP_STATE_TABLE))
    ? await driver.first<{ n: bigint }>(
        sql`SELECT month_rows AS n FROM ${ident(MONTH_ROLLUP_STATE_TABLE)} LIMIT 1`,
      )
    : undefined
  return {
    ...state,
    current,
    ...(months === undefined ? {} : { monthRows: Number(months.n) }),
    monthsCurrent,
  }
}

async function ensureTouchedTables(driver: DuckDbDriver): Promise<void> {
  await driver.execute(
    sql`CREATE TEMP TABLE IF NOT EXISTS ${ident(TOUCHED_DAYS)} (member_id BIGINT, day TIMESTAMP, fact VARCHAR)`,
  )
  await driver.execute(
    sql`CREATE TEMP TABLE IF NOT EXISTS ${ident(TOUCHED_MEMBERS)} (member_id BIGINT)`,
  )
}

/** The rollup's zone when the database has a rollup that ingest keeps. */
async function rollupZone(driver: DuckDbDriver): Promise<string | undefined> {
  return (await readRollupState(driver))?.timezone
}

/**
 * Records the member-days a load of `table` touches: those of the incoming rows `rows` (a query with the
 * table's columns) and of the stored rows with the same key (`sameKey`, a condition over the stored table
 * and the incoming rows aliased `n`). Does nothing for tables the rollup does not read, or without a rollup.
 */
export async function noteTouchedDays(
  driver: DuckDbDriver,
  table: string,
  rows: Fragment,
  sameKey: Fragment,
): Promise<void> {
  const source = ROLLUP_FACT_SOURCES[table]
  if (source === undefined) return
  const { time, fact } = source
  const zone = await rollupZone(driver)
  if (zone === undefined) return
  await ensureTouchedTables(driver)
  const t = ident(table)
  const day = (alias: string) => localDay(driver, sql`${ident(alias, time)}`, zone)
  await driver.execute(sql`INSERT INTO ${ident(TOUCHED_DAYS)}
    SELECT n.member_id, ${day('n')}, ${fact} FROM ${rows} n WHERE n.member_id IS NOT NULL AND n.${ident(time)} IS NOT NULL
    UNION SELECT ${t}.member_id, ${day(table)}, ${fact} FROM ${t}
      WHERE ${t}.member_id IS NOT NULL AND EXISTS (SELECT 1 FROM ${rows} n WHERE ${sameKey})`)
}

/** Records both sides of the members merged by a load (`_ml_merges`): their every day is recomputed. */
export async function noteMergedMembers(driver: DuckDbDriver): Promise<void> {
  if ((await rollupZone(driver)) === undefined) return
  await ensureTouchedTables(driver)
  await driver.execute(sql`INSERT INTO ${ident(TOUCHED_MEMBERS)}
    SELECT from_member_id FROM _ml_merges UNION SELECT into_member_id FROM _ml_merges`)
}

/**
 * Brings the rollup up to date after a load, in the load's transaction: the member-days recorded by
 * {@link noteTouchedDays} and {@link noteMergedMembers} are deleted and recomputed from the raw tables. A
 * database without a rollup gets one, computed from scratch in `timezone` (default: the project zone).
 */
export async function refreshTouched(
  driver: DuckDbDriver,
  options: { readonly clock: Clock; readonly timezone?: string },
): Promise<void> {
  const zone = await rollupZone(driver)
  if (zone === undefined) {
    // The first load: written whole, without the size report a rebuild prints.
    await writeFromScratch(driver, options.timezone ?? DEFAULT_TIME_ZONE, options.clock)
    return
  }
  await ensureTouchedTables(driver)
  const days = ident(TOUCHED_DAYS)
  const members = ident(TOUCHED_MEMBERS)
  // Whether the member × month table matched the day rollup before this load: then only the touched months are
  // recomputed, else all of it.
  const monthsKept = await monthRollupServes(driver, DEFAULT_SETTINGS)
  // A load of one table changes facts of one kind only (merges excepted): only those are recomputed, so that
  // loading orders reads no events.
  const merged = (await driver.first(sql`SELECT 1 AS x FROM ${members} LIMIT 1`)) !== undefined
  const kinds = await driver.all<{ fact: Fact }>(sql`SELECT DISTINCT fact FROM ${days}`)
  const facts = merged ? FACTS : FACTS.filter((f) => kinds.some((k) => k.fact === f))
  if (facts.length > 0) {
    const touched = (
      alias: string,
    ) => sql`(EXISTS (SELECT 1 FROM ${members} t WHERE t.member_id = ${ident(alias, 'member_id')})
      OR EXISTS (SELECT 1 FROM ${days} t WHERE t.member_id = ${ident(alias, 'member_id')}
        AND t.day = ${ident(alias, 'day')} AND t.fact = ${ident(alias, 'fact')}))`
    const target = ident(ROLLUP_TABLE)
    await driver.execute(sql`DELETE FROM ${target} WHERE ${touched(ROLLUP_TABLE)}`)
    // Only the touched members' facts are read: the day of each is computed for those rows alone.
    const ofTouchedMembers = sql`(s.member_id IN (SELECT member_id FROM ${members})
      OR s.member_id IN (SELECT member_id FROM ${days}))`
    await driver.execute(sql`INSERT INTO ${target}
      SELECT * FROM (${rollupRows(driver, zone, ofTouchedMembers, facts)}) x WHERE ${touched('x')}`)
  }
  // The per-member purchase summary: every member with a touched order day or in a merge, recomputed whole.
  if (merged || facts.includes('order'))
    await refreshPurchaseSummary(
      driver,
      sql`SELECT member_id FROM ${days} WHERE fact = 'order' UNION SELECT member_id FROM ${members}`,
      { clock: options.clock },
    )
  if (!monthsKept) await rebuildMonthRollup(driver)
  else if (facts.length > 0) await refreshMonthRollup(driver, sql`${days}`, sql`${members}`)
  await driver.execute(sql`DELETE FROM ${days}`)
  await driver.execute(sql`DELETE FROM ${members}`)
  await writeState(driver, zone, options.clock)
}

/**
 * Copies the rollup and its state to ClickHouse (after `copyToClickHouse` copied the raw tables it was computed
 * from), so that metric queries there read it too. Returns rows copied per table; nothing without a rollup.
 */
export async function copyRollupTables(
  source: DuckDbDriver,
  target: ClickHouseDriver,
  options: CopyOptions = {},
): Promise<Record<string, number>> {
  if ((await readRollupState(source)) === undefined) return {}
  // Replaced whole, the state first: a member-day gone from DuckDB (a cancelled order, a merged member) must not
  // outlive it on ClickHouse, and a reader in between finds no rollup and reads the raw tables.
  await target.execute(sql`DROP TABLE IF EXISTS ${ident(MONTH_ROLLUP_STATE_TABLE)}`)
  await target.execute(sql`DROP TABLE IF EXISTS ${ident(MONTH_ROLLUP_TABLE)}`)
  await target.execute(sql`DROP TABLE IF EXISTS ${ident(ROLLUP_STATE_TABLE)}`)
  await target.execute(sql`DROP TABLE IF EXISTS ${ident(ROLLUP_TABLE)}`)
  // The month table only when it matches the day rollup: otherwise ClickHouse reads the day rollup alone.
  const months: Record<string, number> = (await monthRollupServes(source, DEFAULT_SETTINGS))
    ? {
        [MONTH_ROLLUP_TABLE]: await copyDuckDbTable(
          source,
          target,
          MONTH_ROLLUP_TABLE,
          MONTH_ROLLUP_KEY,
          options,
        ),
        [MONTH_ROLLUP_STATE_TABLE]: await copyDuckDbTable(
          source,
          target,
          MONTH_ROLLUP_STATE_TABLE,
          MONTH_ROLLUP_STATE_KEY,
          options,
        ),
      }
    : {}
  return {
    ...(await copyPurchaseSummaryTables(source, target, options)),
    ...months,
    [ROLLUP_TABLE]: await copyDuckDbTable(source, target, ROLLUP_TABLE, ROLLUP_KEY, options),
    [ROLLUP_STATE_TABLE]: await copyDuckDbTable(
      source,
      target,
      ROLLUP_STATE_TABLE,
      ROLLUP_STATE_KEY,
      options,
    ),
  }
}
