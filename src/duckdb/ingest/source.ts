/**
 * Reads a source file (CSV, JSON Lines or Parquet, optionally gzip-compressed) into a staging table of text
 * columns, with each row's line number. A compressed file is checked whole before anything is read (see
 * `prepare.ts`); a file the engine cannot read, or reads only in part, is refused, and its problems are
 * reported by line, field and reason (see `text-scan.ts`). Nothing is staged from a refused file.
 * @module
 */
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { InputError, type InputIssue } from '../../core/errors.js'
import type { DuckDbDriver } from '../driver.js'
import { ident, join, sourceColumn, sql, type Fragment } from '../../engine/sql/fragment.js'
import { prepareInput, type PreparedInput } from './prepare.js'
import { scanText, type ScanResult } from './text-scan.js'

export const SOURCE_FORMATS = ['csv', 'jsonl', 'parquet'] as const
export type SourceFormat = (typeof SOURCE_FORMATS)[number]
/** Text encodings; `gb18030` and its subset `gbk` are turned into UTF-8 before the engine reads the file. */
export const ENCODINGS = ['utf-8', 'utf-16', 'latin-1', 'gb18030', 'gbk'] as const
export type Encoding = (typeof ENCODINGS)[number]
/** Longest line the readers accept, in bytes (the engine's own default). */
export const DEFAULT_MAX_LINE_SIZE = 2_097_152
/** Upper bound of --max-line-size: the engine keeps several lines of this size in memory per thread. */
export const MAX_MAX_LINE_SIZE = 1_073_741_824

export interface SourceOptions {
  readonly format?: SourceFormat
  /** CSV delimiter (one character); default `,`. */
  readonly delimiter?: string
  /** Text encoding of CSV and JSON Lines; default utf-8. */
  readonly encoding?: Encoding
  /** Longest line in bytes, line ending included; default {@link DEFAULT_MAX_LINE_SIZE}. */
  readonly maxLineSize?: number
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
  if (format === 'csv') checkDelimiter(path, options.delimiter ?? ',')
  const delimiter = options.delimiter === '\\t' ? '\t' : (options.delimiter ?? ',')
  const maxLineSize = checkMaxLineSize(options.maxLineSize)
  const input = await prepareInput(path, {
    encoding: options.encoding ?? 'utf-8',
    text: format !== 'parquet',
    maxIssues,
  })
  try {
    const read: ReadContext = { driver, file: path, input, maxLineSize, maxIssues }
    switch (format) {
      case 'csv':
        await stageCsv(read, delimiter)
        break
      case 'jsonl':
        await stageJsonLines(read)
        break
      case 'parquet':
        await stageParquet(driver, input.path)
        break
      default: {
        const _exhaustive: never = format
        throw new Error(`unknown format ${String(_exhaustive)}`)
      }
    }
  } catch (error) {
    throw asInputError(error, path, input.path)
  } finally {
    await input.cleanup()
  }
  return describeStage(driver, format)
}

/** What the readers need: the engine, the file as named, what the engine reads, and the limits. */
interface ReadContext {
  readonly driver: DuckDbDriver
  readonly file: string
  readonly input: PreparedInput
  readonly maxLineSize: number
  readonly maxIssues: number
}

function checkDelimiter(path: string, delimiter: string): void {
  if ([...delimiter].length !== 1 && delimiter !== '\\t') {
    throw InputError.single({
      file: path,
      reason: `delimiter must be one character, got ${JSON.stringify(delimiter)}`,
    })
  }
}

