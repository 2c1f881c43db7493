/**
 * Answers that depend only on the loaded data (the overview, the metric tree) cached per data version, so a
 * dashboard's repeated reads cost one small query instead of a scan of the fact tables.
 *
 * The version is what every writer of those inputs changes: the newest `loads` row (every ingest, from the
 * CLI or the API, appends one in the transaction that writes the data), the ledger sync's horizon and the
 * number and time of sentiment labels (the inputs of the points and sentiment metrics). Concurrent requests
 * for the same key share one computation; a failed computation is not kept.
 * @module
 */
import type { DuckDbDriver } from '../engine/drivers/duckdb-driver.js'
import { sql } from '../engine/sql/fragment.js'

export class DataCache {
  private readonly entries = new Map<string, { version: string; value: Promise<unknown> }>()

  constructor(
    private readonly driver: DuckDbDriver,
    private readonly maxEntries = 256,
  ) {}

  /** The data version: changes whenever data the cached answers read may have changed. */
  async version(): Promise<string> {
    const tables = await this.driver.all<{ tableName: string }>(
      sql`SELECT table_name FROM information_schema.tables
        WHERE table_name IN ('loyalty_sync_state', 'feedback_sentiment')`,
    )
    const has = new Set(tables.map((t) => t.tableName))
    const loads = sql`(SELECT CAST(coalesce(max(load_id), 0) AS VARCHAR) FROM loads)`
    const ledger = has.has('loyalty_sync_state')
      ? sql`(SELECT coalesce(max(value), '') FROM loyalty_sync_state WHERE key = 'tx_horizon')`
      : sql`''`
    const labels = has.has('feedback_sentiment')
      ? sql`(SELECT CAST(count(*) AS VARCHAR) || '@' || coalesce(max(labelled_at), '') FROM feedback_sentiment)`
      : sql`''`
    const row = await this.driver.first<{ v: string }>(
      sql`SELECT ${loads} || '/' || ${ledger} || '/' || ${labels} AS v`,
    )
    return row?.v ?? ''
  }

  /** The cached answer for `key` at the current data version, computing it when there is none. */
  async get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const version = await this.version()
    const hit = this.entries.get(key)
    if (hit && hit.version === version) return hit.value as Promise<T>
    const value = compute()
    this.entries.delete(key)
    this.entries.set(key, { version, value })
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value
      if (oldest === undefined) break
      this.entries.delete(oldest)
    }
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key)
    })
    return value
  }
}
