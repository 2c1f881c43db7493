/**
 * The CDNOW transaction log (Fader, Hardie & Lee 2005) mapped onto members and orders: the full cohort file
 * (`customer_id date number_of_cds dollar_value`, with header) or the 2,357-customer sample (`master_id
 * sample_id yyyymmdd n_cds dollars`, no header), whitespace-separated. Rules: docs/mappings/cdnow.md.
 * @module
 */
import { InputError } from '../../../core/errors.js'
import type { DuckDbDriver } from '../../driver.js'
import { sql } from '../../../engine/sql/fragment.js'
import type { IngestReport } from '../ingest.js'
import { rollback } from '../rollback.js'
import { asInputError, dropStagingTables, stageLines } from '../source.js'
import type { Preset, PresetOptions, PresetReport } from './preset.js'
import { ingestQuery } from './stage-from.js'

export const cdnowPreset: Preset = {
  name: 'cdnow',
  description: 'CDNOW transaction log (master or sample) → members, orders',
  doc: 'docs/mappings/cdnow.md',
  async load(driver: DuckDbDriver, file: string, options: PresetOptions): Promise<PresetReport> {
    try {
      return await load(driver, file, options)
    } finally {
      await dropStagingTables(driver)
    }
  },
}

async function load(
  driver: DuckDbDriver,
  file: string,
  options: PresetOptions,
): Promise<PresetReport> {
  await stageLines(driver, file, '_ml_lines', {}, options.maxIssues ?? 20)
  try {
    await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_src AS
        SELECT _line, string_split_regex(trim(line), '\s+') AS f FROM _ml_lines WHERE trim(line) <> ''`)
  } catch (error) {
    throw asInputError(error, file)
  }
  // The master file starts with a header line; data lines have 4 fields (master) or 5 (sample).
  await driver.execute(sql`DELETE FROM _ml_src WHERE _line = 1 AND f[1] = 'customer_id'`)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_tx AS
      SELECT _line, len(f) AS nf,
        CASE WHEN len(f) = 5 THEN f[1] ELSE f[1] END AS customer,
        CASE WHEN len(f) = 5 THEN f[3] ELSE f[2] END AS day,
        CASE WHEN len(f) = 5 THEN f[4] ELSE f[3] END AS cds,
        CASE WHEN len(f) = 5 THEN f[5] ELSE f[4] END AS dollars
      FROM _ml_src`)
  const bad = await driver.all<{ line: bigint; nf: bigint }>(
    sql`SELECT _line AS line, nf FROM _ml_tx WHERE nf NOT IN (4, 5) OR TRY_STRPTIME(day, '%Y%m%d') IS NULL
          OR TRY_CAST(dollars AS DECIMAL(18,4)) IS NULL OR TRY_CAST(cds AS INTEGER) IS NULL ORDER BY _line LIMIT 20`,
  )
  if (bad.length > 0) {
    throw new InputError(
      `${file}: not a CDNOW transaction log`,
      bad.map((b) => ({
        file,
        line: Number(b.line),
        reason: 'expected "customer date(yyyymmdd) cds dollars" (or the sample form with two ids)',
      })),
    )
  }
  const rowsRead = Number(
    (await driver.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM _ml_tx`))?.n ?? 0,
  )
  const common = {
    clock: options.clock,
    timezone: options.timezone ?? 'UTC',
    currency: 'USD',
    dateFormat: '%Y%m%d',
    ...(options.maxIssues === undefined ? {} : { maxIssues: options.maxIssues }),
    ...(options.onPhase === undefined ? {} : { onPhase: options.onPhase }),
  }
  const run = async (): Promise<IngestReport[]> => [
    // Every CDNOW customer entered the cohort with a first purchase in 1997-Q1: registration = first purchase.
    await ingestQuery(
      driver,
      'members',
      sql`
        SELECT min(_line) AS _line, ltrim(customer, '0') AS customer_id, min(day) AS registered_at,
          'online' AS registration_channel
        FROM _ml_tx GROUP BY customer`,
      file,
      common,
    ),
    // One order per line; the id numbers a customer's lines of the same day in file order.
    await ingestQuery(
      driver,
      'orders',
      sql`
        SELECT _line, 'cdnow-' || ltrim(customer, '0') || '-' || day || '-'
            || row_number() OVER (PARTITION BY customer, day ORDER BY _line) AS order_id,
          ltrim(customer, '0') AS customer_id, day AS ordered_at, 'online' AS channel,
          dollars AS gross_amount, '0' AS discount_amount, dollars AS net_amount, 'paid' AS status
        FROM _ml_tx`,
      file,
      common,
    ),
  ]
  const tables = options.dryRun ? await rollback(driver, run) : await driver.transaction(run)
  return { preset: 'cdnow', file, dryRun: options.dryRun ?? false, rowsRead, skipped: {}, tables }
}
