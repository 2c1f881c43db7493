/**
 * Every expression of the dialect interface, compiled for each dialect, against the text written out by
 * hand: one row per (expression, dialect). A change to a dialect shows here as one row, with the engine it
 * affects. `date-text.test.ts` covers `dateText`.
 */
import { describe, expect, it } from 'vitest'
import type { FieldType } from '../../core/schema.js'
import { compile } from '../sql/compile.js'
import { sql, type Fragment } from '../sql/fragment.js'
import { baseDialect } from './base.js'
import { clickhouseDialect, clickhouseLegacyDialect } from './clickhouse.js'
import type { SqlDialect } from './dialect.js'
import { duckdbDialect } from './duckdb.js'

const ts = sql`ts`
type Row = [string, SqlDialect, (d: SqlDialect) => Fragment, string, readonly unknown[]]

const ROWS: Row[] = [
  // Period starts: weeks start on Monday everywhere.
  ['dateTrunc week', duckdbDialect, (d) => d.dateTrunc('week', ts), "date_trunc('week', ts)", []],
  [
    'dateTrunc week',
    clickhouseDialect,
    (d) => d.dateTrunc('week', ts),
    'toDateTime(toMonday(ts))',
    [],
  ],
  ['dateTrunc day', clickhouseDialect, (d) => d.dateTrunc('day', ts), 'toStartOfDay(ts)', []],
  [
    'dateTrunc quarter',
    clickhouseDialect,
    (d) => d.dateTrunc('quarter', ts),
    'toDateTime(toStartOfQuarter(ts))',
    [],
  ],
  ['dateTrunc year', baseDialect, (d) => d.dateTrunc('year', ts), "date_trunc('year', ts)", []],
  // Period arithmetic: weeks as 7 days, quarters as 3 months.
  [
    'addPeriods week',
    duckdbDialect,
    (d) => d.addPeriods('week', ts, 2),
    "(ts + INTERVAL '14 day')",
    [],
  ],
  [
    'addPeriods quarter',
    duckdbDialect,
    (d) => d.addPeriods('quarter', ts, -1),
    "(ts + INTERVAL '-3 month')",
    [],
  ],
  ['addPeriods week', clickhouseDialect, (d) => d.addPeriods('week', ts, 2), 'addDays(ts, 14)', []],
  ['addPeriods year', clickhouseDialect, (d) => d.addPeriods('year', ts, 1), 'addYears(ts, 1)', []],
  // Time zones: the zone is a parameter; UTC leaves the expression alone.
  [
    'localTime',
    duckdbDialect,
    (d) => d.localTime(ts, 'Asia/Shanghai'),
    'timezone($1, CAST(ts AS TIMESTAMPTZ))',
    ['Asia/Shanghai'],
  ],
  ['localTime UTC', duckdbDialect, (d) => d.localTime(ts, 'UTC'), 'ts', []],
  [
    'localTime',
    clickhouseDialect,
    (d) => d.localTime(ts, 'Asia/Shanghai'),
    'addSeconds(ts, timeZoneOffset(toTimeZone(ts, {p1:String})))',
    ['Asia/Shanghai'],
  ],
  [
    'localTime',
    clickhouseLegacyDialect,
    (d) => d.localTime(ts, 'Asia/Shanghai'),
    "addSeconds(ts, timeZoneOffset(toTimeZone(ts, 'Asia/Shanghai')))",
    ['Asia/Shanghai'],
  ],
  [
    'knownTimezone',
    duckdbDialect,
    (d) => d.knownTimezone('Europe/Paris'),
    'SELECT 1 AS ok FROM pg_timezone_names() WHERE name = $1',
    ['Europe/Paris'],
  ],
  [
    'knownTimezone',
    clickhouseDialect,
    (d) => d.knownTimezone('Europe/Paris'),
    'SELECT 1 AS ok FROM system.time_zones WHERE time_zone = {p1:String}',
    ['Europe/Paris'],
  ],
  // Differences.
  [
    'secondsBetween',
    duckdbDialect,
    (d) => d.secondsBetween(sql`a`, sql`b`),
    "date_diff('second', a, b)",
    [],
  ],
  [
    'secondsBetween',
    clickhouseDialect,
    (d) => d.secondsBetween(sql`a`, sql`b`),
    "toFloat64(dateDiff('second', a, b))",
    [],
  ],
  [
    'daysBetween',
    duckdbDialect,
    (d) => d.daysBetween(sql`a`, sql`b`),
    "date_diff('day', a, b)",
    [],
  ],
  [
    'daysBetween',
    clickhouseDialect,
    (d) => d.daysBetween(sql`a`, sql`b`),
    "dateDiff('day', a, b)",
    [],
  ],
  // Aggregates: an exact, interpolating median on each engine.
  ['median', duckdbDialect, (d) => d.median(sql`x`), 'median(x)', []],
  ['median', clickhouseDialect, (d) => d.median(sql`x`), 'quantileExactInclusive(0.5)(x)', []],
  ['median', clickhouseLegacyDialect, (d) => d.median(sql`x`), 'quantileExact(0.5)(x)', []],
  ['quantile', duckdbDialect, (d) => d.quantile(sql`x`, 0.9), 'quantile_cont(x, 0.9)', []],
  [
    'quantile',
    clickhouseDialect,
    (d) => d.quantile(sql`x`, 0.25),
    'quantileExactInclusive(0.25)(x)',
    [],
  ],
  [
    'quantile',
    clickhouseLegacyDialect,
    (d) => d.quantile(sql`x`, 0.1),
    'quantileExact(0.1)(x)',
    [],
  ],
  // JSON members: the key is a parameter.
  [
    'jsonText',
    duckdbDialect,
    (d) => d.jsonText(sql`attributes`, 'vip'),
    'json_extract_string(attributes, $1)',
    ['$."vip"'],
  ],
  [
    'jsonText',
    clickhouseDialect,
    (d) => d.jsonText(sql`attributes`, 'vip'),
    "if(JSONHas(attributes, {p1:String}), if(JSONType(attributes, {p2:String}) = 'String', JSONExtractString(attributes, {p3:String}), JSONExtractRaw(attributes, {p4:String})), NULL)",
    ['vip', 'vip', 'vip', 'vip'],
  ],
  [
    'tryParseTimestamp',
    duckdbDialect,
    (d) => d.tryParseTimestamp(sql`t`, sql`${'%d/%m/%Y'}`),
    'try_strptime(t, $1)',
    ['%d/%m/%Y'],
  ],
  // Period series: one row per period start, named `period`.
  [
    'periodSeries month',
    duckdbDialect,
    (d) => d.periodSeries('month', sql`${'2024-01-01'}`, sql`${'2024-03-01'}`),
    `SELECT CAST(period AS TIMESTAMP) AS period
      FROM generate_series(CAST($1 AS TIMESTAMP), CAST($2 AS TIMESTAMP), INTERVAL '1 month') t(period)`,
    ['2024-01-01', '2024-03-01'],
  ],
  [
    'periodSeries week',
    clickhouseDialect,
    (d) => d.periodSeries('week', sql`${'2024-01-01'}`, sql`${'2024-03-01'}`),
    `SELECT addDays(toDateTime({p1:String}), toInt64(number) * 7) AS period
      FROM numbers(toUInt64(greatest(0, intDiv(dateDiff('day', toDateTime({p2:String}), toDateTime({p3:String})), 7) + 1)))`,
    ['2024-01-01', '2024-01-01', '2024-03-01'],
  ],
]

