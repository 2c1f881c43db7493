/**
 * Runs compiled queries on ClickHouse through `@clickhouse/client` (HTTP), or on any connection plugged into
 * that client (chdb's in-process connection in tests).
 *
 * - Values travel as typed query parameters (`{p1:Int64}` → `param_p1`) on servers that have them; on old
 *   servers the legacy dialect inlines escaped literals and nothing is sent as a parameter.
 * - Results are read as JSONEachRow with 64-bit integers and decimals as JSON numbers, and keys in camelCase,
 *   so rows look like the DuckDB driver's.
 * - ClickHouse has no multi-statement transactions: `transaction(fn)` runs `fn` as is. Loads are idempotent
 *   instead (ReplacingMergeTree, see `src/engine/clickhouse/schema.ts`).
 * - Long queries: `maxExecutionSeconds` and `maxMemoryUsage` become server limits; `cancel()` aborts the
 *   running request (and with it the query on the server).
 * @module
 */
import {
  ClickHouseLogLevel,
  createClient,
  type ClickHouseClient,
  type ClickHouseSettings,
} from '@clickhouse/client'
import { QueryError } from '../../core/errors.js'
import type { CompiledQuery } from '../compiled-query.js'
import { clickhouseDialect, clickhouseLegacyDialect } from '../dialects/clickhouse.js'
import type { SqlDialect } from '../dialects/dialect.js'
import { compile } from '../sql/compile.js'
import type { Fragment } from '../sql/fragment.js'
import type { Driver, QueryProgress, Row } from './driver.js'

export interface ClickHouseOptions {
  /** HTTP endpoint, e.g. http://127.0.0.1:8123 */
  readonly url?: string
  readonly username?: string
  readonly password?: string
  readonly database?: string
  /**
   * Server generation: `modern` (query parameters, Date32, Bool; the default) or `legacy` (servers before
   * query parameters, such as 18.16).
   */
  readonly flavor?: 'modern' | 'legacy'
  /** Server-side limit on one query's run time. */
  readonly maxExecutionSeconds?: number
  /** Server-side memory limit of one query, in bytes. */
  readonly maxMemoryUsage?: number
  readonly maxThreads?: number
  /** Further session settings, e.g. `insert_distributed_sync: 1` when loading through a Distributed table. */
  readonly settings?: ClickHouseSettings
}

const CAMEL_RE = /_([a-z0-9])/g
const camel = (s: string): string => s.replace(CAMEL_RE, (_, c: string) => c.toUpperCase())
/** ClickHouse names a selected `g.period` after the qualified name when it is ambiguous; SQL names it `period`. */
const QUALIFIED_RE = /^[A-Za-z_][A-Za-z0-9_]*\.([A-Za-z_][A-Za-z0-9_]*)$/
const columnKey = (s: string): string => camel(QUALIFIED_RE.exec(s)?.[1] ?? s)

/** Session settings that make ClickHouse answer like standard SQL where the metric SQL relies on it. */
function sessionSettings(options: ClickHouseOptions): ClickHouseSettings {
  const s: ClickHouseSettings = {
    // Outer joins fill unmatched columns with NULL, not the column type's default.
    join_use_nulls: 1,
    // Numbers as numbers in JSON output (counts are far below 2^53).
    output_format_json_quote_64bit_integers: 0,
  }
  if (options.flavor !== 'legacy') {
    s.session_timezone = 'UTC'
    // `SELECT min(ts) AS ts, … max(ts)` means the column ts in standard SQL, not the alias.
    s.prefer_column_name_to_alias = 1
    // A bare UNION is UNION DISTINCT, as in standard SQL.
    s.union_default_mode = 'DISTINCT'
    // CAST(NULL-able AS T) stays NULL-able instead of failing on NULL.
    s.cast_keep_nullable = 1
    // coalesce(Float64, Int64) is a Float64, not a Variant.
    s.use_variant_as_common_type = 0
    // max(), sum() … over no rows are NULL, as in standard SQL, instead of the type's default (1970-01-01, 0).
    s.aggregate_functions_null_for_empty = 1
    s.output_format_json_quote_decimals = 0
    // A SELECT whose HTTP connection is closed (cancel(), Ctrl+C) stops on the server instead of running on.
    // https://clickhouse.com/docs/operations/settings/settings#cancel_http_readonly_queries_on_client_close
    s.cancel_http_readonly_queries_on_client_close = 1
  }
  if (options.maxExecutionSeconds !== undefined) s.max_execution_time = options.maxExecutionSeconds
  if (options.maxMemoryUsage !== undefined) s.max_memory_usage = String(options.maxMemoryUsage)
  if (options.maxThreads !== undefined) s.max_threads = options.maxThreads
  return { ...s, ...options.settings }
}

