/**
 * Prediction intervals of a CLV run by parametric bootstrap: parameter sets are drawn from the asymptotic
 * normal distribution of the log-parameters (the inverse observed information of the purchase model and of
 * Gamma–Gamma), every member's forecast is recomputed under each set, and percentiles are taken.
 *
 * Two kinds of interval, which answer different questions:
 * - the interval of the **expectation** (expected purchases E[Y(t) | x, t_x, T], CLV) holds the parameter
 *   uncertainty only: where the model's forecast would lie with other plausible parameters. It narrows as
 *   the base grows and does not cover what one member will actually buy;
 * - the **prediction interval of the realised purchases** adds the purchase process's own noise: under each
 *   parameter set, each member's purchases in the next t are drawn from the model's posterior given their
 *   summary (alive or not, their rates, then the purchases), so its percentiles are those of the count the
 *   member — or the portfolio, summing the members' draws within each parameter set — will realise.
 *   For one member the count is discrete and mostly 0 or 1, so its interval (inverse-CDF quantiles) covers
 *   at least the nominal share; for a portfolio the total is close to continuous and it covers the nominal
 *   share.
 * @module
 */
import { Rng } from '../../core/random.js'
import { InputError, NotFoundError } from '../../core/errors.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { fetchFloat64Columns } from '../../engine/summaries/columns.js'
import { sql } from '../../engine/sql/fragment.js'
import { groupSummaries } from '../../models/group-summaries.js'
import { outlookRunOf, type ResolvedClvOptions } from './clv.js'
import { getRun } from './store.js'
import { bgCnbdKLogLikelihood, bgCnbdKPosterior } from '../../models/bg-cnbd-k.js'
import { bgNbdLogLikelihood } from '../../models/bg-nbd.js'
import {
  conditionalExpectedAverageSpendMany,
  type GammaGammaParams,
} from '../../models/gamma-gamma.js'
import type { SummaryGroups } from '../../models/group-summaries.js'
import { mbgNbdLogLikelihood } from '../../models/mbg-nbd.js'
import { paretoNbdLogLikelihood } from '../../models/pareto-nbd.js'
import {
  drawLogNormalParameters,
  drawParetoPurchasesWhileAlive,
  drawPurchasesWhileAlive,
} from './posterior-draws.js'
import {
  gammaGammaStandardErrors,
  observedInformationInverse,
} from '../../models/standard-errors.js'
import {
  conditionalExpectedPurchases,
  discountedExpectedPurchases,
  probabilityAlive,
  quantiles,
  type PurchaseModel,
} from './models.js'

/** The free parameters of each purchase model, in the order of its covariance (BG/CNBD-k's k is fixed). */
function parameterNames(m: PurchaseModel): readonly string[] {
  return m.kind === 'pareto-nbd' ? ['r', 'alpha', 's', 'beta'] : ['r', 'alpha', 'a', 'b']
}

function withParameters(m: PurchaseModel, theta: Float64Array, offset = 0): PurchaseModel {
  const v = (i: number) => theta[offset + i] as number
  if (m.kind === 'pareto-nbd') {
    return { kind: m.kind, params: { r: v(0), alpha: v(1), s: v(2), beta: v(3) } }
  }
  const common = { r: v(0), alpha: v(1), a: v(2), b: v(3) }
  return m.kind === 'bg-cnbd-k'
    ? { kind: m.kind, params: { k: m.params.k, ...common } }
    : { kind: m.kind, params: common }
}

/**
 * The estimate of the purchase model's free parameters and the covariance of their logarithms: the inverse
 * of the observed information at the estimate, on the grouped summaries the model was fitted to. Throws
 * ModelFitError when the information is not positive definite.
 */