function checkMaxLineSize(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_LINE_SIZE
  if (!Number.isSafeInteger(value) || value < 1024 || value > MAX_MAX_LINE_SIZE) {
    throw InputError.single({
      field: 'max line size',
      value: String(value),
      reason: `must be a whole number of bytes from 1024 to ${MAX_MAX_LINE_SIZE} (1 GiB)`,
    })
  }
  return value
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

async function stageCsv(read: ReadContext, delimiter: string): Promise<void> {
  const { driver, file, input, maxLineSize } = read
  const readCsv = async (strict: boolean) => {
    await driver.execute(sql`DROP TABLE IF EXISTS _ml_rejects`)
    await driver.execute(sql`DROP TABLE IF EXISTS _ml_rejects_scan`)
    await driver.execute(sql`CREATE OR REPLACE TEMP TABLE ${ident(RAW_TABLE)} AS
      SELECT * FROM read_csv(${input.path}, header = true, all_varchar = true, delim = ${delimiter},
        quote = '"', escape = '"', encoding = ${input.encoding}, compression = 'none',
        max_line_size = ${maxLineSize}, strict_mode = ${strict},
        store_rejects = true, rejects_table = '_ml_rejects', rejects_scan = '_ml_rejects_scan')`)
  }
  const failure = await readCsv(true).then(
    () => undefined,
    (error: unknown) => {
      // Only the file's own problems are diagnosed; anything else is a bug to surface as is.
      if (asInputError(error, file) === error) throw error
      return error as Error
    },
  )
  const rejected = failure === undefined ? await rejectedLines(driver) : 0
  if (failure !== undefined || rejected > 0) {
    const scan = await scanFile(read, 'csv', delimiter)
    if (scan !== undefined && scan.total > 0) {
      if (!(await acceptMixedEndings(read, scan, readCsv))) throw scanError(file, scan, 'CSV')
    } else if (rejected > 0) {
      throw await rejectsError(read)
    } else {
      throw asInputError(failure, file, input.path)
    }
  }
  const cols = await rawColumns(driver)
  checkColumnNames(
    file,
    cols.map((name) => ({ name, line: 1 })),
  )
  if (cols.length === 1) {
    const only = cols[0] ?? ''
    const guess = [';', '\t', '|'].find((d) => only.includes(d))
    if (guess !== undefined && guess !== delimiter) {
      throw InputError.single({
        file,
        line: 1,
        reason: `the header has one column ${JSON.stringify(only)}; the file seems to use ${JSON.stringify(guess)} as delimiter (pass --delimiter ${JSON.stringify(guess)})`,
      })
    }
  }
  const breaks = await checkValues(read, cols)
  await driver.execute(
    sql`CREATE OR REPLACE TEMP VIEW ${ident(STAGE_TABLE)} AS ${stageSelect(cols, breaks)}`,
  )
}

/** Column names the staging tables can hold: 1 to 255 characters, no NUL byte. */
function checkColumnNames(file: string, cols: ReadonlyArray<{ name: string; line: number }>): void {
  const bad = cols.filter(
    (c) => c.name.length === 0 || c.name.length > 255 || c.name.includes('\0'),
  )
  if (bad.length === 0) return
  const issues = bad.map((c) => ({
    file,
    line: c.line,
    field: JSON.stringify(c.name.length > 40 ? `${c.name.slice(0, 40)}…` : c.name),
    reason: 'not a usable column name (1 to 255 characters, without NUL bytes)',
  }))
  throw new InputError(`${file}: unusable column names; nothing was loaded`, issues)
}

/** Lines the engine's CSV reader set aside as unreadable. */
async function rejectedLines(driver: DuckDbDriver): Promise<number> {
  const r = await driver.first<{ n: bigint }>(
    sql`SELECT count(DISTINCT line) AS n FROM _ml_rejects`,
  )
  return Number(r?.n ?? 0)
}

/** Reads the file again line by line to say what is wrong where; undefined when it cannot (UTF-16). */
async function scanFile(
  read: ReadContext,
  mode: 'csv' | 'lines',
  delimiter = ',',
): Promise<ScanResult | undefined> {
  if (read.input.encoding === 'utf-16') return undefined
  return scanText(read.input.path, {
    file: read.file,
    mode,
    delimiter,
    maxLineSize: read.maxLineSize,
    encoding: read.input.encoding === 'latin-1' ? 'latin-1' : 'utf-8',
    maxIssues: read.maxIssues,
  })
}

/**
 * A file whose only fault is mixed line endings (an Excel-edited line with CR LF in an LF file) is read
 * with the engine's lenient mode, and kept only when that reading has exactly the records the line-by-line
 * reading found and set nothing aside.
 */
async function acceptMixedEndings(
  read: ReadContext,
  scan: ScanResult,
  readCsv: (strict: boolean) => Promise<void>,
): Promise<boolean> {
  if ([...scan.kinds].some((k) => k !== 'mixed-endings')) return false
  try {
    await readCsv(false)
  } catch {
    return false
  }
  if ((await rejectedLines(read.driver)) > 0) return false
  const n = await read.driver.first<{ n: bigint }>(
    sql`SELECT count(*) AS n FROM ${ident(RAW_TABLE)}`,
  )
  return Number(n?.n ?? -1) === scan.records
}

/** The scan's findings as one error, with the GB18030 hint when the file reads as such. */
function scanError(file: string, scan: ScanResult, what: string): InputError {
  const gb = scan.gb18030
  if (gb !== undefined) {
    const hint = `it reads as GB18030 (the encoding of Chinese Excel exports), e.g. line ${gb.line}${gb.field === undefined ? '' : ` ${gb.field}`} ${JSON.stringify(gb.text)}: pass --encoding gb18030`
    const issues = scan.issues.map((i, n) =>
      n === 0 && i.kind === 'encoding' ? { ...i, reason: `${i.reason}; ${hint}` } : i,
    )
    return new InputError(
      `${file}: ${scan.total} line(s) are not UTF-8; ${hint}. Nothing was loaded`,
      issues.map(stripKind),
      scan.total,
    )
  }
  return new InputError(
    `${file}: ${scan.total} line(s) cannot be read as ${what}; nothing was loaded`,
    scan.issues.map(stripKind),
    scan.total,
  )
}

function stripKind(issue: InputIssue & { kind?: unknown }): InputIssue {
  const { kind: _kind, ...rest } = issue
  return rest
}

/** The engine's own rejects, one issue per line (used when the line-by-line reading found nothing). */
async function rejectsError(read: ReadContext): Promise<InputError> {
  const { driver, file, maxIssues } = read
  const rows = await driver.all<{ line: bigint; columnName: string | null; errorMessage: string }>(
    sql`SELECT line, first(column_name ORDER BY column_idx) AS column_name,
          first(error_message ORDER BY column_idx) AS error_message
        FROM _ml_rejects GROUP BY line ORDER BY line LIMIT ${maxIssues}`,
  )
  const total = await rejectedLines(driver)
  const issues: InputIssue[] = rows.map((r) => ({
    file,
    line: Number(r.line),
    ...(r.columnName === null ? {} : { field: r.columnName }),
    reason: r.errorMessage.split('\n')[0] ?? r.errorMessage,
  }))
  return new InputError(`${file}: ${total} malformed line(s); nothing was loaded`, issues, total)
}

/**
 * One pass over the staged values: a NUL byte in a value is refused (the engine keeps it, but no export of a
 * member system has one, so it means a damaged file or a UTF-16 file read as UTF-8); returns whether any
 * value holds a line break, which shifts the line numbers of the records after it.
 */
async function checkValues(read: ReadContext, cols: readonly string[]): Promise<boolean> {
  if (cols.length === 0) return false
  const { driver, file, maxIssues } = read
  const hasNul = (c: string) => sql`strpos(${sourceColumn(c)}, chr(0)) > 0`
  const anyNul = join(cols.map(hasNul), ' OR ')
  const anyBreak = join(
    cols.map((c) => sql`strpos(${sourceColumn(c)}, chr(10)) > 0`),
    ' OR ',
  )
  const found = await driver.first<{ nul: bigint; breaks: boolean | null }>(
    sql`SELECT count(*) FILTER (WHERE ${anyNul}) AS nul, bool_or(${anyBreak}) AS breaks FROM ${ident(RAW_TABLE)}`,
  )
  const total = Number(found?.nul ?? 0)
  if (total === 0) return found?.breaks === true
  const which = sql`CASE ${join(
    cols.map((c) => sql`WHEN ${hasNul(c)} THEN ${c}`),
    ' ',
  )} END`
  const rows = await driver.all<{ line: bigint; field: string }>(
    sql`SELECT _line AS line, ${which} AS field FROM (${stageSelect(cols, found?.breaks === true)}) WHERE ${anyNul} ORDER BY _line LIMIT ${maxIssues}`,
  )
  const issues: InputIssue[] = rows.map((r) => ({
    file,
    line: Number(r.line),
    field: r.field,
    reason:
      'a NUL byte in the value: the file is damaged, or it is UTF-16 text (pass --encoding utf-16)',
  }))
  throw new InputError(
    `${file}: ${total} line(s) hold NUL bytes; nothing was loaded`,
    issues,
    total,
  )
}

async function stageJsonLines(read: ReadContext) {
  const { driver, file, maxIssues } = read
  await readTextLines(read, '_ml_lines')
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
      file,
      line: Number(b.line),
      value: b.text,
      reason: 'not a JSON object',
    }))
    throw new InputError(`${file}: ${Number(total?.n)} malformed line(s)`, issues, Number(total?.n))
  }
  const found = await driver.all<{ k: string; line: bigint }>(
    sql`SELECT k, min(_line) AS line FROM (SELECT unnest(json_keys(line::JSON)) AS k, _line FROM _ml_lines) GROUP BY k ORDER BY min(_line), k`,
  )
  checkColumnNames(
    file,
    found.map((r) => ({ name: r.k, line: Number(r.line) })),
  )
  // A JSON path reads the key only when quoted (an unquoted `$x` or `/x` is itself a path); `*` stays a
  // wildcard even quoted, so it is no usable key.
  const star = found.find((r) => r.k === '*')
  if (star !== undefined) {
    throw InputError.single({
      file,
      line: Number(star.line),
      field: '"*"',
      reason: 'a key named "*" cannot be read (rename it)',
    })
  }
  const keys = found.map((r) => r.k)
  const path = (k: string) => `$."${k.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
  const selects = keys.map((k) => sql`line::JSON ->> ${path(k)} AS ${sourceColumn(k)}`)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE ${ident(STAGE_TABLE)} AS
    SELECT _line::BIGINT AS _line${keys.length > 0 ? sql`, ${join(selects)}` : sql``} FROM _ml_lines ORDER BY _line`)
  await driver.execute(sql`DROP TABLE _ml_lines`)
}

