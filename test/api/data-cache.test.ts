/**
 * The API's cache of data-only answers: reused while the data version stands, recomputed after an ingest, a
 * ledger sync or new sentiment labels, shared by concurrent requests, and never keeping a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureLoyaltyTables } from '../../src/analytics/loyalty/sync.js'
import { labelFeedback } from '../../src/analytics/voice/label.js'
import { DataCache } from '../../src/api/data-cache.js'
import { getOverview } from '../../src/engine/metrics/overview.js'
import { scratch, TEST_CLOCK } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
const header = 'order_id,phone,ordered_at,channel,net_amount,status'
beforeAll(async () => {
  s = await scratch()
  await s.ingest(
    'orders',
    await s.file('a.csv', `${header}\nA1,13800000001,2024-03-04 10:00:00,app,50,paid\n`),
  )
})
afterAll(async () => {
  await s.cleanup()
})

describe('data cache', () => {
  it('reuses an answer until the data changes', async () => {
    const cache = new DataCache(s.db.driver)
    let computed = 0
    const overview = () =>
      cache.get('overview', async () => {
        computed++
        return getOverview(s.db.driver, '2024-03')
      })
    expect((await overview())?.orders).toBe(1)
    expect((await overview())?.orders).toBe(1)
    expect(computed).toBe(1)

    await s.ingest(
      'orders',
      await s.file('b.csv', `${header}\nA2,13800000002,2024-03-05 10:00:00,app,20,paid\n`),
    )
    expect((await overview())?.orders).toBe(2)
    expect(computed).toBe(2)

    await ensureLoyaltyTables(s.db.driver)
    await s.db.driver.execute({
      sql: `INSERT INTO loyalty_sync_state VALUES ('tx_horizon', '42')`,
      parameters: [],
    })
    await overview()
    expect(computed).toBe(3)

    await s.ingest(
      'feedback',
      await s.file(
        'f.csv',
        'feedback_id,phone,ts,kind,text\nF1,13800000001,2024-03-06,review,很好\n',
      ),
    )
    await overview() // the ingest
    await labelFeedback(s.db.driver, { clock: TEST_CLOCK })
    await overview() // the labels
    expect(computed).toBe(5)
    await overview()
    expect(computed).toBe(5)
  })

  it('shares one computation between concurrent requests and forgets failures', async () => {
    const cache = new DataCache(s.db.driver)
    let computed = 0
    const slow = () =>
      cache.get('k', async () => {
        computed++
        await new Promise((r) => setTimeout(r, 50))
        return computed
      })
    expect(await Promise.all([slow(), slow(), slow()])).toEqual([1, 1, 1])
    await expect(cache.get('bad', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await cache.get('bad', async () => 'ok')).toBe('ok')
  })
})
