/**
 * Program effects (增值服务效果, DOMAIN §2): the incremental effect of a campaign or benefit on purchase
 * (win-back rate), frequency, spend and later retention, against its randomised holdout when it has one;
 * otherwise against a matched comparison group of members who were not touched, matched on pre-period
 * behaviour — an observational estimate, labelled as such.
 * @module
 */
import { NotFoundError } from '../../core/errors.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import {
  campaignPoolUnits,
  campaignUnits,
  listCampaignRows,
  type CampaignListing,
} from '../../duckdb/experiments/experiment-units.js'
import { memberOutcomes, type OutcomeWindows } from '../../duckdb/experiments/member-outcomes.js'
import { stratifiedDifference, type StratifiedEffect } from '../../models/stats/stratified.js'
import { covariateBalance, matchingStrata, type Balance } from './effects-matching.js'
import { resolveWindows } from './experiments.js'
import { campaignCost, type CampaignCost } from './campaign-cost.js'
import {
  analyseMetric,
  EXPERIMENT_METRICS,
  outcomeColumnOf,
  type ExperimentMetricId,
  type MetricResult,
} from './metrics.js'

/** Campaigns in the touches table. */
export async function listCampaigns(driver: DuckDbDriver): Promise<CampaignListing[]> {
  return listCampaignRows(driver)
}

/** Options of {@link programEffect}. */
export interface ProgramEffectOptions {
  /** Outcome metrics. Default conversion (the win-back rate), orders, net_revenue, repeat_purchase. */
  readonly metrics?: readonly ExperimentMetricId[]
  /** Outcome window after the campaign start. Default 30 days. */
  readonly windowDays?: number
  /** Pre-period for CUPED and matching. Default 90 days. */
  readonly preDays?: number
  readonly retentionFromDays?: number
  readonly retentionToDays?: number
  readonly level?: number
  /** `auto` uses the holdout when the campaign has one. */
  readonly design?: 'auto' | 'holdout' | 'matched'
}

/** A matched (observational) estimate of one metric. */
export interface MatchedMetric {
  readonly metric: ExperimentMetricId
  readonly name: { readonly en: string; readonly zh: string }
  readonly effect: StratifiedEffect
}

/** The effect of one campaign. */
export interface ProgramEffectReport {
  readonly campaignId: string
  readonly kind: string
  readonly design: 'randomised-holdout' | 'matched-observational'
  /** Printed next to every matched estimate. */
  readonly caveat: string | null
  readonly windows: OutcomeWindows
  readonly campaignStart: string
  readonly treated: number
  readonly comparison: number
  /** Send cost (Σ touches.cost). */
  readonly cost: number
  /** Send cost, redeemed coupons' face value and bonus points at liability value (campaign-cost.ts). */
  readonly fullCost: CampaignCost
  /**
   * Randomised design only (null otherwise, or without the orders and net_revenue metrics): incremental
   * orders and revenue — the unadjusted difference of the group means × treated members, i.e. treated total −
   * holdout total × treated ÷ holdout members, the figures the catalog's campaign metrics give — and the return
   * on the full cost, where the revenue is counted before coupon discounts (incremental net revenue + redeemed
   * face value), so that the coupons are not subtracted twice: ROI = (revenue before coupons − full cost) ÷
   * full cost.
   */
  readonly economics: {
    readonly incrementalOrders: number
    readonly incrementalRevenue: number
    readonly roi: number | null
  } | null
  /** Randomised design: each metric, treatment against holdout (CUPED with the pre-period value). */
  readonly randomised: readonly MetricResult[]
  /** Matched design: each metric's ATT, and the covariate balance. */
  readonly matched: readonly MatchedMetric[]
  readonly balance: readonly Balance[]
  /** Win-back rate with and without the campaign and the uplift (percentage points) with its CI. */
  readonly winback: {
    readonly withCampaign: number
    readonly without: number
    readonly upliftPp: number
    readonly ciPp: readonly [number, number]
    /** Extra buyers = uplift × treated; full cost per extra buyer. */
    readonly incrementalBuyers: number
    readonly costPerIncrementalBuyer: number | null
  } | null
}

const OBSERVATIONAL =
  'Observational estimate: no randomised holdout. Touched members are compared with untouched members in the same ' +
  'strata of pre-period purchases, recency, tenure and activity; differences the strata do not capture (why members ' +
  'were chosen) can bias it. Treat it as a hypothesis to test with a holdout.'

/**
 * Measures campaign `campaignId` (a `touches` campaign id).
 * @throws NotFoundError when the campaign has no touches.
 * @example
 * const r = await programEffect(db.driver, 'winback_2026-09-16')
 * r.winback?.ciPp // uplift of the 30-day purchase rate in percentage points, 95 % CI
 */
