/**
 * sBG renewals from the subscriptions table: survivors by renewal period in SQL, the pooled and per-cohort
 * fits, projections and the expected remaining lifetime.
 *
 * 1. Fader & Hardie (2007), "How to Project Customer Retention", Table 1: two segments of 1,000 customers
 *    observed for 7 renewal years, written as subscription terms and loaded through ingest. The SQL must
 *    give back the published survivor counts and the fit α = 0.704, β = 1.182 (regular) and α = 0.668,
 *    β = 3.806 (high end), to the 3 decimals the paper prints.
 * 2. The simulator draws each subscriber's churn probability θ ~ Beta(α, β) per plan
 *    (src/simulate/simulate-subscriptions.ts) and writes truth.json. On 20,000 simulated persons over 24
 *    months the monthly plan's α and β are within 4 inverse-Hessian standard errors of the truth (the
 *    tolerance shrinks like 1/√subscribers). The annual plan has one renewal decision in the window, so
 *    α and β are not separately identified: the fit must be reported as failed, and the observed first-
 *    renewal churn must match E[θ] = α/(α+β) within 4 binomial standard errors.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  fitRenewals,
  fitSbgPooled,
  type RenewalsReport,
} from '../../src/analytics/lifetime/renewals.js'
import { InputError } from '../../src/core/errors.js'
import { renewalSurvivors } from '../../src/duckdb/summaries/renewals.js'
import { sbgExpectedResidualLifetime, sbgSurvivalCurve } from '../../src/models/sbg.js'
import type { GroundTruth } from '../../src/simulate/ground-truth.js'
import { simulate } from '../../src/simulate/simulate.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>

const REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
const HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]

/** |actual − published| ≤ half a unit in the last printed decimal. */
function expectDecimals(actual: number, published: number, decimals: number): void {
  expect(Math.abs(actual - published)).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-12)
}

/**
 * Subscription rows for a cohort with the given survivors: yearly terms from `start`; a member lost at
 * decision t has t terms, the last not renewed; survivors of all N decisions have an open term N + 1.
 */
function termsCsv(
  plan: string,
  startYear: number,
  survivors: readonly number[],
  firstId: number,
): string[] {
  const lines: string[] = []
  const N = survivors.length - 1
  let id = firstId
  const day = (y: number) => `${y}-02-01 00:00:00`
  const member = (terms: number, lastRenewed: boolean) => {
    const phone = `1380000${String(id++).padStart(4, '0')}`
    for (let k = 0; k < terms; k++) {
      const renewed = k < terms - 1 || lastRenewed
      const end = day(startYear + k + 1)
      lines.push(
        `${plan},${day(startYear + k)},${end},${renewed ? `${startYear + k}-12-20 10:00:00` : ''},100,${phone}`,
      )
    }
  }
  for (let t = 1; t <= N; t++) {
    const lost = (survivors[t - 1] as number) - (survivors[t] as number)
    for (let i = 0; i < lost; i++) member(t, false)
  }
  // Survivors: N renewed terms, then the open term N + 1 (its decision falls after the cutoff).
  for (let i = 0; i < (survivors[N] as number); i++) member(N + 1, false)
  return lines
}

