/**
 * The program backtest: the current program's backtest equals the ledger the replay writes (per-member balances
 * and tiers, monthly flows, liability, tier distribution) on a generated history with returns, caps, expiry,
 * reviews, check-ins and points paid in orders; and a hand-checked diff on a tiny history (a doubled earn rate
 * doubles the points issued, a shorter expiry expires the hand-computed points, a per-order cap cuts one order).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backtestHistory, backtestPrograms } from '../../src/analytics/loyalty/backtest.js'
import { replayOrderHistory } from '../../src/analytics/loyalty/replay.js'
import { fixedClock } from '../../src/core/clock.js'
import { breakageForecast } from '../../src/ledger/backtest.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { T0, openTestStore, testProgram } from './helpers.js'

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
const DAY = 86_400_000

const program = testProgram({
  utc_offset: '+08:00',
  pending_days: 2,
  expiry: { policy: 'days', days: 120 },
  tiers: {
    basis: 'spend',
    window_months: 6,
    grace_days: 15,
    review_every_months: 3,
    levels: [
      { id: 'member', name: 'Member', threshold: 0 },
      { id: 'silver', name: 'Silver', threshold: 1500, points_multiplier: 1.5 },
      { id: 'gold', name: 'Gold', threshold: 4000, points_multiplier: 2 },
    ],
  },
  earn: {
    spend: { points_per_unit: 1, unit: 1, channel_multipliers: { app: 1.5 } },
    check_in: { points: 5, streak_bonus: [{ every_days: 3, points: 10 }] },
    review: { points: 20, max_per_day: 2 },
    campaigns: [],
    caps: { per_order: 700, per_day: 900 },
  },
})

async function loadHistory(db: Database): Promise<void> {
  const rand = rng(7)
  const members: string[] = []
  const orders: string[] = []
  const returns: string[] = []
  const events: string[] = []
  const feedback: string[] = []
  const start = Date.parse('2024-11-01T00:00:00Z')
  for (let m = 1; m <= 25; m++) {
    members.push(`(${m}, TIMESTAMP '2024-10-0${1 + (m % 9)} 00:00:00')`)
  }
  for (let i = 0; i < 300; i++) {
    const m = i % 4 === 0 ? 1 + (i % 3) : 1 + Math.floor(rand() * 25)
    const at = start + Math.floor(rand() * (m <= 3 ? 200 : 500) * DAY)
    const net = (10 + rand() * (m <= 3 ? 1000 : 300)).toFixed(2)
    const channel = rand() < 0.4 ? 'app' : 'store'
    const paid = rand() < 0.2 ? String(50 * (1 + Math.floor(rand() * 8))) : 'NULL'
    orders.push(`('O${i}', ${m}, TIMESTAMP '${ts(at)}', '${channel}', ${net}, 'paid', ${paid})`)
    const r = rand()
    if (r < 0.1)
      returns.push(
        `('R${i}', 'O${i}', ${m}, TIMESTAMP '${ts(at + 5 * DAY)}', ${(Number(net) * 0.5).toFixed(2)})`,
      )
    else if (r < 0.14) returns.push(`('R${i}', 'O${i}', ${m}, TIMESTAMP '${ts(at + DAY)}', ${net})`)
  }
  for (let m = 1; m <= 8; m++) {
    let day = start + Math.floor(rand() * 300) * DAY
    for (let i = 0; i < 15; i++) {
      events.push(
        `('E${m}-${i}', ${m}, TIMESTAMP '${ts(day + Math.floor(rand() * DAY))}', 'check_in', 'app')`,
      )
      day += (rand() < 0.7 ? 1 : 3) * DAY
    }
    const reviewDay = start + Math.floor(rand() * 400) * DAY
    for (let i = 0; i < 3; i++)
      feedback.push(
        `('F${m}-${i}', ${m}, TIMESTAMP '${ts(reviewDay + i * 3_600_000)}', 'review', 5)`,
      )
  }
  const run = (s: string) => db.driver.execute({ sql: s, parameters: [] })
  await run(`INSERT INTO members (member_id, registered_at) VALUES ${members.join(', ')}`)
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

describe('backtest of the current program', () => {
  let db: Database
  let store: LedgerStore

  beforeAll(async () => {
    db = await openDatabase(':memory:', { threads: 1 })
    await loadHistory(db)
    store = await openTestStore('pglite')
    await replayOrderHistory(db, new Ledger(store, program, { clock: fixedClock(T0) }))
  })
  afterAll(async () => {
    await db?.close()
    await store?.close()
  })

  it('equals the ledger the replay wrote, member by member and month by month', async () => {
    const members = new Map<string, { balance: number; tier: string }>()
    const r = await backtestHistory(db, program, {
      membersPerBatch: 6,
      onMember: (id, balance, tier) => members.set(id, { balance, tier }),
    })
    const accounts = await store.query<{ member_id: string; balance: unknown; tier: string }>(
      'SELECT member_id, balance, tier FROM ledger_accounts ORDER BY member_id',
    )
    expect(accounts.length).toBe(25)
    expect(Object.fromEntries([...members].sort((a, b) => a[0].localeCompare(b[0])))).toEqual(
      Object.fromEntries(
        accounts.map((a) => [a.member_id, { balance: Number(a.balance), tier: a.tier }]),
      ),
    )
    // Monthly flows in the program's zone (+08:00).
    const flows = await store.query<{ month: string; kind: string; points: unknown }>(
      `SELECT to_char(occurred_at AT TIME ZONE 'UTC' + interval '8 hours', 'YYYY-MM') AS month, kind,
              sum(points) AS points
       FROM ledger_entries GROUP BY 1, 2 ORDER BY 1, 2`,
    )
    const expected = new Map<string, Record<string, number>>()
    for (const f of flows) {
      const m = expected.get(f.month) ?? { issued: 0, redeemed: 0, expired: 0, reversed: 0 }
      const p = Number(f.points)
      if (f.kind === 'earn') m.issued = p
      if (f.kind === 'redeem') m.redeemed = -p
      if (f.kind === 'expire') m.expired = -p
      if (f.kind === 'reverse') m.reversed = -p
      expected.set(f.month, m)
    }
    const got = Object.fromEntries(
      r.months
        .filter((m) => m.issued + m.redeemed + m.expired + m.reversed > 0)
        .map((m) => [
          m.month,
          { issued: m.issued, redeemed: m.redeemed, expired: m.expired, reversed: m.reversed },
        ]),
    )
    expect(got).toEqual(Object.fromEntries(expected))
    // The fixture exercises every flow.
    expect(r.total.redeemed).toBeGreaterThan(0)
    expect(r.total.expired).toBeGreaterThan(0)
    expect(r.total.reversed).toBeGreaterThan(0)
    expect(r.total.upgrades).toBeGreaterThan(0)
    expect(r.total.perOrderCapHits).toBeGreaterThan(0)
    // Liability at the end = Σ positive balances; tier distribution = the accounts' tiers.
    const positive = accounts.reduce((s, a) => s + Math.max(0, Number(a.balance)), 0)
    expect(r.total.liabilityPoints).toBe(positive)
    expect(r.total.liabilityAmount).toBeCloseTo(positive * 0.01, 2)
    const tiers = new Map<string, number>()
    for (const a of accounts) tiers.set(a.tier, (tiers.get(a.tier) ?? 0) + 1)
    expect(r.tiers).toEqual(
      ['member', 'silver', 'gold'].map((t) => ({ tier: t, members: tiers.get(t) ?? 0 })),
    )
    // Tier movements and the capped orders, against the ledger's own records.
    const changes = await store.query<{ kind: string; n: unknown }>(
      'SELECT kind, count(*) AS n FROM ledger_tier_changes GROUP BY kind',
    )
    const byKind = Object.fromEntries(changes.map((c) => [c.kind, Number(c.n)]))
    expect(r.total.upgrades).toBe(byKind['upgrade'] ?? 0)
    expect(r.total.downgrades).toBe(byKind['downgrade'] ?? 0)
    const capped = await store.query<{ n: unknown }>(
      `SELECT count(*) AS n FROM ledger_requests WHERE operation = 'earn_order'
         AND (result::jsonb -> 'details' ->> 'uncapped')::int > 700`,
    )
    expect(r.total.perOrderCapHits).toBe(Number(capped[0]?.n))
    // Outstanding points are the buckets' remaining points.
    const remaining = await store.query<{ n: unknown }>(
      'SELECT sum(remaining) AS n FROM ledger_buckets',
    )
    expect(r.breakage.outstandingPoints).toBe(Number(remaining[0]?.n))
  })

  it('a proposed program equal to the current one changes nothing', async () => {
    const r = await backtestPrograms(db, program, program)
    expect(r.diff?.total.issued.change).toBe(0)
    expect(r.diff?.months.every((m) => m.liabilityPoints.change === 0)).toBe(true)
  })
})

describe('backtest of a tiny history, by hand', () => {
  let db: Database
  const base = testProgram({
    pending_days: 0,
    expiry: { policy: 'end_of_month', months: 12 },
    earn: { spend: { points_per_unit: 1, unit: 1 }, campaigns: [], caps: {} },
    tiers: { basis: 'spend', levels: [{ id: 'member', name: 'Member', threshold: 0 }] },
  })

  beforeAll(async () => {
    db = await openDatabase(':memory:', { threads: 1 })
    const run = (s: string) => db.driver.execute({ sql: s, parameters: [] })
    await run(
      `INSERT INTO members (member_id, registered_at) VALUES (1, TIMESTAMP '2025-01-01'), (2, TIMESTAMP '2025-01-01')`,
    )
    await run(`INSERT INTO orders (order_id, member_id, ordered_at, channel, net_amount, status, points_used) VALUES
      ('O1', 1, TIMESTAMP '2025-01-10 10:00:00', 'store', 100, 'paid', NULL),
      ('O2', 1, TIMESTAMP '2025-03-05 10:00:00', 'store', 40, 'paid', NULL),
      ('O4', 2, TIMESTAMP '2025-02-01 10:00:00', 'store', 60, 'paid', NULL),
      ('O5', 2, TIMESTAMP '2025-05-02 10:00:00', 'store', 5, 'paid', NULL),
      ('O3', 1, TIMESTAMP '2025-08-20 10:00:00', 'store', 10, 'paid', 20)`)
  })
  afterAll(async () => {
    await db?.close()
  })

  it('the current program: 215 issued, 20 redeemed, 195 outstanding at the end', async () => {
    const r = await backtestHistory(db, base)
    expect(r.from).toBe('2025-01')
    expect(r.to).toBe('2025-08')
    expect(r.total).toMatchObject({ issued: 215, redeemed: 20, expired: 0, liabilityPoints: 195 })
    expect(r.total.liabilityAmount).toBe(1.95)
    expect(r.months.map((m) => m.liabilityPoints)).toEqual([100, 160, 200, 200, 205, 205, 205, 195])
    expect(r.breakage.outstandingPoints).toBe(195)
  })

  it('doubling the earn rate doubles the points issued and the liability', async () => {
    const doubled = testProgram({
      ...base,
      earn: { ...base.earn, spend: { ...base.earn.spend, points_per_unit: '2' } },
    })
    const r = await backtestPrograms(db, base, doubled)
    expect(r.diff?.total.issued).toMatchObject({
      current: 215,
      proposed: 430,
      change: 215,
      ratio: 1,
    })
    expect(r.proposed?.total.liabilityPoints).toBe(410)
    expect(r.diff?.months.map((m) => m.issued.proposed)).toEqual([200, 120, 80, 0, 10, 0, 0, 20])
  })

  it('a two-month expiry expires the hand-computed points on the days the history reaches', async () => {
    const short = testProgram({ ...base, expiry: { policy: 'end_of_month', months: 2 } })
    const r = await backtestPrograms(db, base, short)
    // 2 May: O1 (January, gone 1 April) and O4 (February, gone 1 May). 20 August: O2 (March) and O5 (May);
    // then O3's 20 points cannot be paid (nothing spendable) and O3 earns 10.
    const expired = Object.fromEntries(r.proposed?.months.map((m) => [m.month, m.expired]) ?? [])
    expect(expired['2025-05']).toBe(160)
    expect(expired['2025-08']).toBe(45)
    expect(r.proposed?.total).toMatchObject({
      issued: 215,
      expired: 205,
      redeemed: 0,
      liabilityPoints: 10,
      refusedRedemptionPoints: 20,
    })
    expect(r.diff?.total.expired).toMatchObject({ current: 0, proposed: 205 })
    expect(r.proposed?.breakage.realised).toBe(1)
  })

  it('a per-order cap of 80 cuts O1 (¥100) by 20 points, for one member', async () => {
    const capped = testProgram({ ...base, earn: { ...base.earn, caps: { per_order: 80 } } })
    const r = await backtestPrograms(db, base, capped)
    expect(r.proposed?.total).toMatchObject({
      issued: 195,
      perOrderCapHits: 1,
      perOrderCapMembers: 1,
      cappedPoints: 20,
    })
    expect(r.proposed?.months[0]).toMatchObject({
      month: '2025-01',
      perOrderCapHits: 1,
      cappedPoints: 20,
    })
  })
})

describe('budgets across members, on the tiny history', () => {
  let db: Database
  const base = testProgram({
    pending_days: 0,
    expiry: { policy: 'end_of_month', months: 12 },
    earn: { spend: { points_per_unit: 1, unit: 1 }, campaigns: [], caps: {} },
    tiers: { basis: 'spend', levels: [{ id: 'member', name: 'Member', threshold: 0 }] },
  })

  beforeAll(async () => {
    db = await openDatabase(':memory:', { threads: 1 })
    const run = (s: string) => db.driver.execute({ sql: s, parameters: [] })
    await run(
      `INSERT INTO members (member_id, registered_at) VALUES (1, TIMESTAMP '2025-01-01'), (2, TIMESTAMP '2025-01-01')`,
    )
    // Issued: January 100 (store), February 60 (app), March 40 (store), May 5 (app), August 10 (store).
    await run(`INSERT INTO orders (order_id, member_id, ordered_at, channel, net_amount, status, points_used) VALUES
      ('O1', 1, TIMESTAMP '2025-01-10 10:00:00', 'store', 100, 'paid', NULL),
      ('O2', 1, TIMESTAMP '2025-03-05 10:00:00', 'store', 40, 'paid', NULL),
      ('O4', 2, TIMESTAMP '2025-02-01 10:00:00', 'app', 60, 'paid', NULL),
      ('O5', 2, TIMESTAMP '2025-05-02 10:00:00', 'app', 5, 'paid', NULL),
      ('O3', 1, TIMESTAMP '2025-08-20 10:00:00', 'store', 10, 'paid', 20)`)
  })
  afterAll(async () => {
    await db?.close()
  })

  it('reports the day each budget was reached, month by month, and the points beyond it', async () => {
    const budgeted = testProgram({
      ...base,
      budgets: [
        { id: 'all', scope: 'global', max_points_per_month: 50 },
        { id: 'shop', scope: 'channel', match: ['store'], max_points_per_month: 40 },
        { id: 'web', scope: 'channel', match: ['web'], max_points_per_month: 1 },
        { id: 'owed', scope: 'global', max_liability: 200 },
      ],
    })
    const r = await backtestPrograms(db, base, budgeted)
    expect(r.current.budgets).toEqual([])
    const [all, shop, web, owed] = r.proposed?.budgets ?? []
    expect(all).toMatchObject({
      kind: 'points_per_month',
      limit: 50,
      limitAmount: 0.5,
      firstHit: '2025-01-10',
      pointsBeyond: 50 + 10,
      amountBeyond: 0.6,
      hits: [
        { month: '2025-01', date: '2025-01-10', used: 100, beyond: 50 },
        { month: '2025-02', date: '2025-02-01', used: 60, beyond: 10 },
      ],
    })
    // The store channel only: January's 100 and March's 40 (reached exactly, nothing beyond).
    expect(shop?.hits).toEqual([
      { month: '2025-01', date: '2025-01-10', used: 100, beyond: 60 },
      { month: '2025-03', date: '2025-03-05', used: 40, beyond: 0 },
    ])
    expect(shop?.pointsBeyond).toBe(60)
    expect(web).toMatchObject({ firstHit: null, pointsBeyond: 0, hits: [] })
    // Liability: 200 from 5 March (100 + 60 + 40), 205 from 2 May, 195 after 20 August's payment and earn; a
    // month already at the budget when it starts is reached on its first day.
    expect(owed).toMatchObject({ kind: 'liability', firstHit: '2025-03-05', pointsBeyond: 5 })
    expect(owed?.hits.map((h) => [h.month, h.date, h.used])).toEqual([
      ['2025-03', '2025-03-05', 200],
      ['2025-04', '2025-04-01', 200],
      ['2025-05', '2025-05-01', 205],
      ['2025-06', '2025-06-01', 205],
      ['2025-07', '2025-07-01', 205],
      ['2025-08', '2025-08-01', 205],
    ])
    // A period that starts later still counts the liability carried into it.
    const late = await backtestPrograms(db, base, budgeted, { from: '2025-06', to: '2025-08' })
    expect(late.proposed?.budgets[3]?.firstHit).toBe('2025-06-01')
    expect(late.proposed?.budgets[0]?.hits).toEqual([])
  })

  it('a budget file names the budget and the field that is wrong', () => {
    const bad = (budget: Record<string, unknown>) => () =>
      testProgram({ ...base, budgets: [budget] })
    expect(bad({ id: 'x', scope: 'global' })).toThrow(
      /budgets\.0\.max_points_per_month: a budget sets exactly one/,
    )
    expect(bad({ id: 'x', scope: 'channel', max_points_per_month: 5 })).toThrow(
      /budgets\.0\.match: a channel budget lists its channels/,
    )
    expect(bad({ id: 'x', scope: 'channel', match: ['app'], max_liability: 5 })).toThrow(
      /budgets\.0\.max_liability: a liability budget is global/,
    )
    expect(bad({ id: 'x', scope: 'global', max_points_per_month: 0 })).toThrow(
      /budgets\.0\.max_points_per_month: a budget is at least 1 point/,
    )
    expect(() =>
      testProgram({
        ...base,
        budgets: [
          { id: 'x', scope: 'global', max_liability: 5 },
          { id: 'x', scope: 'global', max_points_per_month: 5 },
        ],
      }),
    ).toThrow(/budgets\.1\.id: duplicate budget id/)
  })
})

describe('breakage forecast by age cohort', () => {
  it('applies the expired share of points that lived to each age to the outstanding points of that age', () => {
    // Settled: 100 redeemed at age 0; 100 expired at age 2. Outstanding: 50 of age 0, 40 of age 2.
    // Age 0: of 200 settled points alive at age 0, 100 expired → 0.5. Age 2: 100 of 100 → 1.
    const f = breakageForecast([0, 0, 100], [100, 0, 0], [50, 0, 40], 100n)
    expect(f.forecastPoints).toBe(25 + 40)
    expect(f.outstandingPoints).toBe(90)
    expect(f.realised).toBe(0.5)
    expect(f.forecastAmount).toBe(0.65)
    expect(f.deferredRevenue).toBe(0.25)
  })
})
