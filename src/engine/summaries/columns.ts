/**
 * Reads numeric query results into typed arrays for model inputs. On DuckDB straight from the result chunks:
 * no row objects and no per-value JS conversion beyond the number itself. Other engines return rows, which
 * are copied column by column.
 * @module
 */
import type { DuckDBValue } from '@duckdb/node-api'
import { QueryError } from '../../core/errors.js'
import type { Driver } from '../drivers/driver.js'
import { DuckDbDriver } from '../drivers/duckdb-driver.js'
import { compile } from '../sql/compile.js'
import type { Fragment } from '../sql/fragment.js'

const CAMEL_RE = /_([a-z0-9])/g
const camel = (s: string): string => s.replace(CAMEL_RE, (_, c: string) => c.toUpperCase())

/** The columns of `driver.all` rows (keys in camelCase) as Float64Arrays; NULL becomes NaN. */
async function columnsFromRows<K extends string>(
  driver: Driver,
  query: Fragment,
  names: readonly K[],
): Promise<Record<K, Float64Array>> {
  const rows = await driver.all(query)
  const first = rows[0]
  if (first !== undefined) {
    const got = Object.keys(first)
    if (got.length !== names.length || names.some((n, i) => got[i] !== camel(n))) {
      throw new Error(`columns ${got.join(', ')} do not match ${names.join(', ')}`)
    }
  }
  const columns = {} as Record<K, Float64Array>
  for (const name of names) {
    const key = camel(name)
    const out = new Float64Array(rows.length)
    rows.forEach((r, i) => {
      const v = r[key]
      out[i] = v === null || v === undefined ? NaN : Number(v)
    })
    columns[name] = out
  }
  return columns
}

/**
 * Runs `query` and returns each named column as a Float64Array (NULL becomes NaN). Every selected column
 * must be numeric (cast to DOUBLE in the query: DECIMAL and BIGINT vectors would hand back objects).
 * Column order follows the query; `names` are checked against it so a renamed column fails loudly.
 */
export async function fetchFloat64Columns<K extends string>(
  driver: Driver,
  query: Fragment,
  names: readonly K[],
): Promise<Record<K, Float64Array>> {
  if (!(driver instanceof DuckDbDriver)) return columnsFromRows(driver, query, names)
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
