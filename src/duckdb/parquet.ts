/**
 * File formats DuckDB reads and writes for the application.
 * @module
 */
import { sql } from '../engine/sql/fragment.js'
import { DuckDbDriver } from './driver.js'

/** Rewrites CSV files (a header row, every value kept as text) as Parquet files, in an in-memory database. */
export async function csvFilesToParquet(
  files: readonly { readonly csv: string; readonly parquet: string }[],
): Promise<void> {
  const driver = await DuckDbDriver.open({ path: ':memory:' })
  try {
    for (const { csv, parquet } of files)
      await driver.execute(
        sql`COPY (SELECT * FROM read_csv(${csv}, header = true, all_varchar = true)) TO ${parquet} (FORMAT parquet)`,
      )
  } finally {
    await driver.close()
  }
}
