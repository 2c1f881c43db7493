/**
 * Paid-membership renewals (续费) with the shifted-beta-geometric model (Fader & Hardie 2007, "How to
 * Project Customer Retention", J. Interactive Marketing 21(1)): survivors by renewal period per plan and
 * start cohort from SQL (duckdb/summaries/renewals.ts), the sBG fit per plan (pooled over every member's
 * observed renewal decisions) and per cohort, the projected retention curve, and the expected remaining
 * lifetime and residual value of the active subscribers. Definitions: docs/models.md.
 * @module
 */
import { InputError, ModelFitError } from '../../core/errors.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import {
  renewalSurvivors,
  type ActiveSubscribers,
  type RenewalCohortGrain,
  type SurvivorGroup,
} from '../../duckdb/summaries/renewals.js'
import { assertInteriorMinimum, minimizeFromStarts, type Objective } from '../../models/optimize.js'
import {
  sbgExpectedResidualLifetime,
  sbgLogLikelihood,
  sbgRetentionCurve,
  sbgSurvivalCurve,
  type SbgParams,
} from '../../models/sbg.js'
import { observedInformationInverse } from '../../models/standard-errors.js'

/** Options of {@link fitRenewals}. Every field has a default. */
export interface RenewalsOptions {
  /** Cutoff day (YYYY-MM-DD, inclusive). Default: the last subscription start or renewal. */
  readonly asOf?: string
  /** Start-cohort grain. Default `month`. */
  readonly grain?: RenewalCohortGrain
  /** Only this plan. Default every plan. */
  readonly plan?: string
  /** Renewal periods (terms) to project. Default 12. */
  readonly horizon?: number
  /** Annual discount rate of the residual lifetime and value, applied per term. Default 0.1. */
  readonly annualDiscountRate?: number
}

/** A maximum-likelihood sBG fit with inverse-Hessian standard errors. */
export interface SbgGroupFit {
  readonly params: SbgParams
  /** Standard errors of α and β (observed information, delta method from log-parameters). */
  readonly standardErrors: { readonly alpha: number; readonly beta: number }
  readonly logLikelihood: number
  readonly iterations: number
  /** Members whose decisions entered the fit (horizon ≥ 1). */
  readonly members: number
  /** Most renewal decisions observed for a member. */
  readonly periods: number
  /** E[θ] = α / (α + β), the mean churn probability at the first renewal. */
  readonly meanChurn: number
}

/** Projected survival S(0 … H) and retention r_1 … r_H. */
export interface RenewalProjection {
  readonly survival: readonly number[]
  readonly retention: readonly number[]
}

/** Expected remaining lifetime of active subscribers (per member, and their value). */
export interface RemainingLifetime {
  readonly activeMembers: number
  /**
   * Mean expected number of future renewals per active member, Σ_{k≥1} S(n+k)/S(n) for a member who has
   * renewed n times; null when infinite (α ≤ 1: the mean lifetime diverges).
   */
  readonly expectedRenewals: number | null
  /** The same, discounted per term at the annual rate (Fader & Hardie 2010, DERL from the next renewal). */
  readonly discountedExpectedRenewals: number
  /** Σ over active members of price × discounted expected renewals. */
  readonly residualValue: number
}

/** One start cohort of a plan. */
export interface CohortRenewals {
  readonly cohort: string
  readonly subscribers: number
  /** Renewal decisions observed for every member of the cohort (N). */
  readonly periods: number
  /** n_0 … n_N. */
  readonly survivors: readonly number[]
  /** n_t / n_{t−1}, t = 1 … N (NaN after an empty period). */
  readonly observedRetention: readonly number[]
  readonly fit: SbgGroupFit | null
  /** Why the cohort has no fit of its own (too few periods, nobody churned, no convergence). */
  readonly fitError: string | null
  /** Whose parameters project the cohort: its own, the plan's pooled fit, or none. */
  readonly paramsFrom: 'cohort' | 'plan' | null
  readonly projection: RenewalProjection | null
  readonly remaining: RemainingLifetime | null
}

/** One plan. */
export interface PlanRenewals {
  readonly plan: string
  readonly termMonths: number
  readonly termDays: number
  readonly price: number
  readonly subscribers: number
  readonly activeMembers: number
  /** Observed retention r_t pooled over the members observed at decision t (discrete Kaplan–Meier). */
  readonly observedRetention: readonly number[]
  /** Members at risk at each decision t = 1 … (the denominators of `observedRetention`). */
  readonly atRisk: readonly number[]
  readonly fit: SbgGroupFit | null
  readonly fitError: string | null
  readonly projection: RenewalProjection | null
  readonly remaining: RemainingLifetime | null
  readonly cohorts: readonly CohortRenewals[]
}