export function purchaseParameterCovariance(
  m: PurchaseModel,
  g: SummaryGroups,
): { estimate: Float64Array; logCovariance: Float64Array } {
  const params = m.params as unknown as Record<string, number>
  const estimate = Float64Array.from(parameterNames(m), (k) => params[k] as number)
  const logCovariance = observedInformationInverse(estimate, (t, out) => {
    const p = withParameters(m, t)
    if (p.kind === 'pareto-nbd') paretoNbdLogLikelihood(p.params, g.x, g.tx, g.T, g.weights, out)
    else if (p.kind === 'mbg-nbd') mbgNbdLogLikelihood(p.params, g.x, g.tx, g.T, g.weights, out)
    else if (p.kind === 'bg-cnbd-k')
      bgCnbdKLogLikelihood(p.params, g.x, g.tx, g.T, 0, g.weights, out)
    else bgNbdLogLikelihood(p.params, g.x, g.tx, g.T, g.weights, out)
  })
  return { estimate, logCovariance }
}

/** A point forecast and its interval. */
export interface Interval {
  readonly estimate: number
  readonly lower: number
  readonly upper: number
}

/** The prediction interval of a realised count (no point value: the expectation is the estimate). */
export interface CountInterval {
  readonly lower: number
  readonly upper: number
}

/** CLV of the members, to put intervals on it too (the run's horizon and discounting). */
export interface ClvIntervalInput {
  readonly spend: GammaGammaParams
  /** z̄ per member; members with x > 0 and z̄ > 0 enter the spend model (as in the fit). */
  readonly zbar: Float64Array
  readonly margin: number
  /** Months of the CLV horizon, their length in the model's time unit and the monthly discount rate. */
  readonly periods: number
  readonly periodLength: number
  readonly monthlyRate: number
}

/** What to compute. */
export interface IntervalRequest {
  /** Horizon of the purchase forecasts, in the model's time unit. */
  readonly t: number
  /** Central coverage of every interval, in (0, 1). Default 0.9. */
  readonly level?: number
  /** Parameter sets drawn. Default 200. */
  readonly draws?: number
  /** Seed of the draws. Default 1. */
  readonly seed?: number
  /** Members (indices into x, t_x, T) that get their own intervals. Default none. */
  readonly members?: readonly number[]
  /**
   * Portfolio of each member (0, 1, …; −1 for none): each portfolio gets intervals of its totals. Default:
   * every member in portfolio 0.
   */
  readonly portfolios?: Int32Array
  /** Also intervals of CLV. */
  readonly clv?: ClvIntervalInput
}

/** Intervals of one member's forecasts. */
export interface MemberIntervals {
  readonly index: number
  readonly expectedPurchases: Interval
  readonly realisedPurchases: CountInterval
  readonly clv?: Interval
}

/** Intervals of a portfolio's totals. */
export interface PortfolioIntervals {
  readonly members: number
  readonly expectedPurchases: Interval
  readonly realisedPurchases: CountInterval
  readonly clv?: Interval
}

/** The result of {@link predictionIntervals}. */
export interface PredictionIntervals {
  readonly level: number
  readonly draws: number
  readonly portfolios: readonly PortfolioIntervals[]
  readonly members: readonly MemberIntervals[]
}

/** Draws of one member's realised purchases per parameter set (more than one for per-member intervals). */
const MEMBER_SAMPLES = 4000

/** Inverse-CDF (type 1) quantile of a sample: the smallest value whose empirical CDF reaches p. */
function inverseCdfQuantile(sorted: Float64Array, p: number): number {
  const n = sorted.length
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(n * p) - 1))] as number
}

/**
 * Parametric-bootstrap intervals of the purchase forecasts (and CLV) of members with summaries (x, t_x, T)
 * under a fitted purchase model with the covariance of its log-parameters. The same parameter draws give
 * every member's and every portfolio's intervals.
 */
