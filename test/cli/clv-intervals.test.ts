/**
 * `clv predict --intervals` (human, --json, --csv) and `clv fit --model bg-cnbd-k` on the CDNOW sample.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cdnowPreset } from '../../src/duckdb/ingest/presets/cdnow.js'
import { openDatabase } from '../../src/store/database.js'
import { runCli } from '../helpers/cli.js'
import { CDNOW_SAMPLE } from '../helpers/data.js'
import { TEST_CLOCK } from '../helpers/db.js'

let dir: string
let db: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-clv-intervals-'))
  db = join(dir, 'cdnow.duckdb')
  const d = await openDatabase(db, { threads: 1 })
  await cdnowPreset.load(d.driver, CDNOW_SAMPLE, { clock: TEST_CLOCK })
  await d.close()
  const fit = await runCli(['clv', 'fit', '--db', db, '--calibration-end', '1997-09-30', '--json'])
  expect(fit.code, fit.err).toBe(0)
}, 60_000)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

interface Bounds {
  estimate?: number
  lower: number
  upper: number
}

describe('clv predict --intervals', () => {
  const args = ['clv', 'predict', '--top', '5', '--intervals', '--draws', '60', '--level', '0.8']

  it('gives each listed member and the portfolio total intervals (--json)', async () => {
    const r = await runCli([...args, '--db', db, '--json'])
    expect(r.code, r.err).toBe(0)
    const out = JSON.parse(r.out) as {
      intervals: {
        level: number
        draws: number
        portfolio: {
          members: number
          expectedPurchases: Bounds
          realisedPurchases: Bounds
          clv: Bounds
        }
      }
      scores: Array<{
        expectedPurchases: number
        clv: number
        intervals: { expectedPurchases: Bounds; realisedPurchases: Bounds; clv: Bounds }
      }>
    }
    expect(out.intervals.level).toBe(0.8)
    expect(out.intervals.draws).toBe(60)
    const p = out.intervals.portfolio
    expect(p.members).toBe(2357)
    expect(p.clv.lower).toBeLessThan(p.clv.estimate as number)
    expect(p.clv.upper).toBeGreaterThan(p.clv.estimate as number)
    expect(p.expectedPurchases.lower).toBeLessThan(p.expectedPurchases.estimate as number)
    expect(p.expectedPurchases.upper).toBeGreaterThan(p.expectedPurchases.estimate as number)
    expect(p.realisedPurchases.lower).toBeLessThan(p.expectedPurchases.estimate as number)
    expect(p.realisedPurchases.upper).toBeGreaterThan(p.expectedPurchases.estimate as number)
    expect(out.scores).toHaveLength(5)
    for (const s of out.scores) {
      // The stored scores are the point estimates the intervals are around.
      expect(s.intervals.expectedPurchases.estimate).toBeCloseTo(s.expectedPurchases, 9)
      expect(s.intervals.clv.estimate).toBeCloseTo(s.clv, 6)
      expect(s.intervals.clv.lower).toBeLessThanOrEqual(s.clv)
      expect(s.intervals.clv.upper).toBeGreaterThanOrEqual(s.clv)
      expect(Number.isInteger(s.intervals.realisedPurchases.upper)).toBe(true)
    }
  })

  it('adds lower and upper columns to --csv, and is reproducible for a seed', async () => {
    const a = await runCli([...args, '--db', db, '--csv'])
    const b = await runCli([...args, '--db', db, '--csv'])
    expect(a.code, a.err).toBe(0)
    expect(a.out).toBe(b.out)
    const header = a.out.split(/\r?\n/)[0]?.split(',') ?? []
    expect(header.slice(-6)).toEqual([
      'expected_purchases_lower',
      'expected_purchases_upper',
      'purchases_pi_lower',
      'purchases_pi_upper',
      'clv_lower',
      'clv_upper',
    ])
  })

  it('shows the intervals and the portfolio total in English and Chinese', async () => {
    const en = await runCli([...args, '--db', db])
    expect(en.code, en.err).toBe(0)
    expect(en.out).toContain('Portfolio total — 2,357 members')
    expect(en.out).toContain('realised purchases 80% PI')
    const zh = await runCli([...args, '--db', db, '--lang', 'zh'])
    expect(zh.code, zh.err).toBe(0)
    expect(zh.out).toContain('全体合计')
    expect(zh.out).toContain('实际购买 80% 预测区间')
  })

  it('rejects a level outside (0, 1) naming the flag', async () => {
    const r = await runCli([...args.slice(0, -2), '--level', '1.5', '--db', db])
    expect(r.code).not.toBe(0)
    expect(r.err).toMatch(/level/)
  })
})

describe('clv fit --model bg-cnbd-k', () => {
  it('fits BG/CNBD-k and lists the log-likelihood of each order k', async () => {
    const r = await runCli([
      'clv',
      'fit',
      '--db',
      db,
      '--calibration-end',
      '1997-09-30',
      '--model',
      'bg-cnbd-k',
    ])
    expect(r.code, r.err).toBe(0)
    expect(r.out).toContain('BG/CNBD-k parameters')
    expect(r.out).toMatch(/log-likelihood by order k\s+1: -9,?582\.4/)
    const predict = await runCli([
      'clv',
      'predict',
      '--db',
      db,
      '--top',
      '3',
      '--intervals',
      '--draws',
      '20',
      '--json',
    ])
    expect(predict.code, predict.err).toBe(0)
  })
})
