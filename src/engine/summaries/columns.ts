/**
 * Reads numeric query results straight into typed arrays, chunk by chunk, for model inputs: no row objects
 * and no per-value JS conversion beyond the number itself.
 * @module
 */
import type { DuckDBValue } from '@duckdb/node-api'
import { QueryError } from '../../core/errors.js'
import type { DuckDbDriver } from '../drivers/duckdb-driver.js'
import { compile, type Fragment } from '../sql/fragment.js'

/**
 * Runs `query` and returns each named column as a Float64Array (NULL becomes NaN). Every selected column
 * must be numeric (cast to DOUBLE in the query: DECIMAL and BIGINT vectors would hand back objects).
 * Column order follows the query; `names` are checked against it so a renamed column fails loudly.
 */
export async function fetchFloat64Columns<K extends string>(
  driver: DuckDbDriver,
  query: Fragment,
  names: readonly K[],
): Promise<Record<K, Float64Array>> {
  const q = compile(driver.dialect, query)
  try {
    const result = await driver.connection.run(q.sql, q.parameters as DuckDBValue[])
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
  } catch (cause) {
    throw new QueryError(q.sql, q.parameters, cause)
  }
}
