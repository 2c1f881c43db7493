/**
 * Reads a source file (CSV, JSON Lines or Parquet, optionally gzip-compressed) into a staging table of text
 * columns, with each row's line number. Structural problems (too many columns, bad encoding, malformed JSON)
 * are reported by line and nothing is staged.
 * @module
 */
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { InputError, type InputIssue } from '../core/errors.js'
import type { DuckDbDriver } from '../engine/drivers/duckdb-driver.js'
import { ident, join, sourceColumn, sql, unsafeRaw, type Fragment } from '../engine/sql/fragment.js'

export const SOURCE_FORMATS = ['csv', 'jsonl', 'parquet'] as const
export type SourceFormat = (typeof SOURCE_FORMATS)[number]
export const ENCODINGS = ['utf-8', 'utf-16', 'latin-1'] as const
export type Encoding = (typeof ENCODINGS)[number]

export interface SourceOptions {
  readonly format?: SourceFormat
  /** CSV delimiter (one character); default `,`. */
  readonly delimiter?: string
  /** CSV encoding; default utf-8. */
  readonly encoding?: Encoding
}

export interface StagedSource {
  /** Staging table: text columns named as in the file, plus `_line` (BIGINT). */
  readonly table: string
  readonly columns: readonly string[]
  readonly rows: number
  readonly format: SourceFormat
}

export const STAGE_TABLE = '_ml_stage'
const RAW_TABLE = '_ml_raw'

/** Format from the file name: .csv/.tsv/.txt, .jsonl/.ndjson/.json, .parquet; a .gz/.zst suffix is ignored. */
export function detectFormat(path: string): SourceFormat {
  const name = basename(path)
    .toLowerCase()
    .replace(/\.(gz|gzip|zst)$/, '')
  if (/\.(csv|tsv|txt)$/.test(name)) return 'csv'
  if (/\.(jsonl|ndjson|json)$/.test(name)) return 'jsonl'
  if (/\.parquet$/.test(name)) return 'parquet'
  throw InputError.single({
    file: path,
    reason: 'unknown file type: use .csv, .jsonl or .parquet (optionally .gz), or pass --format',
  })
}

export async function checkReadable(path: string): Promise<void> {
  let size: number
  try {
    const s = await stat(path)
    if (!s.isFile()) throw InputError.single({ file: path, reason: 'not a file' })
    size = s.size
  } catch (error) {
    if (error instanceof InputError) throw error
    throw InputError.single({ file: path, reason: 'file not found or not readable' })
  }
  if (size === 0) throw InputError.single({ file: path, reason: 'file is empty' })
}

/** Stages a file; throws {@link InputError} naming file and line for structural problems. */
export async function stageFile(
  driver: DuckDbDriver,
  path: string,
  options: SourceOptions = {},
  maxIssues = 20,
): Promise<StagedSource> {
  await checkReadable(path)
  const format = options.format ?? detectFormat(path)
  try {
    switch (format) {
      case 'csv':
        await stageCsv(driver, path, options, maxIssues)
        break
      case 'jsonl':
        await stageJsonLines(driver, path, maxIssues)
        break
      case 'parquet':
        await stageParquet(driver, path)
        break
      default: {
        const _exhaustive: never = format
        throw new Error(`unknown format ${String(_exhaustive)}`)
      }
    }
  } catch (error) {
    throw asInputError(error, path)
  }
  return describeStage(driver, format)
}

/** Names of a temporary table's columns, in order. */
export async function tempColumns(driver: DuckDbDriver, table: string): Promise<string[]> {
  const rows = await driver.all<{ columnName: string }>(
    sql`SELECT column_name FROM duckdb_columns() WHERE table_name = ${table} AND database_name = 'temp' ORDER BY column_index`,
  )
  return rows.map((r) => r.columnName)
}

/** The staging table as it stands: its source columns (without `_line`) and its row count. */
export async function describeStage(
  driver: DuckDbDriver,
  format: SourceFormat,
): Promise<StagedSource> {
  const columns = (await tempColumns(driver, STAGE_TABLE)).filter((c) => c !== '_line')
  const count = await driver.first<{ n: bigint }>(
    sql`SELECT count(*) AS n FROM ${ident(STAGE_TABLE)}`,
  )
  return { table: STAGE_TABLE, columns, rows: Number(count?.n ?? 0), format }
}

