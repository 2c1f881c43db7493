/**
 * ANSI defaults shared by dialects. A dialect is `{ ...baseDialect, overrides }`; whatever the base cannot do
 * in standard SQL throws {@link UnsupportedFeatureError}.
 */
import { UnsupportedFeatureError } from '../../core/errors.js'
import type { FieldType } from '../../core/schema.js'
import { sql, unsafeRaw, type Fragment } from '../sql/fragment.js'
import type { DateTextUnit, Grain, SqlDialect } from './dialect.js'

/**
 * A quantile level as SQL text, checked to be a number in [0, 1] (engines want a constant here, not a bound
 * parameter).
 */
export function quantileLevel(p: number): string {
  if (!Number.isFinite(p) || p < 0 || p > 1)
    throw new RangeError(`quantile level ${p} is not in [0, 1]`)
  return String(p)
}

export const baseDialect: SqlDialect = {
  name: 'ansi',
  quoteIdentifier: (name) => `"${name.replaceAll('"', '""')}"`,
  placeholder: (i) => `$${i}`,
  columnType(type: FieldType): string {
    switch (type.kind) {
      case 'string':
      case 'enum':
        return 'VARCHAR'
      case 'integer':
        return 'INTEGER'
      case 'bigint':
        return 'BIGINT'
      case 'number':
        return 'DOUBLE PRECISION'
      case 'money':
        return 'DECIMAL(18,4)'
      case 'timestamp':
        return 'TIMESTAMP'
      case 'date':
        return 'DATE'
      case 'boolean':
        return 'BOOLEAN'
      case 'json':
        return 'VARCHAR'
      default: {
        const _exhaustive: never = type
        throw new Error(`unhandled type ${JSON.stringify(_exhaustive)}`)
      }
    }
  },
  dateTrunc(grain: Grain, expr: Fragment): Fragment {
    const unit = grainUnit(grain)
    return sql`date_trunc(${unsafeRaw(`'${unit}'`)}, ${expr})`
  },
  addPeriods(grain: Grain, expr: Fragment, n: number): Fragment {
    const [count, unit] = periodInterval(grain, n)
    return sql`(${expr} + INTERVAL ${unsafeRaw(`'${count} ${unit}'`)})`
  },
  periodSeries(): Fragment {
    throw new UnsupportedFeatureError('ansi', 'period series')
  },
  localTime(): Fragment {
    throw new UnsupportedFeatureError('ansi', 'time zone conversion')
  },
  secondsBetween(): Fragment {
    throw new UnsupportedFeatureError('ansi', 'second differences')
  },
  daysBetween(): Fragment {
    throw new UnsupportedFeatureError('ansi', 'day differences')
  },
  tableLookup(name: string): Fragment {
    return sql`SELECT 1 AS ok FROM information_schema.tables WHERE table_name = ${name}`
  },
  knownTimezone(): Fragment {
    throw new UnsupportedFeatureError('ansi', 'time zone lookup')
  },
  median(): Fragment {
    throw new UnsupportedFeatureError('ansi', 'median')
  },
  quantile(): Fragment {
    throw new UnsupportedFeatureError('ansi', 'quantiles')
  },
  jsonText(): Fragment {
    throw new UnsupportedFeatureError('ansi', 'JSON members')
  },
  dateText(): Fragment {
    throw new UnsupportedFeatureError('ansi', 'formatting dates as text')
  },
  splitToRows(): Fragment {
    throw new UnsupportedFeatureError('ansi', 'splitting text into rows')
  },
  md5Hex(): Fragment {
    throw new UnsupportedFeatureError('ansi', 'MD5 digests')
  },
  tryParseTimestamp(): Fragment {
    throw new UnsupportedFeatureError('ansi', 'parsing timestamps with a format')
  },
  supportsOnConflict: false,
  supportsTransactionalDdl: false,
  supportsCtes: true,
  supportsMultipleJoins: true,
}

/** An interval of n periods as (count, unit): weeks are 7 days and quarters 3 months. Closed set, safe text. */
export function periodInterval(grain: Grain, n: number): [number, string] {
  if (!Number.isInteger(n)) throw new Error(`period count must be an integer, got ${n}`)
  switch (grain) {
    case 'day':
      return [n, 'day']
    case 'week':
      return [7 * n, 'day']
    case 'month':
      return [n, 'month']
    case 'quarter':
      return [3 * n, 'month']
    case 'year':
      return [n, 'year']
    default: {
      const _exhaustive: never = grain
      throw new Error(`unknown grain ${String(_exhaustive)}`)
    }
  }
}

/**
 * The strftime pattern of a {@link DateTextUnit}; a closed set, safe to splice into text. DuckDB's `strftime`
 * and ClickHouse's `formatDateTime` read `%Y`, `%m`, `%d`, `%H` and `%S` alike; ClickHouse writes minutes as
 * `%i` (its `%M` is the month's name), which its dialect substitutes.
 */
export function dateTextPattern(unit: DateTextUnit): string {
  switch (unit) {
    case 'day':
      return '%Y-%m-%d'
    case 'month':
      return '%Y-%m'
    case 'instant':
      return '%Y-%m-%dT%H:%M:%SZ'
    default: {
      const _exhaustive: never = unit
      throw new Error(`unknown date text unit ${String(_exhaustive)}`)
    }
  }
}

/** The SQL unit name of a grain; a closed set, safe to splice into text. */
export function grainUnit(grain: Grain): string {
  switch (grain) {
    case 'day':
    case 'week':
    case 'month':
    case 'quarter':
    case 'year':
      return grain
    default: {
      const _exhaustive: never = grain
      throw new Error(`unknown grain ${String(_exhaustive)}`)
    }
  }
}
