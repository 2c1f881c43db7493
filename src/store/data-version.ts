/**
 * The version of the loaded data: a text that changes whenever data that cached answers read may have changed.
 * It combines what every writer of those inputs changes: the newest `loads` row (every ingest appends one in the
 * transaction that writes the data), the ledger sync's horizon, and the number and time of sentiment labels.
 * @module
 */
import type { Driver } from '../engine/drivers/driver.js'
import { sql } from '../engine/sql/fragment.js'

export async function dataVersion(driver: Driver): Promise<string> {
  // One look-up for both optional tables: this runs before every cached answer of the API.
  const tables = await driver.all<{ tableName: string }>(
    sql`SELECT table_name FROM information_schema.tables
      WHERE table_name IN ('loyalty_sync_state', 'feedback_sentiment')`,
  )
  const has = new Set(tables.map((t) => t.tableName))
  const ledgerSynced = has.has('loyalty_sync_state')
  const labelled = has.has('feedback_sentiment')
  const loads = sql`(SELECT CAST(coalesce(max(load_id), 0) AS VARCHAR) FROM loads)`
  const ledger = ledgerSynced
    ? sql`(SELECT coalesce(max(value), '') FROM loyalty_sync_state WHERE key = 'tx_horizon')`
    : sql`''`
  const labels = labelled
    ? sql`(SELECT CAST(count(*) AS VARCHAR) || '@' || coalesce(max(labelled_at), '') FROM feedback_sentiment)`
    : sql`''`
  const row = await driver.first<{ v: string }>(
    sql`SELECT ${loads} || '/' || ${ledger} || '/' || ${labels} AS v`,
  )
  return row?.v ?? ''
}
