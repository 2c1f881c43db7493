/**
 * The models against the simulator's ground truth (truth.json): 20,000 simulated persons over 24 months,
 * loaded through the ordinary ingest path, summarised in SQL and fitted.
 *
 * The simulator's purchase clock starts at registration and every purchase is followed by a drop-out coin
 * (src/simulate/simulate-person.ts), which is BG/NBD with origin `registration`. Tolerance: 4 inverse-Hessian
 * standard errors (observed information, src/models/standard-errors.ts). The simulator also plants effects
 * that BG/NBD does not have: gold-tier members drop out at half their p, and seasonality, coupon and
 * win-back orders. The tier effect widens the spread of p, so a and b each come out about 15 % low (4–5
 * SE at this size) while the mean drop-out probability a/(a+b) is recovered: we test r, α and a/(a+b)
 * against 4 SE, and a and b against a 25 % allowance for that documented misspecification.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fitClv, type ClvFit } from '../../src/analytics/clv/clv.js'
import { parseEarlyWarningConfig, PLAYBOOKS } from '../../src/analytics/risk/early-warning.js'
import { listRisk, scoreRisk, trainRiskModel } from '../../src/analytics/risk/risk.js'
import { bgNbdStandardErrors } from '../../src/models/standard-errors.js'
import type { GroundTruth } from '../../src/simulate/ground-truth.js'
import { simulate } from '../../src/simulate/simulate.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { TEST_CLOCK, ingestSimulated } from '../helpers/db.js'

let dir: string
let db: Database
let truth: GroundTruth

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-sim-'))
  const sim = await simulate(dir, { members: 20_000, months: 24, seed: 7, end: '2026-10-31' })
  truth = sim.truth
  db = await openDatabase(':memory:', { threads: 1 })
  await ingestSimulated(db.driver, sim.files)
})
afterAll(async () => {
  await db?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('BG/NBD on simulated members recovers the truth', () => {
  let fit: ClvFit
  beforeAll(async () => {
    fit = await fitClv(db.driver, { calibrationEnd: truth.window.endDate, origin: 'registration' })
  })

  it('r and α within 4 standard errors, a/(a+b) within 4 standard errors', () => {
    const p = fit.purchase
    if (p.kind !== 'bg-nbd') throw new Error('expected BG/NBD')
    const t = truth.parameters.purchase
    const { x, tx, T } = fit.summaries
    expect(x.length).toBe(truth.persons)
    const se = bgNbdStandardErrors(p.params, x, tx, T)
    for (const k of ['r', 'alpha'] as const) {
      expect(Math.abs(p.params[k] - t[k]), `${k} = ${p.params[k]}`).toBeLessThan(
        4 * se.standardErrors[k],
      )
    }
    // Delta method on log a, log b: ∂(a/(a+b))/∂log a = ab/(a+b)² = −∂/∂log b.
    const { a, b } = p.params
    const C = se.logCovariance
    const d = (a * b) / (a + b) ** 2
    const sdMeanP = d * Math.sqrt((C[10] as number) + (C[15] as number) - 2 * (C[11] as number))
    expect(Math.abs(a / (a + b) - t.a / (t.a + t.b))).toBeLessThan(4 * sdMeanP)
    for (const k of ['a', 'b'] as const) {
      expect(Math.abs(p.params[k] / t[k] - 1), `${k} = ${p.params[k]}`).toBeLessThan(0.25)
    }
    // The standard errors shrink like 1/√n: at 20,000 members r is known to a few per cent.
    expect(se.standardErrors.r / p.params.r).toBeLessThan(0.05)
  })
})

describe('churn-risk model on simulated members', () => {
  it('beats the recency-only baseline on the later period (AUC and top-decile lift printed)', async () => {
    const r = await trainRiskModel(db.driver, { horizonDays: 90 }, TEST_CLOCK)
    const m = r.evaluation.model
    const b = r.evaluation.recencyBaseline
    console.log(
      `risk model AUC ${m.auc.toFixed(4)} (lift ${m.topDecileLift.toFixed(2)}) vs recency-only ` +
        `AUC ${b.auc.toFixed(4)} (lift ${b.topDecileLift.toFixed(2)}); train ${r.trainMembers} at ` +
        `${r.trainCutoff}, evaluated on ${r.evaluationMembers} at ${r.evaluationCutoff}`,
    )
    expect(r.trainCutoff).toBe('2026-05-04')
    expect(r.evaluationCutoff).toBe('2026-08-02')
    expect(m.auc).toBeGreaterThan(b.auc)
    expect(m.auc).toBeGreaterThan(0.7)
    // Calibration: the top decile's mean score is close to its observed churn rate.
    const top = m.calibration[0] as { meanScore: number; observedRate: number }
    expect(Math.abs(top.meanScore - top.observedRate)).toBeLessThan(0.1)

    const scored = await scoreRisk(
      db.driver,
      { earlyWarning: parseEarlyWarningConfig({ noLoginDays: 21 }) },
      TEST_CLOCK,
    )
    expect(scored.scores.length).toBeGreaterThan(10_000)
    const s0 = scored.scores[0]
    expect(s0?.reasons.length).toBeGreaterThan(0)
    expect(s0?.playbook).toBe(PLAYBOOKS[s0?.churnClass ?? 'disengaged'])
    const list = await listRisk(db.driver, { top: 100 })
    expect(list.rows).toHaveLength(100)
    expect(list.rows[0]?.score).toBeGreaterThanOrEqual(list.rows[99]?.score as number)
    expect(() => parseEarlyWarningConfig({ noLoginDays: -1 })).toThrow(/noLoginDays/)
    expect(() => parseEarlyWarningConfig({ unknown: 1 })).toThrow(/unrecognized|Unrecognized/)
  })
})