export function predictionIntervals(
  model: PurchaseModel,
  covariance: { estimate: Float64Array; logCovariance: Float64Array },
  g: SummaryGroups,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  request: IntervalRequest,
  spendCovariance?: { estimate: Float64Array; logCovariance: Float64Array },
): PredictionIntervals {
  const level = request.level ?? 0.9
  const draws = request.draws ?? 200
  if (!(level > 0 && level < 1)) {
    throw InputError.single({ field: 'level', value: String(level), reason: 'between 0 and 1' })
  }
  if (!(Number.isInteger(draws) && draws >= 20 && draws <= 100_000)) {
    throw InputError.single({
      field: 'draws',
      value: String(draws),
      reason: 'a whole number 20–100000',
    })
  }
  const n = x.length
  const members = request.members ?? []
  for (const i of members) {
    if (!(Number.isInteger(i) && i >= 0 && i < n)) {
      throw InputError.single({ field: 'members', value: String(i), reason: `an index 0–${n - 1}` })
    }
  }
  const labels = request.portfolios ?? new Int32Array(n)
  let portfolios = 0
  for (let i = 0; i < n; i++) portfolios = Math.max(portfolios, (labels[i] as number) + 1)
  const random = new Rng(request.seed ?? 1)
  const thetas = drawLogNormalParameters(
    covariance.estimate,
    covariance.logCovariance,
    draws,
    random,
  )
  const clv = request.clv
  if (clv !== undefined && spendCovariance === undefined) {
    throw new InputError('predictionIntervals: CLV intervals need the spend model’s covariance')
  }
  const spendThetas =
    clv === undefined || spendCovariance === undefined
      ? null
      : drawLogNormalParameters(
          spendCovariance.estimate,
          spendCovariance.logCovariance,
          draws,
          random,
        )
  const spendX = clv === undefined ? null : x.map((v, i) => ((clv.zbar[i] as number) > 0 ? v : 0))

  const np = parameterNames(model).length
  const expectedTotals = new Float64Array(draws * portfolios)
  const realisedTotals = new Float64Array(draws * portfolios)
  const clvTotals = new Float64Array(draws * portfolios)
  const memberExpected = members.map(() => new Float64Array(draws))
  const memberClv = members.map(() => new Float64Array(draws))
  const perDraw = Math.max(1, Math.ceil(MEMBER_SAMPLES / draws))
  const memberRealised = members.map(() => new Float64Array(draws * perDraw))

  for (let d = 0; d < draws; d++) {
    const m = withParameters(model, thetas, d * np)
    const expected = conditionalExpectedPurchases(m, request.t, g.x, g.tx, g.T)
    const alive = probabilityAlive(m, g.x, g.tx, g.T)
    const sampleOne = memberSampler(m, request.t, random)
    for (let i = 0; i < n; i++) {
      const label = labels[i] as number
      if (label < 0) continue
      const group = g.groupOf[i] as number
      const slot = d * portfolios + label
      expectedTotals[slot] = (expectedTotals[slot] as number) + (expected[group] as number)
      const y =
        random.uniform() < (alive[group] as number)
          ? sampleOne(x[i] as number, tx[i] as number, T[i] as number)
          : 0
      realisedTotals[slot] = (realisedTotals[slot] as number) + y
    }
    members.forEach((i, j) => {
      const group = g.groupOf[i] as number
      ;(memberExpected[j] as Float64Array)[d] = expected[group] as number
      const samples = memberRealised[j] as Float64Array
      for (let s = 0; s < perDraw; s++) {
        samples[d * perDraw + s] =
          random.uniform() < (alive[group] as number)
            ? sampleOne(x[i] as number, tx[i] as number, T[i] as number)
            : 0
      }
    })
    if (clv !== undefined && spendThetas !== null && spendX !== null) {
      const spend = conditionalExpectedAverageSpendMany(
        {
          p: spendThetas[d * 3] as number,
          q: spendThetas[d * 3 + 1] as number,
          gamma: spendThetas[d * 3 + 2] as number,
        },
        spendX,
        clv.zbar,
      )
      const discounted = discountedExpectedPurchases(
        m,
        x,
        tx,
        T,
        clv.periods,
        clv.periodLength,
        clv.monthlyRate,
        g,
      )
      for (let i = 0; i < n; i++) {
        const label = labels[i] as number
        if (label < 0) continue
        const slot = d * portfolios + label
        clvTotals[slot] =
          (clvTotals[slot] as number) +
          clv.margin * (spend[i] as number) * (discounted[i] as number)
      }
      members.forEach((i, j) => {
        ;(memberClv[j] as Float64Array)[d] =
          clv.margin * (spend[i] as number) * (discounted[i] as number)
      })
    }
  }

  // Point estimates at the fitted parameters.
  const expected = conditionalExpectedPurchases(model, request.t, g.x, g.tx, g.T)
  const pointClv =
    clv === undefined || spendX === null
      ? null
      : (() => {
          const spend = conditionalExpectedAverageSpendMany(clv.spend, spendX, clv.zbar)
          const discounted = discountedExpectedPurchases(
            model,
            x,
            tx,
            T,
            clv.periods,
            clv.periodLength,
            clv.monthlyRate,
            g,
          )
          return spend.map((s, i) => clv.margin * s * (discounted[i] as number))
        })()
  const lo = (1 - level) / 2
  const hi = 1 - lo
  const interval = (estimate: number, sample: Float64Array): Interval => {
    const [lower, upper] = quantiles(sample, [lo, hi]) as [number, number]
    return { estimate, lower, upper }
  }
  const countInterval = (sample: Float64Array): CountInterval => {
    const sorted = Float64Array.from(sample).sort()
    return { lower: inverseCdfQuantile(sorted, lo), upper: inverseCdfQuantile(sorted, hi) }
  }
  const column = (totals: Float64Array, label: number) =>
    Float64Array.from({ length: draws }, (_, d) => totals[d * portfolios + label] as number)
  const portfolioResults: PortfolioIntervals[] = []
  for (let label = 0; label < portfolios; label++) {
    let count = 0
    let e = 0
    let c = 0
    for (let i = 0; i < n; i++) {
      if (labels[i] !== label) continue
      count++
      e += expected[g.groupOf[i] as number] as number
      if (pointClv !== null) c += pointClv[i] as number
    }
    portfolioResults.push({
      members: count,
      expectedPurchases: interval(e, column(expectedTotals, label)),
      realisedPurchases: countInterval(column(realisedTotals, label)),
      ...(pointClv === null ? {} : { clv: interval(c, column(clvTotals, label)) }),
    })
  }
  return {
    level,
    draws,
    portfolios: portfolioResults,
    members: members.map((i, j) => ({
      index: i,
      expectedPurchases: interval(
        expected[g.groupOf[i] as number] as number,
        memberExpected[j] as Float64Array,
      ),
      realisedPurchases: countInterval(memberRealised[j] as Float64Array),
      ...(pointClv === null
        ? {}
        : { clv: interval(pointClv[i] as number, memberClv[j] as Float64Array) }),
    })),
  }
}

