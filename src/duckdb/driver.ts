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
import { NotFoundError, QueryError } from '../core/errors.js'
import { appendColumns, type AppendColumn, type AppendOptions } from './appender.js'
import { readFloat64Columns } from './columns.js'
import { retryWhileLocked, type LockWaitPolicy } from './lock-wait.js'
import type { CompiledQuery, SqlValue } from '../engine/compiled-query.js'
import { duckdbDialect } from '../engine/dialects/duckdb.js'
import { compile } from '../engine/sql/compile.js'
import type { Fragment } from '../engine/sql/fragment.js'
import type { Driver, QueryProgress, Row } from '../engine/drivers/driver.js'

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

/** An open DuckDB database: the instance and the one connection memberlens uses on it. */
interface Handle {
  readonly instance: DuckDBInstance
  readonly connection: DuckDBConnection
}

/** How a shared driver ({@link DuckDbDriver.shared}) opens and lets go of its database. */
export interface SharedDuckDbOptions {
  /** Close the database after this many milliseconds with nothing using it. */
  readonly idleMs: number
  /** How long to wait when another process holds the file (default: the process-wide policy). */
  readonly lockWait?: LockWaitPolicy
}

const MISSING_RE = /database does not exist/i

async function openHandle(options: DuckDbOptions, lockWait?: LockWaitPolicy): Promise<Handle> {
  const config: Record<string, string> = {
    // Never reach out to the network for extensions: fail fast and explicitly instead.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'true',
  }
  if (options.readOnly) config['access_mode'] = 'READ_ONLY'
  if (options.memoryLimit) config['memory_limit'] = options.memoryLimit
  if (options.threads) config['threads'] = String(options.threads)
  const instance = await retryWhileLocked(
    options.path,
    async () => {
      try {
        return await DuckDBInstance.create(options.path, config)
      } catch (error) {
        if (error instanceof Error && MISSING_RE.test(error.message))
          throw new NotFoundError(
            `no database at ${options.path}: build one with \`memberlens demo\` or load data with \`memberlens ingest\``,
          )
        throw error
      }
    },
    lockWait,
  )
  return { instance, connection: await connect(instance) }
}

/** A new connection to an open database, with the session settings every connection runs with. */
async function connect(instance: DuckDBInstance): Promise<DuckDBConnection> {
  const connection = await instance.connect()
  // Timestamps are stored as UTC; pin the session zone so nothing depends on the machine's zone.
  await connection.run(`SET TimeZone = 'UTC'`)
  // Progress of long queries is read by the CLI's progress bars; DuckDB tracks it only when asked to.
  await connection.run('SET enable_progress_bar = true')
  await connection.run('SET enable_progress_bar_print = false')
  return connection
}

function closeHandle(handle: Handle): void {
  handle.connection.closeSync()
  handle.instance.closeSync()
}

const noop = () => undefined

/**
 * A DuckDB database. {@link DuckDbDriver.open} opens it and keeps it open until {@link close};
 * {@link DuckDbDriver.shared} opens it only while something uses it ({@link hold}, or a running query) and
 * closes it after a short idle time, so that other processes can open the file in between.
 */
export class DuckDbDriver implements Driver {
  readonly dialect = duckdbDialect
  private inTransaction = false
  private handle: Handle | undefined
  private opening: Promise<Handle> | undefined
  private users = 0
  private idleTimer: NodeJS.Timeout | undefined
  private closed = false

  /** For a session: why {@link stop} stopped it, until {@link resume}. */
  private stopped: string | undefined

  /** For a session: the database it opened a connection on, and the release of that database's hold. */
  private parentRelease: (() => void) | undefined

  private constructor(
    private readonly options: DuckDbOptions,
    handle: Handle | undefined,
    private readonly sharing?: SharedDuckDbOptions,
    private readonly parent?: DuckDbDriver,
  ) {
    this.handle = handle
  }

  /**
   * A driver on a connection of its own to this database, opened on first use and closed by {@link close}.
   * Its {@link cancel} interrupts only its own statements, so a server can give each request a session and
   * stop one request's query without touching the others. While a session is open it keeps a shared
   * database open.
   */
  session(): DuckDbDriver {
    if (this.parent !== undefined) return this.parent.session()
    return new DuckDbDriver(this.options, undefined, undefined, this)
  }

