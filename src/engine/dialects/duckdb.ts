/**
 * DuckDB.
 * - `date_trunc('week', …)` starts weeks on Monday (ISO), see https://duckdb.org/docs/sql/functions/datepart
 * - JSON columns use the JSON type of the built-in json extension.
 * - `try_strptime` returns NULL instead of failing on text that does not match the format.
 */
import type { FieldType } from '../../core/schema.js'
import { sql, type Fragment } from '../sql/fragment.js'
import { baseDialect } from './base.js'
import type { SqlDialect } from './dialect.js'

export const duckdbDialect: SqlDialect = {
  ...baseDialect,
  name: 'duckdb',
  columnType(type: FieldType): string {
    if (type.kind === 'json') return 'JSON'
    if (type.kind === 'number') return 'DOUBLE'
    return baseDialect.columnType(type)
  },
  tryParseTimestamp(expr: Fragment, format: Fragment): Fragment {
    return sql`try_strptime(${expr}, ${format})`
  },
  supportsOnConflict: true,
  supportsTransactionalDdl: true,
}