/**
 * Draws the purchases in the next t of a member who is alive now, from the posterior of their rates given
 * the summary: BG/NBD λ ~ Gamma(r + x, α + T), p ~ Beta(a, b + x) (MBG/NBD: b + x + 1); Pareto/NBD
 * λ ~ Gamma(r + x, α + T), μ ~ Gamma(s, β + T); BG/CNBD-k the phases done j by their posterior weights,
 * λ ~ Gamma(r + kx + j, α + T), p ~ Beta(a, b + x), the first gap Erlang-(k − j).
 */
function memberSampler(
  m: PurchaseModel,
  t: number,
  random: Rng,
): (x: number, tx: number, T: number) => number {
  switch (m.kind) {
    case 'pareto-nbd': {
      const p = m.params
      return (x, _tx, T) =>
        drawParetoPurchasesWhileAlive(
          random,
          t,
          random.gamma(p.r + x) / (p.alpha + T),
          random.gamma(p.s) / (p.beta + T),
        )
    }
    case 'bg-cnbd-k': {
      const p = m.params
      return (x, tx, T) => {
        const weights = bgCnbdKPosterior(p, x, tx, T).phaseWeights
        let u = random.uniform()
        let j = 0
        while (j < p.k - 1 && u > (weights[j] as number)) {
          u -= weights[j] as number
          j++
        }
        const lambda = random.gamma(p.r + p.k * x + j) / (p.alpha + T)
        return drawPurchasesWhileAlive(random, t, lambda, random.beta(p.a, p.b + x), p.k - j, p.k)
      }
    }
    default: {
      const p = m.params
      const extra = m.kind === 'mbg-nbd' ? 1 : 0
      return (x, _tx, T) =>
        drawPurchasesWhileAlive(
          random,
          t,
          random.gamma(p.r + x) / (p.alpha + T),
          random.beta(p.a, p.b + x + extra),
          1,
          1,
        )
    }
  }
}