/** Reads the prepared text into `table` line by line; an unreadable file is diagnosed line by line. */
async function readTextLines(read: ReadContext, table: string): Promise<void> {
  try {
    await readLines(read.driver, read.input.path, table, read.maxLineSize, read.input.encoding)
  } catch (error) {
    if (asInputError(error, read.file) === error) throw error
    const scan = await scanFile(read, 'lines')
    if (scan !== undefined && scan.total > 0) throw scanError(read.file, scan, 'text lines')
    throw asInputError(error, read.file, read.input.path)
  }
}

/**
 * Stages a whitespace- or otherwise-separated text file line by line into `table(_line, line)`, with the same
 * checks as every source: a compressed file is verified whole, bad lines are named.
 */
export async function stageLines(
  driver: DuckDbDriver,
  path: string,
  table: string,
  options: Pick<SourceOptions, 'encoding' | 'maxLineSize'> = {},
  maxIssues = 20,
): Promise<void> {
  await checkReadable(path)
  const maxLineSize = checkMaxLineSize(options.maxLineSize)
  const input = await prepareInput(path, {
    encoding: options.encoding ?? 'utf-8',
    text: true,
    maxIssues,
  })
  try {
    await readTextLines({ driver, file: path, input, maxLineSize, maxIssues }, table)
  } catch (error) {
    throw asInputError(error, path, input.path)
  } finally {
    await input.cleanup()
  }
}

