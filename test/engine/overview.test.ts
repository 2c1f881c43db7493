import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getOverview } from '../../src/engine/metrics/overview.js'
import { scratch } from '../helpers/db.js'

/*
 * Hand-checked fixture. Members: 1 (reg 2024-01-05), 2 (2024-02-10), 3 (2024-03-01).
 * Orders: O1 m1 02-03 100 · O2 m1 03-04 50 · O3 m1 03-20 30 · O4 m2 03-31 23:59:59 20 · O5 m2 04-01 00:00 40 ·
 *         O6 m3 03-15 70 cancelled.  Returns: R1 (O2) 03-25 10 · R2 (O1) 04-02 5.  Events: m3 03-10, m2 02-20.
 */
type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
beforeAll(async () => {
  s = await scratch()
  await s.ingest(
    'members',
    await s.file(
      'm.csv',
      'phone,registered_at\n13800000001,2024-01-05\n13800000002,2024-02-10\n13800000003,2024-03-01\n',
    ),
  )
  await s.ingest(
    'orders',
    await s.file(
      'o.csv',
      [
        'order_id,phone,ordered_at,channel,net_amount,status',
        'O1,13800000001,2024-02-03 10:00:00,app,100.00,paid',
        'O2,13800000001,2024-03-04 10:00:00,app,50.00,partially_refunded',
        'O3,13800000001,2024-03-20 10:00:00,store,30.00,paid',
        'O4,13800000002,2024-03-31 23:59:59,app,20.00,paid',
        'O5,13800000002,2024-04-01 00:00:00,app,40.00,paid',
        'O6,13800000003,2024-03-15 10:00:00,web,70.00,cancelled',
      ].join('\n'),
    ),
  )
  await s.ingest(
    'returns',
    await s.file(
      'r.csv',
      'return_id,order_id,returned_at,amount\nR1,O2,2024-03-25,10\nR2,O1,2024-04-02,5\n',
    ),
  )
  await s.ingest(
    'events',
    await s.file(
      'e.csv',
      'event_id,phone,ts,event_type\nE1,13800000003,2024-03-10,login\nE2,13800000002,2024-02-20,login\n',
    ),
  )
})
afterAll(async () => {
  await s.cleanup()
})

describe('overview', () => {
  it('computes a month by hand-checked numbers (boundaries, cancellations, returns by return date)', async () => {
    const o = await getOverview(s.db.driver, '2024-03')
    expect(o).toEqual({
      month: '2024-03-01',
      membersAtMonthEnd: 3,
      newMembers: 1,
      activeMembers: 3, // m1, m2 by orders; m3 by its event (its only order was cancelled)
      buyers: 2,
      orders: 3, // O2, O3, O4 (23:59:59 on the 31st is still March)
      netRevenue: 90, // 50 + 30 + 20 − R1 10
      returnsAmount: 10,
      averageOrderValue: 30,
      repurchaseRate: 0.5, // m1 bought twice, m2 once
      allTime: {
        members: 3,
        buyers: 2,
        orders: 5,
        netRevenue: 225, // 100 + 50 + 30 + 20 + 40 − 15
        identities: 3,
        mergedMembers: 0,
        firstActivity: '2024-02-03',
        lastActivity: '2024-04-01',
      },
    })
  })

  it("defaults to the data's last complete month, not the month the data has only begun", async () => {
    // The data's last activity is O5 on 2024-04-01: April has one day of data, March is the last whole month.
    const o = await getOverview(s.db.driver)
    expect(o).toMatchObject({
      month: '2024-03-01',
      orders: 3,
      buyers: 2,
      activeMembers: 3,
      netRevenue: 90,
      averageOrderValue: 30,
      repurchaseRate: 0.5,
      newMembers: 1,
    })
  })

  it('shows the month the data is in when the data is shorter than a month', async () => {
    const short = await scratch()
    try {
      await short.ingest(
        'orders',
        await short.file(
          'o.csv',
          'order_id,phone,ordered_at,channel,net_amount\nQ1,13800000009,2024-06-10 10:00:00,app,35\n',
        ),
      )
      expect(await getOverview(short.db.driver)).toMatchObject({
        month: '2024-06-01',
        orders: 1,
        netRevenue: 35,
      })
    } finally {
      await short.cleanup()
    }
  })

  it('reports an empty month as zeros, not missing', async () => {
    const o = await getOverview(s.db.driver, '2023-12')
    expect(o).toMatchObject({
      membersAtMonthEnd: 0,
      orders: 0,
      buyers: 0,
      netRevenue: 0,
      averageOrderValue: null,
      repurchaseRate: null,
    })
  })

  it('refuses a malformed month', async () => {
    await expect(getOverview(s.db.driver, '2024-13')).rejects.toThrow('expected YYYY-MM')
  })
})
