import { describe, expect, it } from 'vitest'
import { clickhouseDialect, clickhouseLegacyDialect } from '../dialects/clickhouse.js'
import type { SqlDialect } from '../dialects/dialect.js'
import { duckdbDialect } from '../dialects/duckdb.js'
import { compile } from './compile.js'
import { empty, ident, join, sourceColumn, sql, unsafeRaw } from './fragment.js'

describe('compile', () => {
  it('numbers DuckDB parameters $1, $2, … in the order the values appear', () => {
    const q = compile(
      duckdbDialect,
      sql`SELECT * FROM t WHERE a = ${'x'} AND b > ${2} AND c = ${'x'}`,
    )
    expect(q.sql).toBe('SELECT * FROM t WHERE a = $1 AND b > $2 AND c = $3')
    // The same value twice is two parameters: placeholders are positional, never deduplicated.
    expect(q.parameters).toEqual(['x', 2, 'x'])
  })

  it('gives ClickHouse typed placeholders named by position', () => {
    const q = compile(
      clickhouseDialect,
      sql`SELECT ${'a'}, ${7}, ${-7}, ${2 ** 40}, ${1.5}, ${10n}, ${true}, ${null}`,
    )
    expect(q.sql).toBe(
      'SELECT {p1:String}, {p2:UInt32}, {p3:Int32}, {p4:Int64}, {p5:Float64}, {p6:Int64}, {p7:Bool}, {p8:Nullable(String)}',
    )
    expect(q.parameters).toEqual(['a', 7, -7, 2 ** 40, 1.5, 10n, true, null])
  })

  it('writes values as escaped literals for legacy ClickHouse, which has no parameters', () => {
    const q = compile(
      clickhouseLegacyDialect,
      sql`SELECT ${"O'Brien \\ x"}, ${3}, ${null}, ${false}`,
    )
    expect(q.sql).toBe("SELECT 'O\\'Brien \\\\ x', 3, NULL, 0")
  })

  it('quotes identifiers through the dialect, qualified names part by part', () => {
    const f = sql`SELECT ${ident('m', 'member_id')} FROM ${ident('members')} m`
    expect(compile(duckdbDialect, f).sql).toBe('SELECT "m"."member_id" FROM "members" m')
    const backticks: SqlDialect = { ...duckdbDialect, quoteIdentifier: (n) => `\`${n}\`` }
    expect(compile(backticks, f).sql).toBe('SELECT `m`.`member_id` FROM `members` m')
  })

  it('doubles quotes inside a source column name instead of letting it end the identifier', () => {
    const q = compile(duckdbDialect, sql`SELECT ${sourceColumn('a"; DROP TABLE x; --')} FROM s`)
    expect(q.sql).toBe('SELECT "a""; DROP TABLE x; --" FROM s')
    expect(q.parameters).toEqual([])
  })

  it('refuses identifiers that are not plain names', () => {
    expect(() => ident('members; DROP TABLE x')).toThrow(/invalid SQL identifier/)
    expect(() => sourceColumn('')).toThrow(/invalid column name/)
  })

  it('numbers parameters of nested fragments continuously, depth first', () => {
    const inner = sql`SELECT member_id FROM orders WHERE net_amount > ${100} AND channel = ${'app'}`
    const outer = sql`SELECT * FROM members WHERE city = ${'Shanghai'} AND member_id IN (${inner}) LIMIT ${5}`
    const q = compile(duckdbDialect, outer)
    expect(q.sql).toBe(
      'SELECT * FROM members WHERE city = $1 AND member_id IN (SELECT member_id FROM orders WHERE net_amount > $2 AND channel = $3) LIMIT $4',
    )
    expect(q.parameters).toEqual(['Shanghai', 100, 'app', 5])
  })

  it('compiles a fragment used twice as two sets of parameters', () => {
    const cond = sql`x > ${1}`
    const q = compile(duckdbDialect, sql`${cond} OR ${cond}`)
    expect(q.sql).toBe('x > $1 OR x > $2')
    expect(q.parameters).toEqual([1, 1])
  })

  it('joins values, identifiers and fragments with the separator', () => {
    const q = compile(
      duckdbDialect,
      sql`SELECT ${join([ident('a'), sql`b + ${1}`, 'c'])} FROM t WHERE k IN (${join([1, 2, 3])}) AND ${join(
        [sql`x = ${'u'}`, sql`y = ${'v'}`],
        ' AND ',
      )}`,
    )
    expect(q.sql).toBe(
      'SELECT "a", b + $1, $2 FROM t WHERE k IN ($3, $4, $5) AND x = $6 AND y = $7',
    )
    expect(q.parameters).toEqual([1, 'c', 1, 2, 3, 'u', 'v'])
  })

  it('compiles an empty join and the empty fragment to no text', () => {
    expect(compile(duckdbDialect, join([]))).toEqual({ sql: '', parameters: [] })
    expect(compile(duckdbDialect, sql`SELECT 1${empty}`)).toEqual({
      sql: 'SELECT 1',
      parameters: [],
    })
  })

  it('keeps raw parts as written: template literals (with backslashes) and unsafeRaw text', () => {
    const dir = unsafeRaw('DESC')
    const q = compile(
      duckdbDialect,
      sql`SELECT regexp_matches(name, '\s+') FROM t ORDER BY a ${dir}`,
    )
    expect(q.sql).toBe("SELECT regexp_matches(name, '\\s+') FROM t ORDER BY a DESC")
    expect(q.parameters).toEqual([])
  })

  it('never puts a value into the text, whatever it contains', () => {
    const hostile = "'; DROP TABLE members; --"
    const q = compile(duckdbDialect, sql`SELECT * FROM members WHERE phone = ${hostile}`)
    expect(q.sql).not.toContain('DROP')
    expect(q.parameters).toEqual([hostile])
  })

  it('returns frozen results', () => {
    const q = compile(duckdbDialect, sql`SELECT ${1}`)
    expect(Object.isFrozen(q)).toBe(true)
    expect(Object.isFrozen(q.parameters)).toBe(true)
  })
})
