/**
 * One rules implementation, three ways to run it: on random small histories — orders with lines of spend,
 * partial, full and refused returns, points paid in orders (redeemed or refused), check-ins, reviews, and the
 * expiry runs and tier reviews the history's days and periods trigger — the live replay (one locked write per
 * event through the ledger service), the bulk replay (the history staged in DuckDB, the engine in memory, rows
 * written with COPY) and the pure engine fed the same events directly produce the same ledger, entry for entry,
 * on both stores.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bulkReplayOrderHistory } from '../../src/analytics/loyalty/bulk-replay.js'
import { replayOrderHistory } from '../../src/analytics/loyalty/replay.js'
import { fixedClock } from '../../src/core/clock.js'
import { replayJobs } from '../../src/ledger/bulk-replay.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import {
  createReplayEngine,
  LEDGER_ROW_TABLES,
  type LedgerRowTable,
  type ReplayEvent,
} from '../../src/ledger/replay-engine.js'
import { localDay } from '../../src/ledger/rules.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { ledgerFacts } from './facts.js'
import {
  STORE_KINDS,
  T0,
  checkInvariants,
  openTestStore,
  resetStore,
  testProgram,
} from './helpers.js'

const base = {
  utc_offset: '+08:00',
  pending_days: 2,
  expiry: { policy: 'days', days: 60 },
  tiers: {
    basis: 'spend',
    window_months: 3,
    grace_days: 15,
    review_every_months: 2,
    levels: [
      { id: 'member', name: 'Member', threshold: 0 },
      { id: 'silver', name: 'Silver', threshold: 300, points_multiplier: 1.5 },
      { id: 'gold', name: 'Gold', threshold: 900, points_multiplier: 2 },
    ],
  },
  earn: {
    spend: { points_per_unit: 1, unit: 1, channel_multipliers: { app: 1.5 } },
    check_in: { points: 5, streak_bonus: [{ every_days: 2, points: 10 }] },
    review: { points: 20, max_per_day: 1 },
    campaigns: [{ id: 'spring', starts: '2025-03-01', ends: '2025-03-20', multiplier: 2 }],
    caps: { per_order: 600, per_day: 700 },
  },
}

/**
 * The programs and the day the histories start: the base program over 2025, and the same with a per-year cap
 * over histories that cross a local new year (so the cap is hit, trims an earn and starts again).
 */
const CASES = [
  {
    name: 'the base program',
    program: testProgram(base),
    start: Date.parse('2025-01-01T00:00:00Z'),
    runs: 24,
  },
  {
    name: 'a per-year cap',
    program: testProgram({
      ...base,
      earn: { ...base.earn, caps: { per_order: 600, per_day: 700, per_year: 500 } },
    }),
    start: Date.parse('2025-04-01T00:00:00Z'),
    runs: 12,
  },
] as const
type Program = (typeof CASES)[number]['program']

const CHANNELS = ['app', 'web', 'store'] as const

const stepArb = fc.record({
  kind: fc.constantFrom('order', 'order', 'order', 'payment', 'return', 'check_in', 'review'),
  member: fc.integer({ min: 0, max: 3 }),
  day: fc.integer({ min: 0, max: 300 }),
  minute: fc.integer({ min: 0, max: 1439 }),
  cents: fc.integer({ min: 100, max: 60_000 }),
  channel: fc.constantFrom(...CHANNELS),
  /** Share of the order a return gives back; above 1 is refused. */
  share: fc.constantFrom(0.25, 0.5, 1, 1.3),
  points: fc.integer({ min: 1, max: 8 }),
})
const historyArb = fc.array(stepArb, { minLength: 3, maxLength: 28 })
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never

interface Order {
  id: string
  member: number
  ts: number
  cents: number
  channel: string
  pointsUsed: number | null
}
interface History {
  members: number[]
  orders: Order[]
  returns: Array<{ id: string; orderId: string; member: number; ts: number; cents: number }>
  checkIns: Array<{ id: string; member: number; ts: number; channel: string }>
  reviews: Array<{ id: string; member: number; ts: number }>
}

