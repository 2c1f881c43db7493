import type { CompiledQuery } from '../compiled-query.js'
import type { SqlDialect } from '../dialects/dialect.js'
import { ident, sql, type Fragment } from '../sql/fragment.js'

/** A row as returned to TypeScript: snake_case columns become camelCase keys; numbers, bigints, strings. */
export type Row = Record<string, unknown>

/** Progress of the running query, when the engine reports it. */
export interface QueryProgress {
  /** 0–100, or -1 when unknown. */
  readonly percentage: number
  readonly rowsProcessed: number
  readonly totalRows: number
}

/** Runs compiled queries on one engine and converts results to JS values. */
export interface Driver {
  readonly dialect: SqlDialect
  /** Runs a statement, returning the number of changed rows when the engine reports it. */
  execute(query: Fragment | CompiledQuery): Promise<number>
  /** Runs a query and returns its rows with camelCase keys. Use for small results only. */
  all<T extends Row = Row>(query: Fragment | CompiledQuery): Promise<T[]>
  /** Runs a query and returns the first row, or undefined. */
  first<T extends Row = Row>(query: Fragment | CompiledQuery): Promise<T | undefined>
  /** Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: () => Promise<T>): Promise<T>
  /** Progress of the query currently running on this driver. */
  progress(): QueryProgress
  /**
   * Cancels the queries running on this driver: each rejects (with a `QueryError`) shortly after. Queries
   * started later run normally.
   */
  cancel(): void
  close(): Promise<void>
  /**
   * Reads numeric columns of a result into typed arrays without row objects, for engines that can (DuckDB);
   * `engine/summaries/columns.ts` falls back to rows where a driver has no such method.
   */
  readFloat64Columns?<K extends string>(
    query: Fragment | CompiledQuery,
    names: readonly K[],
  ): Promise<Record<K, Float64Array>>
}

/**
 * Whether the database has a table of this name (for tables that a command creates, such as the synced
 * loyalty tables or the model runs, and that reads must not create).
 */
export async function tableExists(driver: Driver, name: string): Promise<boolean> {
  const row = await driver.first(driver.dialect.tableLookup(name))
  return row !== undefined
}

/** The number of rows of a table (its name is validated as an identifier). */
export async function tableRowCount(driver: Driver, name: string): Promise<number> {
  const row = await driver.first<{ n: bigint | number }>(
    sql`SELECT count(*) AS n FROM ${ident(name)}`,
  )
  return Number(row?.n ?? 0)
}
