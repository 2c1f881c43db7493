/**
 * DuckDB.
 * - `date_trunc('week', …)` starts weeks on Monday (ISO), see https://duckdb.org/docs/sql/functions/datepart
 * - JSON columns use the JSON type of the built-in json extension.
 * - `try_strptime` returns NULL instead of failing on text that does not match the format.
 */
import type { FieldType } from '../../core/schema.js'
import { sql, unsafeRaw, type Fragment } from '../sql/fragment.js'
import { baseDialect, dateTextPattern, periodInterval, quantileLevel } from './base.js'
import type { SqlDialect } from './dialect.js'

export const duckdbDialect: SqlDialect = {
  ...baseDialect,
  name: 'duckdb',
  columnType(type: FieldType): string {
    if (type.kind === 'json') return 'JSON'
    if (type.kind === 'number') return 'DOUBLE'
    return baseDialect.columnType(type)
  },
  periodSeries(grain, first, last) {
    const [count, unit] = periodInterval(grain, 1)
    return sql`SELECT CAST(period AS TIMESTAMP) AS period
      FROM generate_series(CAST(${first} AS TIMESTAMP), CAST(${last} AS TIMESTAMP), INTERVAL ${unsafeRaw(`'${count} ${unit}'`)}) t(period)`
  },
  localTime(expr, timezone) {
    // With the session zone pinned to UTC, a TIMESTAMP read as TIMESTAMPTZ is its UTC instant.
    return timezone === 'UTC' ? expr : sql`timezone(${timezone}, CAST(${expr} AS TIMESTAMPTZ))`
  },
  secondsBetween(a, b) {
    return sql`date_diff('second', ${a}, ${b})`
  },
  daysBetween(a, b) {
    return sql`date_diff('day', ${a}, ${b})`
  },
  knownTimezone(name) {
    return sql`SELECT 1 AS ok FROM pg_timezone_names() WHERE name = ${name}`
  },
  median(expr) {
    return sql`median(${expr})`
  },
  quantile(expr, p) {
    return sql`quantile_cont(${expr}, ${unsafeRaw(quantileLevel(p))})`
  },
  jsonText(expr, key) {
    return sql`json_extract_string(${expr}, ${`$."${key.replaceAll('"', '')}"`})`
  },
  dateText(expr, unit) {
    return sql`strftime(${expr}, ${unsafeRaw(`'${dateTextPattern(unit)}'`)})`
  },
  splitToRows(expr, separator) {
    return sql`unnest(string_split(${expr}, ${separator}))`
  },
  md5Hex(expr) {
    return sql`md5(${expr})`
  },
  tryParseTimestamp(expr: Fragment, format: Fragment): Fragment {
    return sql`try_strptime(${expr}, ${format})`
  },
  supportsOnConflict: true,
  supportsTransactionalDdl: true,
  supportsCtes: true,
  supportsMultipleJoins: true,
}