/** The steps in time order as source rows; every event at its own instant (ties are the staging's business). */
function build(steps: readonly Step[], start: number): History {
  const h: History = { members: [1, 2, 3, 4], orders: [], returns: [], checkIns: [], reviews: [] }
  const ordered = steps
    .map((s, i) => ({ s, i, ts: start + s.day * 86_400_000 + s.minute * 60_000 + i * 1000 }))
    .sort((a, b) => a.ts - b.ts)
  for (const { s, i, ts } of ordered) {
    const member = s.member + 1
    const mine = h.orders.filter((o) => o.member === member)
    if (s.kind === 'return' && mine.length > 0) {
      const o = mine[mine.length - 1] as Order
      h.returns.push({
        id: `R${i}`,
        orderId: o.id,
        member,
        ts,
        cents: Math.round(o.cents * s.share),
      })
    } else if (s.kind === 'check_in') {
      h.checkIns.push({ id: `C${i}`, member, ts, channel: s.channel })
    } else if (s.kind === 'review') {
      h.reviews.push({ id: `F${i}`, member, ts })
    } else {
      h.orders.push({
        id: `O${i}`,
        member,
        ts,
        cents: s.cents,
        channel: s.channel,
        pointsUsed: s.kind === 'payment' ? s.points * 50 : null,
      })
    }
  }
  return h
}

const money = (cents: number) => (cents / 100).toFixed(2)
const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
const registered = (m: number, start: number) => start - 40 * 86_400_000 + m * 3_600_000

async function load(db: Database, h: History, start: number): Promise<void> {
  const run = (s: string) => db.driver.execute({ sql: s, parameters: [] })
  for (const t of ['returns', 'orders', 'events', 'feedback', 'members'])
    await run(`DELETE FROM ${t}`)
  await run(
    `INSERT INTO members (member_id, registered_at) VALUES ${h.members
      .map((m) => `(${m}, TIMESTAMP '${stamp(registered(m, start))}')`)
      .join(', ')}`,
  )
  if (h.orders.length > 0) {
    await run(
      `INSERT INTO orders (order_id, member_id, ordered_at, channel, net_amount, status, points_used) VALUES ${h.orders
        .map(
          (o) =>
            `('${o.id}', ${o.member}, TIMESTAMP '${stamp(o.ts)}', '${o.channel}', ${money(o.cents)}, 'paid', ${o.pointsUsed ?? 'NULL'})`,
        )
        .join(', ')}`,
    )
  }
  if (h.returns.length > 0) {
    await run(
      `INSERT INTO returns (return_id, order_id, member_id, returned_at, amount) VALUES ${h.returns
        .map(
          (r) =>
            `('${r.id}', '${r.orderId}', ${r.member}, TIMESTAMP '${stamp(r.ts)}', ${money(r.cents)})`,
        )
        .join(', ')}`,
    )
  }
  if (h.checkIns.length > 0) {
    await run(
      `INSERT INTO events (event_id, member_id, ts, event_type, channel) VALUES ${h.checkIns
        .map(
          (c) => `('${c.id}', ${c.member}, TIMESTAMP '${stamp(c.ts)}', 'check_in', '${c.channel}')`,
        )
        .join(', ')}`,
    )
  }
  if (h.reviews.length > 0) {
    await run(
      `INSERT INTO feedback (feedback_id, member_id, ts, kind, score) VALUES ${h.reviews
        .map((r) => `('${r.id}', ${r.member}, TIMESTAMP '${stamp(r.ts)}', 'review', 5)`)
        .join(', ')}`,
    )
  }
}

/**
 * The pure engine over the same history, built here from the source rows without the member database: each
 * member's time line (the first check-in of a local day only), the days and months that place the jobs, and
 * every row the engine computes.
 */
