/**
 * ClickHouse, two generations:
 * - {@link clickhouseDialect}: current ClickHouse (tested on 26.x through chdb). Values travel as typed
 *   query parameters (`{p1:Int64}`, sent by `@clickhouse/client` as `param_p1`).
 * - {@link clickhouseLegacyDialect}: old servers such as 18.16, which have no query parameters, no
 *   `Date32`, `Bool` or `DateTime64`. Values are escaped client-side into literals.
 *
 * Engine facts the overrides rely on:
 * - `toMonday`/`toStartOfMonth`/`toStartOfQuarter`/`toStartOfYear` return a Date; they are cast back to
 *   DateTime so a truncated timestamp stays a timestamp, as in DuckDB.
 * - `median` is approximate in ClickHouse; `quantileExactInclusive(0.5)` interpolates like DuckDB's median.
 * - Columns are non-nullable unless declared `Nullable(T)`; the DDL builder declares optional fields so.
 * - The driver sets `join_use_nulls = 1` so outer joins give NULL (not the type's default), as in SQL.
 * @module
 */
import { UnsupportedFeatureError } from '../../core/errors.js'
import type { FieldType } from '../../core/schema.js'
import type { SqlValue } from '../compiled-query.js'
import { sql, unsafeRaw, type Fragment } from '../sql/fragment.js'
import { baseDialect, dateTextPattern, periodInterval, quantileLevel } from './base.js'
import type { Grain, SqlDialect } from './dialect.js'

/** The ClickHouse type of a bound value (closed set of names). */
export function clickhouseParamType(value: SqlValue): string {
  if (value === null) return 'Nullable(String)'
  switch (typeof value) {
    case 'string':
      return 'String'
    case 'bigint':
      return 'Int64'
    case 'number':
      // The narrowest of UInt32, Int32, Int64: ClickHouse finds a common type of UInt32 and UInt64 (join keys
      // computed from counts) and of Int32 and Float64 (greatest), but none of Int64 with either.
      if (!Number.isInteger(value)) return 'Float64'
      if (value >= 0 && value <= 0xffffffff) return 'UInt32'
      return value < 0 && value >= -0x80000000 ? 'Int32' : 'Int64'
    case 'boolean':
      return 'Bool'
    default: {
      const _exhaustive: never = value
      throw new Error(`unhandled parameter ${String(_exhaustive)}`)
    }
  }
}

/** A value as a ClickHouse literal: strings quoted with backslash escapes (ClickHouse's string syntax). */
export function clickhouseLiteral(value: SqlValue): string {
  if (value === null) return 'NULL'
  switch (typeof value) {
    case 'string':
      return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
    case 'bigint':
      return value.toString()
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`cannot send ${value} to ClickHouse`)
      return Number.isInteger(value) ? value.toFixed(0) : String(value)
    case 'boolean':
      return value ? '1' : '0'
    default: {
      const _exhaustive: never = value
      throw new Error(`unhandled parameter ${String(_exhaustive)}`)
    }
  }
}

/** `add<Unit>s` for `n` periods of `grain` (closed set of function names). */
function addFunction(grain: Grain, n: number): [string, number] {
  const [count, unit] = periodInterval(grain, n)
  const fn = unit === 'day' ? 'addDays' : unit === 'month' ? 'addMonths' : 'addYears'
  return [fn, count]
}

function truncate(grain: Grain, expr: Fragment): Fragment {
  switch (grain) {
    case 'day':
      return sql`toStartOfDay(${expr})`
    case 'week':
      return sql`toDateTime(toMonday(${expr}))`
    case 'month':
      return sql`toDateTime(toStartOfMonth(${expr}))`
    case 'quarter':
      return sql`toDateTime(toStartOfQuarter(${expr}))`
    case 'year':
      return sql`toDateTime(toStartOfYear(${expr}))`
    default: {
      const _exhaustive: never = grain
      throw new Error(`unknown grain ${String(_exhaustive)}`)
    }
  }
}

