/**
 * Tier keeping on a simulated holdout: the history is replayed into a ledger under a program whose ladder puts a
 * few hundred of 2,000 simulated members in a tier; at a review date the forecast (fitted only on the ledger up
 * to that date) predicts how many members each tier loses at the next review, and the ledger's own review at
 * that date says how many it did lose.
 */
import { join } from 'node:path'
import { writeFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { readFileSync } from 'node:fs'
import { createApp } from '../../src/api/app.js'
import { KeyStore } from '../../src/api/keys.js'
import { bulkReplayOrderHistory } from '../../src/analytics/loyalty/bulk-replay.js'
import {
  forecastTierKeeping,
  nextReviewAfter,
  type TierForecast,
} from '../../src/analytics/loyalty/tier-forecast.js'
import { INGEST_TABLES } from '../../src/core/schema.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import { parseProgram, type Program } from '../../src/ledger/program.js'
import { openLedgerStore } from '../../src/ledger/stores/open-store.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import { simulate } from '../../src/simulate/simulate.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { runCli } from '../helpers/cli.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let program: Program
let programFile: string
let ledgerDir: string
let full: LedgerStore
const CUTS = ['2026-04-01', '2026-07-01'] as const
const forecasts = new Map<string, TierForecast>()

/** The example program with a lower ladder, so that a small simulated base fills the tiers. */
function holdoutProgram(): Program {
  const doc = parse(
    readFileSync(new URL('../../examples/loyalty-program.yaml', import.meta.url), 'utf8'),
  ) as { tiers: { levels: Array<{ threshold: number }> } }
  const levels = doc.tiers.levels
  ;[0, 300, 1000, 3000].forEach((t, i) => {
    const l = levels[i]
    if (l) l.threshold = t
  })
  return parseProgram(doc, 'holdout program')
}

async function ingestInto(db: Database, files: Record<string, string | undefined>): Promise<void> {
  for (const t of INGEST_TABLES) {
    const file = files[t]
    if (file !== undefined) await ingestFile(db.driver, file, { table: t, clock: TEST_CLOCK })
  }
}

beforeAll(async () => {
  s = await scratch()
  program = holdoutProgram()
  programFile = join(s.dir, 'program.yaml')
  await writeFile(programFile, stringify(program))
  const sim = await simulate(join(s.dir, 'data'), { members: 2000, months: 24, seed: 5 })
  await ingestInto(s.db, sim.files)
  ledgerDir = join(s.dir, 'ledger')
  full = await openLedgerStore(ledgerDir)
  await bulkReplayOrderHistory(s.db, new Ledger(full, program, { clock: TEST_CLOCK }))
  for (const at of CUTS) {
    forecasts.set(at, await forecastTierKeeping(full, program, { at: new Date(`${at}T00:00:00Z`) }))
  }
}, 120_000)
let fullOpen = true
afterAll(async () => {
  if (fullOpen) await full?.close()
  await s?.cleanup()
})

describe('tier-keeping forecast on a simulated holdout', () => {
  it.each(CUTS)(
    'predicts the members falling below their tier at the review after %s within ±10% of the realised count',
    (at) => {
      const f = forecasts.get(at) as TierForecast
      expect(f.nextReviewAt).toBe(
        nextReviewAfter(program, new Date(`${at}T00:00:00Z`)).toISOString(),
      )
      expect(f.totals.members).toBeGreaterThan(200)
      const realised = f.totals.realisedBelow as number
      expect(realised).toBeGreaterThan(30)
      expect(Math.abs(f.totals.expectedBelow / realised - 1)).toBeLessThanOrEqual(0.1)
      // The split into downgrades (a grace period already running) and grace starts follows the review rule.
      const expectedDowngrades = f.tiers.reduce((a, t) => a + t.expectedDowngrades, 0)
      const realisedDowngrades = f.tiers.reduce((a, t) => a + (t.realisedDowngrades ?? 0), 0)
      expect(Math.abs(expectedDowngrades - realisedDowngrades)).toBeLessThanOrEqual(
        Math.max(3, 0.15 * realisedDowngrades),
      )
    },
  )

  it('misses the ±10% bar when future purchases are ignored (the purchase model is what meets it)', () => {
    const f = forecasts.get('2026-07-01') as TierForecast
    const naive = f.members.filter((m) => m.needed > 0).length
    expect(Math.abs(naive / (f.totals.realisedBelow as number) - 1)).toBeGreaterThan(0.1)
  })

  it('gives each member the chance of keeping the tier and what they still need', () => {
    const f = forecasts.get('2026-07-01') as TierForecast
    for (const m of f.members) {
      expect(m.probabilityKeep).toBeGreaterThanOrEqual(0)
      expect(m.probabilityKeep).toBeLessThanOrEqual(1)
      expect(m.needed).toBeCloseTo(Math.max(0, m.threshold - m.qualifying), 6)
      if (m.needed === 0) expect(m.probabilityKeep).toBe(1)
    }
    // Sorted lowest chance first; a member needing more than they ever bought in a quarter is unlikely to keep.
    const p = f.members.map((m) => m.probabilityKeep)
    expect(p).toEqual([...p].sort((a, b) => a - b))
  })

  it('reads nothing after the forecast date: a ledger of the history cut a day later gives the same forecast', async () => {
    const at = '2026-04-01'
    const cut = '2026-04-02 00:00:00'
    const db = await openDatabase(':memory:', { threads: 1 })
    const store = await openLedgerStore(join(s.dir, 'cut-ledger'))
    try {
      const sim = await simulate(join(s.dir, 'data-cut'), { members: 2000, months: 24, seed: 5 })
      await ingestInto(db, sim.files)
      for (const [table, column] of [
        ['returns', 'returned_at'],
        ['orders', 'ordered_at'],
        ['events', 'ts'],
        ['feedback', 'ts'],
      ] as const) {
        await db.driver.execute({
          sql: `DELETE FROM ${table} WHERE ${column} >= TIMESTAMP '${cut}'`,
          parameters: [],
        })
      }
      await bulkReplayOrderHistory(db, new Ledger(store, program, { clock: TEST_CLOCK }))
      const cutForecast = await forecastTierKeeping(store, program, {
        at: new Date(`${at}T00:00:00Z`),
      })
      const f = forecasts.get(at) as TierForecast
      expect(cutForecast.totals.realisedBelow).toBeNull()
      expect(cutForecast.totals.members).toBe(f.totals.members)
      expect(cutForecast.totals.expectedBelow).toBeCloseTo(f.totals.expectedBelow, 6)
      expect(cutForecast.members.map((m) => [m.memberId, m.needed])).toEqual(
        f.members.map((m) => [m.memberId, m.needed]),
      )
    } finally {
      await store.close()
      await db.close()
    }
  }, 60_000)

  it('is printed by `tiers forecast` with --json and in Chinese', async () => {
    // The CLI opens the embedded ledger itself; the directory takes one process at a time.
    await full.close()
    fullOpen = false
    const args = ['tiers', 'forecast', '--ledger', ledgerDir, '--program', programFile]
    const json = await runCli([...args, '--at', '2026-07-01', '--json'])
    expect(json.code).toBe(0)
    const f = JSON.parse(json.out) as TierForecast
    const mine = forecasts.get('2026-07-01') as TierForecast
    expect(f.totals.expectedBelow).toBeCloseTo(mine.totals.expectedBelow, 6)
    expect(f.members).toHaveLength(20)
    const zh = await runCli([...args, '--at', '2026-07-01', '--limit', '5', '--lang', 'zh'])
    expect(zh.code).toBe(0)
    expect(zh.out).toContain('保级概率')
    expect(zh.out).toContain('银卡会员')
    // Without --at: the review period of the ledger's last order (the history ends 2026-10-31).
    const latest = await runCli([...args, '--json'])
    expect((JSON.parse(latest.out) as TierForecast).at).toBe('2026-10-01T00:00:00.000Z')
    const bad = await runCli([...args, '--at', 'soon'])
    expect(bad.code).not.toBe(0)
    expect(bad.err).toContain('--at')
  })

  it('is answered by GET /api/v1/loyalty/tier-forecast for the loyalty scope', async () => {
    const store = await openLedgerStore(ledgerDir)
    try {
      const keys = new KeyStore(join(s.dir, 'keys.json'), TEST_CLOCK)
      const operator = (await keys.create('operator', 'operator')).secret
      const analyst = (await keys.create('analyst', 'analyst')).secret
      const app = createApp({
        driver: s.db.driver,
        keys,
        clock: TEST_CLOCK,
        rate: { perSecond: 10_000, burst: 10_000 },
        log: () => {},
        ledger: new Ledger(store, program, { clock: TEST_CLOCK }),
      })
      const get = (url: string, key: string) =>
        app.request(url, { headers: { authorization: `Bearer ${key}` } })
      const r = await get('/api/v1/loyalty/tier-forecast?at=2026-07-01&limit=3', operator)
      expect(r.status).toBe(200)
      const f = (await r.json()) as TierForecast
      const mine = forecasts.get('2026-07-01') as TierForecast
      expect(f.totals).toEqual(mine.totals)
      expect(f.members.map((m) => m.memberId)).toEqual(
        mine.members.slice(0, 3).map((m) => m.memberId),
      )
      expect((await get('/api/v1/loyalty/tier-forecast', analyst)).status).toBe(403)
      expect((await get('/api/v1/loyalty/tier-forecast?at=July', operator)).status).toBe(400)
    } finally {
      await store.close()
    }
  })
})