function pureRows(
  h: History,
  program: Program,
  start: number,
): Record<LedgerRowTable, unknown[][]> {
  const byMember = new Map<number, Array<ReplayEvent & { seq: number }>>(
    h.members.map((m) => [m, []]),
  )
  const add = (m: number, e: ReplayEvent & { seq: number }) => byMember.get(m)?.push(e)
  const seen = new Set<string>()
  for (const c of [...h.checkIns].sort((a, b) => a.ts - b.ts)) {
    const key = `${c.member}:${localDay(program, new Date(c.ts))}`
    if (seen.has(key)) continue
    seen.add(key)
    add(c.member, {
      kind: 'check_in',
      seq: 0,
      id: c.id,
      orderId: null,
      ts: c.ts,
      channel: c.channel,
      amount: null,
    })
  }
  for (const r of h.reviews)
    add(r.member, {
      kind: 'review',
      seq: 1,
      id: r.id,
      orderId: null,
      ts: r.ts,
      channel: null,
      amount: null,
    })
  for (const o of h.orders) {
    if (o.pointsUsed !== null) {
      add(o.member, {
        kind: 'payment',
        seq: 2,
        id: o.id,
        orderId: o.id,
        ts: o.ts,
        channel: o.channel,
        amount: String(o.pointsUsed),
      })
    }
    add(o.member, {
      kind: 'order',
      seq: 3,
      id: o.id,
      orderId: o.id,
      ts: o.ts,
      channel: o.channel,
      amount: money(o.cents),
    })
  }
  for (const r of h.returns) {
    add(r.member, {
      kind: 'return',
      seq: 4,
      id: r.id,
      orderId: r.orderId,
      ts: r.ts,
      channel: null,
      amount: money(r.cents),
    })
  }
  const all = [...byMember.values()].flat()
  const firstOf = (key: (e: ReplayEvent) => string) => {
    const m = new Map<string, number>()
    for (const e of all) {
      const k = key(e)
      m.set(k, Math.min(m.get(k) ?? Infinity, Number(e.ts)))
    }
    return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))
  }
  const jobs = replayJobs(
    program,
    firstOf((e) => localDay(program, new Date(Number(e.ts)))).map(([localDay, first]) => ({
      localDay,
      first,
    })),
    firstOf((e) => `${new Date(Number(e.ts)).toISOString().slice(0, 7)}-01`).map(
      ([month, first]) => ({
        month,
        first,
      }),
    ),
  )
  const engine = createReplayEngine(program, T0, jobs)
  for (const m of h.members) {
    const events = (byMember.get(m) ?? []).sort(
      (a, b) => Number(a.ts) - Number(b.ts) || a.seq - b.seq || (a.id < b.id ? -1 : 1),
    )
    engine.replayMember(
      { memberId: String(m), enrolledAt: registered(m, start), birthday: null },
      events,
    )
  }
  engine.drainAllocations()
  const out = {} as Record<LedgerRowTable, unknown[][]>
  for (const name of Object.keys(LEDGER_ROW_TABLES) as LedgerRowTable[]) {
    const r = engine.rows[name]
    out[name] = Array.from({ length: r.length }, (_, i) => r.cols.map((c) => c[i]))
  }
  return out
}

/** A value as text the two sides agree on: instants as ISO, dates at midnight UTC, decimals without trailing zeros. */
function text(v: unknown): string | null {
  if (v === null || v === undefined) return null
  if (v instanceof Date) return v.toISOString()
  const s = String(v)
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return `${s}T00:00:00.000Z`
  if (/^-?\d+\.\d+$/.test(s)) return s.replace(/0+$/, '').replace(/\.$/, '')
  return s
}

function sortedRows(rows: readonly (readonly unknown[])[]): string[] {
  return rows.map((r) => JSON.stringify(r.map(text))).sort()
}

/** The rows the store holds, table by table, in the engine's column order (ids and all). */
async function storeRows(store: LedgerStore): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const [name, t] of Object.entries(LEDGER_ROW_TABLES)) {
    const rows = await store.query(`SELECT ${t.columns.join(', ')} FROM ${t.table}`)
    out[name] = sortedRows(rows.map((r) => t.columns.map((c) => r[c])))
  }
  return out
}

