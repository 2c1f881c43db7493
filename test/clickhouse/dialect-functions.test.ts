/**
 * The dialect's text functions give the same answer on DuckDB and on ClickHouse (chdb, in-process): a UTC
 * instant as `YYYY-MM-DDTHH:MM:SSZ` (ClickHouse's minutes are `%i`, its `%M` a month name), a text split into
 * rows, and an MD5 digest in lower-case hex.
 */
import { createClient } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DuckDbDriver } from '../../src/duckdb/driver.js'
import { ClickHouseDriver } from '../../src/engine/drivers/clickhouse-driver.js'
import type { Driver } from '../../src/engine/drivers/driver.js'
import { sql } from '../../src/engine/sql/fragment.js'

let duck: DuckDbDriver
let ch: ClickHouseDriver

beforeAll(async () => {
  duck = await DuckDbDriver.open({ path: ':memory:' })
  type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection']
  const connection = createChdbConnection({ path: ':memory:' }) as unknown as ClientConnection
  ch = ClickHouseDriver.fromClient(createClient({ connection }), { maxThreads: 1 })
})
afterAll(async () => {
  await duck?.close()
  await ch?.close()
})

const engines = (): [string, Driver][] => [
  ['duckdb', duck],
  ['clickhouse', ch],
]

describe('dialect text functions on both engines', () => {
  it.each(['duckdb', 'clickhouse'])('%s: a UTC instant to the second', async (name) => {
    const d = engines().find(([n]) => n === name)?.[1] as Driver
    const ts = d.dialect.name.startsWith('clickhouse')
      ? sql`toDateTime('2026-03-04 05:06:07', 'UTC')`
      : sql`TIMESTAMP '2026-03-04 05:06:07'`
    const row = await d.first<{ t: string; day: string; month: string }>(
      sql`SELECT ${d.dialect.dateText(ts, 'instant')} AS t, ${d.dialect.dateText(ts, 'day')} AS day,
        ${d.dialect.dateText(ts, 'month')} AS month`,
    )
    expect(row).toEqual({ t: '2026-03-04T05:06:07Z', day: '2026-03-04', month: '2026-03' })
  })

  it.each(['duckdb', 'clickhouse'])(
    '%s: a text split into rows, and an MD5 digest',
    async (name) => {
      const d = engines().find(([n]) => n === name)?.[1] as Driver
      const parts = await d.all<{ part: string }>(
        sql`SELECT ${d.dialect.splitToRows(sql`${'recency,frequency,'}`, ',')} AS part`,
      )
      expect(parts.map((p) => p.part)).toEqual(['recency', 'frequency', ''])
      const digest = await d.first<{ h: string }>(
        sql`SELECT ${d.dialect.md5Hex(sql`${'会员'}`)} AS h`,
      )
      // md5 of the UTF-8 bytes of 会员
      expect(digest?.h).toMatch(/^[0-9a-f]{32}$/)
      const other = engines().find(([n]) => n !== name)?.[1] as Driver
      const theirs = await other.first<{ h: string }>(
        sql`SELECT ${other.dialect.md5Hex(sql`${'会员'}`)} AS h`,
      )
      expect(digest?.h).toBe(theirs?.h)
    },
  )
})
