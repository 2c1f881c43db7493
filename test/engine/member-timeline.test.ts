/** Member 360's timeline on a hand-built member: every kind, newest first, events one row per day. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getMemberTimeline } from '../../src/duckdb/members/member-timeline.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
beforeAll(async () => {
  s = await scratch()
  const f = (name: string, lines: string[]) => s.file(name, lines.join('\n'))
  await s.ingest(
    'orders',
    await f('o.csv', [
      'order_id,phone,ordered_at,channel,net_amount,status',
      'O1,13800000001,2024-01-05 10:00:00,app,100,paid',
      'O2,13800000001,2024-02-01 09:00:00,store,40,partially_refunded',
      'X1,13900000009,2024-02-02 09:00:00,app,99,paid',
    ]),
  )
  await s.ingest(
    'returns',
    await f('r.csv', ['return_id,order_id,returned_at,amount', 'R1,O2,2024-02-03 12:00:00,15']),
  )
  await s.ingest(
    'events',
    await f('e.csv', [
      'event_id,phone,ts,event_type',
      'E1,13800000001,2024-01-20 08:00:00,login',
      'E2,13800000001,2024-01-20 08:05:00,page_view',
      'E3,13800000001,2024-01-20 09:00:00,page_view',
    ]),
  )
  await s.ingest(
    'feedback',
    await f('fb.csv', [
      'feedback_id,phone,ts,kind,score,text',
      'F1,13800000001,2024-02-04 10:00:00,review,2,my phone 13800000001 is wrong',
    ]),
  )
})
afterAll(async () => {
  await s.cleanup()
})

describe('member timeline', () => {
  it('lists orders, returns, feedback and a day of events, newest first, without feedback text, with their parts named', async () => {
    const id = await s.db.driver.first<{ memberId: bigint }>({
      sql: "SELECT member_id FROM identities WHERE identity_value LIKE '%13800000001'",
      parameters: [],
    })
    const items = await getMemberTimeline(s.db.driver, Number(id?.memberId))
    expect(items).toEqual([
      {
        at: '2024-02-04T10:00:00Z',
        kind: 'feedback',
        detail: 'review · 2.0',
        amount: null,
        facts: { kind: 'review', score: 2 },
      },
      {
        at: '2024-02-03T12:00:00Z',
        kind: 'return',
        detail: 'R1 · O2',
        amount: -15,
        facts: { return_id: 'R1', order_id: 'O2' },
      },
      {
        at: '2024-02-01T09:00:00Z',
        kind: 'order',
        detail: 'O2 · store · partially_refunded',
        amount: 40,
        facts: { order_id: 'O2', channel: 'store', status: 'partially_refunded' },
      },
      {
        at: '2024-01-20T08:00:00Z',
        kind: 'events',
        detail: '3 × login, page_view',
        amount: null,
        facts: { count: 3, types: 'login,page_view' },
      },
      {
        at: '2024-01-05T10:00:00Z',
        kind: 'order',
        detail: 'O1 · app · paid',
        amount: 100,
        facts: { order_id: 'O1', channel: 'app', status: 'paid' },
      },
    ])
    expect(await getMemberTimeline(s.db.driver, Number(id?.memberId), 2)).toHaveLength(2)
  })
})