describe.each(STORE_KINDS.flatMap((kind) => CASES.map((c) => ({ kind, ...c }))))(
  'live = bulk = pure on random histories, $name on $kind',
  ({ kind, program, start, runs }) => {
    let db: Database
    let live: LedgerStore
    let bulk: LedgerStore

    beforeAll(async () => {
      db = await openDatabase(':memory:', { threads: 1 })
      live = await openTestStore(kind, { max: 2 })
      bulk = await openTestStore(kind, { max: 2 })
    })
    afterAll(async () => {
      await db?.close()
      await live?.close()
      await bulk?.close()
    })

    it('gives the same ledger entry for entry', async () => {
      const exercised = {
        returns: 0,
        redemptions: 0,
        refused: 0,
        expired: 0,
        changes: 0,
        checkIns: 0,
        yearCapped: 0,
        newYears: 0,
      }
      await fc.assert(
        fc.asyncProperty(historyArb, async (steps) => {
          const h = build(steps, start)
          await load(db, h, start)
          await resetStore(live)
          await resetStore(bulk)
          const liveLedger = new Ledger(live, program, { clock: fixedClock(T0) })
          const bulkLedger = new Ledger(bulk, program, { clock: fixedClock(T0) })
          const liveSummary = await replayOrderHistory(db, liveLedger, { reasons: 1000 })
          // On this thread: one engine numbers the ids as the pure replay below does.
          const bulkSummary = await bulkReplayOrderHistory(db, bulkLedger, {
            reasons: 1000,
            workers: 0,
          })

          // live = bulk: every fact, ids replaced by the keys they point to, and the same summary.
          expect({
            ...bulkSummary,
            skippedReasons: [...bulkSummary.skippedReasons].sort(),
          }).toEqual({
            ...liveSummary,
            skippedReasons: [...liveSummary.skippedReasons].sort(),
          })
          expect(await ledgerFacts(bulk)).toEqual(await ledgerFacts(live))
          expect(await checkInvariants(live)).toEqual([])
          // bulk = pure: the very rows, ids included.
          const pure = pureRows(h, program, start)
          const stored = await storeRows(bulk)
          for (const name of Object.keys(LEDGER_ROW_TABLES) as LedgerRowTable[])
            expect(stored[name], name).toEqual(sortedRows(pure[name]))

          exercised.returns += liveSummary.returns
          exercised.redemptions += liveSummary.redemptions
          exercised.refused += liveSummary.skipped
          exercised.checkIns += liveSummary.checkIns
          exercised.expired += pure.entries.filter((e) => e[2] === 'expire').length
          exercised.changes += pure.changes.filter((c) => c[4] !== 'enroll').length
          // The per-year cap: no member earns more in a local year; count the member-years it filled.
          const perYear = program.earn.caps.per_year
          if (perYear !== undefined) {
            const years = new Map<string, number>()
            for (const e of pure.entries) {
              if (e[2] !== 'earn') continue
              const k = `${String(e[1])}:${localDay(program, new Date(e[4] as Date)).slice(0, 4)}`
              years.set(k, (years.get(k) ?? 0) + Number(e[3]))
            }
            for (const [k, n] of years) expect(n, k).toBeLessThanOrEqual(perYear)
            exercised.yearCapped += [...years.values()].filter((n) => n === perYear).length
            exercised.newYears +=
              new Set([...years.keys()].map((k) => k.slice(-4))).size > 1 ? 1 : 0
          }
        }),
        { numRuns: runs, seed: 18, endOnFailure: true },
      )
      // The base histories reach every rule: returns, redemptions, refusals, expiry, tier changes, check-ins;
      // the capped ones (fewer points to spend) the years the cap fills and histories across a new year.
      const { yearCapped, newYears, ...rules } = exercised
      const reached =
        program.earn.caps.per_year === undefined
          ? rules
          : { yearCapped, newYears, returns: rules.returns }
      for (const [what, n] of Object.entries(reached)) expect(n, what).toBeGreaterThan(0)
    })
  },
)