export const clickhouseDialect: SqlDialect = {
  ...baseDialect,
  name: 'clickhouse',
  placeholder: (i, value) => `{p${i}:${clickhouseParamType(value)}}`,
  columnType(type: FieldType): string {
    switch (type.kind) {
      case 'string':
      case 'json':
        return 'String'
      case 'enum':
        return 'LowCardinality(String)'
      case 'integer':
        return 'Int32'
      case 'bigint':
        return 'Int64'
      case 'number':
        return 'Float64'
      case 'money':
        return 'Decimal(18,4)'
      case 'timestamp':
        return "DateTime('UTC')"
      case 'date':
        return 'Date32'
      case 'boolean':
        return 'Bool'
      default: {
        const _exhaustive: never = type
        throw new Error(`unhandled type ${JSON.stringify(_exhaustive)}`)
      }
    }
  },
  dateTrunc: (grain, expr) => truncate(grain, expr),
  addPeriods(grain, expr, n) {
    const [fn, count] = addFunction(grain, n)
    return sql`${unsafeRaw(fn)}(${expr}, ${unsafeRaw(String(count))})`
  },
  periodSeries(grain, first, last) {
    // numbers(n) needs a constant: first and last are parameters or constant expressions in every caller.
    const [fn, step] = addFunction(grain, 1)
    const [, unit] = periodInterval(grain, 1)
    const f = sql`toDateTime(${first})`
    return sql`SELECT ${unsafeRaw(fn)}(${f}, toInt64(number) * ${unsafeRaw(String(step))}) AS period
      FROM numbers(toUInt64(greatest(0, intDiv(dateDiff(${unsafeRaw(`'${unit}'`)}, ${f}, toDateTime(${last})), ${unsafeRaw(String(step))}) + 1)))`
  },
  localTime(expr, timezone) {
    // Wall-clock time of the zone as a UTC DateTime (as DuckDB's timezone() gives a naive timestamp), so that it
    // compares with the naive bounds and the period grid: toTimeZone() alone keeps the instant.
    return timezone === 'UTC'
      ? expr
      : sql`addSeconds(${expr}, timeZoneOffset(toTimeZone(${expr}, ${timezone})))`
  },
  secondsBetween(a, b) {
    // As a Float64 (exact below 2^53): ClickHouse has no common type of Int64 and Float64, and the metric SQL
    // mixes second differences with Float64 durations (coalesce), as DuckDB does with BIGINT and DOUBLE.
    return sql`toFloat64(dateDiff('second', ${a}, ${b}))`
  },
  daysBetween(a, b) {
    return sql`dateDiff('day', ${a}, ${b})`
  },
  knownTimezone(name) {
    return sql`SELECT 1 AS ok FROM system.time_zones WHERE time_zone = ${name}`
  },
  median(expr) {
    return sql`quantileExactInclusive(0.5)(${expr})`
  },
  quantile(expr, p) {
    return sql`quantileExactInclusive(${unsafeRaw(quantileLevel(p))})(${expr})`
  },
  jsonText(expr, key) {
    // DuckDB's json_extract_string gives NULL for a missing member and the raw text of a non-string one.
    return sql`if(JSONHas(${expr}, ${key}), if(JSONType(${expr}, ${key}) = 'String', JSONExtractString(${expr}, ${key}), JSONExtractRaw(${expr}, ${key})), NULL)`
  },
  dateText(expr, unit) {
    // No strftime in ClickHouse; formatDateTime takes the same %Y, %m, %d, %H, %S, and %i for minutes.
    // https://clickhouse.com/docs/sql-reference/functions/date-time-functions#formatDateTime
    return sql`formatDateTime(${expr}, ${unsafeRaw(`'${dateTextPattern(unit).replace('%M', '%i')}'`)})`
  },
  splitToRows(expr, separator) {
    return sql`arrayJoin(splitByString(${separator}, ${expr}))`
  },
  md5Hex(expr) {
    return sql`lower(hex(MD5(${expr})))`
  },
  tryParseTimestamp(): Fragment {
    throw new UnsupportedFeatureError(
      'clickhouse',
      'parsing timestamps with a format (ingest runs on DuckDB)',
    )
  },
  supportsOnConflict: false,
  supportsTransactionalDdl: false,
  supportsCtes: true,
  supportsMultipleJoins: true,
}

/**
 * ClickHouse before query parameters (e.g. Debian's 18.16): values become escaped literals, `Date32` and
 * `Bool` fall back to `Date` and `UInt8`, and exact interpolated medians are not available.
 */
export const clickhouseLegacyDialect: SqlDialect = {
  ...clickhouseDialect,
  name: 'clickhouse-legacy',
  supportsCtes: false,
  supportsMultipleJoins: false,
  placeholder: (_i, value) => clickhouseLiteral(value),
  columnType(type: FieldType): string {
    if (type.kind === 'date') return 'Date'
    if (type.kind === 'boolean') return 'UInt8'
    // LowCardinality was experimental before 19.x.
    if (type.kind === 'enum') return 'String'
    return clickhouseDialect.columnType(type)
  },
  median(expr) {
    return sql`quantileExact(0.5)(${expr})`
  },
  // No information_schema before 21.x.
  tableLookup(name) {
    return sql`SELECT 1 AS ok FROM system.tables WHERE database = currentDatabase() AND name = ${name}`
  },
  // No system.time_zones before 20.x: a zone the server cannot load makes the conversion fail.
  knownTimezone(name) {
    return sql`SELECT 1 AS ok FROM system.one WHERE toTimeZone(toDateTime(0), ${name}) IS NOT NULL`
  },
  quantile(expr, p) {
    return sql`quantileExact(${unsafeRaw(quantileLevel(p))})(${expr})`
  },
  jsonText(): Fragment {
    throw new UnsupportedFeatureError('clickhouse-legacy', 'JSON members')
  },
}
