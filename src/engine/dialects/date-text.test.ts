import { describe, expect, it } from 'vitest'
import { compile } from '../sql/compile.js'
import { sql } from '../sql/fragment.js'
import { clickhouseDialect, clickhouseLegacyDialect } from './clickhouse.js'
import type { DateTextUnit, SqlDialect } from './dialect.js'
import { duckdbDialect } from './duckdb.js'

describe('dateText', () => {
  it.each<[string, DateTextUnit, SqlDialect, string]>([
    ['duckdb', 'day', duckdbDialect, "strftime(ts, '%Y-%m-%d')"],
    ['duckdb', 'month', duckdbDialect, "strftime(ts, '%Y-%m')"],
    ['clickhouse', 'day', clickhouseDialect, "formatDateTime(ts, '%Y-%m-%d')"],
    ['clickhouse', 'month', clickhouseDialect, "formatDateTime(ts, '%Y-%m')"],
    ['clickhouse-legacy', 'day', clickhouseLegacyDialect, "formatDateTime(ts, '%Y-%m-%d')"],
  ])('%s, %s', (_name, unit, dialect, expected) => {
    expect(compile(dialect, dialect.dateText(sql`ts`, unit)).sql).toBe(expected)
  })
})
