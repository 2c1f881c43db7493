/**
 * Voice-of-the-member figures on a hand-made fixture (every number derived in the comments), and the
 * complaint → churn comparison on simulated data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { membersAtRisk, voiceSummary, voiceTopics } from '../../src/analytics/voice/voice.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
beforeAll(async () => {
  s = await scratch()
  const members = [
    'phone,registered_at,registration_channel,region',
    ...[1, 2, 3, 4, 5].map(
      (i) => `1380000000${i},2026-01-0${i}T00:00:00Z,${i <= 3 ? 'app' : 'store'},浙江`,
    ),
  ]
  await s.ingest('members', await s.file('members.csv', members.join('\n') + '\n'))
  const orders = [
    'order_id,phone,ordered_at,channel,net_amount,status',
    'o1,13800000001,2026-03-02T10:00:00Z,app,100,paid',
    'o2,13800000002,2026-03-03T10:00:00Z,app,50,paid',
    'o3,13800000003,2026-03-04T10:00:00Z,app,50,paid',
    'o4,13800000004,2026-03-05T10:00:00Z,store,200,paid',
    'o5,13800000005,2026-03-06T10:00:00Z,store,20,cancelled',
  ]
  await s.ingest('orders', await s.file('orders.csv', orders.join('\n') + '\n'))
  await s.ingest(
    'returns',
    await s.file(
      'returns.csv',
      'return_id,order_id,returned_at,amount,reason\nr1,o1,2026-03-10T00:00:00Z,40,damaged\n',
    ),
  )
  const fb = [
    'feedback_id,phone,ts,kind,score,text,channel',
    'f1,13800000001,2026-03-05T00:00:00Z,nps,10,会推荐给朋友,sms',
    'f2,13800000002,2026-03-05T00:00:00Z,nps,9,,sms',
    'f3,13800000003,2026-03-05T00:00:00Z,nps,7,,app',
    'f4,13800000004,2026-03-05T00:00:00Z,nps,3,客服态度很差,app',
    'f5,13800000001,2026-03-06T00:00:00Z,csat,5,,app',
    'f6,13800000002,2026-03-06T00:00:00Z,csat,2,,app',
    'f7,13800000001,2026-03-07T00:00:00Z,review,5,Great quality,app',
    'f8,13800000002,2026-03-07T00:00:00Z,review,4,,app',
    'f9,13800000003,2026-03-07T00:00:00Z,review,1,配送太慢了,app',
    'f10,13800000004,2026-03-08T00:00:00Z,complaint,,Refund still not received after a week,hotline',
    'f11,13800000004,2026-03-09T00:00:00Z,support_ticket,,How do I change my delivery slot?,hotline',
  ]
  await s.ingest('feedback', await s.file('feedback.csv', fb.join('\n') + '\n'))
})
afterAll(async () => {
  await s.cleanup()
})

describe('voice summary on a hand-made fixture', () => {
  it('NPS, CSAT, reviews and service metrics for March 2026', async () => {
    const r = await voiceSummary(s.db.driver, { from: '2026-03-01', to: '2026-04-01' })
    const m = r.satisfaction[0]
    if (!m) throw new Error('no row')
    // NPS: promoters 10, 9; passive 7; detractor 3 → 100·(2 − 1)/4 = 25
    expect([m.nps.promoters, m.nps.passives, m.nps.detractors, m.nps.nps]).toEqual([2, 1, 1, 25])
    // CSAT: 1 of 2 scores ≥ 4
    expect(m.csat.rate).toBe(0.5)
    // Reviews 5, 4, 1: mean 10/3; s² = ((5/3)² + (2/3)² + (7/3)²)/2 = (78/9)/2 = 4.333
    expect(m.review.mean).toBeCloseTo(10 / 3, 12)
    expect(m.review.ci[1] - m.review.mean).toBeCloseTo(4.302652729911275 * Math.sqrt(13 / 3 / 3), 8)
    expect(m.negativeReviews.count).toBe(1)
    const sv = r.service[0]
    if (!sv) throw new Error('no service row')
    // Active: members 1–4 bought (5's order is cancelled and it has no events) → 4 active.
    expect(sv.activeMembers).toBe(4)
    // 1 ticket per 4 active members = 250 per 1,000
    expect(sv.ticketsPer1000Active).toBe(250)
    expect(sv.complaintRate.rate).toBe(0.25)
    // returned 40 of 400 purchased; 1 of 4 orders returned
    expect(sv.returnRateAmount).toBe(0.1)
    expect(sv.returnRateOrders.rate).toBe(0.25)
    expect(r.returnReasons).toEqual([{ reason: 'damaged', returns: 1, amount: 40 }])
  })

  it('splits by registration channel', async () => {
    const r = await voiceSummary(s.db.driver, {
      from: '2026-03-01',
      to: '2026-04-01',
      by: 'registration_channel',
    })
    expect(r.total.map((t) => [t.dimension, t.nps.n])).toEqual([
      ['app', 3],
      ['store', 1],
    ])
  })

  it('topics and members at risk', async () => {
    const t = await voiceTopics(s.db.driver, { from: '2026-03-01', to: '2026-04-01' })
    expect(t.texts).toBe(6)
    const delivery = t.topics.find((x) => x.topic === 'delivery')
    expect(delivery?.mentions).toBe(2)
    const risk = await membersAtRisk(s.db.driver, { from: '2026-03-01', to: '2026-04-01' })
    // Member 4: complaint (2) + negative texts (NPS comment, complaint) (2) + detractor (2) + ticket (0.5)
    const four = await s.db.driver.first<{ memberId: bigint }>({
      sql: "SELECT member_id FROM members WHERE registered_at = TIMESTAMP '2026-01-04 00:00:00'",
      parameters: [],
    })
    expect(risk[0]?.memberId).toBe(Number(four?.memberId))
    expect(risk[0]?.riskScore).toBe(6.5)
    expect(risk[0]?.topics).toContain('returns')
  })
})