export class ClickHouseDriver implements Driver {
  readonly dialect: SqlDialect
  private readonly settings: ClickHouseSettings
  private readonly running = new Set<AbortController>()
  private rowsRead = 0

  private constructor(
    readonly client: ClickHouseClient,
    private readonly options: ClickHouseOptions,
  ) {
    this.dialect = options.flavor === 'legacy' ? clickhouseLegacyDialect : clickhouseDialect
    this.settings = sessionSettings(options)
  }

  /** Connects over HTTP and checks the server answers. */
  static async open(options: ClickHouseOptions): Promise<ClickHouseDriver> {
    const client = createClient({
      url: options.url ?? 'http://127.0.0.1:8123',
      username: options.username ?? 'default',
      password: options.password ?? '',
      database: options.database ?? 'default',
      // Failures reach the caller as QueryError (one line on the CLI); the client's own log would repeat them.
      log: { level: ClickHouseLogLevel.OFF },
    })
    const driver = new ClickHouseDriver(client, options)
    const ping = await client.ping()
    if (!ping.success) {
      await client.close()
      throw new QueryError('SELECT 1', [], ping.error)
    }
    return driver
  }

  /** Wraps an existing client (e.g. one on chdb's in-process connection). */
  static fromClient(client: ClickHouseClient, options: ClickHouseOptions = {}): ClickHouseDriver {
    return new ClickHouseDriver(client, options)
  }

  private toCompiled(q: Fragment | CompiledQuery): CompiledQuery {
    return 'kind' in q ? compile(this.dialect, q) : q
  }

  private params(q: CompiledQuery): Record<string, unknown> | undefined {
    if (this.dialect === clickhouseLegacyDialect || q.parameters.length === 0) return undefined
    const out: Record<string, unknown> = {}
    q.parameters.forEach((v, i) => {
      out[`p${i + 1}`] = typeof v === 'bigint' ? v.toString() : v
    })
    return out
  }

  private async track<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController()
    this.running.add(controller)
    try {
      return await run(controller.signal)
    } finally {
      this.running.delete(controller)
    }
  }

  async execute(query: Fragment | CompiledQuery): Promise<number> {
    const q = this.toCompiled(query)
    try {
      const result = await this.track((signal) =>
        this.client.command({
          query: q.sql,
          query_params: this.params(q),
          clickhouse_settings: this.settings,
          abort_signal: signal,
        }),
      )
      return Number(result.summary?.written_rows ?? 0)
    } catch (cause) {
      throw new QueryError(q.sql, q.parameters, cause)
    }
  }

  async all<T extends Row = Row>(query: Fragment | CompiledQuery): Promise<T[]> {
    const q = this.toCompiled(query)
    try {
      const rows = await this.track(async (signal) => {
        const rs = await this.client.query({
          query: q.sql,
          format: 'JSONEachRow',
          query_params: this.params(q),
          clickhouse_settings: this.settings,
          abort_signal: signal,
        })
        return rs.json<Record<string, unknown>>()
      })
      return rows.map((r) => {
        const o: Row = {}
        for (const [k, v] of Object.entries(r)) o[columnKey(k)] = v
        this.rowsRead++
        return o as T
      })
    } catch (cause) {
      throw new QueryError(q.sql, q.parameters, cause)
    }
  }

  async first<T extends Row = Row>(query: Fragment | CompiledQuery): Promise<T | undefined> {
    const rows = await this.all<T>(query)
    return rows[0]
  }

  /** Inserts rows (objects keyed by column name) into a table as one JSONEachRow block. */
  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return
    try {
      await this.track((signal) =>
        this.client.insert({
          table,
          values: rows as Record<string, unknown>[],
          format: 'JSONEachRow',
          clickhouse_settings: this.settings,
          abort_signal: signal,
        }),
      )
    } catch (cause) {
      throw new QueryError(`INSERT INTO ${table} FORMAT JSONEachRow`, [], cause)
    }
  }

  /** No multi-statement transactions in ClickHouse: runs `fn` directly (loads are idempotent instead). */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    return fn()
  }

  /** ClickHouse reports progress in HTTP headers the client does not expose per row: only rows read so far. */
  progress(): QueryProgress {
    return { percentage: -1, rowsProcessed: this.rowsRead, totalRows: 0 }
  }

  /** Aborts every running request of this driver (the server cancels the query when its connection drops). */
  cancel(): void {
    for (const c of this.running) c.abort()
  }

  /** The options the driver was opened with. */
  get config(): ClickHouseOptions {
    return this.options
  }

  async close(): Promise<void> {
    await this.client.close()
  }
}
