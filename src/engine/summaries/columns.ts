/**
 * Reads numeric query results into typed arrays for model inputs: through the driver's own typed read where it
 * has one (DuckDB, `duckdb/columns.ts`); other engines return rows, which are copied column by column.
 * @module
 */
import type { Driver } from '../drivers/driver.js'
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
  if (driver.readFloat64Columns) return driver.readFloat64Columns(query, names)
  return columnsFromRows(driver, query, names)
}
