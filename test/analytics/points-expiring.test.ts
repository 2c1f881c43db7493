/**
 * Points buckets synced into the engine and the early warning's "points about to expire" signal, on both
 * ledger stores. A small hand-made ledger (1 point per unit of spend, points expire 60 days after earning):
 *
 *   bucket 1  member 2  order B1  2026-01-02   90 points, expires 2026-03-03 — expired by the job on 03-04
 *   bucket 2  member 1  order A1  2026-01-05  300 points, expires 2026-03-06 — 120 redeemed on 02-20 → 180
 *   bucket 3  member 3  order C1  2026-02-01  500 points, expires 2026-04-02 — all 500 redeemed on 02-15 → 0
 *   bucket 4  member 1  order A2  2026-02-10  200 points, expires 2026-04-11
 *   bucket 5  member 2  order B2  2026-02-25  400 points, expires 2026-04-26
 *
 * Then, after the first sync: member 1 redeems 250 on 03-05 (the 180 of bucket 2, then 70 of bucket 4 → 130)
 * and member 3 earns 150 on 03-05 (bucket 6, expires 2026-05-04).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  earlyWarningSignals,
  parseEarlyWarningConfig,
} from '../../src/analytics/risk/early-warning.js'
import { syncLedgerToDuckDb } from '../../src/analytics/loyalty/sync.js'
import { expiringPoints } from '../../src/analytics/risk/points-signals.js'
import {
  CHURN_FEATURE_COLUMNS,
  type ChurnFeatureTable,
} from '../../src/duckdb/summaries/churn-features.js'
import type { Ledger } from '../../src/ledger/ledger.service.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import {
  STORE_KINDS,
  checkInvariants,
  newLedger,
  openTestStore,
  testProgram,
} from '../ledger/helpers.js'

const program = testProgram({ expiry: { policy: 'days', days: 60 } })
const at = (day: string) => new Date(`${day}T00:00:00Z`)
const ids = Float64Array.from([1, 2, 3, 4])

/** The synced buckets: [bucket, member, points, remaining, expires at]. */
async function syncedBuckets(db: Database): Promise<unknown[][]> {
  const rows = await db.driver.all<Record<string, unknown>>({
    sql: `SELECT bucket_id, ledger_member, points, remaining, strftime(expires_at, '%Y-%m-%d %H:%M') AS expires
      FROM loyalty_buckets ORDER BY bucket_id`,
    parameters: [],
  })
  return rows.map((r) => [
    Number(r['bucketId']),
    r['ledgerMember'],
    Number(r['points']),
    Number(r['remaining']),
    r['expires'],
  ])
}

/** The ledger's own buckets in the same shape. */
async function ledgerBuckets(store: LedgerStore): Promise<unknown[][]> {
  const rows = await store.query(
    `SELECT bucket_id, member_id, points, remaining,
       to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS expires
     FROM ledger_buckets ORDER BY bucket_id`,
  )
  return rows.map((r) => [
    Number(r['bucket_id']),
    r['member_id'],
    Number(r['points']),
    Number(r['remaining']),
    r['expires'],
  ])
}

/** Scores as of the day `asOf` hold at its end: the window starts at the next day's start (UTC here). */
async function expiring(db: Database, asOf: string, days: number) {
  const e = await expiringPoints(db.driver, asOf, ids, days, 'UTC')
  return { points: Array.from(e.points), first: e.firstExpiresAt }
}

