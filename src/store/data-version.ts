/**
 * The version of the loaded data: a text that changes whenever data that cached answers read may have changed.
 * It combines what every writer of those inputs changes: the newest `loads` row (every ingest appends one in the
 * transaction that writes the data), the ledger sync's horizon, and the number and time of sentiment labels.
 * @module
 */
import { tableExists, type Driver } from '../engine/drivers/driver.js'
import { sql } from '../engine/sql/fragment.js'

export async function dataVersion(driver: Driver): Promise<string> {
  const [ledgerSynced, labelled] = await Promise.all([
    tableExists(driver, 'loyalty_sync_state'),
    tableExists(driver, 'feedback_sentiment'),
  ])
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