describe('dialect expressions', () => {
  it.each(ROWS)('%s on %s', (_name, dialect, build, text, parameters) => {
    const q = compile(dialect, build(dialect))
    expect(q.sql).toBe(text)
    expect(q.parameters).toEqual(parameters)
  })
})

describe('column types', () => {
  const types: [FieldType, string, string, string][] = [
    [{ kind: 'string' }, 'VARCHAR', 'String', 'String'],
    [{ kind: 'enum', values: ['a'] }, 'VARCHAR', 'LowCardinality(String)', 'String'],
    [{ kind: 'money' }, 'DECIMAL(18,4)', 'Decimal(18,4)', 'Decimal(18,4)'],
    [{ kind: 'timestamp' }, 'TIMESTAMP', "DateTime('UTC')", "DateTime('UTC')"],
    [{ kind: 'date' }, 'DATE', 'Date32', 'Date'],
    [{ kind: 'boolean' }, 'BOOLEAN', 'Bool', 'UInt8'],
    [{ kind: 'number' }, 'DOUBLE', 'Float64', 'Float64'],
    [{ kind: 'json' }, 'JSON', 'String', 'String'],
  ]
  it.each(types)('%o', (type, duckdb, clickhouse, legacy) => {
    expect(duckdbDialect.columnType(type)).toBe(duckdb)
    expect(clickhouseDialect.columnType(type)).toBe(clickhouse)
    expect(clickhouseLegacyDialect.columnType(type)).toBe(legacy)
  })
})

describe('what a dialect cannot do', () => {
  it.each<[string, () => unknown, RegExp]>([
    ['ansi median', () => baseDialect.median(ts), /median/],
    ['ansi quantile', () => baseDialect.quantile(ts, 0.5), /quantiles/],
    ['a quantile level outside [0, 1]', () => duckdbDialect.quantile(ts, 1.5), /not in \[0, 1\]/],
    ['ansi period series', () => baseDialect.periodSeries('day', ts, ts), /period series/],
    [
      'clickhouse timestamp parsing',
      () => clickhouseDialect.tryParseTimestamp(ts, ts),
      /ingest runs on DuckDB/,
    ],
    ['legacy clickhouse JSON', () => clickhouseLegacyDialect.jsonText(ts, 'k'), /JSON members/],
  ])('%s is refused by name', (_name, call, message) => {
    expect(call).toThrow(message)
  })
})