describe.each(STORE_KINDS)('points buckets in the engine and points_expiring (%s)', (kind) => {
  let store: LedgerStore
  let db: Database
  let ledger: Ledger

  beforeAll(async () => {
    store = await openTestStore(kind)
    db = await openDatabase(':memory:', { threads: 1 })
    ledger = newLedger(store, program)
    for (const m of ['1', '2', '3'])
      await ledger.enroll({ memberId: m, idempotencyKey: `enroll:${m}`, at: at('2026-01-01') })
    const order = (memberId: string, orderId: string, amount: number, day: string) =>
      ledger.earnForOrder({
        memberId,
        orderId,
        amount,
        channel: 'web',
        idempotencyKey: `order:${orderId}`,
        at: at(day),
      })
    await order('2', 'B1', 90, '2026-01-02')
    await order('1', 'A1', 300, '2026-01-05')
    await order('3', 'C1', 500, '2026-02-01')
    await order('1', 'A2', 200, '2026-02-10')
    await ledger.redeem({
      memberId: '3',
      points: 500,
      idempotencyKey: 'redeem:3a',
      at: at('2026-02-15'),
    })
    await ledger.redeem({
      memberId: '1',
      points: 120,
      idempotencyKey: 'redeem:1a',
      at: at('2026-02-20'),
    })
    await order('2', 'B2', 400, '2026-02-25')
    await ledger.expireDue(at('2026-03-04'))
  })
  afterAll(async () => {
    await db?.close()
    await store?.close()
  })

  it('is silent before the ledger has been synced', async () => {
    expect(await expiring(db, '2026-03-04', 30)).toEqual({
      points: [NaN, NaN, NaN, NaN],
      first: [null, null, null, null],
    })
  })

  it('copies every bucket with its remaining points on the first sync', async () => {
    expect(await checkInvariants(store)).toEqual([])
    const first = await syncLedgerToDuckDb(db, store, program)
    expect(first.buckets).toBe(5)
    expect(await syncedBuckets(db)).toEqual([
      [1, '2', 90, 0, '2026-03-03 00:00'],
      [2, '1', 300, 180, '2026-03-06 00:00'],
      [3, '3', 500, 0, '2026-04-02 00:00'],
      [4, '1', 200, 200, '2026-04-11 00:00'],
      [5, '2', 400, 400, '2026-04-26 00:00'],
    ])
  })

  it('sums the points expiring within the window after the as-of day, with the earliest expiry', async () => {
    // As of 03-04 (scoring instant 03-05 00:00), (03-05, 04-04]: only bucket 2 of member 1.
    expect(await expiring(db, '2026-03-04', 30)).toEqual({
      points: [180, 0, 0, 0],
      first: ['2026-03-06T00:00:00Z', null, null, null],
    })
    // (03-05, 05-04]: member 1 180 + 200, member 2 400; member 3's bucket is empty.
    expect(await expiring(db, '2026-03-04', 60)).toEqual({
      points: [380, 400, 0, 0],
      first: ['2026-03-06T00:00:00Z', '2026-04-26T00:00:00Z', null, null],
    })
    // A bucket expiring at the scoring instant (the end of 03-05) is no longer "about to" expire.
    expect((await expiring(db, '2026-03-05', 30)).points).toEqual([0, 0, 0, 0])

    const f = Object.fromEntries(
      CHURN_FEATURE_COLUMNS.map((c) => [c, new Float64Array(ids.length).fill(NaN)]),
    ) as unknown as ChurnFeatureTable
    const none = new Float64Array(ids.length).fill(NaN)
    const signals = (config: ReturnType<typeof parseEarlyWarningConfig>, points: number[]) =>
      [0, 1, 2, 3].map((i) =>
        earlyWarningSignals(f, i, none, none, config, none, Float64Array.from(points)),
      )
    const defaults = parseEarlyWarningConfig({})
    expect(defaults).toMatchObject({ expiringPointsDays: 30, expiringPointsMin: 100 })
    const in30 = (await expiring(db, '2026-03-04', 30)).points
    expect(signals(defaults, in30)).toEqual([['points_expiring'], [], [], []])
    expect(signals(parseEarlyWarningConfig({ expiringPointsMin: 200 }), in30)).toEqual([
      [],
      [],
      [],
      [],
    ])
    const in60 = (await expiring(db, '2026-03-04', 60)).points
    expect(signals(parseEarlyWarningConfig({ expiringPointsMin: 390 }), in60)).toEqual([
      [],
      ['points_expiring'],
      [],
      [],
    ])
  })

  it('brings the changed buckets of members with new entries on the next sync', async () => {
    await ledger.redeem({
      memberId: '1',
      points: 250,
      idempotencyKey: 'redeem:1b',
      at: at('2026-03-05'),
    })
    await ledger.earnForOrder({
      memberId: '3',
      orderId: 'C2',
      amount: 150,
      channel: 'web',
      idempotencyKey: 'order:C2',
      at: at('2026-03-05'),
    })
    expect(await checkInvariants(store)).toEqual([])
    const second = await syncLedgerToDuckDb(db, store, program)
    // Member 1: bucket 4 (open) and buckets 2 and 4 (allocations); member 3: bucket 6 (open) and 3.
    expect(second).toMatchObject({ entries: 2, buckets: 4 })
    const expected = [
      [1, '2', 90, 0, '2026-03-03 00:00'],
      [2, '1', 300, 0, '2026-03-06 00:00'],
      [3, '3', 500, 0, '2026-04-02 00:00'],
      [4, '1', 200, 130, '2026-04-11 00:00'],
      [5, '2', 400, 400, '2026-04-26 00:00'],
      [6, '3', 150, 150, '2026-05-04 00:00'],
    ]
    expect(await syncedBuckets(db)).toEqual(expected)
    expect(await ledgerBuckets(store)).toEqual(expected)
    // (03-05, 05-04]: the end of the window is included.
    expect(await expiring(db, '2026-03-04', 60)).toEqual({
      points: [130, 400, 150, 0],
      first: ['2026-04-11T00:00:00Z', '2026-04-26T00:00:00Z', '2026-05-04T00:00:00Z', null],
    })
    expect((await expiring(db, '2026-03-04', 30)).points).toEqual([0, 0, 0, 0])
  })

  it('changes nothing when run again', async () => {
    const before = await syncedBuckets(db)
    const again = await syncLedgerToDuckDb(db, store, program)
    expect(again).toMatchObject({ entries: 0, accounts: 0, tierChanges: 0, buckets: 0 })
    expect(await syncedBuckets(db)).toEqual(before)
  })

  it('copies all buckets once into an engine synced before buckets were', async () => {
    await db.driver.execute({ sql: 'DROP TABLE loyalty_buckets', parameters: [] })
    await db.driver.execute({
      sql: `DELETE FROM loyalty_sync_state WHERE key = 'bucket_tx_horizon'`,
      parameters: [],
    })
    const upgrade = await syncLedgerToDuckDb(db, store, program)
    expect(upgrade).toMatchObject({ entries: 0, buckets: 6 })
    expect(await syncedBuckets(db)).toEqual(await ledgerBuckets(store))
    expect((await syncLedgerToDuckDb(db, store, program)).buckets).toBe(0)
  })
})