describe('sBG renewals on the Fader & Hardie (2007) example, through SQL', () => {
  let s: Scratch
  let report: RenewalsReport
  beforeAll(async () => {
    s = await scratch()
    const lines = [
      'plan,started_at,ends_at,renewed_at,price,phone',
      ...termsCsv('regular', 2000, REGULAR, 0),
      ...termsCsv('high_end', 2000, HIGH_END, 1000),
    ]
    await s.ingest('subscriptions', await s.file('subs.csv', `${lines.join('\n')}\n`))
    // Seven decisions (2001-02-01 … 2007-02-01) observed; the eighth (2008-02-01) not yet.
    report = await fitRenewals(s.db.driver, { asOf: '2007-06-30', horizon: 12 })
  })
  afterAll(async () => {
    await s.cleanup()
  })

  it('survivors by renewal period per plan and start cohort equal the published counts', async () => {
    const surv = await renewalSurvivors(s.db.driver, { asOf: '2007-06-30' })
    expect(surv.plans.map((p) => [p.plan, p.termMonths, p.subscribers])).toEqual([
      ['high_end', 12, 1000],
      ['regular', 12, 1000],
    ])
    expect(surv.cohorts.map((c) => [c.plan, c.cohort, c.survivors])).toEqual([
      ['high_end', '2000-02-01', HIGH_END],
      ['regular', '2000-02-01', REGULAR],
    ])
    // Everybody shares the horizon K = 7.
    expect(surv.horizons.map((c) => c.survivors)).toEqual([HIGH_END, REGULAR])
    // One day before the seventh decision only six are observed.
    const earlier = await renewalSurvivors(s.db.driver, { asOf: '2007-01-30', plan: 'regular' })
    expect(earlier.cohorts[0]?.survivors).toEqual(REGULAR.slice(0, 7))
  })

  it('fits regular α = 0.704, β = 1.182 and high end α = 0.668, β = 3.806', () => {
    const [high, regular] = report.plans
    expect(regular?.plan).toBe('regular')
    const r = regular?.fit
    const h = high?.fit
    if (!r || !h) throw new Error(`no fit: ${regular?.fitError} ${high?.fitError}`)
    expectDecimals(r.params.alpha, 0.704, 3)
    expectDecimals(r.params.beta, 1.182, 3)
    expectDecimals(h.params.alpha, 0.668, 3)
    expectDecimals(h.params.beta, 3.806, 3)
    expect(r.members).toBe(1000)
    expect(r.periods).toBe(7)
    // The single cohort's own fit is the plan's.
    expect(regular?.cohorts[0]?.paramsFrom).toBe('cohort')
    expect(regular?.cohorts[0]?.fit?.params.alpha).toBeCloseTo(r.params.alpha, 6)
    // Observed retention: n_t / n_{t−1}.
    expect(regular?.observedRetention[0]).toBeCloseTo(0.631, 12)
    expect(regular?.atRisk).toEqual([1000, 631, 468, 382, 326, 289, 262])
  })

  it('projects S(t) with the fitted parameters and values the 241 active members by their residual lifetime', () => {
    const regular = report.plans[1]
    if (!regular?.fit || !regular.projection || !regular.remaining) throw new Error('no fit')
    const S = sbgSurvivalCurve(regular.fit.params, 12)
    expect(regular.projection.survival).toHaveLength(13)
    expect(regular.projection.survival[12]).toBeCloseTo(S[12] as number, 14)
    // Fader & Hardie's projection reaches about 0.24 at year 7 (the fit tracks the data closely).
    expect(Math.abs((regular.projection.survival[7] as number) - 0.241)).toBeLessThan(0.01)
    const rem = regular.remaining
    expect(rem.activeMembers).toBe(241)
    // α < 1: the undiscounted mean lifetime diverges.
    expect(rem.expectedRenewals).toBeNull()
    // Yearly terms at 10 % a year: each active member renewed 7 times.
    const derl = sbgExpectedResidualLifetime(regular.fit.params, 7, 0.1)
    expect(rem.discountedExpectedRenewals).toBeCloseTo(derl, 10)
    expect(rem.residualValue).toBeCloseTo(241 * 100 * derl, 6)
  })
})

