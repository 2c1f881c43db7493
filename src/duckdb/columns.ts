/**
 * Numeric query results straight into typed arrays, read from DuckDB's result chunks: no row objects and no
 * per-value conversion beyond the number itself. The portable entry point is `engine/summaries/columns.ts`.
 * @module
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api'
import type { CompiledQuery } from '../engine/compiled-query.js'

/** Each named column of the result as a Float64Array (NULL becomes NaN); `names` must match the query's columns. */
export async function readFloat64Columns<K extends string>(
  connection: DuckDBConnection,
  q: CompiledQuery,
  names: readonly K[],
): Promise<Record<K, Float64Array>> {
  const result = await connection.run(q.sql, q.parameters as DuckDBValue[])
  const got = result.columnNames()
  if (got.length !== names.length || names.some((n, i) => got[i] !== n)) {
    throw new Error(`columns ${got.join(', ')} do not match ${names.join(', ')}`)
  }
  const parts: Float64Array[][] = names.map(() => [])
  let total = 0
  for (;;) {
    const chunk = await result.fetchChunk()
    if (chunk === null || chunk.rowCount === 0) break
    const n = chunk.rowCount
    for (let c = 0; c < names.length; c++) {
      const vector = chunk.getColumnVector(c)
      const out = new Float64Array(n)
      for (let i = 0; i < n; i++) {
        const v = vector.getItem(i)
        out[i] = v === null ? NaN : Number(v)
      }
      ;(parts[c] as Float64Array[]).push(out)
    }
    total += n
  }
  const columns = {} as Record<K, Float64Array>
  names.forEach((name, c) => {
    const all = new Float64Array(total)
    let offset = 0
    for (const part of parts[c] as Float64Array[]) {
      all.set(part, offset)
      offset += part.length
    }
    columns[name] = all
  })
  return columns
}
