/**
 * The sync recognises a different ledger: after the ledger is rebuilt (a bulk replay into a new store, or into
 * the same store emptied), syncing into a member database synced from the old ledger replaces the copy with the
 * new ledger's facts instead of reading nothing from a transaction horizon that belonged to the old one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bulkReplayOrderHistory } from '../../src/analytics/loyalty/bulk-replay.js'
import { replayOrderHistory } from '../../src/analytics/loyalty/replay.js'
import { syncLedgerToDuckDb } from '../../src/analytics/loyalty/sync.js'
import { fixedClock } from '../../src/core/clock.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { T0, openTestStore, resetStore, testProgram } from './helpers.js'

const program = testProgram()

async function loadHistory(db: Database): Promise<void> {
  const run = (s: string) => db.driver.execute({ sql: s, parameters: [] })
  await run(
    `INSERT INTO members (member_id, registered_at) VALUES ${[1, 2, 3, 4, 5, 6]
      .map((m) => `(${m}, TIMESTAMP '2024-12-01 00:00:00')`)
      .join(', ')}`,
  )
  const orders: string[] = []
  for (let i = 0; i < 60; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0')
    const month = String(1 + Math.floor(i / 28)).padStart(2, '0')
    orders.push(
      `('O${i}', ${1 + (i % 6)}, TIMESTAMP '2025-${month}-${day} 10:00:00', 'web', ${20 + i * 7}, 'paid')`,
    )
  }
  await run(
    `INSERT INTO orders (order_id, member_id, ordered_at, channel, net_amount, status) VALUES ${orders.join(', ')}`,
  )
  await run(
    `INSERT INTO returns (return_id, order_id, member_id, returned_at, amount)
     VALUES ('R1', 'O7', 2, TIMESTAMP '2025-01-20 10:00:00', 30)`,
  )
}

/** The synced copy in DuckDB and the ledger's own rows, entry for entry (ids included). */
async function copies(db: Database, store: LedgerStore) {
  const synced = await db.driver.all<{ entryId: unknown; points: unknown; kind: string }>({
    sql: 'SELECT entry_id, points, kind FROM loyalty_entries ORDER BY entry_id',
    parameters: [],
  })
  const accounts = await db.driver.all<{ ledgerMember: string; balance: unknown }>({
    sql: 'SELECT ledger_member, balance FROM loyalty_accounts ORDER BY ledger_member',
    parameters: [],
  })
  const ledger = await store.query<{ entry_id: unknown; points: unknown; kind: string }>(
    'SELECT entry_id, points, kind FROM ledger_entries ORDER BY entry_id',
  )
  const balances = await store.query<{ member_id: string; balance: unknown }>(
    'SELECT member_id, balance FROM ledger_accounts ORDER BY member_id',
  )
  return {
    synced: {
      entries: synced.map((r) => [Number(r.entryId), Number(r.points), r.kind]),
      accounts: accounts.map((r) => [r.ledgerMember, Number(r.balance)]),
    },
    ledger: {
      entries: ledger.map((r) => [Number(r.entry_id), Number(r.points), r.kind]),
      accounts: balances.map((r) => [r.member_id, Number(r.balance)]),
    },
  }
}

describe('loyalty sync of a rebuilt ledger', () => {
  let db: Database
  let old: LedgerStore
  let rebuilt: LedgerStore

  beforeAll(async () => {
    db = await openDatabase(':memory:', { threads: 1 })
    await loadHistory(db)
    old = await openTestStore('pglite')
    rebuilt = await openTestStore('pglite')
  })
  afterAll(async () => {
    await db?.close()
    await old?.close()
    await rebuilt?.close()
  })

  it('replaces the copy of the old ledger with the rebuilt one, then syncs incrementally again', async () => {
    // The old ledger: one transaction per event, so its transaction horizon is far ahead of a bulk replay's.
    await replayOrderHistory(db, new Ledger(old, program, { clock: fixedClock(T0) }))
    const first = await syncLedgerToDuckDb(db, old, program)
    expect(first.replaced).toBe(false)
    expect(first.entries).toBeGreaterThan(50)
    const before = await copies(db, old)
    expect(before.synced).toEqual(before.ledger)

    // A rebuild into a new store: more points (another program), new ids, a horizon behind the old one's.
    const richer = testProgram({
      earn: { spend: { points_per_unit: 3, unit: 1 }, caps: {} },
    })
    const ledger = new Ledger(rebuilt, richer, { clock: fixedClock(T0) })
    await bulkReplayOrderHistory(db, ledger)
    const second = await syncLedgerToDuckDb(db, rebuilt, richer)
    expect(second.replaced).toBe(true)
    expect(second.fromTx).toBe(0)
    const after = await copies(db, rebuilt)
    expect(after.synced).toEqual(after.ledger)
    expect(after.synced).not.toEqual(before.synced)

    // Nothing new: an incremental sync copies nothing and keeps the copy.
    const third = await syncLedgerToDuckDb(db, rebuilt, richer)
    expect(third).toMatchObject({ replaced: false, entries: 0, accounts: 0 })
    const live = await ledger.earnForOrder({
      memberId: '3',
      orderId: 'after-rebuild',
      amount: '10',
      channel: 'web',
      idempotencyKey: 'after-rebuild',
      at: new Date('2025-06-01T00:00:00Z'),
    })
    const fourth = await syncLedgerToDuckDb(db, rebuilt, richer)
    expect(fourth).toMatchObject({ replaced: false, entries: 1, accounts: 1 })
    expect((await copies(db, rebuilt)).synced.entries.at(-1)).toEqual([
      live.entryId,
      live.points,
      'earn',
    ])

    // A rebuild in the same store (emptied, replayed again in bulk) is recognised too.
    await resetStore(rebuilt)
    await bulkReplayOrderHistory(db, new Ledger(rebuilt, program, { clock: fixedClock(T0) }))
    const fifth = await syncLedgerToDuckDb(db, rebuilt, program)
    expect(fifth.replaced).toBe(true)
    const last = await copies(db, rebuilt)
    expect(last.synced).toEqual(last.ledger)
  })
})
