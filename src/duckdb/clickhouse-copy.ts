/**
 * Loading ClickHouse from a memberlens DuckDB database.
 *
 * Ingest stays one code path: files are validated, normalised and identity-resolved in DuckDB
 * (`memberlens ingest`), which needs transactions, anti-joins and updates that ClickHouse is not built for.
 * The resolved tables are then copied to ClickHouse here, by default as files: DuckDB writes each table with
 * `COPY … TO` (Parquet for current servers and chdb, CSV for 18.x servers, which read no Parquet), and ClickHouse
 * takes the file in one insert — read from the local disk with `file()` when it shares the machine's files
 * (chdb in-process), otherwise streamed over HTTP. Types stay exact: money travels as a Parquet decimal or as
 * decimal text; times as Parquet timestamps, or as text in whole seconds in the CSV. The older path
 * (`method: 'stream'`) reads rows out of DuckDB and inserts JSON blocks (100,000 rows by default; ClickHouse
 * makes one part per insert, so few large inserts keep merges cheap); it is an order of magnitude slower
 * (bench/README.md, "ClickHouse").
 * The tables are ReplacingMergeTree (src/engine/clickhouse/schema.ts): copying the same rows again replaces
 * them, and `OPTIMIZE … FINAL` after the copy leaves one row per key, so a re-load is idempotent.
 * @module
 */
import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import type { ClickHouseSettings } from '@clickhouse/client'
import { ConfigError } from '../core/errors.js'
import {
  TABLES,
  TABLE_NAMES,
  type FieldDef,
  type FieldType,
  type TableName,
} from '../core/schema.js'
import type { ClickHouseDriver } from '../engine/drivers/clickhouse-driver.js'
import type { DuckDbDriver } from './driver.js'
import { compile } from '../engine/sql/compile.js'
import { ident, join, sql, unsafeRaw, type Fragment } from '../engine/sql/fragment.js'
import { buildClickHouseTable, type TableShape } from '../engine/clickhouse/schema.js'

export interface CopyOptions {
  readonly tables?: readonly TableName[]
  /** Rows per insert (default 100,000). */
  readonly blockRows?: number
  /** Skip `OPTIMIZE … FINAL` (e.g. when a Distributed table is the target; optimise the local tables). */
  readonly optimize?: boolean
  /** Called after each block (or file) with the table and the rows copied so far. */
  readonly onProgress?: (table: string, rows: number) => void
  /**
   * `file` (default): DuckDB writes the table to a file that ClickHouse takes in one insert; `stream`: rows
   * are read out of DuckDB and inserted as JSON blocks of `blockRows`.
   */
  readonly method?: 'file' | 'stream'
  /**
   * Whether ClickHouse reads the file from this machine's disk with `file()` (`local`: chdb in-process) or
   * receives it over HTTP (`upload`, the default: any server).
   */
  readonly fileAccess?: 'local' | 'upload'
  /** File format: `parquet` (default) or `csv` (always on 18.x servers, which read no Parquet). */
  readonly fileFormat?: 'parquet' | 'csv'
  /** Directory for the files (default: a new temporary directory, removed afterwards). */
  readonly workDir?: string
}

/** How a DuckDB column is read so that ClickHouse parses it exactly (text for decimals, times and JSON). */
function readExpr(f: FieldDef): Fragment {
  const c = ident(f.name)
  switch (f.type.kind) {
    case 'timestamp':
      return sql`strftime(${c}, '%Y-%m-%d %H:%M:%S') AS ${c}`
    case 'date':
    case 'money':
    case 'json':
    case 'bigint':
      return sql`CAST(${c} AS VARCHAR) AS ${c}`
    case 'boolean':
      return sql`CAST(${c} AS INTEGER) AS ${c}`
    default:
      return sql`${c}`
  }
}

