/**
 * The simulator's planted effects, recovered through ingest and the analysis: the A/B experiment's true
 * first-purchase lift (truth.experiment.deltaPp) and the win-back campaign's true uplift
 * (truth.winback.upliftPp) lie inside the reported 95 % confidence intervals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { programEffect } from '../../src/analytics/experiments/effects.js'
import { renderEffect } from '../../src/cli/commands/effects.js'
import {
  experimentReport,
  listExperiments,
  planExperiment,
} from '../../src/analytics/experiments/experiments.js'
import { simulate, type SimulateResult } from '../../src/simulate/simulate.js'
import { scratch } from '../helpers/db.js'
import { INGEST_TABLES } from '../../src/core/schema.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let sim: SimulateResult
beforeAll(async () => {
  s = await scratch()
  sim = await simulate(`${s.dir}/data`, { members: 4000, months: 12, seed: 21 })
  for (const t of INGEST_TABLES) await s.ingest(t, sim.files[t] as string)
})
afterAll(async () => {
  await s.cleanup()
})

describe('A/B experiment', () => {
  it('lists the planted experiment with its two variants', async () => {
    const list = await listExperiments(s.db.driver)
    const exp = sim.truth.experiment
    if (!exp) throw new Error('no experiment in the truth')
    expect(list.map((e) => e.experimentId)).toEqual([exp.experimentId])
    expect(list[0]?.variants).toEqual([
      { variant: 'control', members: exp.control.n },
      { variant: 'treatment', members: exp.treatment.n },
    ])
  })

  it('the true first-purchase lift lies inside the CI; no SRM; guardrails reported', async () => {
    const exp = sim.truth.experiment
    if (!exp) throw new Error('no experiment in the truth')
    const r = await experimentReport(s.db.driver, exp.experimentId, { metric: 'conversion' })
    expect(r.srm.mismatch).toBe(false)
    expect(r.variants.map((v) => v.members)).toEqual([exp.control.n, exp.treatment.n])
    const cmp = r.goal.comparisons[0]
    if (!cmp) throw new Error('no comparison')
    const truth = exp.deltaPp / 100
    console.log(
      `experiment: Δ = ${(100 * cmp.effect.difference).toFixed(2)} pp, CI [${(100 * cmp.effect.ci[0]).toFixed(2)}, ${(100 * cmp.effect.ci[1]).toFixed(2)}], truth ${exp.deltaPp.toFixed(2)} pp; control ${cmp.raw.control.toFixed(4)} vs baseline ${exp.baselineRate}`,
    )
    expect(cmp.effect.ci[0]).toBeLessThan(truth)
    expect(cmp.effect.ci[1]).toBeGreaterThan(truth)
    expect(cmp.significant).toBe(true)
    // New members have no pre-period: CUPED cannot help and is not applied.
    expect(cmp.cuped).toBeNull()
    // Realised counts (orders of any status in the truth; purchases exclude cancelled ones here).
    const ctl = r.goal.arms.find((a) => a.arm === 'control')
    expect(ctl?.members).toBe(exp.control.n)
    expect(Math.abs((ctl?.value ?? 0) * exp.control.n - exp.control.converted)).toBeLessThan(
      0.05 * exp.control.converted + 5,
    )
    expect(r.guardrails.map((g) => g.metric)).toEqual(['complaint_rate', 'return_rate'])
    expect(r.guardrails.every((g) => g.comparisons.length === 1)).toBe(true)
  })

  it('revenue-type and ratio metrics come with Welch and delta-method intervals', async () => {
    const exp = sim.truth.experiment
    if (!exp) throw new Error('no experiment in the truth')
    const rev = await experimentReport(s.db.driver, exp.experimentId, { metric: 'net_revenue' })
    expect(rev.goal.comparisons[0]?.effect.method).toBe('welch-t')
    const aov = await experimentReport(s.db.driver, exp.experimentId, { metric: 'aov' })
    expect(aov.goal.comparisons[0]?.effect.method).toBe('delta-ratio')
    const ret = await experimentReport(s.db.driver, exp.experimentId, { metric: 'retention' })
    expect(ret.goal.arms.every((a) => a.value > 0 && a.value < 1)).toBe(true)
  })

  it('plans sample size and duration from the observed baseline', async () => {
    const plan = await planExperiment(s.db.driver, { metric: 'conversion', relativeMde: 0.2 })
    expect(plan.baseline).toBeGreaterThan(0)
    expect(plan.perArm).toBeGreaterThan(10)
    expect(plan.durationDays).toBeGreaterThan(plan.windowDays)
    const active = await planExperiment(s.db.driver, {
      metric: 'net_revenue',
      population: 'active-members',
    })
    // Revenue of active members correlates with their previous 30 days: CUPED helps.
    expect(active.varianceReduction).toBeGreaterThan(0)
    expect(active.perArmWithCuped).toBeLessThan(active.perArm)
  })
})

describe('win-back campaign against its holdout', () => {
  it('the true uplift lies inside the CI', async () => {
    const wb = sim.truth.winback
    if (!wb) throw new Error('no win-back campaign in the truth')
    const r = await programEffect(s.db.driver, wb.campaignId)
    expect(r.design).toBe('randomised-holdout')
    expect(r.treated).toBe(wb.treatment.n)
    expect(r.comparison).toBe(wb.holdout.n)
    const w = r.winback
    if (!w) throw new Error('no win-back rate')
    console.log(
      `win-back: with ${(100 * w.withCampaign).toFixed(2)} %, without ${(100 * w.without).toFixed(2)} %, uplift ${w.upliftPp.toFixed(2)} pp, CI [${w.ciPp[0].toFixed(2)}, ${w.ciPp[1].toFixed(2)}], truth ${wb.upliftPp.toFixed(2)} pp`,
    )
    expect(w.ciPp[0]).toBeLessThan(wb.upliftPp)
    expect(w.ciPp[1]).toBeGreaterThan(wb.upliftPp)
    expect(w.ciPp[0]).toBeGreaterThan(0)
  })

  it('counts the full cost: sends, the face value of the redeemed coupons, and no points without a ledger', async () => {
    const wb = sim.truth.winback
    const coupons = sim.truth.coupons?.campaigns[wb?.campaignId ?? '']
    if (!wb || !coupons) throw new Error('no win-back coupons in the truth')
    const r = await programEffect(s.db.driver, wb.campaignId)
    const f = r.fullCost
    expect(f.send).toBe(r.cost)
    expect(f.coupons).toEqual({
      issued: coupons.issued,
      redeemed: coupons.redeemed,
      faceValue: coupons.redeemedFaceValue,
    })
    expect(f.coupons.faceValue).toBe(20 * coupons.redeemed)
    expect(f.points).toBeNull() // unknown without a synced ledger, not zero
    expect(f.total).toBeCloseTo(r.cost + coupons.redeemedFaceValue, 9)
    const w = r.winback
    if (!w) throw new Error('no win-back rate')
    expect(w.costPerIncrementalBuyer).toBeCloseTo(f.total / w.incrementalBuyers, 9)
    const e = r.economics
    if (!e) throw new Error('no economics')
    // The unadjusted difference of the group means × treated members (totals that add up from the counts).
    const ord = r.randomised.find((m) => m.metric === 'orders')?.comparisons[0]?.raw.difference
    const rev = r.randomised.find((m) => m.metric === 'net_revenue')?.comparisons[0]?.raw.difference
    expect(e.incrementalOrders).toBeCloseTo((ord ?? NaN) * r.treated, 9)
    expect(e.incrementalRevenue).toBeCloseTo((rev ?? NaN) * r.treated, 9)
    expect(e.roi).toBeCloseTo((e.incrementalRevenue + f.coupons.faceValue - f.total) / f.total, 9)
    // The report is headed by the campaign's kind: a promotion's is no win-back rate.
    expect(renderEffect(r)).toMatch(/Win-back rate/)
    const promo = renderEffect({ ...r, kind: 'promo' })
    expect(promo).not.toMatch(/Win-back/)
    expect(promo).toMatch(/Purchase rate/)
    expect(promo).toMatch(/full cost/)
    expect(renderEffect({ ...r, kind: 'promo' }, 'zh')).toMatch(/购买率/)
  })

  it('without the holdout, a matched comparison labelled observational', async () => {
    const wb = sim.truth.winback
    if (!wb) throw new Error('no win-back campaign in the truth')
    const r = await programEffect(s.db.driver, wb.campaignId, { design: 'matched' })
    expect(r.design).toBe('matched-observational')
    expect(r.caveat).toMatch(/Observational/)
    expect(r.matched.length).toBeGreaterThan(0)
    expect(r.balance.find((b) => b.covariate === 'orders_pre')?.after ?? 1).toBeLessThan(0.1)
  })
})
