/**
 * Writing the per-member purchase summary (`engine/lifecycle/purchase-summary.ts` says what it holds and when
 * lifecycle stages and RFM read it): from scratch, with the member × day rollup (`memberlens rollups rebuild`),
 * or inside an ingest's transaction for the members whose purchases the load touched (the members of the
 * order member-days the rollup records, and both sides of every merge), each recomputed whole from `orders`.
 * @module
 */
import type { Clock } from '../../core/clock.js'
import type { ClickHouseDriver } from '../../engine/drivers/clickhouse-driver.js'
import {
  PURCHASE_SUMMARY_CHURN_DAYS,
  PURCHASE_SUMMARY_KEY,
  PURCHASE_SUMMARY_STATE_KEY,
  PURCHASE_SUMMARY_STATE_TABLE,
  PURCHASE_SUMMARY_TABLE,
  purchaseSummaryRows,
  readPurchaseSummaryState,
} from '../../engine/lifecycle/purchase-summary.js'
import { ident, sql, unsafeRaw, type Fragment } from '../../engine/sql/fragment.js'
import { copyDuckDbTable, type CopyOptions } from '../clickhouse-copy.js'
import type { DuckDbDriver } from '../driver.js'

/** The type of `net_amount`: the money type of `orders`, so that the sums keep every decimal. */
const AMOUNT_TYPE = 'DECIMAL(18,4)'

/**
 * Creates the summary tables when missing. A summary written with an earlier `net_amount` type (DECIMAL(38,2)
 * rounded amounts to cents) is dropped with its state, so that the caller computes it again from scratch.
 */
async function ensureSummaryTables(driver: DuckDbDriver): Promise<void> {
  const column = await driver.first<{ dataType: string }>(
    sql`SELECT data_type FROM information_schema.columns
      WHERE table_name = ${PURCHASE_SUMMARY_TABLE} AND column_name = 'net_amount'`,
  )
  if (column !== undefined && column.dataType !== AMOUNT_TYPE) {
    await driver.execute(sql`DROP TABLE IF EXISTS ${ident(PURCHASE_SUMMARY_STATE_TABLE)}`)
    await driver.execute(sql`DROP TABLE ${ident(PURCHASE_SUMMARY_TABLE)}`)
  }
  await driver.execute(sql`CREATE TABLE IF NOT EXISTS ${ident(PURCHASE_SUMMARY_TABLE)} (
    member_id BIGINT NOT NULL, purchases BIGINT NOT NULL, first_ts TIMESTAMP NOT NULL,
    last_ts TIMESTAMP NOT NULL, median_gap_days DOUBLE, net_amount ${unsafeRaw(AMOUNT_TYPE)}, reactivated_at TIMESTAMP)`)
  await driver.execute(sql`CREATE TABLE IF NOT EXISTS ${ident(PURCHASE_SUMMARY_STATE_TABLE)} (
    orders_rows BIGINT NOT NULL, last_purchase_at TIMESTAMP, churn_days DOUBLE NOT NULL,
    summary_rows BIGINT NOT NULL, updated_at TIMESTAMP NOT NULL)`)
}

async function writeState(driver: DuckDbDriver, clock: Clock): Promise<void> {
  const orders = await driver.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM orders`)
  await driver.execute(sql`DELETE FROM ${ident(PURCHASE_SUMMARY_STATE_TABLE)}`)
  await driver.execute(sql`INSERT INTO ${ident(PURCHASE_SUMMARY_STATE_TABLE)}
    SELECT ${Number(orders?.n ?? 0)}, max(last_ts), ${PURCHASE_SUMMARY_CHURN_DAYS}, count(*),
      CAST(${clock.now().toISOString()} AS TIMESTAMPTZ)::TIMESTAMP
    FROM ${ident(PURCHASE_SUMMARY_TABLE)}`)
}

/** Recomputes the summary from `orders`, in the caller's transaction. Returns its rows. */
export async function rebuildPurchaseSummary(
  driver: DuckDbDriver,
  options: { readonly clock: Clock },
): Promise<number> {
  await ensureSummaryTables(driver)
  await driver.execute(sql`DELETE FROM ${ident(PURCHASE_SUMMARY_TABLE)}`)
  await driver.execute(sql`INSERT INTO ${ident(PURCHASE_SUMMARY_TABLE)} ${purchaseSummaryRows()}`)
  await writeState(driver, options.clock)
  const r = await driver.first<{ n: bigint }>(
    sql`SELECT count(*) AS n FROM ${ident(PURCHASE_SUMMARY_TABLE)}`,
  )
  return Number(r?.n ?? 0)
}

/**
 * Recomputes the summary rows of the members `touched` (a query of `member_id`s) from `orders`, in the
 * caller's transaction; a database without a summary gets one from scratch.
 */
export async function refreshPurchaseSummary(
  driver: DuckDbDriver,
  touched: Fragment,
  options: { readonly clock: Clock },
): Promise<void> {
  await ensureSummaryTables(driver)
  if ((await readPurchaseSummaryState(driver)) === undefined) {
    await rebuildPurchaseSummary(driver, options)
    return
  }
  const target = ident(PURCHASE_SUMMARY_TABLE)
  await driver.execute(sql`DELETE FROM ${target} WHERE member_id IN (${touched})`)
  await driver.execute(
    sql`INSERT INTO ${target} ${purchaseSummaryRows(sql`o.member_id IN (${touched})`)}`,
  )
  await writeState(driver, options.clock)
}

/**
 * Copies the summary and its state to ClickHouse (after the raw tables), so that lifecycle stages and RFM
 * there read it too. Returns rows copied per table; nothing without a summary.
 */
export async function copyPurchaseSummaryTables(
  source: DuckDbDriver,
  target: ClickHouseDriver,
  options: CopyOptions = {},
): Promise<Record<string, number>> {
  if ((await readPurchaseSummaryState(source)) === undefined) return {}
  await target.execute(sql`DROP TABLE IF EXISTS ${ident(PURCHASE_SUMMARY_STATE_TABLE)}`)
  await target.execute(sql`DROP TABLE IF EXISTS ${ident(PURCHASE_SUMMARY_TABLE)}`)
  return {
    [PURCHASE_SUMMARY_TABLE]: await copyDuckDbTable(
      source,
      target,
      PURCHASE_SUMMARY_TABLE,
      PURCHASE_SUMMARY_KEY,
      options,
    ),
    [PURCHASE_SUMMARY_STATE_TABLE]: await copyDuckDbTable(
      source,
      target,
      PURCHASE_SUMMARY_STATE_TABLE,
      PURCHASE_SUMMARY_STATE_KEY,
      options,
    ),
  }
}