async function stageCsv(
  driver: DuckDbDriver,
  path: string,
  options: SourceOptions,
  maxIssues: number,
) {
  const delimiter = options.delimiter ?? ','
  if ([...delimiter].length !== 1 && delimiter !== '\\t') {
    throw InputError.single({
      file: path,
      reason: `delimiter must be one character, got ${JSON.stringify(delimiter)}`,
    })
  }
  await driver.execute(sql`DROP TABLE IF EXISTS _ml_rejects`)
  await driver.execute(sql`DROP TABLE IF EXISTS _ml_rejects_scan`)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE ${ident(RAW_TABLE)} AS
    SELECT * FROM read_csv(${path}, header = true, all_varchar = true, delim = ${delimiter},
      quote = '"', escape = '"', encoding = ${options.encoding ?? 'utf-8'},
      store_rejects = true, rejects_table = '_ml_rejects', rejects_scan = '_ml_rejects_scan')`)
  const rejects = await driver.all<{
    line: bigint
    columnName: string | null
    csvLine: string
    errorMessage: string
  }>(
    sql`SELECT line, column_name, csv_line, error_message FROM _ml_rejects ORDER BY line LIMIT ${maxIssues}`,
  )
  if (rejects.length > 0) {
    const total = await driver.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM _ml_rejects`)
    const issues: InputIssue[] = rejects.map((r) => ({
      file: path,
      line: Number(r.line),
      ...(r.columnName === null ? {} : { field: r.columnName }),
      reason: r.errorMessage.split('\n')[0] ?? r.errorMessage,
    }))
    throw new InputError(`${path}: ${Number(total?.n)} malformed line(s)`, issues, Number(total?.n))
  }
  const cols = await rawColumns(driver)
  if (cols.length === 1) {
    const only = cols[0] ?? ''
    const guess = [';', '\t', '|'].find((d) => only.includes(d))
    if (guess !== undefined && guess !== delimiter) {
      throw InputError.single({
        file: path,
        line: 1,
        reason: `the header has one column ${JSON.stringify(only)}; the file seems to use ${JSON.stringify(guess)} as delimiter (pass --delimiter ${JSON.stringify(guess)})`,
      })
    }
  }
  // Line 1 is the header; rowid follows file order because the staging insert preserves insertion order.
  await promote(driver, cols, 2)
}

async function stageJsonLines(driver: DuckDbDriver, path: string, maxIssues: number) {
  await readLines(driver, path, '_ml_lines')
  await driver.execute(sql`DELETE FROM _ml_lines WHERE line IS NULL OR trim(line) = ''`)
  const bad = await driver.all<{ line: bigint; text: string }>(
    sql`SELECT _line AS line, left(line, 80) AS text FROM _ml_lines
        WHERE NOT json_valid(line) OR json_type(line::JSON) <> 'OBJECT' ORDER BY _line LIMIT ${maxIssues}`,
  )
  if (bad.length > 0) {
    const total = await driver.first<{ n: bigint }>(
      sql`SELECT count(*) AS n FROM _ml_lines WHERE NOT json_valid(line) OR json_type(line::JSON) <> 'OBJECT'`,
    )
    const issues = bad.map((b) => ({
      file: path,
      line: Number(b.line),
      value: b.text,
      reason: 'not a JSON object',
    }))
    throw new InputError(`${path}: ${Number(total?.n)} malformed line(s)`, issues, Number(total?.n))
  }
  const keys = (
    await driver.all<{ k: string }>(
      sql`SELECT k FROM (SELECT unnest(json_keys(line::JSON)) AS k, _line FROM _ml_lines) GROUP BY k ORDER BY min(_line), k`,
    )
  ).map((r) => r.k)
  const selects = keys.map((k) => sql`line::JSON ->> ${k} AS ${sourceColumn(k)}`)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE ${ident(STAGE_TABLE)} AS
    SELECT _line::BIGINT AS _line${keys.length > 0 ? sql`, ${join(selects)}` : sql``} FROM _ml_lines ORDER BY _line`)
  await driver.execute(sql`DROP TABLE _ml_lines`)
}

/**
 * Reads a text file into `table(_line BIGINT, line VARCHAR)`, one row per physical line. A unit separator as
 * delimiter with quoting off keeps lines whole (raw control characters do not occur in JSON or in the
 * whitespace-separated logs read this way); the table keeps file order, so rowid gives the line number.
 */
export async function readLines(driver: DuckDbDriver, path: string, table: string): Promise<void> {
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_rawlines AS
    SELECT line FROM read_csv(${path}, header = false, columns = {'line': 'VARCHAR'}, delim = ${'\u001f'},
      quote = '', escape = '', auto_detect = false)`)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE ${ident(table)} AS
    SELECT (rowid + 1)::BIGINT AS _line, line FROM _ml_rawlines ORDER BY rowid`)
  await driver.execute(sql`DROP TABLE _ml_rawlines`)
}

async function stageParquet(driver: DuckDbDriver, path: string) {
  await driver.execute(
    sql`CREATE OR REPLACE TEMP TABLE ${ident(RAW_TABLE)} AS SELECT * FROM read_parquet(${path})`,
  )
  const cols = await driver.all<{ columnName: string; dataType: string }>(
    sql`SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ${RAW_TABLE} AND database_name = 'temp' ORDER BY column_index`,
  )
  const selects = cols.map((c) => {
    const col = sourceColumn(c.columnName)
    // Nested values travel as JSON text; scalars as their text form.
    const nested = /^(STRUCT|MAP|UNION)|\[\]$/.test(c.dataType)
    return nested ? sql`to_json(${col})::VARCHAR AS ${col}` : sql`${col}::VARCHAR AS ${col}`
  })
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE ${ident(STAGE_TABLE)} AS
    SELECT (rowid + 1)::BIGINT AS _line, ${join(selects)} FROM ${ident(RAW_TABLE)} ORDER BY rowid`)
  await driver.execute(sql`DROP TABLE ${ident(RAW_TABLE)}`)
}