  /**
   * Opens a database file (creating it unless read-only). When another process holds the file, waits as the
   * process-wide lock policy says (see `lock-wait.ts`), then fails with one clear error naming the holder.
   */
  static async open(options: DuckDbOptions): Promise<DuckDbDriver> {
    return new DuckDbDriver(options, await openHandle(options))
  }

  /**
   * A driver that opens the file on first use, keeps it open while used (reference-counted across
   * concurrent callers) and closes it `idleMs` after the last use. Nothing is opened by this call.
   */
  static shared(options: DuckDbOptions, sharing: SharedDuckDbOptions): DuckDbDriver {
    return new DuckDbDriver(options, undefined, sharing)
  }

  /** The open connection: for a shared driver, only between {@link hold} and its release. */
  get connection(): DuckDBConnection {
    if (this.handle === undefined)
      throw new Error(`${this.options.path} is not open here (hold() the shared driver first)`)
    return this.handle.connection
  }

  /**
   * Keeps the database open (opening it if needed) until the returned function is called. Statements,
   * transactions and appenders made between the two run on one connection. A no-op for an opened driver.
   */
  async hold(): Promise<() => void> {
    if (this.parent !== undefined) {
      if (this.closed) throw new Error(`this session of ${this.options.path} is closed`)
      if (this.stopped !== undefined) throw new QueryCancelledError(this.stopped)
      if (this.handle === undefined) {
        this.opening ??= this.openSession().finally(() => {
          this.opening = undefined
        })
        this.handle = await this.opening
      }
      return noop
    }
    if (this.sharing === undefined) {
      if (this.handle === undefined) throw new Error(`${this.options.path} is closed`)
      return noop
    }
    if (this.closed) throw new Error(`${this.options.path} is closed`)
    this.users++
    if (this.idleTimer !== undefined) {
      clearTimeout(this.idleTimer)
      this.idleTimer = undefined
    }
    try {
      if (this.handle === undefined) {
        this.opening ??= openHandle(this.options, this.sharing.lockWait).finally(() => {
          this.opening = undefined
        })
        this.handle = await this.opening
      }
    } catch (error) {
      this.release()
      throw error
    }
    let released = false
    return () => {
      if (released) return
      released = true
      this.release()
    }
  }

  private async openSession(): Promise<Handle> {
    const parent = this.parent as DuckDbDriver
    const release = await parent.hold()
    try {
      const instance = parent.handle?.instance
      if (instance === undefined) throw new Error(`${this.options.path} is closed`)
      const connection = await connect(instance)
      this.parentRelease = release
      return { instance, connection }
    } catch (error) {
      release()
      throw error
    }
  }

