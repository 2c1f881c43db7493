import type { DuckDbDriver } from '../../driver.js'
import { sql, type Fragment } from '../../../engine/sql/fragment.js'
import type { IngestTable } from '../../../core/schema.js'
import { ingestStaged, type IngestOptions, type IngestReport } from '../ingest.js'
import { describeStage, type StagedSource } from '../source.js'

/** Fills the staging table from a query whose columns are `_line` and canonical source fields. */
export async function stageFrom(driver: DuckDbDriver, query: Fragment): Promise<StagedSource> {
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_stage AS
    SELECT _line::BIGINT AS _line, COLUMNS(* EXCLUDE (_line))::VARCHAR FROM (${query}) ORDER BY _line`)
  return describeStage(driver, 'csv')
}

/** Stages a query's rows and loads them into a canonical table: a preset's step. */
export async function ingestQuery(
  driver: DuckDbDriver,
  table: IngestTable,
  query: Fragment,
  file: string,
  options: Omit<IngestOptions, 'table'>,
): Promise<IngestReport> {
  return ingestStaged(driver, await stageFrom(driver, query), file, { ...options, table })
}
