/**
 * The bulk replay produces the ledger the live replay produces, on a generated history with partial and full
 * returns, refused returns, per-day and per-order caps, expiry, upgrades and reviews with grace periods and
 * downgrades, points paid in orders (redeemed or refused), check-ins with streaks and repeats within a day, and
 * review bonuses up to the daily maximum — on both stores — and a live replay over the bulk ledger changes
 * nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bulkReplayOrderHistory } from '../../src/analytics/loyalty/bulk-replay.js'
import { replayOrderHistory, type ReplaySummary } from '../../src/analytics/loyalty/replay.js'
import { fixedClock } from '../../src/core/clock.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import { ledgerFacts } from './facts.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { STORE_KINDS, T0, checkInvariants, openTestStore, testProgram } from './helpers.js'

const program = testProgram({
  pending_days: 3,
  expiry: { policy: 'days', days: 90 },
  tiers: {
    basis: 'spend',
    window_months: 6,
    grace_days: 20,
    review_every_months: 3,
    levels: [
      { id: 'member', name: 'Member', threshold: 0 },
      { id: 'silver', name: 'Silver', threshold: 1500, points_multiplier: 1.5 },
      { id: 'gold', name: 'Gold', threshold: 4000, points_multiplier: 2 },
    ],
  },
  earn: {
    spend: {
      points_per_unit: 1,
      unit: 1,
      channel_multipliers: { app: 1.5 },
    },
    check_in: { points: 5, streak_bonus: [{ every_days: 3, points: 10 }] },
    review: { points: 20, max_per_day: 2 },
    campaigns: [{ id: 'spring', starts: '2025-04-01', ends: '2025-04-10', multiplier: 2 }],
    caps: { per_order: 900, per_day: 1200 },
  },
})

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ts = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '')

async function loadHistory(db: Database): Promise<void> {
  const rand = rng(11)
  const members: string[] = []
  const orders: string[] = []
  const returns: string[] = []
  const start = Date.parse('2024-11-01T00:00:00Z')
  for (let m = 1; m <= 30; m++) {
    members.push(
      `(${m}, TIMESTAMP '2024-10-01 00:00:00', ${m % 7 === 0 ? "DATE '1990-05-02'" : 'NULL'})`,
    )
  }
  for (let i = 0; i < 420; i++) {
    // a few big spenders reach silver and gold, then slow down and drop at a review
    const m = i % 5 === 0 ? 1 + (i % 3) : 1 + Math.floor(rand() * 30)
    const spread = m <= 3 ? 240 : 600
    const at = start + Math.floor(rand() * spread * 86_400_000)
    const net = (10 + rand() * (m <= 3 ? 900 : 300)).toFixed(2)
    const channel = rand() < 0.4 ? 'app' : rand() < 0.5 ? 'web' : 'store'
    const status = rand() < 0.03 ? 'cancelled' : 'paid'
    orders.push(`('O${i}', ${m}, TIMESTAMP '${ts(at)}', '${channel}', ${net}, '${status}')`)
    const r = rand()
    if (r < 0.12) {
      // partial return, sometimes followed by the rest
      const part = (Number(net) * 0.4).toFixed(2)
      returns.push(`('R${i}a', 'O${i}', ${m}, TIMESTAMP '${ts(at + 3 * 86_400_000)}', ${part})`)
      if (rand() < 0.5) {
        const rest = (Number(net) - Number(part)).toFixed(2)
        returns.push(`('R${i}b', 'O${i}', ${m}, TIMESTAMP '${ts(at + 120 * 86_400_000)}', ${rest})`)
      }
    } else if (r < 0.16) {
      returns.push(`('R${i}', 'O${i}', ${m}, TIMESTAMP '${ts(at + 86_400_000)}', ${net})`)
    } else if (r < 0.17) {
      // more than the order's net amount: refused by both paths
      returns.push(
        `('R${i}', 'O${i}', ${m}, TIMESTAMP '${ts(at + 86_400_000)}', ${Number(net) + 50})`,
      )
    }
  }
  // an order of a member the members table does not hold, paid partly with points, and its return
  returns.push(`('RZ1', 'Z1', 99, TIMESTAMP '2025-01-02 10:00:00', 100)`)
  // Check-ins: runs of consecutive days (streak bonuses), a second check-in on some days (left out), one of an
  // unknown member, and one at the instant of an order. Reviews: up to three a day (the third refused).
  const more = rng(12)
  const events: string[] = []
  const feedback: string[] = []
  for (let m = 1; m <= 12; m++) {
    let day = start + Math.floor(more() * 300) * 86_400_000
    for (let i = 0; i < 25; i++) {
      const at = day + Math.floor(more() * 86_400_000)
      events.push(`('E${m}-${i}', ${m}, TIMESTAMP '${ts(at)}', 'check_in', 'app')`)
      if (more() < 0.15)
        events.push(`('E${m}-${i}b', ${m}, TIMESTAMP '${ts(at + 1000)}', 'check_in', 'app')`)
      day += (more() < 0.7 ? 1 : 2 + Math.floor(more() * 5)) * 86_400_000
    }
    const reviewDay = start + Math.floor(more() * 400) * 86_400_000
    for (let i = 0; i < (m % 3 === 0 ? 3 : 1); i++)
      feedback.push(
        `('F${m}-${i}', ${m}, TIMESTAMP '${ts(reviewDay + i * 3_600_000)}', 'review', 5)`,
      )
    feedback.push(`('N${m}', ${m}, TIMESTAMP '${ts(reviewDay)}', 'nps', 9)`)
  }
  events.push(`('E99', 99, TIMESTAMP '2025-01-01 10:00:00', 'check_in', 'app')`)
  events.push(`('V1', 1, TIMESTAMP '2025-01-01 10:00:00', 'page_view', 'app')`)
  // Points paid in orders: enough spendable points for some, not for others; none for a cancelled order.
  for (let i = 0; i < orders.length; i++) {
    const o = orders[i] as string
    if (o.endsWith("'paid')") && more() < 0.25)
      orders[i] = `${o.slice(0, -1)}, ${100 * (1 + Math.floor(more() * 6))})`
    else if (o.endsWith("'cancelled')")) orders[i] = `${o.slice(0, -1)}, 300)`
    else orders[i] = `${o.slice(0, -1)}, NULL)`
  }
  orders.push(`('Z1', 99, TIMESTAMP '2025-01-01 10:00:00', 'web', 100, 'paid', 200)`)
  const [, firstMember, firstAt] =
    /^\('O0', (\d+), TIMESTAMP '([^']+)'/.exec(orders[0] as string) ?? []
  events.push(`('E-at-order', ${firstMember}, TIMESTAMP '${firstAt}', 'check_in', 'web')`)
  const run = (s: string) => db.driver.execute({ sql: s, parameters: [] })
  await run(`INSERT INTO members (member_id, registered_at, birthday) VALUES ${members.join(', ')}`)
  await run(
    `INSERT INTO orders (order_id, member_id, ordered_at, channel, net_amount, status, points_used) VALUES ${orders.join(', ')}`,
  )
  await run(
    `INSERT INTO events (event_id, member_id, ts, event_type, channel) VALUES ${events.join(', ')}`,
  )
  await run(
    `INSERT INTO feedback (feedback_id, member_id, ts, kind, score) VALUES ${feedback.join(', ')}`,
  )
  await run(
    `INSERT INTO returns (return_id, order_id, member_id, returned_at, amount) VALUES ${returns.join(', ')}`,
  )
}

function comparable(s: ReplaySummary) {
  return { ...s, skippedReasons: [...s.skippedReasons].sort() }
}

describe('bulk replay', () => {
  let db: Database
  let live: LedgerStore
  let liveSummary: ReplaySummary
  let liveFacts: Record<string, unknown>

  beforeAll(async () => {
    db = await openDatabase(':memory:', { threads: 1 })
    await loadHistory(db)
    live = await openTestStore('pglite')
    liveSummary = await replayOrderHistory(
      db,
      new Ledger(live, program, { clock: fixedClock(T0) }),
      {
        reasons: 1000,
      },
    )
    liveFacts = await ledgerFacts(live)
  })
  afterAll(async () => {
    await db?.close()
    await live?.close()
  })

  it('the fixture exercises returns, refusals, caps, expiry, upgrades, grace periods and downgrades', async () => {
    expect(liveSummary.returns).toBeGreaterThan(40)
    expect(liveSummary.skipped).toBeGreaterThan(3)
    expect(liveSummary.expiryRuns).toBeGreaterThan(10)
    expect(liveSummary.reviews).toBeGreaterThan(3)
    expect(liveSummary.redemptions).toBeGreaterThan(5)
    expect(liveSummary.refusedRedemptions).toBeGreaterThan(5)
    expect(liveSummary.skippedReasons.join('\n')).toMatch(/spendable points/)
    expect(liveSummary.skippedReasons.join('\n')).toMatch(/rewarded reviews/)
    expect(liveSummary.reviewBonuses).toBe(12 + 4)
    expect(liveSummary.checkIns).toBeGreaterThan(200)
    // The points paid in orders: redeemed or refused, every point of the source accounted for.
    const paid = await db.driver.first<{ p: unknown; n: unknown }>({
      sql: `SELECT sum(points_used) AS p, count(*) AS n FROM orders
            WHERE status <> 'cancelled' AND points_used > 0 AND member_id IN (SELECT member_id FROM members)`,
      parameters: [],
    })
    expect(liveSummary.redemptions + liveSummary.refusedRedemptions).toBe(Number(paid?.n))
    expect(liveSummary.redeemedPoints + liveSummary.refusedRedemptionPoints).toBe(Number(paid?.p))
    const redeemed = await live.query<{ p: unknown }>(
      `SELECT -sum(points) AS p FROM ledger_entries WHERE kind = 'redeem' AND source_type = 'redemption'`,
    )
    expect(Number(redeemed[0]?.p)).toBe(liveSummary.redeemedPoints)
    // One check-in a day: the distinct member-days of the source; streak bonuses on every third day.
    const days = await db.driver.first<{ n: unknown }>({
      sql: `SELECT count(DISTINCT (member_id, CAST(ts AS DATE))) AS n FROM events
            WHERE event_type = 'check_in' AND member_id IN (SELECT member_id FROM members)`,
      parameters: [],
    })
    expect(liveSummary.checkIns).toBe(Number(days?.n))
    const streaks = await live.query<{ n: unknown }>(
      `SELECT count(*) AS n FROM ledger_entries WHERE reason = 'check_in' AND points = 15`,
    )
    expect(Number(streaks[0]?.n)).toBeGreaterThan(10)
    const kinds = await live.query<{ kind: string; n: unknown }>(
      'SELECT kind, count(*) AS n FROM ledger_tier_changes GROUP BY kind',
    )
    const byKind = Object.fromEntries(kinds.map((k) => [k.kind, Number(k.n)]))
    expect(byKind).toMatchObject({
      upgrade: expect.any(Number),
      grace_started: expect.any(Number),
      downgrade: expect.any(Number),
    })
    const capped = await live.query<{ n: unknown }>(
      `SELECT count(*) AS n FROM ledger_requests WHERE operation = 'earn_order'
         AND (result::jsonb ->> 'points')::int < (result::jsonb -> 'details' ->> 'uncapped')::int`,
    )
    expect(Number(capped[0]?.n)).toBeGreaterThan(0)
  })

  // On this thread, and on 3 worker threads (members hashed to them, ids interleaved).
  it.each(STORE_KINDS.flatMap((kind) => [0, 3].map((workers) => [kind, workers] as const)))(
    'writes the ledger the live replay writes, on %s with %i worker threads, and a live replay over it changes nothing',
    async (kind, workers) => {
      const store = await openTestStore(kind)
      try {
        const ledger = new Ledger(store, program, { clock: fixedClock(T0) })
        // The load drops the secondary indexes and foreign keys and builds them again at the end.
        const constraints = () =>
          store.query<{ name: string; def: string }>(
            `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
             WHERE conrelid::regclass::text LIKE 'ledger%'
             UNION ALL SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'ledger%'
             ORDER BY 1, 2`,
          )
        const before = await constraints()
        expect(before.filter((c) => c.def.startsWith('FOREIGN KEY')).length).toBeGreaterThan(5)
        const summary = await bulkReplayOrderHistory(db, ledger, {
          membersPerBatch: 7,
          rowsPerInsert: 50,
          reasons: 1000,
          workers,
        })
        expect(await constraints()).toEqual(before)
        expect(comparable(summary)).toEqual(comparable(liveSummary))
        expect(await checkInvariants(store)).toEqual([])
        expect(await ledgerFacts(store)).toEqual(liveFacts)

        // Every write is stored under its key: the live path answers all of them from the stored results.
        // (Without reviews: a review re-run over a finished history judges today's account, live or bulk.)
        const again = await replayOrderHistory(db, ledger, { reviews: false })
        expect(again.skipped).toBe(liveSummary.skipped)
        expect(await ledgerFacts(store)).toEqual(liveFacts)

        // The ids continue after the bulk rows.
        const next = await ledger.earnForOrder({
          memberId: '5',
          orderId: 'after-bulk',
          amount: '10',
          channel: 'web',
          idempotencyKey: 'after-bulk',
          at: new Date('2027-01-01T00:00:00Z'),
        })
        const max = await store.query<{ m: unknown }>(
          'SELECT max(entry_id) AS m FROM ledger_entries',
        )
        expect(next.entryId).toBe(Number(max[0]?.m))

        await expect(bulkReplayOrderHistory(db, ledger)).rejects.toThrow(/empty ledger/)
      } finally {
        await store.close()
      }
    },
  )

  it('refuses a worker count that is not a whole number, naming the option, and writes nothing', async () => {
    const store = await openTestStore('pglite')
    try {
      const ledger = new Ledger(store, program, { clock: fixedClock(T0) })
      for (const workers of [-1, 1.5]) {
        await expect(bulkReplayOrderHistory(db, ledger, { workers })).rejects.toThrow(
          /workers.*whole number of worker threads/s,
        )
      }
      const n = await store.query<{ n: unknown }>('SELECT count(*) AS n FROM ledger_entries')
      expect(Number(n[0]?.n)).toBe(0)
    } finally {
      await store.close()
    }
  })
})