  private release(): void {
    this.users--
    if (this.users > 0 || this.sharing === undefined) return
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined
      void this.closeIdle()
    }, this.sharing.idleMs)
    this.idleTimer.unref()
  }

  /**
   * Closes an idle shared database. The checkpoint that closing implies runs first, asynchronously, so that
   * the synchronous close does not hold up the event loop; a caller that arrives meanwhile keeps it open.
   */
  private async closeIdle(): Promise<void> {
    const handle = this.handle
    if (this.users > 0 || this.inTransaction || handle === undefined) return
    if (!this.options.readOnly) {
      try {
        await handle.connection.run('CHECKPOINT')
      } catch {
        // Closing checkpoints anyway; a failed early checkpoint only costs time there.
      }
    }
    if (this.users > 0 || this.inTransaction || this.handle !== handle) return
    this.handle = undefined
    closeHandle(handle)
  }

  /** For a shared driver: how long it stays open unused (its sessions should not outstay it much). */
  get sharedIdleMs(): number | undefined {
    return this.sharing?.idleMs
  }

  /** True while a shared driver has its database open (always true for an opened one until closed). */
  get isOpen(): boolean {
    return this.handle !== undefined
  }

  async execute(query: Fragment | CompiledQuery): Promise<number> {
    const q = toCompiled(query)
    const release = await this.hold()
    try {
      const started = TRACE ? performance.now() : 0
      const result = await this.connection.run(q.sql, q.parameters as DuckDBValue[])
      if (TRACE) trace(q.sql, started)
      return Number(result.rowsChanged)
    } catch (cause) {
      throw new QueryError(q.sql, q.parameters, cause)
    } finally {
      release()
    }
  }

  async all<T extends Row = Row>(query: Fragment | CompiledQuery): Promise<T[]> {
    const q = toCompiled(query)
    const release = await this.hold()
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
    } finally {
      release()
    }
  }

  async first<T extends Row = Row>(query: Fragment | CompiledQuery): Promise<T | undefined> {
    const rows = await this.all<T>(query)
    return rows[0]
  }

  /** Reads one column of a result as a JS array (for model inputs: numbers become a Float64Array upstream). */
  async column(query: Fragment | CompiledQuery, index = 0): Promise<unknown[]> {
    const q = toCompiled(query)
    const release = await this.hold()
    try {
      const reader = await this.connection.runAndReadAll(q.sql, q.parameters as DuckDBValue[])
      return reader.getColumns()[index]?.map(toJs) ?? []
    } catch (cause) {
      throw new QueryError(q.sql, q.parameters, cause)
    } finally {
      release()
    }
  }

  async readFloat64Columns<K extends string>(
    query: Fragment | CompiledQuery,
    names: readonly K[],
  ): Promise<Record<K, Float64Array>> {
    const q = toCompiled(query)
    const release = await this.hold()
    try {
      return await readFloat64Columns(this.connection, q, names)
    } catch (cause) {
      throw new QueryError(q.sql, q.parameters, cause)
    } finally {
      release()
    }
  }

  /** Appends columns of values to a table with DuckDB's Appender (see `appender.ts`); returns the row count. */
  async append(
    table: string,
    columns: readonly AppendColumn[],
    options: AppendOptions = {},
  ): Promise<number> {
    const release = await this.hold()
    try {
      return await appendColumns(this.connection, table, columns, options)
    } finally {
      release()
    }
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn()
    const release = await this.hold()
    try {
      return await this.runTransaction(fn)
    } finally {
      release()
    }
  }

  private async runTransaction<T>(fn: () => Promise<T>): Promise<T> {
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
    if (this.handle === undefined) return { percentage: -1, rowsProcessed: 0, totalRows: 0 }
    const p = this.handle.connection.progress
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
    this.handle?.connection.interrupt()
  }

  /**
   * For a session: interrupts its running statement and refuses every later one (with
   * {@link QueryCancelledError} naming `reason`) until {@link resume}, so that work abandoned by its caller (a
   * client that went away) stops between statements too.
   */
  stop(reason: string): void {
    if (this.parent === undefined) throw new Error('only a session can be stopped')
    this.stopped = reason
    this.cancel()
  }

  /** Lets a stopped session run statements again (a pool does, before handing it to the next request). */
  resume(): void {
    this.stopped = undefined
  }

  /** True for a session ({@link session}), which {@link stop} can stop. */
  get isSession(): boolean {
    return this.parent !== undefined
  }

  /** Why the session was stopped, or undefined. */
  get stoppedBecause(): string | undefined {
    return this.stopped
  }

  /** Closes the database; a shared driver cannot be used again afterwards. */
  async close(): Promise<void> {
    this.closed = true
    if (this.parent !== undefined) {
      const opening = this.opening
      if (opening !== undefined) await opening.catch(() => undefined)
      const handle = this.handle
      this.handle = undefined
      handle?.connection.closeSync()
      this.parentRelease?.()
      this.parentRelease = undefined
      return
    }
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer)
    this.idleTimer = undefined
    const handle = this.handle
    this.handle = undefined
    if (handle !== undefined) closeHandle(handle)
  }
}

/** A statement refused because its session was stopped ({@link DuckDbDriver.stop}). */
export class QueryCancelledError extends Error {
  constructor(readonly reason: string) {
    super(`query cancelled: ${reason}`)
    this.name = 'QueryCancelledError'
  }
}

export type { SqlValue }
