/**
 * Bulk writes through DuckDB's Appender, column by column in data chunks of DuckDB's vector size, so the cost
 * per value is an array read and a vector write rather than a native call per value and row.
 * @see https://duckdb.org/docs/stable/clients/node_neo/overview (appenders)
 * @module
 */
import {
  BIGINT,
  DOUBLE,
  DuckDBDataChunk,
  INTEGER,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api'

/** The column types the application appends. */
export type AppendType = 'varchar' | 'bigint' | 'integer' | 'double'

/** One column to append: its type and its values (a typed array or an array; null or a non-finite double is NULL). */
export interface AppendColumn {
  readonly type: AppendType
  readonly values: ArrayLike<string | number | bigint | null>
}

export interface AppendOptions {
  /** Append to a temporary table (`temp.main`). */
  readonly temporary?: boolean
}

/** Rows per appended chunk: DuckDB's standard vector size. */
const CHUNK_ROWS = 2048

const TYPES: Record<AppendType, DuckDBType> = {
  varchar: VARCHAR,
  bigint: BIGINT,
  integer: INTEGER,
  double: DOUBLE,
}

function cell(type: AppendType, v: string | number | bigint | null | undefined): DuckDBValue {
  if (v === null || v === undefined) return null
  switch (type) {
    case 'varchar':
      return String(v)
    case 'bigint':
      return typeof v === 'bigint' ? v : BigInt(v)
    case 'integer':
      return Number(v)
    case 'double': {
      const n = Number(v)
      return Number.isFinite(n) ? n : null
    }
  }
}

/** Appends `columns` (all of one length) to `table` on `connection`; returns the number of rows. */
export async function appendColumns(
  connection: DuckDBConnection,
  table: string,
  columns: readonly AppendColumn[],
  options: AppendOptions = {},
): Promise<number> {
  const rows = columns[0]?.values.length ?? 0
  for (const [i, c] of columns.entries())
    if (c.values.length !== rows)
      throw new Error(`column ${i} of ${table} has ${c.values.length} values, not ${rows}`)
  const appender = options.temporary
    ? await connection.createAppender(table, 'main', 'temp')
    : await connection.createAppender(table)
  try {
    const types = columns.map((c) => TYPES[c.type])
    for (let start = 0; start < rows; start += CHUNK_ROWS) {
      const size = Math.min(CHUNK_ROWS, rows - start)
      const chunk = DuckDBDataChunk.create(types, size)
      columns.forEach((c, k) => {
        const out = new Array<DuckDBValue>(size)
        for (let i = 0; i < size; i++) out[i] = cell(c.type, c.values[start + i])
        chunk.setColumnValues(k, out)
      })
      appender.appendDataChunk(chunk)
    }
    appender.flushSync()
  } finally {
    appender.closeSync()
  }
  return rows
}
