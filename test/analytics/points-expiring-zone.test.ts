/**
 * "Points expiring within 30 days" counted in the project time zone. A tiny ledger whose points expire at the
 * end of the month after the month they were earned, Beijing time (utc_offset +08:00, end_of_month, 1 month);
 * 1 point per unit of spend:
 *
 *   member 1  earns 150 at 2026-10-15 02:00 UTC (Oct 15 Beijing) → expires 2026-12-01 00:00 +08 = 11-30 16:00 UTC
 *   member 2  earns 200 at 2026-10-31 17:00 UTC (Nov 1 01:00 Beijing) → expires 12-31 16:00 UTC
 *   member 3  earns 300 at 2026-09-30 15:00 UTC (Sep 30 23:00 Beijing) → expires 10-31 16:00 UTC
 *   member 4  earns 400 at 2026-09-30 16:30 UTC (Oct 1 00:30 Beijing) → expires 11-30 16:00 UTC
 *
 * Scores as of 2026-10-31 in Asia/Shanghai hold at the end of that day, 2026-10-31 16:00 UTC; 30 days later is
 * 2026-11-30 16:00 UTC. Window (10-31 16:00, 11-30 16:00]: members 1 and 4 just inside (at its end), member 3
 * just outside (at its start: the expiry run of Nov 1 takes it), member 2 a month outside.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  earlyWarningSignals,
  parseEarlyWarningConfig,
} from '../../src/analytics/risk/early-warning.js'
import { syncLedgerToDuckDb } from '../../src/analytics/loyalty/sync.js'
import { expiringPoints, expiringWindow } from '../../src/analytics/risk/points-signals.js'
import {
  CHURN_FEATURE_COLUMNS,
  type ChurnFeatureTable,
} from '../../src/duckdb/summaries/churn-features.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { newLedger, openTestStore, testProgram } from '../ledger/helpers.js'

const program = testProgram({
  utc_offset: '+08:00',
  expiry: { policy: 'end_of_month', months: 1 },
})
const ids = Float64Array.from([1, 2, 3, 4])

describe('the expiring-points window', () => {
  it('runs from the end of the scoring day to the same local time days later, in the zone', () => {
    const iso = (w: { from: Date; to: Date }) => [w.from.toISOString(), w.to.toISOString()]
    expect(iso(expiringWindow('2026-10-31', 30, 'Asia/Shanghai'))).toEqual([
      '2026-10-31T16:00:00.000Z',
      '2026-11-30T16:00:00.000Z',
    ])
    expect(iso(expiringWindow('2026-10-31', 30, 'UTC'))).toEqual([
      '2026-11-01T00:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
    ])
    // Local days across a daylight-saving change (New York leaves EDT on 2026-11-01): 30 days are 30 × 24 h + 1 h.
    expect(iso(expiringWindow('2026-10-31', 30, 'America/New_York'))).toEqual([
      '2026-11-01T04:00:00.000Z',
      '2026-12-01T05:00:00.000Z',
    ])
  })
})

describe('points_expiring in Asia/Shanghai on a month-end program', () => {
  let store: LedgerStore
  let db: Database

  beforeAll(async () => {
    store = await openTestStore('pglite')
    db = await openDatabase(':memory:', { threads: 1 })
    const ledger = newLedger(store, program)
    for (const m of ['1', '2', '3', '4'])
      await ledger.enroll({
        memberId: m,
        idempotencyKey: `enroll:${m}`,
        at: new Date('2026-09-01T00:00:00Z'),
      })
    const order = (memberId: string, amount: number, at: string) =>
      ledger.earnForOrder({
        memberId,
        orderId: `O${memberId}`,
        amount,
        channel: 'web',
        idempotencyKey: `order:${memberId}`,
        at: new Date(at),
      })
    await order('1', 150, '2026-10-15T02:00:00Z')
    await order('2', 200, '2026-10-31T17:00:00Z')
    await order('3', 300, '2026-09-30T15:00:00Z')
    await order('4', 400, '2026-09-30T16:30:00Z')
    await syncLedgerToDuckDb(db, store, program)
  })
  afterAll(async () => {
    await db?.close()
    await store?.close()
  })

  const expiring = async (asOf: string, days: number, zone = 'Asia/Shanghai') => {
    const e = await expiringPoints(db.driver, asOf, ids, days, zone)
    return { points: Array.from(e.points), first: e.firstExpiresAt }
  }

  it('counts the buckets expiring at Beijing month end inside "within 30 days"', async () => {
    expect(await expiring('2026-10-31', 30)).toEqual({
      points: [150, 0, 0, 400],
      first: ['2026-11-30T16:00:00Z', null, null, '2026-11-30T16:00:00Z'],
    })
    // One day shorter, the month-end buckets fall just outside.
    expect((await expiring('2026-10-31', 29)).points).toEqual([0, 0, 0, 0])
    // A day earlier, the October month-end bucket of member 3 is inside and November's are not.
    expect((await expiring('2026-10-30', 30)).points).toEqual([0, 0, 300, 0])
  })

  it('raises points_expiring with the default early-warning settings', async () => {
    const points = Float64Array.from((await expiring('2026-10-31', 30)).points)
    const f = Object.fromEntries(
      CHURN_FEATURE_COLUMNS.map((c) => [c, new Float64Array(ids.length).fill(NaN)]),
    ) as unknown as ChurnFeatureTable
    const none = new Float64Array(ids.length).fill(NaN)
    const config = parseEarlyWarningConfig({})
    expect(
      [0, 1, 2, 3].map((i) => earlyWarningSignals(f, i, none, none, config, none, points)),
    ).toEqual([['points_expiring'], [], [], ['points_expiring']])
  })
})