/** Gamma–Gamma's estimate (p, q, γ) and the covariance of their logarithms, as fitted (x > 0, z̄ > 0). */
export function spendParameterCovariance(
  spend: GammaGammaParams,
  x: Float64Array,
  zbar: Float64Array,
): { estimate: Float64Array; logCovariance: Float64Array } {
  const spendX = x.map((v, i) => ((zbar[i] as number) > 0 ? v : 0))
  const se = gammaGammaStandardErrors(spend, spendX, zbar)
  return {
    estimate: Float64Array.of(spend.p, spend.q, spend.gamma),
    logCovariance: se.logCovariance,
  }
}

/** Settings of {@link clvRunIntervals}. */
export interface RunIntervalOptions {
  /** Default the latest CLV run. */
  readonly runId?: string
  /** Members (member ids) that get their own intervals. */
  readonly memberIds?: readonly number[]
  /** Central coverage, in (0, 1). Default 0.9. */
  readonly level?: number
  /** Parameter sets drawn. Default 200. */
  readonly draws?: number
  /** Default 1. */
  readonly seed?: number
}

/** Intervals of a stored CLV run: the portfolio's totals and the listed members'. */
export interface RunIntervals {
  readonly runId: string
  readonly level: number
  readonly draws: number
  /** Horizon of the purchase intervals: the run's CLV horizon (the `expected_purchases` column). */
  readonly horizonDays: number
  readonly portfolio: PortfolioIntervals
  readonly members: ReadonlyMap<number, Omit<MemberIntervals, 'index'>>
}

/**
 * Parametric-bootstrap intervals of a stored CLV run (default the latest): every member's summary is read
 * back from `member_scores`, the covariances of both models are recomputed at the stored parameters on
 * those summaries, and the run's expected purchases (over its horizon) and CLV get intervals — for the
 * portfolio total and for the members asked for. The cost grows with members × draws.
 */
export async function clvRunIntervals(
  driver: DuckDbDriver,
  options: RunIntervalOptions = {},
): Promise<RunIntervals> {
  const run = await getRun(driver, 'clv', options.runId)
  const outlook = outlookRunOf(run)
  const o = run.options as Partial<ResolvedClvOptions>
  const spend = (run.params as { spend: GammaGammaParams }).spend
  const c = await fetchFloat64Columns(
    driver,
    sql`SELECT member_id::DOUBLE AS member_id, x, t_x, t_cal, zbar FROM member_scores
      WHERE run_id = ${run.runId} ORDER BY member_id`,
    ['member_id', 'x', 't_x', 't_cal', 'zbar'],
  )
  const n = c.member_id.length
  const index = new Map<number, number>()
  for (let i = 0; i < n; i++) index.set(c.member_id[i] as number, i)
  const members = (options.memberIds ?? []).map((id) => {
    const i = index.get(id)
    if (i === undefined) throw new NotFoundError(`member ${id} has no score in run ${run.runId}`)
    return i
  })
  const unitDays = outlook.unit === 'day' ? 1 : 7
  const horizonMonths = o.horizonMonths ?? 12
  const horizonDays = horizonMonths * outlook.monthDays
  const g = groupSummaries(c.x, c.t_x, c.t_cal)
  const r = predictionIntervals(
    outlook.model,
    purchaseParameterCovariance(outlook.model, g),
    g,
    c.x,
    c.t_x,
    c.t_cal,
    {
      t: horizonDays / unitDays,
      ...(options.level === undefined ? {} : { level: options.level }),
      ...(options.draws === undefined ? {} : { draws: options.draws }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      members,
      clv: {
        spend,
        zbar: c.zbar,
        margin: o.margin ?? 1,
        periods: horizonMonths,
        periodLength: outlook.monthDays / unitDays,
        monthlyRate: (1 + (o.annualDiscountRate ?? 0.1)) ** (1 / 12) - 1,
      },
    },
    spendParameterCovariance(spend, c.x, c.zbar),
  )
  return {
    runId: run.runId,
    level: r.level,
    draws: r.draws,
    horizonDays,
    portfolio: r.portfolios[0] as PortfolioIntervals,
    members: new Map(
      r.members.map(({ index: i, ...rest }) => [c.member_id[i] as number, rest] as const),
    ),
  }
}
