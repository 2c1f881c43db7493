/**
 * BG/CNBD-k through the CLV pipeline on the CDNOW sample: the Σ log gaps between purchase days comes from
 * SQL and equals the same sum computed here from the raw file; the fit tries k = 1, 2, … and keeps the
 * order of highest likelihood (its k = 1 row is BG/NBD's published log-likelihood); the run stores scores
 * and forecasts like the other models; the model comparison of `clv report` includes it.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  clvValidationReport,
  fitClv,
  listMemberScores,
  runClv,
} from '../../src/analytics/clv/clv.js'
import { parseHorizon } from '../../src/analytics/clv/horizons.js'
import { logGapsTotal } from '../../src/engine/summaries/inter-purchase.js'
import { cdnowPreset } from '../../src/duckdb/ingest/presets/cdnow.js'
import { CDNOW_SAMPLE as SAMPLE } from '../helpers/data.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>

/** Σ ln(gap in weeks) between successive distinct purchase days up to 1997-09-30, from the raw file. */
function rawLogGaps(): { litt: number; gaps: number } {
  const days = new Map<string, Set<number>>()
  for (const line of readFileSync(SAMPLE, 'utf8').trim().split(/\r?\n/)) {
    const [id, , ymd] = line.trim().split(/\s+/) as [string, string, string]
    const ms = Date.UTC(Number(ymd.slice(0, 4)), Number(ymd.slice(4, 6)) - 1, Number(ymd.slice(6)))
    if (ms > Date.UTC(1997, 8, 30)) continue
    const set = days.get(id) ?? new Set<number>()
    set.add(ms)
    days.set(id, set)
  }
  let litt = 0
  let gaps = 0
  for (const set of days.values()) {
    const sorted = [...set].sort((a, b) => a - b)
    for (let i = 1; i < sorted.length; i++) {
      litt += Math.log(((sorted[i] as number) - (sorted[i - 1] as number)) / 86_400_000 / 7)
      gaps++
    }
  }
  return { litt, gaps }
}

describe('BG/CNBD-k on the CDNOW sample', () => {
  let s: Scratch
  const options = { calibrationEnd: '1997-09-30', model: 'bg-cnbd-k' } as const

  beforeAll(async () => {
    s = await scratch()
    await cdnowPreset.load(s.db.driver, SAMPLE, { clock: TEST_CLOCK })
  })
  afterAll(async () => {
    await s.cleanup()
  })

  it('takes Σ log gaps between purchase days from SQL, equal to the raw file’s', async () => {
    const sqlSum = await logGapsTotal(s.db.driver, { calibrationEnd: '1997-09-30' })
    const raw = rawLogGaps()
    // One gap per repeat transaction: Σ x = 2457 in the published CDNOW summaries.
    expect(sqlSum.gaps).toBe(2457)
    expect(raw.gaps).toBe(sqlSum.gaps)
    expect(sqlSum.litt).toBeCloseTo(raw.litt, 8)
  })

  it('chooses k by likelihood; its k = 1 row is BG/NBD’s published log-likelihood −9582.4', async () => {
    const fit = await fitClv(s.db.driver, options)
    const p = fit.purchase
    expect(p.kind).toBe('bg-cnbd-k')
    const orders = p.orders ?? []
    expect(orders[0]?.k).toBe(1)
    expect(Math.abs((orders[0]?.logLikelihood as number) - -9582.4)).toBeLessThanOrEqual(0.05)
    const best = orders.reduce((b, o) =>
      (o.logLikelihood ?? -Infinity) > (b.logLikelihood ?? -Infinity) ? o : b,
    )
    if (p.kind !== 'bg-cnbd-k') return
    expect(p.params.k).toBe(best.k)
    expect(p.logLikelihood).toBe(best.logLikelihood)
    expect(Object.keys(p.standardErrors ?? {})).toEqual(['r', 'alpha', 'a', 'b'])
    process.stdout.write(
      `BG/CNBD-k on CDNOW: ${orders.map((o) => `k=${o.k} LL ${o.logLikelihood?.toFixed(2)}`).join(', ')}\n`,
    )
  })

  it('stores a run whose forecasts come from BG/CNBD-k', async () => {
    const report = await runClv(s.db.driver, options, TEST_CLOCK)
    expect(report.purchase.kind).toBe('bg-cnbd-k')
    const listed = await listMemberScores(s.db.driver, {
      limit: 5,
      outlook: { horizon: parseHorizon('39w', 'horizon'), churnDays: 90 },
    })
    expect(listed.scores).toHaveLength(5)
    for (const m of listed.scores) {
      expect(m.expectedPurchasesHorizon).toBeGreaterThan(0)
      expect(m.pNoPurchase).toBeGreaterThan(0)
      expect(m.pNoPurchase).toBeLessThan(1)
    }
  })

  it('is one of the models `clv report` compares, with five parameters', async () => {
    const r = await clvValidationReport(s.db.driver, {
      calibrationEnd: '1997-09-30',
      holdoutEnd: '1998-06-30',
      compareModels: true,
    })
    const row = r.modelComparison?.models.find((m) => m.kind === 'bg-cnbd-k')
    expect(row?.parameters).toBe(5)
    expect(row?.aic).toBeCloseTo(10 - 2 * (row?.logLikelihood as number), 9)
    expect(row?.holdout?.predicted).toBeGreaterThan(0)
  })

  it('refuses the registration origin, whose first gap is not between purchases', async () => {
    await expect(fitClv(s.db.driver, { ...options, origin: 'registration' })).rejects.toThrow(
      /origin first-purchase/,
    )
  })
})