export async function programEffect(
  driver: DuckDbDriver,
  campaignId: string,
  options: ProgramEffectOptions = {},
): Promise<ProgramEffectReport> {
  const campaigns = await listCampaignRows(driver)
  const campaign = campaigns.find((c) => c.campaignId === campaignId)
  if (!campaign) throw new NotFoundError(`campaign ${campaignId} has no touches`)
  const windows = resolveWindows({ ...options, preDays: options.preDays ?? 90 })
  const level = options.level ?? 0.95
  const metrics = options.metrics ?? ['conversion', 'orders', 'net_revenue', 'repeat_purchase']
  for (const m of metrics) outcomeColumnOf(m, 'a campaign effect')
  const design = options.design ?? 'auto'
  const randomised = design === 'holdout' || (design === 'auto' && campaign.holdout > 0)
  if (randomised) {
    if (campaign.holdout === 0)
      throw new NotFoundError(`campaign ${campaignId} has no holdout members`)
    const data = await memberOutcomes(driver, campaignUnits(campaignId), windows)
    const control = data.arms.indexOf('holdout')
    const results = metrics.map((m) =>
      analyseMetric(data, m, control, { level, cuped: true, alpha: 1 - level }),
    )
    const conv = results.find((r) => r.metric === 'conversion')
    const cmp = conv?.comparisons[0]
    const treatedN = conv?.arms.find((a) => a.arm === 'treatment')?.members ?? campaign.treatment
    const full = await campaignCost(driver, campaignId, campaign.cost)
    // Totals add up from the groups' own counts: the unadjusted difference, not CUPED's (which moves the point
    // estimate by θ × the chance difference of the pre-period means, to narrow the interval).
    const diff = (id: ExperimentMetricId): { d: number; n: number } | undefined => {
      const r = results.find((x) => x.metric === id)
      const c0 = r?.comparisons[0]
      if (r === undefined || c0 === undefined) return undefined
      return {
        d: c0.raw.difference,
        n: r.arms.find((a) => a.arm === 'treatment')?.members ?? campaign.treatment,
      }
    }
    const ord = diff('orders')
    const rev = diff('net_revenue')
    const economics =
      ord === undefined || rev === undefined
        ? null
        : {
            incrementalOrders: ord.d * ord.n,
            incrementalRevenue: rev.d * rev.n,
            roi:
              full.total > 0
                ? (rev.d * rev.n + full.coupons.faceValue - full.total) / full.total
                : null,
          }
    const winback =
      conv && cmp
        ? {
            withCampaign: cmp.raw.treatment,
            without: cmp.raw.control,
            upliftPp: 100 * cmp.effect.difference,
            ciPp: [100 * cmp.effect.ci[0], 100 * cmp.effect.ci[1]] as const,
            incrementalBuyers: cmp.effect.difference * treatedN,
            costPerIncrementalBuyer:
              cmp.effect.difference > 0 ? full.total / (cmp.effect.difference * treatedN) : null,
          }
        : null
    return {
      campaignId,
      kind: campaign.kind,
      design: 'randomised-holdout',
      caveat: null,
      windows,
      campaignStart: campaign.firstSent,
      treated: campaign.treatment,
      comparison: campaign.holdout,
      cost: campaign.cost,
      fullCost: full,
      economics,
      randomised: results,
      matched: [],
      balance: [],
      winback,
    }
  }
  const data = await memberOutcomes(driver, campaignPoolUnits(campaignId), windows)
  const treatedArm = data.arms.indexOf('treatment')
  const strata = matchingStrata(data)
  const c = data.columns
  const matched = metrics
    .filter((m) => EXPERIMENT_METRICS[m].kind !== 'ratio')
    .map((m): MatchedMetric => {
      const metric = EXPERIMENT_METRICS[m]
      const value = outcomeColumnOf(m, 'a campaign effect')
      const flag = metric.window === 'post' ? c.complete_post : c.complete_retention
      const keep: number[] = []
      for (let i = 0; i < c.arm.length; i++) if (flag[i] === 1) keep.push(i)
      const binary = metric.kind === 'proportion'
      const y = Float64Array.from(keep, (i) => {
        const v = c[value][i] as number
        return binary ? (v > 0 ? 1 : 0) : v
      })
      const effect = stratifiedDifference(
        Int32Array.from(keep, (i) => strata[i] as number),
        Uint8Array.from(keep, (i) => (c.arm[i] === treatedArm ? 1 : 0)),
        y,
        level,
      )
      return { metric: m, name: metric.name, effect }
    })
  const conv = matched.find((m) => m.metric === 'conversion')?.effect
  const full = await campaignCost(driver, campaignId, campaign.cost)
  return {
    campaignId,
    kind: campaign.kind,
    design: 'matched-observational',
    caveat: OBSERVATIONAL,
    windows,
    campaignStart: campaign.firstSent,
    treated: conv?.treatedMatched ?? campaign.treatment,
    comparison: conv?.comparisonMatched ?? 0,
    cost: campaign.cost,
    fullCost: full,
    economics: null,
    randomised: [],
    matched,
    balance: covariateBalance(data, strata, treatedArm),
    winback: conv
      ? {
          withCampaign: conv.treatedMean,
          without: conv.comparisonMean,
          upliftPp: 100 * conv.difference,
          ciPp: [100 * conv.ci[0], 100 * conv.ci[1]] as const,
          incrementalBuyers: conv.difference * conv.treatedMatched,
          costPerIncrementalBuyer:
            conv.difference > 0 ? full.total / (conv.difference * conv.treatedMatched) : null,
        }
      : null,
  }
}
