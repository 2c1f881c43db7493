/**
 * Concurrency: 16 clients issue mixed earn / redeem requests (10% of them repeats of an earlier idempotency key,
 * sent while the first may still be in flight) over a few members, plus a burst of racing redemptions on one
 * member from 16 channels at once. Afterwards every invariant holds, every repeat got its first result, and a
 * sequential replay of the successful requests in commit order gives the same balances and totals.
 *
 * PostgreSQL runs 10,000 requests over a 16-connection pool. PGlite has a single connection (transactions
 * queue), so the same 16 clients run 2,000 requests there: the interleaving is the same, only slower.
 */
import { describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/core/clock.js'
import { InsufficientPointsError } from '../../src/core/errors.js'
import { Ledger, type WriteResult } from '../../src/ledger/ledger.service.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import { STORE_KINDS, T0, checkInvariants, openTestStore, testProgram, totals } from './helpers.js'

const CLIENTS = 16
const MEMBERS = 24
const REQUESTS = { pglite: 2_000, postgres: 10_000 } as const

/** A small deterministic PRNG (mulberry32), so a failure can be reproduced. */
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

type Req =
  | { kind: 'earn'; key: string; memberId: string; orderId: string; amount: string }
  | { kind: 'redeem'; key: string; memberId: string; points: number }

function send(ledger: Ledger, r: Req): Promise<WriteResult> {
  return r.kind === 'earn'
    ? ledger.earnForOrder({
        memberId: r.memberId,
        orderId: r.orderId,
        amount: r.amount,
        channel: 'app',
        idempotencyKey: r.key,
        at: T0,
      })
    : ledger.redeem({ memberId: r.memberId, points: r.points, idempotencyKey: r.key, at: T0 })
}

function workload(n: number, seed: number): Req[] {
  const rand = rng(seed)
  const out: Req[] = []
  for (let i = 0; out.length < n; i++) {
    if (out.length > 20 && rand() < 0.1) {
      // a duplicate of a recent request: likely still in flight on another client
      const j = out.length - 1 - Math.floor(rand() * Math.min(out.length, 40))
      out.push(out[j] as Req)
      continue
    }
    // members 0–3 are hot, so redemptions on the same member race
    const m = rand() < 0.5 ? Math.floor(rand() * 4) : Math.floor(rand() * MEMBERS)
    const memberId = `m${m}`
    if (rand() < 0.55)
      out.push({
        kind: 'earn',
        key: `earn-${i}`,
        memberId,
        orderId: `o${i}`,
        amount: String(Math.floor(rand() * 300)),
      })
    else
      out.push({
        kind: 'redeem',
        key: `redeem-${i}`,
        memberId,
        points: 1 + Math.floor(rand() * 150),
      })
  }
  return out
}

async function runClients(ledger: Ledger, requests: readonly Req[]) {
  const results = new Map<string, WriteResult>()
  const replays: Array<[string, WriteResult]> = []
  let insufficient = 0
  let next = 0
  const client = async () => {
    for (;;) {
      const i = next++
      const r = requests[i]
      if (!r) return
      try {
        const res = await send(ledger, r)
        if (res.replayed) replays.push([r.key, res])
        else {
          expect(results.has(r.key), `key ${r.key} applied twice`).toBe(false)
          results.set(r.key, res)
        }
      } catch (e) {
        if (!(e instanceof InsufficientPointsError)) throw e
        insufficient++
      }
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, client))
  return { results, replays, insufficient }
}

async function balances(store: LedgerStore): Promise<Record<string, number>> {
  const rows = await store.query(
    'SELECT member_id, balance FROM ledger_accounts ORDER BY member_id',
  )
  return Object.fromEntries(rows.map((r) => [String(r['member_id']), Number(r['balance'])]))
}

async function enrollAll(ledger: Ledger): Promise<void> {
  for (let m = 0; m < MEMBERS; m++)
    await ledger.enroll({ memberId: `m${m}`, idempotencyKey: `enroll-m${m}`, at: T0 })
  await ledger.enroll({ memberId: 'race', idempotencyKey: 'enroll-race', at: T0 })
}

describe.each(STORE_KINDS)('concurrency on %s', (kind) => {
  it(`${REQUESTS[kind].toLocaleString('en-US')} mixed requests from ${CLIENTS} clients keep every invariant and equal a sequential replay`, async () => {
    const store = await openTestStore(kind, { max: CLIENTS })
    const replayStore = await openTestStore(kind, { max: 4 })
    try {
      const program = testProgram({ earn: { spend: { points_per_unit: 1, unit: 1 } } })
      const ledger = new Ledger(store, program, { clock: fixedClock(T0) })
      await enrollAll(ledger)

      // Racing redemptions: 400 points, 16 channels each try to spend 100 at the same moment → exactly 4 win.
      await ledger.adjust({
        memberId: 'race',
        points: 400,
        reason: 'race seed',
        idempotencyKey: 'race-seed',
        at: T0,
      })
      const race = await Promise.allSettled(
        Array.from({ length: CLIENTS }, (_, i) =>
          ledger.redeem({
            memberId: 'race',
            points: 100,
            channel: i % 2 ? 'store' : 'app',
            idempotencyKey: `race-${i}`,
            at: T0,
          }),
        ),
      )
      expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(4)
      for (const r of race)
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InsufficientPointsError)
      expect((await ledger.balance('race', T0)).balance).toBe(0)

      const requests = workload(REQUESTS[kind], 7)
      const { results, replays } = await runClients(ledger, requests)
      expect(replays.length).toBeGreaterThan(0)
      for (const [key, res] of replays) {
        // a repeat that ran after its first request succeeded got the first result
        const first = results.get(key)
        if (first) expect(res).toEqual({ ...first, replayed: true })
      }
      expect(await checkInvariants(store)).toEqual([])
      const stored = await store.query<{ n: unknown }>('SELECT count(*) AS n FROM ledger_requests')
      expect(Number(stored[0]?.n)).toBe(results.size + MEMBERS + 1 + 1 + 4)

      // Sequential replay of the successful requests in commit order (per member, commits follow entry ids).
      const seen = new Set<string>()
      const ordered = requests
        .filter((r) => results.has(r.key) && !seen.has(r.key) && seen.add(r.key))
        .map((r) => ({ r, res: results.get(r.key) as WriteResult }))
        .sort(
          (a, b) =>
            (a.res.entryId ?? Number.MAX_SAFE_INTEGER) - (b.res.entryId ?? Number.MAX_SAFE_INTEGER),
        )
      const seq = new Ledger(replayStore, program, { clock: fixedClock(T0) })
      await enrollAll(seq)
      for (const { r, res } of ordered) {
        const again = await send(seq, r)
        expect(again.points).toBe(res.points)
      }
      const [a, b] = [await balances(store), await balances(replayStore)]
      delete a['race']
      delete b['race']
      expect(a).toEqual(b)
      const [ta, tb] = [await totals(store), await totals(replayStore)]
      expect(ta['earn_points']).toBe(tb['earn_points'])
      expect((ta['redeem_points'] ?? 0) + 400).toBe(tb['redeem_points'] ?? 0)
      expect(await checkInvariants(replayStore)).toEqual([])
    } finally {
      await store.close()
      await replayStore.close()
    }
    // 10,000 requests and their sequential replay: well within the default on an idle machine, not on a busy one
  }, 300_000)
})
