/**
 * Choosing the engine by configuration: flags over environment over defaults, and refusals with the reason.
 */
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/core/errors.js'
import { openDriver, resolveEngineConfig } from '../../src/store/open-engine.js'
import { clickhouseLiteral, clickhouseParamType } from '../../src/engine/dialects/clickhouse.js'
import { clickhouseDialect, clickhouseLegacyDialect } from '../../src/engine/dialects/clickhouse.js'
import { compile } from '../../src/engine/sql/compile.js'
import { sql } from '../../src/engine/sql/fragment.js'

describe('engine configuration', () => {
  it('defaults to DuckDB', () => {
    const c = resolveEngineConfig({}, {})
    expect(c.engine).toBe('duckdb')
    expect(c.db).toBe('./memberlens.duckdb')
  })

  it('reads ClickHouse settings from the environment, and flags win', () => {
    const env = {
      MEMBERLENS_ENGINE: 'clickhouse',
      MEMBERLENS_CLICKHOUSE_URL: 'http://10.0.0.5:8123',
      MEMBERLENS_CLICKHOUSE_USER: 'analyst',
      MEMBERLENS_CLICKHOUSE_PASSWORD: 's3cret',
      MEMBERLENS_CLICKHOUSE_DATABASE: 'crm',
      MEMBERLENS_MAX_QUERY_SECONDS: '120',
    }
    const c = resolveEngineConfig({}, env)
    expect(c).toMatchObject({
      engine: 'clickhouse',
      url: 'http://10.0.0.5:8123',
      username: 'analyst',
      password: 's3cret',
      database: 'crm',
      flavor: 'modern',
      maxExecutionSeconds: 120,
    })
    const f = resolveEngineConfig({ engine: 'duckdb', url: 'http://127.0.0.1:18123' }, env)
    expect(f.engine).toBe('duckdb')
    expect(f.url).toBe('http://127.0.0.1:18123')
  })

  it('refuses an unknown engine, a bad URL or database name', () => {
    expect(() => resolveEngineConfig({ engine: 'postgres' }, {})).toThrow(ConfigError)
    expect(() => resolveEngineConfig({ engine: 'clickhouse', url: 'not a url' }, {})).toThrow(/url/)
    expect(() => resolveEngineConfig({}, { MEMBERLENS_CLICKHOUSE_DATABASE: 'a;b' })).toThrow(
      /database/,
    )
  })

  it('fails to open a ClickHouse server that does not answer, with the reason', async () => {
    const c = resolveEngineConfig({ engine: 'clickhouse', url: 'http://127.0.0.1:9' }, {})
    await expect(openDriver(c)).rejects.toThrow(/query failed/)
  })
})

describe('ClickHouse parameters', () => {
  it('types placeholders by value on modern servers', () => {
    const q = compile(
      clickhouseDialect,
      sql`SELECT ${1}, ${-5}, ${2 ** 40}, ${0.5}, ${'x'}, ${null}`,
    )
    expect(q.sql).toBe(
      'SELECT {p1:UInt32}, {p2:Int32}, {p3:Int64}, {p4:Float64}, {p5:String}, {p6:Nullable(String)}',
    )
    expect(q.parameters).toEqual([1, -5, 2 ** 40, 0.5, 'x', null])
    expect(clickhouseParamType(true)).toBe('Bool')
  })

  it('escapes literals client-side for servers without parameters', () => {
    const q = compile(
      clickhouseLegacyDialect,
      sql`SELECT ${"it's \\ here"}, ${3}, ${true}, ${null}`,
    )
    expect(q.sql).toBe("SELECT 'it\\'s \\\\ here', 3, 1, NULL")
    expect(clickhouseLiteral(12n)).toBe('12')
    expect(() => clickhouseLiteral(Number.NaN)).toThrow()
  })
})