async function rawColumns(driver: DuckDbDriver): Promise<string[]> {
  return tempColumns(driver, RAW_TABLE)
}

/**
 * Exposes the raw table as the staging view with line numbers: the raw table keeps file order, so its rowid
 * plus the lines before the first record is the line number, without copying the data.
 */
async function promote(driver: DuckDbDriver, cols: readonly string[], firstLine: number) {
  const selects: Fragment[] = cols.map((c) => sql`${sourceColumn(c)}`)
  await driver.execute(sql`CREATE OR REPLACE TEMP VIEW ${ident(STAGE_TABLE)} AS
    SELECT (rowid + ${unsafeRaw(String(Math.trunc(firstLine)))})::BIGINT AS _line, ${join(selects)} FROM ${ident(RAW_TABLE)}`)
}

/** Turns an engine error raised while reading a file into an InputError naming the file (and line if known). */
export function asInputError(error: unknown, path: string): unknown {
  if (error instanceof InputError) return error
  const message =
    error instanceof Error
      ? error.cause instanceof Error
        ? error.cause.message
        : error.message
      : String(error)
  // Engine errors about the file itself are the user's to fix; anything else (binder errors…) is a bug.
  if (
    !/^(Invalid Input Error|IO Error|Conversion Error|Invalid Error)|CSV Error|not utf-8|sniff/i.test(
      message,
    )
  )
    return error
  const line = /Line: (\d+)/.exec(message)?.[1]
  const first = message
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('Original Line') && !s.startsWith('LINE '))
  const reason = (
    first.find((s) => /invalid unicode|not utf-8/i.test(s)) ??
    first[0] ??
    'unreadable file'
  ).replace(/^(Invalid Input Error|IO Error|Conversion Error): /, '')
  return InputError.single({
    file: path,
    ...(line === undefined ? {} : { line: Number(line) }),
    reason,
  })
}

/** Drops every temporary table and view of the ingest path, freeing their memory. */
export async function dropStagingTables(driver: DuckDbDriver): Promise<void> {
  const views = await driver.all<{ viewName: string }>(
    sql`SELECT view_name FROM duckdb_views() WHERE database_name = 'temp' AND starts_with(view_name, '_ml_')`,
  )
  for (const v of views) await driver.execute(sql`DROP VIEW IF EXISTS ${ident(v.viewName)}`)
  const tables = await driver.all<{ tableName: string }>(
    sql`SELECT table_name FROM duckdb_tables() WHERE database_name = 'temp' AND starts_with(table_name, '_ml_')`,
  )
  for (const t of tables) await driver.execute(sql`DROP TABLE IF EXISTS ${ident(t.tableName)}`)
}