describe('sBG renewals on simulated subscriptions recover the truth', () => {
  let dir: string
  let s: Scratch
  let truth: GroundTruth
  let report: RenewalsReport
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memberlens-renewals-'))
    const sim = await simulate(dir, {
      members: 20_000,
      months: 24,
      seed: 7,
      end: '2026-10-31',
      tables: ['members', 'subscriptions'],
    })
    truth = sim.truth
    s = await scratch()
    for (const t of ['members', 'subscriptions'] as const) {
      await s.ingest(t, sim.files[t] as string)
    }
    report = await fitRenewals(s.db.driver, { horizon: 24 })
  })
  afterAll(async () => {
    await s?.cleanup()
    await rm(dir, { recursive: true, force: true })
  })

  it('monthly plan: α and β within 4 standard errors of truth.json', () => {
    const plan = report.plans.find((p) => p.plan === 'plus_monthly')
    const t = truth.parameters.subscriptions.plans.plus_monthly
    const fit = plan?.fit
    if (!plan || !fit) throw new Error(`no fit: ${plan?.fitError}`)
    console.log(
      `sBG plus_monthly: α = ${fit.params.alpha.toFixed(3)} ± ${fit.standardErrors.alpha.toFixed(3)} ` +
        `(truth ${t.alpha}), β = ${fit.params.beta.toFixed(3)} ± ${fit.standardErrors.beta.toFixed(3)} ` +
        `(truth ${t.beta}); ${fit.members} subscribers, up to ${fit.periods} renewals`,
    )
    expect(report.asOf).toBe('2026-10-31')
    expect(plan.subscribers).toBe(truth.subscriptions['plus_monthly']?.subscribers)
    expect(Math.abs(fit.params.alpha - t.alpha)).toBeLessThan(4 * fit.standardErrors.alpha)
    expect(Math.abs(fit.params.beta - t.beta)).toBeLessThan(4 * fit.standardErrors.beta)
    // The standard errors shrink like 1/√n: with ~1,600 subscribers α is known to about 10 %.
    expect(fit.standardErrors.alpha / fit.params.alpha).toBeLessThan(0.2)
    // Every cohort is projected, with its own parameters or the plan's.
    for (const c of plan.cohorts) {
      expect(c.paramsFrom === 'cohort' || c.paramsFrom === 'plan').toBe(true)
      expect(c.fit !== null || c.fitError !== null).toBe(true)
      expect(c.survivors[0]).toBe(c.subscribers)
    }
    expect(plan.cohorts.reduce((n, c) => n + c.subscribers, 0)).toBe(plan.subscribers)
    expect(plan.remaining?.activeMembers).toBe(plan.activeMembers)
  })

  it('annual plan: one decision only, so no fit (reported), and first-renewal churn matches α/(α+β)', () => {
    const plan = report.plans.find((p) => p.plan === 'plus_annual')
    const t = truth.parameters.subscriptions.plans.plus_annual
    if (!plan) throw new Error('no annual plan')
    expect(plan.fit).toBeNull()
    expect(plan.fitError).toMatch(/no well-defined maximum|did not converge/)
    expect(plan.projection).toBeNull()
    expect(plan.atRisk).toHaveLength(1)
    const n = plan.atRisk[0] as number
    const mean = t.alpha / (t.alpha + t.beta)
    const churn = 1 - (plan.observedRetention[0] as number)
    expect(n).toBeGreaterThan(100)
    expect(Math.abs(churn - mean)).toBeLessThan(4 * Math.sqrt((mean * (1 - mean)) / n))
  })
})

describe('sBG renewals: degenerate input', () => {
  it('no subscriptions is a clear InputError; no decision yet cannot be fitted', async () => {
    const s = await scratch()
    try {
      await expect(fitRenewals(s.db.driver)).rejects.toThrow(/no subscriptions/)
      await expect(fitRenewals(s.db.driver, { horizon: 0 })).rejects.toThrow(InputError)
    } finally {
      await s.cleanup()
    }
    expect(() => fitSbgPooled([[10]])).toThrow(/no renewal decision/)
    // Nobody churned: the likelihood rises towards θ = 0 without a maximum.
    expect(() => fitSbgPooled([[10, 10, 10]])).toThrow(/maximum|converge/)
  })

  it('a member who lapses then returns is counted once, with the renewals of the first spell', async () => {
    const s = await scratch()
    try {
      const csv = [
        'plan,started_at,ends_at,renewed_at,price,phone',
        'm,2026-01-01 00:00:00,2026-02-01 00:00:00,2026-01-30 00:00:00,10,13800000001',
        'm,2026-02-01 00:00:00,2026-03-01 00:00:00,,10,13800000001',
        'm,2026-05-01 00:00:00,2026-06-01 00:00:00,2026-05-30 00:00:00,10,13800000001',
        'm,2026-01-10 00:00:00,2026-02-10 00:00:00,2026-02-08 00:00:00,10,13800000002',
        'm,2026-02-10 00:00:00,2026-03-10 00:00:00,2026-03-08 00:00:00,10,13800000002',
        'm,2026-03-10 00:00:00,2026-04-10 00:00:00,,10,13800000002',
      ].join('\n')
      await s.ingest('subscriptions', await s.file('s.csv', `${csv}\n`))
      // Cutoff 2026-04-05: member 1 renewed once and lapsed at decision 2 (observed 2026-03-01);
      // member 2 renewed twice, and decision 3 (2026-04-10) is not yet due.
      const surv = await renewalSurvivors(s.db.driver, { asOf: '2026-04-05' })
      expect(surv.horizons.map((g) => g.survivors)).toEqual([
        [1, 1, 1],
        [1, 1, 0, 0],
      ])
      expect(surv.cohorts[0]?.survivors).toEqual([2, 2, 1])
      expect(surv.active).toEqual([{ plan: 'm', cohort: '2026-01-01', renewals: 2, members: 1 }])
    } finally {
      await s.cleanup()
    }
  })
})