/** What {@link fitRenewals} returns (JSON-serialisable but for non-finite numbers). */
export interface RenewalsReport {
  readonly asOf: string
  readonly grain: RenewalCohortGrain
  readonly horizon: number
  readonly annualDiscountRate: number
  readonly plans: readonly PlanRenewals[]
}

const DEFAULT_STARTS: readonly SbgParams[] = [
  { alpha: 1, beta: 1 },
  { alpha: 0.5, beta: 2 },
  { alpha: 2, beta: 0.5 },
  { alpha: 1, beta: 5 },
]

/**
 * sBG fit pooled over groups of members that share a censoring horizon: log L = Σ_groups log L(survivors)
 * (each member contributes P(T = t) for an observed lapse at decision t, or S(K) when still active after
 * K observed renewals). Groups with fewer than one decision carry no information and are skipped. Throws
 * InputError when no group has a decision, ModelFitError when there is no proper maximum (nobody churned,
 * or only one decision observed, where only α/(α+β) is identified).
 */
export function fitSbgPooled(groups: ReadonlyArray<ArrayLike<number>>): SbgGroupFit {
  const used = groups.filter((g) => g.length >= 2 && (g[0] as number) > 0)
  if (used.length === 0) {
    throw new InputError('no renewal decision observed yet: nothing to fit')
  }
  let n0 = 0
  let periods = 0
  for (const g of used) {
    n0 += g[0] as number
    periods = Math.max(periods, g.length - 1)
  }
  const natural = new Float64Array(2)
  const logLikelihood = (p: SbgParams, grad: Float64Array | null): number => {
    let ll = 0
    if (grad !== null) grad.fill(0)
    for (const g of used) {
      ll += sbgLogLikelihood(p, g, grad === null ? undefined : natural)
      if (grad !== null) {
        grad[0] = (grad[0] as number) + (natural[0] as number)
        grad[1] = (grad[1] as number) + (natural[1] as number)
      }
    }
    return ll
  }
  const gradient = new Float64Array(2)
  const at = (th: Float64Array): SbgParams => ({
    alpha: Math.exp(th[0] as number),
    beta: Math.exp(th[1] as number),
  })
  const objective: Objective = {
    value: (th) => -logLikelihood(at(th), null) / n0,
    valueAndGradient: (th, g) => {
      const p = at(th)
      const ll = logLikelihood(p, gradient)
      g[0] = (-p.alpha * (gradient[0] as number)) / n0
      g[1] = (-p.beta * (gradient[1] as number)) / n0
      return -ll / n0
    },
  }
  const starts = DEFAULT_STARTS.map((s) => Float64Array.of(Math.log(s.alpha), Math.log(s.beta)))
  const { best } = minimizeFromStarts(
    objective,
    starts,
    { gradientTolerance: 1e-8, maxIterations: 500 },
    'sBG',
  )
  assertInteriorMinimum(objective, best, 'sBG')
  const params = at(best.x)
  const cov = observedInformationInverse(Float64Array.of(params.alpha, params.beta), (t, g) => {
    logLikelihood({ alpha: t[0] as number, beta: t[1] as number }, g)
  })
  return {
    params,
    standardErrors: {
      alpha: params.alpha * Math.sqrt(cov[0] as number),
      beta: params.beta * Math.sqrt(cov[3] as number),
    },
    logLikelihood: -best.value * n0,
    iterations: best.iterations,
    members: n0,
    periods,
    meanChurn: params.alpha / (params.alpha + params.beta),
  }
}

function project(p: SbgParams, horizon: number): RenewalProjection {
  return {
    survival: Array.from(sbgSurvivalCurve(p, horizon)),
    retention: Array.from(sbgRetentionCurve(p, horizon)),
  }
}

/** Expected future renewals of active members (by renewals made so far) under `p`. */
function remainingLifetime(
  p: SbgParams,
  active: readonly ActiveSubscribers[],
  price: number,
  termDiscountRate: number,
): RemainingLifetime {
  let members = 0
  let plain = 0
  let discounted = 0
  for (const a of active) {
    members += a.members
    plain += a.members * sbgExpectedResidualLifetime(p, a.renewals, 0)
    discounted += a.members * sbgExpectedResidualLifetime(p, a.renewals, termDiscountRate)
  }
  return {
    activeMembers: members,
    expectedRenewals: members === 0 ? 0 : Number.isFinite(plain) ? plain / members : null,
    discountedExpectedRenewals: members === 0 ? 0 : discounted / members,
    residualValue: price * discounted,
  }
}

function failure(error: unknown): string {
  if (error instanceof ModelFitError || error instanceof InputError) return error.message
  throw error
}

function retentionOf(survivors: readonly number[]): number[] {
  const out: number[] = []
  for (let t = 1; t < survivors.length; t++) {
    const prev = survivors[t - 1] as number
    out.push(prev > 0 ? (survivors[t] as number) / prev : NaN)
  }
  return out
}

