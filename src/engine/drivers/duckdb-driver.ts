/**
 * Runs compiled queries on DuckDB in-process through `@duckdb/node-api`.
 * @module
 */
import {
  DuckDBConnection,
  DuckDBInstance,
  DuckDBDecimalValue,
  type DuckDBValue,
} from '@duckdb/node-api'
import { QueryError } from '../../core/errors.js'
import type { CompiledQuery, SqlValue } from '../compiled-query.js'
import { duckdbDialect } from '../dialects/duckdb.js'
import { compile, type Fragment } from '../sql/fragment.js'
import type { Driver, QueryProgress, Row } from './driver.js'

export interface DuckDbOptions {
  /** Database file, or ':memory:'. */
  readonly path: string
  readonly readOnly?: boolean
  /** DuckDB memory_limit, e.g. '4GB'. */
  readonly memoryLimit?: string
  readonly threads?: number
}

/** MEMBERLENS_TRACE=1 prints each statement's time to stderr (for finding slow steps). */
const TRACE = process.env['MEMBERLENS_TRACE'] === '1'

function trace(text: string, started: number): void {
  const ms = performance.now() - started
  process.stderr.write(
    `[sql ${ms.toFixed(0).padStart(6)} ms] ${text.replace(/\s+/g, ' ').slice(0, 140)}\n`,
  )
}

const CAMEL_RE = /_([a-z0-9])/g
const camel = (s: string): string => s.replace(CAMEL_RE, (_, c: string) => c.toUpperCase())

function toCompiled(q: Fragment | CompiledQuery): CompiledQuery {
  return 'kind' in q ? compile(duckdbDialect, q) : q
}

/** Converts one DuckDB result value to a plain JS value; DECIMAL becomes a number (display only). */
function toJs(v: unknown): unknown {
  if (v instanceof DuckDBDecimalValue) return v.toDouble()
  if (v !== null && typeof v === 'object' && 'toString' in v && !Array.isArray(v)) {
    return String(v)
  }
  return v
}

export class DuckDbDriver implements Driver {
  readonly dialect = duckdbDialect
  private inTransaction = false

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async open(options: DuckDbOptions): Promise<DuckDbDriver> {
    const config: Record<string, string> = {
      // Never reach out to the network for extensions: fail fast and explicitly instead.
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'true',
    }
    if (options.readOnly) config['access_mode'] = 'READ_ONLY'
    if (options.memoryLimit) config['memory_limit'] = options.memoryLimit
    if (options.threads) config['threads'] = String(options.threads)
    const instance = await DuckDBInstance.create(options.path, config)
    const connection = await instance.connect()
    // Timestamps are stored as UTC; pin the session zone so nothing depends on the machine's zone.
    await connection.run(`SET TimeZone = 'UTC'`)
    // Progress of long queries is read by the CLI's progress bars; DuckDB tracks it only when asked to.
    await connection.run('SET enable_progress_bar = true')
    await connection.run('SET enable_progress_bar_print = false')
    return new DuckDbDriver(instance, connection)
  }

  async execute(query: Fragment | CompiledQuery): Promise<number> {
    const q = toCompiled(query)
    try {
      const started = TRACE ? performance.now() : 0
      const result = await this.connection.run(q.sql, q.parameters as DuckDBValue[])
      if (TRACE) trace(q.sql, started)
      return Number(result.rowsChanged)
    } catch (cause) {
      throw new QueryError(q.sql, q.parameters, cause)
    }
  }

  async all<T extends Row = Row>(query: Fragment | CompiledQuery): Promise<T[]> {
    const q = toCompiled(query)
    try {
      const started = TRACE ? performance.now() : 0
      const reader = await this.connection.runAndReadAll(q.sql, q.parameters as DuckDBValue[])
      if (TRACE) trace(q.sql, started)
      const names = reader.columnNames().map(camel)
      const rows = reader.getRows()
      return rows.map((r) => {
        const o: Row = {}
        for (let i = 0; i < names.length; i++) o[names[i] as string] = toJs(r[i])
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

  /** Reads one column of a result as a JS array (for model inputs: numbers become a Float64Array upstream). */
  async column(query: Fragment | CompiledQuery, index = 0): Promise<unknown[]> {
    const q = toCompiled(query)
    try {
      const reader = await this.connection.runAndReadAll(q.sql, q.parameters as DuckDBValue[])
      return reader.getColumns()[index]?.map(toJs) ?? []
    } catch (cause) {
      throw new QueryError(q.sql, q.parameters, cause)
    }
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn()
    await this.connection.run('BEGIN TRANSACTION')
    this.inTransaction = true
    try {
      const value = await fn()
      await this.connection.run('COMMIT')
      return value
    } catch (error) {
      await this.connection.run('ROLLBACK')
      throw error
    } finally {
      this.inTransaction = false
    }
  }

  progress(): QueryProgress {
    const p = this.connection.progress
    return {
      percentage: p.percentage,
      rowsProcessed: Number(p.rows_processed),
      totalRows: Number(p.total_rows_to_process),
    }
  }

  /**
   * Interrupts the statement running on the connection; it rejects with DuckDB's "Interrupted" error.
   * @see https://duckdb.org/docs/stable/clients/node_neo/overview (DuckDBConnection.interrupt)
   */
  cancel(): void {
    this.connection.interrupt()
  }

  async close(): Promise<void> {
    this.connection.closeSync()
    this.instance.closeSync()
  }
}

export type { SqlValue }
