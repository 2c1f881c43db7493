/**
 * A campaign's full cost on a hand-built fixture: send cost, redeemed coupons at face value (unused ones
 * free) and the campaign's bonus points net of reversals at the synced point value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { campaignCost } from '../../src/analytics/experiments/campaign-cost.js'
import { ensureLoyaltyTables } from '../../src/analytics/loyalty/sync.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
beforeAll(async () => {
  s = await scratch()
  const f = (name: string, lines: string[]) => s.file(name, lines.join('\n'))
  await s.ingest(
    'members',
    await f('m.csv', [
      'phone,registered_at',
      '13800000001,2024-01-01 10:00:00',
      '13800000002,2024-01-01 10:00:00',
      '13800000003,2024-01-01 10:00:00',
    ]),
  )
  await s.ingest(
    'orders',
    await f('o.csv', [
      'order_id,phone,ordered_at,channel,net_amount,coupon_id',
      'O1,13800000001,2024-03-05 10:00:00,app,80,W20',
      'O2,13800000002,2024-03-06 10:00:00,app,15,W20',
    ]),
  )
  await s.ingest(
    'coupons',
    await f('k.csv', [
      'coupon_id,phone,campaign_id,issued_at,face_value,redeemed_at,order_id',
      'K1,13800000001,WB,2024-03-01 10:00:00,20,2024-03-05 10:00:00,O1',
      'K2,13800000002,WB,2024-03-01 10:00:00,20,2024-03-06 10:00:00,O2',
      'K3,13800000003,WB,2024-03-01 10:00:00,20,,',
      'K4,13800000003,OTHER,2024-03-01 10:00:00,50,2024-03-02 10:00:00,O2',
    ]),
  )
})
afterAll(async () => {
  await s.cleanup()
})

describe('campaign full cost', () => {
  it('without a synced ledger: sends and redeemed coupons, points unknown', async () => {
    const c = await campaignCost(s.db.driver, 'WB', 0.1)
    // K1 + K2 redeemed at 20 each; K3 unused costs nothing; K4 belongs to another campaign.
    expect(c).toEqual({
      send: 0.1,
      coupons: { issued: 3, redeemed: 2, faceValue: 40 },
      points: null,
      total: 40.1,
    })
  })

  it('adds the campaign bonus points net of reversals at the point value', async () => {
    const d = s.db.driver
    await ensureLoyaltyTables(d)
    const entries: [number, string, number, string | null, string | null][] = [
      [1, 'earn', 200, 'campaign', 'WB'],
      [2, 'earn', 200, 'campaign', 'WB'],
      [3, 'reverse', -200, 'campaign', 'WB'],
      [4, 'earn', 999, 'order', 'O1'],
      [5, 'earn', 300, 'campaign', 'OTHER'],
    ]
    for (const [id, kind, points, type, source] of entries) {
      await d.execute({
        sql: `INSERT INTO loyalty_entries VALUES (${id}, 'L1', 1, '${kind}', ${points}, TIMESTAMP '2024-03-02 10:00:00',
          TIMESTAMP '2024-03-02 10:00:00', 'test', '${type}', '${source}')`,
        parameters: [],
      })
    }
    await d.execute({
      sql: `INSERT INTO loyalty_sync_state VALUES ('point_value', '0.01'), ('currency', 'CNY')`,
      parameters: [],
    })
    const c = await campaignCost(d, 'WB', 0.1)
    // 200 + 200 − 200 = 200 points × ¥0.01 = ¥2; total 0.10 + 40 + 2.
    expect(c.points).toEqual({ points: 200, pointValue: 0.01, amount: 2 })
    expect(c.total).toBeCloseTo(42.1, 9)
  })
})