/**
 * Renewal analysis of every plan (or one): survivors per start cohort, the pooled sBG fit of the plan and
 * each cohort's own fit (cohorts with at least two observed renewal periods), retention projected
 * `horizon` terms ahead, and the expected remaining lifetime and residual value of the active
 * subscribers. A fit that fails is reported in `fitError` and never used; cohorts without their own fit
 * are projected with the plan's parameters (`paramsFrom: 'plan'`).
 * @example
 * const report = await fitRenewals(db.driver, { grain: 'quarter', horizon: 24 })
 */
export async function fitRenewals(
  driver: DuckDbDriver,
  options: RenewalsOptions = {},
): Promise<RenewalsReport> {
  const horizon = options.horizon ?? 12
  if (!(Number.isInteger(horizon) && horizon >= 1 && horizon <= 1200)) {
    throw InputError.single({
      field: 'horizon',
      value: String(horizon),
      reason: 'a whole number of terms, 1–1200',
    })
  }
  const annual = options.annualDiscountRate ?? 0.1
  if (!(Number.isFinite(annual) && annual >= 0)) {
    throw InputError.single({
      field: 'discount rate',
      value: String(annual),
      reason: 'must be ≥ 0',
    })
  }
  const s = await renewalSurvivors(driver, {
    ...(options.asOf === undefined ? {} : { asOf: options.asOf }),
    ...(options.grain === undefined ? {} : { grain: options.grain }),
    ...(options.plan === undefined ? {} : { plan: options.plan }),
  })
  const plans: PlanRenewals[] = s.plans.map((plan) => {
    const termYears = plan.termMonths >= 1 ? plan.termMonths / 12 : plan.termDays / 365.25
    const termRate = (1 + annual) ** termYears - 1
    const horizons = s.horizons.filter((g) => g.plan === plan.plan)
    const active = s.active.filter((a) => a.plan === plan.plan)
    let fit: SbgGroupFit | null = null
    let fitError: string | null = null
    try {
      fit = fitSbgPooled(horizons.map((g) => g.survivors))
    } catch (error) {
      fitError = failure(error)
    }
    // Discrete Kaplan–Meier: members observed at decision t are those with horizon ≥ t.
    const maxK = horizons.reduce((m, g) => Math.max(m, g.survivors.length - 1), 0)
    const atRisk: number[] = []
    const observedRetention: number[] = []
    for (let t = 1; t <= maxK; t++) {
      let before = 0
      let after = 0
      for (const g of horizons) {
        if (g.survivors.length - 1 >= t) {
          before += g.survivors[t - 1] as number
          after += g.survivors[t] as number
        }
      }
      atRisk.push(before)
      observedRetention.push(before > 0 ? after / before : NaN)
    }
    const cohorts = s.cohorts
      .filter((g) => g.plan === plan.plan)
      .map((g) => cohortRenewals(g, fit, active, plan.price, horizon, termRate))
    return {
      plan: plan.plan,
      termMonths: plan.termMonths,
      termDays: plan.termDays,
      price: plan.price,
      subscribers: plan.subscribers,
      activeMembers: active.reduce((n, a) => n + a.members, 0),
      observedRetention,
      atRisk,
      fit,
      fitError,
      projection: fit === null ? null : project(fit.params, horizon),
      remaining: fit === null ? null : remainingLifetime(fit.params, active, plan.price, termRate),
      cohorts,
    }
  })
  return {
    asOf: s.asOf,
    grain: s.grain,
    horizon,
    annualDiscountRate: annual,
    plans,
  }
}

function cohortRenewals(
  g: SurvivorGroup,
  planFit: SbgGroupFit | null,
  planActive: readonly ActiveSubscribers[],
  price: number,
  horizon: number,
  termRate: number,
): CohortRenewals {
  const periods = g.survivors.length - 1
  let fit: SbgGroupFit | null = null
  let fitError: string | null = null
  if (periods < 2) {
    fitError =
      periods === 0
        ? 'no renewal decision observed for every member yet'
        : 'one renewal period observed: only α/(α+β) is identified'
  } else {
    try {
      fit = fitSbgPooled([g.survivors])
    } catch (error) {
      fitError = failure(error)
    }
  }
  const params = fit?.params ?? planFit?.params ?? null
  const active = planActive.filter((a) => a.cohort === g.cohort)
  return {
    cohort: g.cohort as string,
    subscribers: g.survivors[0] as number,
    periods,
    survivors: g.survivors,
    observedRetention: retentionOf(g.survivors),
    fit,
    fitError,
    paramsFrom: fit !== null ? 'cohort' : params !== null ? 'plan' : null,
    projection: params === null ? null : project(params, horizon),
    remaining: params === null ? null : remainingLifetime(params, active, price, termRate),
  }
}