/**
 * Reads a text file into `table(_line BIGINT, line VARCHAR)`, one row per physical line. A unit separator as
 * delimiter with quoting off keeps lines whole (raw control characters do not occur in JSON or in the
 * whitespace-separated logs read this way); the table keeps file order, so rowid gives the line number.
 */
async function readLines(
  driver: DuckDbDriver,
  path: string,
  table: string,
  maxLineSize: number,
  encoding: string,
): Promise<void> {
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_rawlines AS
    SELECT line FROM read_csv(${path}, header = false, columns = {'line': 'VARCHAR'}, delim = ${'\u001f'},
      quote = '', escape = '', auto_detect = false, compression = 'none', max_line_size = ${maxLineSize},
      encoding = ${encoding})`)
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
 * The raw CSV table with each record's line number. The raw table keeps file order, so its rowid plus 2 (the
 * header is line 1) is the line while no value spans lines; when some do (`breaks`), each record starts
 * after the line breaks inside the values before it. Blank lines, which the reader skips, are not counted.
 */
function stageSelect(cols: readonly string[], breaks: boolean): Fragment {
  const selects: Fragment[] = cols.map((c) => sql`${sourceColumn(c)}`)
  if (!breaks) {
    return sql`SELECT (rowid + 2)::BIGINT AS _line, ${join(selects)} FROM ${ident(RAW_TABLE)}`
  }
  const newlines = join(
    cols.map(
      (c) =>
        sql`coalesce(length(${sourceColumn(c)}) - length(replace(${sourceColumn(c)}, chr(10), '')), 0)`,
    ),
    ' + ',
  )
  return sql`SELECT (rowid + 2 + coalesce(sum(${newlines}) OVER (ORDER BY rowid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))::BIGINT AS _line, ${join(selects)} FROM ${ident(RAW_TABLE)}`
}

/**
 * Turns an engine error raised while reading a file into an InputError naming the file (and line if known).
 * `readPath` is what the engine read when it was a temporary copy; messages name the user's file instead.
 */
export function asInputError(error: unknown, path: string, readPath?: string): unknown {
  if (error instanceof InputError) return error
  const raw =
    error instanceof Error
      ? error.cause instanceof Error
        ? error.cause.message
        : error.message
      : String(error)
  const message = readPath === undefined || readPath === path ? raw : raw.replaceAll(readPath, path)
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
  )
    .replace(/^(Invalid Input Error|IO Error|Conversion Error): /, '')
    .replace(
      /^Error when sniffing file .*$/,
      'the file cannot be read as CSV with this delimiter and RFC 4180 quoting',
    )
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
