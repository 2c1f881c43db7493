/**
 * The member engine alone, without a store: one member's events in, the ledger's rows and the refusals out.
 * (Its equality with the live ledger is proven by loyalty-bulk-replay.test.ts.)
 */
import { expect, it } from 'vitest'
import { createReplayEngine, type ReplayEvent } from '../../src/ledger/replay-engine.js'
import { testProgram } from './fixtures.js'

const at = (s: string) => Date.parse(s)

it('earns, redeems the points paid in an order or refuses them, credits a check-in and reverses a return', () => {
  const program = testProgram()
  const engine = createReplayEngine(program, new Date('2026-12-01T00:00:00Z'), [])
  const events: ReplayEvent[] = [
    // 40 points paid before the member holds any: refused, nothing written.
    {
      kind: 'payment',
      id: 'O1',
      orderId: 'O1',
      ts: at('2026-03-01T10:00:00Z'),
      channel: 'web',
      amount: '40',
    },
    {
      kind: 'order',
      id: 'O1',
      orderId: 'O1',
      ts: at('2026-03-01T10:00:00Z'),
      channel: 'web',
      amount: '200',
    },
    {
      kind: 'check_in',
      id: 'E1',
      orderId: null,
      ts: at('2026-03-02T08:00:00Z'),
      channel: 'app',
      amount: null,
    },
    {
      kind: 'check_in',
      id: 'E2',
      orderId: null,
      ts: at('2026-03-03T08:00:00Z'),
      channel: 'app',
      amount: null,
    },
    {
      kind: 'payment',
      id: 'O2',
      orderId: 'O2',
      ts: at('2026-03-04T10:00:00Z'),
      channel: 'web',
      amount: '150',
    },
    {
      kind: 'return',
      id: 'R1',
      orderId: 'O1',
      ts: at('2026-03-05T10:00:00Z'),
      channel: null,
      amount: '100',
    },
  ]
  engine.replayMember(
    { memberId: 'm1', enrolledAt: at('2026-01-01T00:00:00Z'), birthday: null },
    events,
  )
  engine.drainAllocations()

  expect(engine.counts).toMatchObject({
    members: 1,
    orders: 1,
    returns: 1,
    checkIns: 2,
    redemptions: 1,
    redeemedPoints: 150,
    refusedRedemptions: 1,
    refusedRedemptionPoints: 40,
    skipped: 1,
  })
  expect(engine.skippedReasons).toEqual(['payment O1: member m1 has 0 spendable points; 40 needed'])
  const e = engine.rows.entries.cols
  // kind, points, reason, source id of each entry, in order.
  const entries = (e[2] as string[]).map((kind, i) => [kind, e[3]?.[i], e[6]?.[i], e[8]?.[i]])
  expect(entries).toEqual([
    ['earn', 200, 'spend', 'O1'],
    ['earn', 5, 'check_in', 'check_in:2026-03-02'],
    ['earn', 5, 'check_in', 'check_in:2026-03-03'],
    ['redeem', -150, 'payment for order O2', 'O2'],
    // half of the order returned: half of its 200 points, 60 of them already spent (debt)
    ['reverse', -100, 'return R1 of order O1', 'R1'],
  ])
  // The account: 210 earned − 150 paid − 100 reversed = −40, a debt of 40.
  const a = engine.rows.accounts.cols
  expect([a[3]?.[0], a[4]?.[0], a[8]?.[0], a[9]?.[0]]).toEqual([-40, 40, '2026-03-03', 2])
  // Allocations: the payment took 150 of the order's bucket (earliest-expiring first); the reversal the
  // order's 50 left, then the two check-in buckets (5 each), the rest being the debt.
  const al = engine.rows.allocations.cols
  expect((al[2] as number[]).reduce((x, y) => x + y, 0)).toBe(150 + 60)
})