/**
 * Decimal text as a JSON number, for servers that do not read quoted decimals (18.x). Refuses a value that a
 * double cannot carry exactly to the decimal's 4 places, rather than load a different amount.
 */
function exactNumber(text: string, where: string): number {
  const n = Number(text)
  const dot = text.indexOf('.')
  const normalised = dot < 0 ? `${text}.0000` : text.padEnd(dot + 5, '0')
  if (!Number.isFinite(n) || Math.abs(n) >= 2 ** 53 / 1e4 || n.toFixed(4) !== normalised) {
    throw new ConfigError(`${where}: ${text} cannot be sent exactly to this ClickHouse server`)
  }
  return n
}

/** Creates the canonical tables on ClickHouse (ReplacingMergeTree, see schema.ts). */
export async function ensureClickHouseSchema(target: ClickHouseDriver): Promise<void> {
  for (const name of TABLE_NAMES) {
    await target.execute(buildClickHouseTable(target.dialect, TABLES[name]))
  }
}

/**
 * Copies the canonical tables from DuckDB to ClickHouse. Refuses timestamps with fractional seconds in the
 * data tables, which the ClickHouse `DateTime` columns would drop; the times of the `loads` bookkeeping table
 * are cut to whole seconds.
 */
export async function copyToClickHouse(
  source: DuckDbDriver,
  target: ClickHouseDriver,
  options: CopyOptions = {},
): Promise<Record<string, number>> {
  return withWorkDir(options, async (opts) => {
    const copied: Record<string, number> = {}
    for (const name of opts.tables ?? TABLE_NAMES) {
      copied[name] = await copyTable(source, target, TABLES[name], opts, name !== 'loads')
    }
    return copied
  })
}

/** Runs `fn` with a work directory for the files: the caller's, or a temporary one removed afterwards. */
async function withWorkDir<T>(
  options: CopyOptions,
  fn: (options: CopyOptions) => Promise<T>,
): Promise<T> {
  if ((options.method ?? 'file') !== 'file' || options.workDir !== undefined) return fn(options)
  const workDir = await mkdtemp(joinPath(tmpdir(), 'memberlens-ch-load-'))
  try {
    return await fn({ ...options, workDir })
  } finally {
    await rm(workDir, { recursive: true, force: true })
  }
}

/**
 * How a DuckDB column is written to the Parquet file: decimals, integers, dates and times native (times are
 * checked to be whole seconds, or cut to them for `loads`), JSON as text. Formatting the times as text instead
 * made DuckDB's export 2.5× slower.
 */
function parquetExpr(f: FieldDef, exactTimes: boolean): Fragment {
  const c = ident(f.name)
  switch (f.type.kind) {
    case 'timestamp':
      return exactTimes ? sql`${c}` : sql`date_trunc('second', ${c}) AS ${c}`
    case 'json':
      return sql`CAST(${c} AS VARCHAR) AS ${c}`
    case 'boolean':
      return sql`CAST(${c} AS INTEGER) AS ${c}`
    default:
      return sql`${c}`
  }
}

/** Single-quoted SQL string literal (file paths in COPY and file(), which take no parameters). */
const literal = (s: string): Fragment => unsafeRaw(`'${s.replaceAll("'", "''")}'`)

/**
 * Writes the table to a file with DuckDB's COPY and has ClickHouse insert it. Parquet for current servers;
 * CSV for 18.x (no Parquet there), with every value as text, NULL as `\N` and strings always quoted so an
 * empty string stays an empty string.
 */
