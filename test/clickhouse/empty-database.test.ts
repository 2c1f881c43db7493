/**
 * An empty ClickHouse database reports "no data" as DuckDB does: aggregates over no rows are NULL, not the
 * type's default (max() of a DateTime would otherwise be 1970-01-01 and sum() 0), so the data span, the last
 * complete period and the overview's month are undefined rather than 1970.
 */
import { createClient } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureClickHouseSchema } from '../../src/duckdb/clickhouse-copy.js'
import { ClickHouseDriver } from '../../src/engine/drivers/clickhouse-driver.js'
import { dataSpan, lastCompletePeriod } from '../../src/engine/metrics/run.js'
import { sql } from '../../src/engine/sql/fragment.js'

let ch: ClickHouseDriver

beforeAll(async () => {
  type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection']
  const connection = createChdbConnection({ path: ':memory:' }) as unknown as ClientConnection
  ch = ClickHouseDriver.fromClient(createClient({ connection }), { maxThreads: 1 })
  await ensureClickHouseSchema(ch)
})
afterAll(async () => {
  await ch?.close()
})

describe('an empty ClickHouse database', () => {
  it('answers NULL for max() and sum() over no rows, and 0 for count()', async () => {
    const row = await ch.first<{ last: string | null; total: number | null; n: number }>(
      sql`SELECT max(ordered_at) AS last, sum(net_amount) AS total, count(*) AS n FROM orders`,
    )
    expect(row).toEqual({ last: null, total: null, n: 0 })
  })

  it('has no data span and no last complete period', async () => {
    expect(await dataSpan(ch, 'Asia/Shanghai')).toBeUndefined()
    expect(await lastCompletePeriod(ch, 'month', 'Asia/Shanghai')).toBeUndefined()
  })
})
