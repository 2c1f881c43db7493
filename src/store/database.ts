/**
 * The storage layer: one DuckDB database file holding every canonical table.
 * @module
 */
import { TABLES, TABLE_NAMES } from '../core/schema.js'
import { DuckDbDriver } from '../duckdb/driver.js'
import { buildCreateTable } from '../engine/sql/ddl.js'
import { sql } from '../engine/sql/fragment.js'
import { DEFAULT_DB_PATH } from './db-path.js'

export { DEFAULT_DB_PATH } from './db-path.js'
export const SCHEMA_VERSION = 1

export interface OpenOptions {
  readonly readOnly?: boolean
  readonly memoryLimit?: string
  readonly threads?: number
}

/** An open memberlens database. */
export interface Database {
  readonly path: string
  readonly driver: DuckDbDriver
  close(): Promise<void>
}

/** Opens (creating if needed) a database file and makes sure every canonical table exists. */
export async function openDatabase(
  path: string = DEFAULT_DB_PATH,
  options: OpenOptions = {},
): Promise<Database> {
  const driver = await DuckDbDriver.open({ path, ...options })
  if (!options.readOnly) await ensureSchema(driver)
  return { path, driver, close: () => driver.close() }
}

export async function ensureSchema(driver: DuckDbDriver): Promise<void> {
  await driver.transaction(async () => {
    await driver.execute(
      sql`CREATE TABLE IF NOT EXISTS memberlens_meta (key VARCHAR PRIMARY KEY, value VARCHAR)`,
    )
    for (const name of TABLE_NAMES)
      await driver.execute(buildCreateTable(driver.dialect, TABLES[name]))
    await driver.execute(
      sql`INSERT INTO memberlens_meta VALUES ('schema_version', ${String(SCHEMA_VERSION)}) ON CONFLICT DO NOTHING`,
    )
  })
}