async function copyTableByFile(
  source: DuckDbDriver,
  target: ClickHouseDriver,
  table: TableShape,
  options: CopyOptions,
  exactTimes: boolean,
): Promise<number> {
  const name = table.name
  const legacy = target.config.flavor === 'legacy'
  const csv = legacy || options.fileFormat === 'csv'
  const format = csv ? 'CSV' : 'Parquet'
  const file = joinPath(options.workDir as string, `${name}.${csv ? 'csv' : 'parquet'}`)
  const select = sql`SELECT ${join(
    table.fields.map((f) => (csv ? readExpr(f) : parquetExpr(f, exactTimes))),
  )} FROM ${ident(name)}`
  const quoted = table.fields
    .filter((f) => f.type.kind === 'string' || f.type.kind === 'json' || f.type.kind === 'enum')
    .map((f) => ident(f.name))
  const copyOptions = csv
    ? sql`(FORMAT csv, HEADER false, NULLSTR '\N'${
        quoted.length > 0 ? sql`, FORCE_QUOTE (${join(quoted)})` : sql``
      })`
    : sql`(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)`
  await source.execute(sql`COPY (${select}) TO ${literal(file)} ${copyOptions}`)
  const counted = await source.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM ${ident(name)}`)
  const n = Number(counted?.n ?? 0)
  if (n > 0) {
    if (options.fileAccess === 'local') {
      const columns = join(table.fields.map((f) => ident(f.name)))
      await target.execute(
        sql`INSERT INTO ${ident(name)} (${columns}) SELECT * FROM file(${literal(file)}, ${unsafeRaw(format)})`,
      )
    } else {
      try {
        await target.client.insert({
          table: name,
          values: createReadStream(file),
          format,
          columns: table.fields.map((f) => f.name) as [string, ...string[]],
          clickhouse_settings: uploadSettings(target, legacy),
        })
      } catch (cause) {
        throw new ConfigError(
          `copying ${name} to ClickHouse (${format} over HTTP) failed: ${cause instanceof Error ? cause.message : String(cause)}`,
        )
      }
    }
  }
  await rm(file, { force: true })
  options.onProgress?.(name, n)
  return n
}

/** The session settings a file upload needs: the caller's (e.g. insert_distributed_sync) and, on current servers, UTC. */
function uploadSettings(target: ClickHouseDriver, legacy: boolean): ClickHouseSettings {
  return {
    ...(legacy ? {} : { session_timezone: 'UTC' }),
    ...target.config.settings,
  }
}

/** Streams one table out of DuckDB into the ClickHouse table of the same name, in blocks. */
async function copyTable(
  source: DuckDbDriver,
  target: ClickHouseDriver,
  table: TableShape,
  options: CopyOptions,
  exactTimes: boolean,
): Promise<number> {
  const blockRows = options.blockRows ?? 100_000
  const name = table.name
  for (const f of table.fields) {
    if (f.type.kind !== 'timestamp' || !exactTimes) continue
    const c = ident(f.name)
    const bad = await source.first<{ n: bigint }>(
      sql`SELECT count(*) AS n FROM ${ident(name)} WHERE ${c} <> date_trunc('second', ${c})`,
    )
    if (Number(bad?.n ?? 0) > 0) {
      throw new ConfigError(
        `${name}.${f.name} has timestamps with fractional seconds; ClickHouse columns keep whole seconds`,
      )
    }
  }
  if ((options.method ?? 'file') === 'file') {
    const n = await copyTableByFile(source, target, table, options, exactTimes)
    if (options.optimize !== false) {
      await target.execute(sql`OPTIMIZE TABLE ${ident(name)} FINAL`)
    }
    return n
  }
  const select = sql`SELECT ${join(table.fields.map(readExpr))} FROM ${ident(name)}`
  // The select has no parameters, so its text alone goes to the streaming API.
  const result = await source.connection.stream(compile(source.dialect, select).sql)
  // Old servers read decimals only as JSON numbers.
  const money =
    target.config.flavor === 'legacy'
      ? table.fields.filter((f) => f.type.kind === 'money').map((f) => f.name)
      : []
  let block: Record<string, unknown>[] = []
  let n = 0
  for await (const rows of result.yieldRowObjectJson()) {
    for (const r of rows) {
      for (const m of money) {
        const v = r[m]
        if (typeof v === 'string') r[m] = exactNumber(v, `${name}.${m}`)
      }
      block.push(r)
    }
    if (block.length >= blockRows) {
      await target.insert(name, block)
      n += block.length
      block = []
      options.onProgress?.(name, n)
    }
  }
  await target.insert(name, block)
  n += block.length
  options.onProgress?.(name, n)
  if (options.optimize !== false) {
    await target.execute(sql`OPTIMIZE TABLE ${ident(name)} FINAL`)
  }
  return n
}

/**
 * The loyalty tables `memberlens loyalty sync` wrote into the DuckDB database (`loyalty_*`), each with its
 * primary key (the ClickHouse sorting key), read from DuckDB's catalog so that a new table of the sync is
 * copied without a second list to keep.
 */
export async function loyaltyTableKeys(
  source: DuckDbDriver,
): Promise<Array<readonly [string, readonly string[]]>> {
  const rows = await source.all<{ tableName: string; columns: string }>(
    sql`SELECT table_name, array_to_string(constraint_column_names, ',') AS columns
        FROM duckdb_constraints()
        WHERE constraint_type = 'PRIMARY KEY' AND starts_with(table_name, 'loyalty_')
        ORDER BY table_name`,
  )
  return rows.map((r) => [r.tableName, r.columns.split(',')] as const)
}

/** Copies the loyalty tables that exist in the DuckDB database; returns rows copied per table. */
export async function copyLoyaltyTables(
  source: DuckDbDriver,
  target: ClickHouseDriver,
  options: CopyOptions = {},
): Promise<Record<string, number>> {
  return withWorkDir(options, async (opts) => {
    const copied: Record<string, number> = {}
    for (const [name, key] of await loyaltyTableKeys(source))
      copied[name] = await copyDuckDbTable(source, target, name, key, opts)
    return copied
  })
}

/** The logical type of a DuckDB column type, for tables outside the canonical schema. */
function fieldType(duckType: string, where: string): FieldType {
  if (duckType === 'VARCHAR') return { kind: 'string' }
  if (duckType === 'BIGINT') return { kind: 'bigint' }
  if (duckType === 'INTEGER') return { kind: 'integer' }
  if (duckType === 'DOUBLE') return { kind: 'number' }
  if (duckType.startsWith('DECIMAL')) return { kind: 'money' }
  if (duckType === 'TIMESTAMP') return { kind: 'timestamp' }
  if (duckType === 'DATE') return { kind: 'date' }
  if (duckType === 'BOOLEAN') return { kind: 'boolean' }
  if (duckType === 'JSON') return { kind: 'json' }
  throw new ConfigError(`${where}: DuckDB type ${duckType} has no ClickHouse mapping here`)
}

/**
 * Copies a table that is not in the canonical schema (e.g. the loyalty tables `memberlens loyalty sync`
 * writes), creating it on ClickHouse from DuckDB's column types: ReplacingMergeTree sorted by `key` (which must
 * hold no NULLs), other columns nullable.
 */
export async function copyDuckDbTable(
  source: DuckDbDriver,
  target: ClickHouseDriver,
  name: string,
  key: readonly string[],
  options: CopyOptions = {},
): Promise<number> {
  const columns = await source.all<{ columnName: string; columnType: string }>(
    sql`DESCRIBE ${ident(name)}`,
  )
  if (columns.length === 0) throw new ConfigError(`no table ${name} in the DuckDB database`)
  const fields: FieldDef[] = columns.map((c) => ({
    name: c.columnName,
    type: fieldType(c.columnType, `${name}.${c.columnName}`),
    required: key.includes(c.columnName),
    description: '',
  }))
  const table: TableShape = { name, fields, key }
  await target.execute(buildClickHouseTable(target.dialect, table))
  // The ledger's times carry milliseconds; its metrics count by day and month, so whole seconds suffice.
  return withWorkDir(options, (opts) => copyTable(source, target, table, opts, false))
}
