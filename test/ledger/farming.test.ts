/**
 * Points farming on the simulator: rings planted with `plantedFarming` (beside honest households that share
 * addresses, devices and referrals) are found with precision and recall of at least 0.9; holds on the flagged
 * members' points end by themselves with the review window, and an operator can release one earlier.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  detectFarming,
  evaluateFarming,
  type FarmingReport,
} from '../../src/analytics/loyalty/farming.js'
import { createApp } from '../../src/api/app.js'
import { KeyStore } from '../../src/api/keys.js'
import { bulkReplayOrderHistory } from '../../src/analytics/loyalty/bulk-replay.js'
import { INGEST_TABLES } from '../../src/core/schema.js'
import { InsufficientPointsError } from '../../src/core/errors.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { listHolds, placeHold } from '../../src/ledger/holds.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import { loadProgram } from '../../src/ledger/program.js'
import { openLedgerStore } from '../../src/ledger/stores/open-store.js'
import { simulate, type SimulateResult } from '../../src/simulate/simulate.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { runCli } from '../helpers/cli.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let sim: SimulateResult
let plain: SimulateResult
let dbPath: string
let ledgerDir: string
const programFile = new URL('../../examples/loyalty-program.yaml', import.meta.url).pathname
const OPTIONS = { members: 800, months: 24, seed: 7 } as const
const HOLD_AT = new Date('2026-11-01T00:00:00Z')
const DAY = 86_400_000

beforeAll(async () => {
  s = await scratch()
  plain = await simulate(join(s.dir, 'plain'), OPTIONS)
  sim = await simulate(join(s.dir, 'farm'), { ...OPTIONS, plantedFarming: true })
  dbPath = join(s.dir, 'farm.duckdb')
  const db: Database = await openDatabase(dbPath, { threads: 1 })
  try {
    for (const t of INGEST_TABLES) {
      const file = (sim.files as Record<string, string | undefined>)[t]
      if (file !== undefined) await ingestFile(db.driver, file, { table: t, clock: TEST_CLOCK })
    }
    ledgerDir = join(s.dir, 'ledger')
    const store = await openLedgerStore(ledgerDir)
    try {
      const program = await loadProgram(programFile)
      await bulkReplayOrderHistory(db, new Ledger(store, program, { clock: TEST_CLOCK }))
    } finally {
      await store.close()
    }
  } finally {
    await db.close()
  }
}, 120_000)
afterAll(async () => {
  await s?.cleanup()
})

describe('planted farming rings', () => {
  it('leave every file as it is without the option: the planted rows are appended on their own stream', async () => {
    expect(plain.truth.farming).toBeUndefined()
    expect(sim.truth.farming?.rings.length).toBeGreaterThanOrEqual(5)
    for (const t of INGEST_TABLES) {
      const a = plain.files[t]
      const b = sim.files[t]
      if (a === undefined || b === undefined) continue
      const [before, after] = [await readFile(a, 'utf8'), await readFile(b, 'utf8')]
      if (t === 'members' || t === 'orders' || t === 'events') {
        expect(after.startsWith(before)).toBe(true)
        expect(after.length).toBeGreaterThan(before.length)
      } else {
        expect(after).toBe(before)
      }
    }
  })

  it('are found with precision and recall of at least 0.9, honest look-alikes left alone', async () => {
    const db = await openDatabase(dbPath, { threads: 1 })
    let report: FarmingReport
    try {
      report = await detectFarming(db.driver)
      const e = await evaluateFarming(db.driver, report, sim.truth.farming?.rings ?? [])
      expect(e.plantedMembers).toBe(
        sim.truth.farming?.rings.reduce((a, r) => a + r.members.length, 0),
      )
      expect(e.precision).toBeGreaterThanOrEqual(0.9)
      expect(e.recall).toBeGreaterThanOrEqual(0.9)
      expect(e.ringsFound).toBe(e.plantedRings)
      // The households and referral pairs share identifiers too: linking alone would flag them.
      expect(report.linkedMembers - e.plantedMembers).toBeGreaterThan(
        (sim.truth.farming?.honestLookAlikes ?? 0) * 0.8,
      )
      // Without the behaviour test (any linked group of 3+), precision falls below the bar.
      const linkedOnly = await detectFarming(db.driver, { burstHours: 1e9, tokenSpend: 1e12 })
      const loose = await evaluateFarming(db.driver, linkedOnly, sim.truth.farming?.rings ?? [])
      expect(loose.precision).toBeLessThan(0.9)
    } finally {
      await db.close()
    }
  })

  it('`loyalty farming --hold` holds the flagged members for the review window, and the points come back by themselves', async () => {
    const args = ['loyalty', 'farming', '--db', dbPath, '--truth', sim.truthFile]
    const ledgerArgs = ['--ledger', ledgerDir, '--program', programFile]
    const r = await runCli([
      ...args,
      ...ledgerArgs,
      '--hold',
      '--review-days',
      '7',
      '--at',
      HOLD_AT.toISOString(),
      '--json',
    ])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.out) as FarmingReport & {
      evaluation: { precision: number; recall: number }
      holds: { placed: number; heldPoints: number; heldUntil: string }
    }
    expect(out.evaluation.precision).toBeGreaterThanOrEqual(0.9)
    expect(out.evaluation.recall).toBeGreaterThanOrEqual(0.9)
    expect(out.holds.placed).toBe(out.flaggedMembers)
    expect(out.holds.heldPoints).toBeGreaterThan(0)
    expect(out.holds.heldUntil).toBe(new Date(HOLD_AT.getTime() + 7 * DAY).toISOString())
    // The same run again places nothing twice.
    const again = await runCli([
      ...args,
      ...ledgerArgs,
      '--hold',
      '--at',
      HOLD_AT.toISOString(),
      '--json',
    ])
    expect((JSON.parse(again.out) as { holds: { placed: number } }).holds.placed).toBe(0)
    const zh = await runCli([...args, '--lang', 'zh'])
    expect(zh.out).toContain('刷分团伙')
    expect(zh.out).toContain('精确率')

    const store = await openLedgerStore(ledgerDir)
    try {
      const ledger = new Ledger(store, await loadProgram(programFile), { clock: TEST_CLOCK })
      const holds = await listHolds(store)
      expect(holds).toHaveLength(out.flaggedMembers)
      // No hold, on anyone, lasts longer than the review window.
      for (const h of holds) expect(h.heldUntil.getTime() - h.placedAt.getTime()).toBe(7 * DAY)
      const held = holds.find((h) => h.points > 0)
      if (held === undefined) throw new Error('no hold held any points')
      const during = await ledger.balance(held.memberId, new Date(HOLD_AT.getTime() + DAY))
      expect(during.pending).toBeGreaterThanOrEqual(held.points)
      await expect(
        ledger.redeem({
          memberId: held.memberId,
          idempotencyKey: `test-redeem-during:${held.memberId}`,
          points: held.points,
          at: new Date(HOLD_AT.getTime() + DAY),
        }),
      ).rejects.toBeInstanceOf(InsufficientPointsError)
      const after = await ledger.balance(held.memberId, held.heldUntil)
      expect(after.available).toBeGreaterThanOrEqual(held.points)

      // An honest member held by mistake: spendable again at the end of the window with nobody acting.
      const flagged = new Set(out.rings.flatMap((x) => x.memberIds.map(String)))
      const honest = (
        await store.query(
          `SELECT member_id FROM ledger_buckets WHERE remaining > 0 AND available_at < $1::timestamptz
            AND (expires_at IS NULL OR expires_at > $2::timestamptz)
            GROUP BY member_id HAVING SUM(remaining) >= 100 ORDER BY member_id LIMIT 2`,
          [HOLD_AT.toISOString(), new Date(HOLD_AT.getTime() + 8 * DAY).toISOString()],
        )
      ).map((x) => String(x['member_id']))
      expect(honest.some((m) => flagged.has(m))).toBe(false)
      const [first, second] = honest as [string, string]
      const before = await ledger.balance(first, HOLD_AT)
      await placeHold(ledger, {
        memberId: first,
        idempotencyKey: `test-hold:${first}`,
        reason: 'test: a mistaken hold',
        reviewDays: 7,
        at: HOLD_AT,
      })
      expect(
        (await ledger.balance(first, new Date(HOLD_AT.getTime() + 7 * DAY - 1))).available,
      ).toBe(0)
      expect((await ledger.balance(first, new Date(HOLD_AT.getTime() + 7 * DAY))).available).toBe(
        before.available,
      )
      await expect(
        placeHold(ledger, {
          memberId: first,
          idempotencyKey: `test-hold-long:${first}`,
          reason: 'too long',
          reviewDays: 31,
          at: HOLD_AT,
        }),
      ).rejects.toThrow(/reviewDays/)

      // An operator's release gives the points back at once.
      const hold = await placeHold(ledger, {
        memberId: second,
        idempotencyKey: `test-hold:${second}`,
        reason: 'test: released early',
        reviewDays: 7,
        at: HOLD_AT,
      })
      const holdId = Number(hold.details['holdId'])
      const spendable = (await ledger.balance(second, HOLD_AT)).available
      expect(spendable).toBe(0)
      await store.close()
      const release = await runCli([
        'loyalty',
        'release-hold',
        String(holdId),
        '--key',
        `release:${holdId}`,
        '--reason',
        'checked: a real customer',
        '--at',
        new Date(HOLD_AT.getTime() + DAY).toISOString(),
        ...ledgerArgs,
        '--json',
      ])
      expect(release.code).toBe(0)
      expect(
        Number(
          (JSON.parse(release.out) as { details: { releasedPoints: number } }).details
            .releasedPoints,
        ),
      ).toBeGreaterThan(0)
      const reopened = await openLedgerStore(ledgerDir)
      try {
        const l2 = new Ledger(reopened, await loadProgram(programFile), { clock: TEST_CLOCK })
        expect(
          (await l2.balance(second, new Date(HOLD_AT.getTime() + DAY))).available,
        ).toBeGreaterThan(0)
      } finally {
        await reopened.close()
      }
      const listed = await runCli(['loyalty', 'holds', '--member', second, ...ledgerArgs, '--json'])
      const h = (JSON.parse(listed.out) as { holds: Array<{ releaseReason: string | null }> }).holds
      expect(h[0]?.releaseReason).toBe('checked: a real customer')
    } finally {
      await store.close().catch(() => undefined)
    }
  }, 60_000)

  it('is answered by the API: rings, holds, and an early release', async () => {
    const db = await openDatabase(dbPath, { threads: 1 })
    const store = await openLedgerStore(ledgerDir)
    try {
      const keys = new KeyStore(join(s.dir, 'keys.json'), TEST_CLOCK)
      const operator = (await keys.create('operator', 'operator')).secret
      const analyst = (await keys.create('analyst', 'analyst')).secret
      const app = createApp({
        driver: db.driver,
        keys,
        clock: TEST_CLOCK,
        rate: { perSecond: 10_000, burst: 10_000 },
        log: () => {},
        ledger: new Ledger(store, await loadProgram(programFile), { clock: TEST_CLOCK }),
      })
      const call = (url: string, key: string, init: RequestInit = {}) =>
        app.request(url, {
          ...init,
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            ...init.headers,
          },
        })
      const rings = await call('/api/v1/loyalty/farming', operator)
      expect(rings.status).toBe(200)
      const report = (await rings.json()) as FarmingReport
      expect(report.rings.length).toBe(sim.truth.farming?.rings.length)
      expect((await call('/api/v1/loyalty/farming', analyst)).status).toBe(403)
      const listed = await call(
        `/api/v1/loyalty/holds?activeAt=${encodeURIComponent(new Date(HOLD_AT.getTime() + DAY).toISOString())}`,
        operator,
      )
      expect(listed.status).toBe(200)
      const active = (
        (await listed.json()) as { holds: Array<{ holdId: number; heldUntil: string }> }
      ).holds
      expect(active.length).toBeGreaterThanOrEqual(report.flaggedMembers)
      const first = active[0] as { holdId: number }
      const release = await call(`/api/v1/loyalty/holds/${first.holdId}/release`, operator, {
        method: 'POST',
        headers: { 'idempotency-key': `api-release:${first.holdId}` },
        body: JSON.stringify({ reason: 'reviewed' }),
      })
      expect(release.status).toBe(200)
      expect(
        (
          await call('/api/v1/loyalty/holds/999999/release', operator, {
            method: 'POST',
            headers: { 'idempotency-key': 'api-release:999999' },
            body: JSON.stringify({ reason: 'reviewed' }),
          })
        ).status,
      ).toBe(404)
    } finally {
      await store.close()
      await db.close()
    }
  }, 60_000)
})
