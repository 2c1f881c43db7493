/**
 * Batch replay from the orders and returns in DuckDB produces the same ledger as the live path, is idempotent,
 * and the incremental sync brings balances, entries and tier changes into DuckDB for the program metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/core/clock.js'
import { loyaltyMetrics } from '../../src/analytics/loyalty/metrics.js'
import { findSyncedLoyalty } from '../../src/analytics/risk/member-signals.js'
import { replayOrderHistory } from '../../src/analytics/loyalty/replay.js'
import { syncLedgerToDuckDb } from '../../src/analytics/loyalty/sync.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import { dayStart, localDay } from '../../src/ledger/rules.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { T0, checkInvariants, openTestStore, testProgram } from './helpers.js'

const ORDERS: Array<[string, number, string, string, string]> = [
  // order_id, member, ordered_at, channel, net
  ['A1', 1, '2025-01-05T10:00:00Z', 'web', '1200.00'],
  ['A2', 1, '2025-02-01T10:00:00Z', 'app', '80.50'],
  ['B1', 2, '2025-01-06T09:00:00Z', 'store', '300.00'],
  ['B2', 2, '2025-03-10T09:00:00Z', 'store', '45.00'],
  ['C1', 3, '2025-02-02T12:00:00Z', 'web', '6000.00'],
]
const RETURNS: Array<[string, string, string, string]> = [
  ['R1', 'B1', '2025-01-09T09:00:00Z', '100.00'],
  ['R2', 'C1', '2025-02-20T12:00:00Z', '6000.00'],
  ['R3', 'A2', '2025-02-03T10:00:00Z', '500.00'], // above the order's net: refused and reported
]

async function loadHistory(db: Database): Promise<void> {
  const run = (s: string) => db.driver.execute({ sql: s, parameters: [] })
  for (const m of [1, 2, 3])
    await run(
      `INSERT INTO members (member_id, registered_at) VALUES (${m}, TIMESTAMP '2024-12-01 00:00:00')`,
    )
  for (const [id, m, at, ch, net] of ORDERS) {
    await run(
      `INSERT INTO orders (order_id, member_id, ordered_at, channel, net_amount, status) VALUES ('${id}', ${m}, TIMESTAMP '${at.replace('T', ' ').replace('Z', '')}', '${ch}', ${net}, 'paid')`,
    )
  }
  await run(
    `INSERT INTO orders (order_id, member_id, ordered_at, channel, net_amount, status) VALUES ('X1', 1, TIMESTAMP '2025-01-07 00:00:00', 'web', 999, 'cancelled')`,
  )
  for (const [id, o, at, amount] of RETURNS) {
    await run(
      `INSERT INTO returns (return_id, order_id, member_id, returned_at, amount) VALUES ('${id}', '${o}', (SELECT member_id FROM orders WHERE order_id = '${o}'), TIMESTAMP '${at.replace('T', ' ').replace('Z', '')}', ${amount})`,
    )
  }
}

async function ledgerFacts(store: LedgerStore): Promise<unknown> {
  return {
    entries: await store.query(
      `SELECT member_id, kind, points, occurred_at, reason, source_type, source_id, idempotency_key FROM ledger_entries ORDER BY entry_id`,
    ),
    accounts: await store.query(
      `SELECT member_id, balance, debt, tier, tier_since FROM ledger_accounts ORDER BY member_id`,
    ),
    tiers: await store.query(
      `SELECT member_id, from_tier, to_tier, kind, changed_at, reason FROM ledger_tier_changes ORDER BY change_id`,
    ),
  }
}

describe('loyalty replay and sync', () => {
  let db: Database
  let replayed: LedgerStore
  let live: LedgerStore
  const program = testProgram({ expiry: { policy: 'days', days: 30 } })

  beforeAll(async () => {
    db = await openDatabase(':memory:', { threads: 1 })
    await loadHistory(db)
    replayed = await openTestStore('pglite')
    live = await openTestStore('pglite')
  })
  afterAll(async () => {
    await db?.close()
    await replayed?.close()
    await live?.close()
  })

  it('replays the order history into the same ledger the live path produces, idempotently', async () => {
    const ledger = new Ledger(replayed, program, { clock: fixedClock(T0) })
    const summary = await replayOrderHistory(db, ledger, { reviews: false, pageSize: 2 })
    expect(summary).toMatchObject({ members: 3, orders: 5, returns: 2, skipped: 1 })
    expect(summary.skippedReasons[0]).toMatch(/return R3: .*exceed its net amount 80.5/)
    expect(await checkInvariants(replayed)).toEqual([])

    // The live path: the same events sent one by one as they happened, with the daily expiry job.
    const l = new Ledger(live, program, { clock: fixedClock(T0) })
    for (const m of ['1', '2', '3'])
      await l.enroll({
        memberId: m,
        idempotencyKey: `enroll:${m}`,
        at: new Date('2024-12-01T00:00:00Z'),
      })
    const events = [
      ...ORDERS.map(([id, m, at, ch, net]) => ({
        at,
        kind: 'order',
        run: () =>
          l.earnForOrder({
            memberId: String(m),
            orderId: id,
            amount: net,
            channel: ch,
            idempotencyKey: `order:${id}`,
            at: new Date(at),
          }),
      })),
      ...RETURNS.map(([id, o, at, amount]) => ({
        at,
        kind: 'return',
        run: () =>
          l.reverseForReturn({
            returnId: id,
            orderId: o,
            amount,
            idempotencyKey: `return:${id}`,
            at: new Date(at),
          }),
      })),
    ].sort((a, b) => a.at.localeCompare(b.at))
    let lastDay = ''
    for (const e of events) {
      const day = localDay(program, new Date(e.at))
      if (day !== lastDay) await l.expireDue(dayStart(program, day))
      lastDay = day
      await e.run().catch((err: Error) => expect(err.message).toMatch(/exceed/))
    }
    expect(await ledgerFacts(replayed)).toEqual(await ledgerFacts(live))

    const before = JSON.stringify(await ledgerFacts(replayed))
    await replayOrderHistory(db, ledger, { reviews: false })
    expect(JSON.stringify(await ledgerFacts(replayed))).toBe(before)
    // member 3 reached gold with C1 and lost all of C1's points to the full return
    expect((await ledger.balance('3', new Date('2025-03-01T00:00:00Z'))).balance).toBe(0)
  })

  it('syncs ledger facts into DuckDB incrementally and computes the program metrics', async () => {
    const ledger = new Ledger(replayed, program, { clock: fixedClock(T0) })
    const first = await syncLedgerToDuckDb(db, replayed, program)
    const counts = await replayed.query(
      `SELECT (SELECT count(*) FROM ledger_entries) AS e, (SELECT count(*) FROM ledger_accounts) AS a`,
    )
    expect(first.entries).toBe(Number(counts[0]?.['e']))
    expect(first.accounts).toBe(3)
    const again = await syncLedgerToDuckDb(db, replayed, program)
    expect(again).toMatchObject({ entries: 0, accounts: 0, tierChanges: 0 })

    await ledger.redeem({
      memberId: '2',
      points: 10,
      idempotencyKey: 'sync-redeem-1',
      at: new Date('2025-03-11T00:00:00Z'),
    })
    const third = await syncLedgerToDuckDb(db, replayed, program)
    expect(third).toMatchObject({ entries: 1, accounts: 1 })

    const duck = await db.driver.all({
      sql: 'SELECT ledger_member, balance, tier FROM loyalty_accounts ORDER BY ledger_member',
      parameters: [],
    })
    const pg = await replayed.query(
      'SELECT member_id, balance, tier FROM ledger_accounts ORDER BY member_id',
    )
    expect(duck.map((r) => [r['ledgerMember'], Number(r['balance']), r['tier']])).toEqual(
      pg.map((r) => [r['member_id'], Number(r['balance']), r['tier']]),
    )

    const m = await loyaltyMetrics(db, '2025-01-01', '2025-04-01')
    const sums = await replayed.query(`SELECT
        SUM(points) FILTER (WHERE kind = 'earn') AS issued, -SUM(points) FILTER (WHERE kind = 'redeem') AS redeemed,
        SUM(balance_pos) AS liability FROM ledger_entries, (SELECT SUM(GREATEST(balance, 0)) AS balance_pos FROM ledger_accounts) b
        WHERE occurred_at < '2025-04-01'`)
    expect(m.issued).toBe(Number(sums[0]?.['issued']))
    expect(m.redeemed).toBe(10)
    expect(m.expired).toBeGreaterThan(0)
    expect(m.redemptionRate).toBeCloseTo(10 / m.issued, 10)
    expect(m.liabilityAmount).toBeCloseTo(m.liabilityPoints * 0.01, 2)
    expect(m.tierDistribution.reduce((s, t) => s + t.members, 0)).toBe(3)
    expect(m.upgrades).toBeGreaterThanOrEqual(2)
    expect(m.currency).toBe('CNY')

    // Member 360's synced account names the same next expiry as the live ledger's balance.
    const expiries = []
    const at = '2025-03-15T00:00:00Z'
    for (const id of [1, 2, 3]) {
      const live = (await ledger.balance(String(id), new Date(at))).nextExpiry
      const synced = await findSyncedLoyalty(db.driver, id, at)
      const want = live
        ? { at: live.at.toISOString().replace(/\.\d{3}Z$/, 'Z'), points: live.points }
        : null
      expect(synced?.nextExpiry).toEqual(want)
      expiries.push(want)
    }
    expect(expiries.some((e) => e !== null && e.points > 0)).toBe(true)
  })
})
