/**
 * Customer lifetime value runs: per-member summaries from SQL (engine/summaries), a repeat-buying model
 * (BG/NBD by default, Pareto/NBD on request) and Gamma–Gamma for spend, fitted by maximum likelihood;
 * per-member P(alive), expected purchases and discounted CLV stored in `member_scores`, the run in
 * `model_runs`; and the calibration/holdout validation report. Definitions: docs/models.md.
 * @module
 */
import type { Clock } from '../../core/clock.js'
import { InputError, ModelFitError, NotFoundError } from '../../core/errors.js'
import type { Driver } from '../../engine/drivers/driver.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { sql } from '../../engine/sql/fragment.js'
import {
  lastPurchaseDay,
  repeatBuyingSummaries,
  transactionsByPeriod,
  type RepeatBuyingSummaries,
  type SpendBasis,
  type SummaryOrigin,
  type TimeUnit,
} from '../../engine/summaries/repeat-buying.js'
import { bgNbdLogLikelihood, fitBgNbd } from '../../models/bg-nbd.js'
import {
  conditionalExpectedAverageSpendMany,
  fitGammaGamma,
  frequencySpendCorrelation,
  type GammaGammaParams,
} from '../../models/gamma-gamma.js'
import { fitParetoNbd } from '../../models/pareto-nbd.js'
import { fitMbgNbd, mbgNbdLogLikelihood } from '../../models/mbg-nbd.js'
import { bgCnbdKLogLikelihood, fitBgCnbdK, type BgCnbdKOrder } from '../../models/bg-cnbd-k.js'
import { logGapsTotal } from '../../engine/summaries/inter-purchase.js'
import { groupSummaries, type SummaryGroups } from '../../models/group-summaries.js'
import {
  gammaGammaStandardErrors,
  covarianceFromInformation,
  logScaleStandardErrors,
  observedInformationInverse,
} from '../../models/standard-errors.js'
import {
  conditionalExpectedPurchases,
  discountedExpectedPurchases,
  expectedPurchasesOfGroups,
  expectedPurchasesPopulationOf,
  probabilityAlive,
  quantilesOfSorted,
  PURCHASE_MODELS,
  type PurchaseModel,
  type PurchaseModelKind,
} from './models.js'
import {
  ensureScoreTables,
  getRun,
  newRunId,
  saveRun,
  type MemberScoreColumns,
  type ModelRun,
} from './store.js'
import { memberOutlook, type OutlookRequest, type OutlookRun } from './horizons.js'

/** Options of a CLV fit. Every field has a default. */
export interface ClvOptions {
  /** Last calibration day (YYYY-MM-DD). Default: the last purchase day in the database. */
  readonly calibrationEnd?: string
  /** Last holdout day, for validation; default none. */
  readonly holdoutEnd?: string | null
  /** Default `week`. */
  readonly unit?: TimeUnit
  /** Default `first-purchase` (the CDNOW convention); `registration` counts every purchase from sign-up. */
  readonly origin?: SummaryOrigin
  /** Default `bg-nbd`. */
  readonly model?: PurchaseModelKind
  /** CLV horizon in months. Default 12. */
  readonly horizonMonths?: number
  /** Length of a CLV month in days (28–31). Default 365.25/12 = 30.4375. */
  readonly monthDays?: number
  /** Annual discount rate (0.1 = 10 % a year), applied monthly as (1 + d)^(1/12) − 1. Default 0.1. */
  readonly annualDiscountRate?: number
  /** Share of spend that is margin. Default 1 (CLV in revenue). */
  readonly margin?: number
  /** The project time zone: purchases are merged and days counted by its calendar days. Default UTC. */
  readonly timezone?: string
  /**
   * Order value Gamma–Gamma models: `net` (after discounts, the default) or `gross` (before discounts and
   * coupons). With `gross`, CLV is in gross spend too.
   */
  readonly spend?: SpendBasis
}

/** Options with every default filled in (what a run stores). */
export type ResolvedClvOptions = Required<Omit<ClvOptions, 'holdoutEnd' | 'timezone' | 'spend'>> & {
  readonly holdoutEnd: string | null
  /** Absent for UTC. */
  readonly timezone?: string
  /** Absent for net amounts. */
  readonly spend?: 'gross'
}

/** |ρ(x, z̄)| above this is reported as a violated Gamma–Gamma assumption. */
export const CORRELATION_WARNING = 0.3

/** A fitted CLV model set (no per-member output yet). */
export interface ClvFit {
  readonly options: ResolvedClvOptions
  readonly summaries: RepeatBuyingSummaries
  /** Identical (x, t_x, T) grouped once: the purchase fit and the scores both run on these. */
  readonly groups: SummaryGroups
  readonly purchase: PurchaseModel & {
    readonly logLikelihood: number
    readonly iterations: number
    readonly members: number
    readonly distinctSummaries: number
    /** Inverse-Hessian standard errors (BG/NBD only; null for Pareto/NBD). */
    readonly standardErrors: Readonly<Record<string, number>> | null
    /** BG/CNBD-k: the log-likelihood of every order k tried (the fit keeps the highest). */
    readonly orders?: readonly BgCnbdKOrder[]
  }
  readonly spend: {
    readonly params: GammaGammaParams
    readonly logLikelihood: number
    readonly members: number
    /** Repeat buyers left out because their mean repeat value is 0 (free orders). */
    readonly excludedZeroValue: number
    readonly standardErrors: Readonly<Record<string, number>>
  }
  /** Pearson ρ between x and z̄ among repeat buyers; the Gamma–Gamma model assumes ≈ 0. */
  readonly frequencySpendCorrelation: number
  readonly correlationWarning: boolean
}

/** The default CLV month: a twelfth of the Julian year, 30.4375 days. */
export const DAYS_PER_MONTH = 365.25 / 12
const UNIT_DAYS: Readonly<Record<TimeUnit, number>> = { week: 7, day: 1 }

function positive(value: number, field: string, allowZero = false): number {
  if (!(Number.isFinite(value) && (allowZero ? value >= 0 : value > 0))) {
    throw InputError.single({
      field,
      value: String(value),
      reason: allowZero ? 'must be ≥ 0' : 'must be > 0',
    })
  }
  return value
}

/** Validates options and fills the defaults (the calibration end from the data). */
export async function resolveClvOptions(
  driver: Driver,
  options: ClvOptions,
): Promise<ResolvedClvOptions> {
  let calibrationEnd = options.calibrationEnd
  if (calibrationEnd === undefined) {
    const last = await lastPurchaseDay(driver, options.timezone)
    if (last === null) throw new InputError('no purchases in the database: load orders first')
    calibrationEnd = last
  }
  const horizonMonths = options.horizonMonths ?? 12
  if (!(Number.isInteger(horizonMonths) && horizonMonths > 0 && horizonMonths <= 1200)) {
    throw InputError.single({
      field: 'horizon',
      value: String(horizonMonths),
      reason: 'a whole number of months, 1–1200',
    })
  }
  const monthDays = options.monthDays ?? DAYS_PER_MONTH
  if (!(Number.isFinite(monthDays) && monthDays >= 28 && monthDays <= 31)) {
    throw InputError.single({
      field: 'month days',
      value: String(monthDays),
      reason: 'a month of 28 to 31 days (default 30.4375, a twelfth of 365.25)',
    })
  }
  const model = options.model ?? 'bg-nbd'
  if (!PURCHASE_MODELS.includes(model)) {
    throw InputError.single({
      field: 'model',
      value: String(model),
      reason: PURCHASE_MODELS.join(', '),
    })
  }
  if (model === 'bg-cnbd-k' && (options.origin ?? 'first-purchase') !== 'first-purchase') {
    throw InputError.single({
      field: 'origin',
      value: String(options.origin),
      reason:
        'BG/CNBD-k models the gaps between purchases, so the clock starts at the first purchase (origin first-purchase)',
    })
  }
  const spend = options.spend ?? 'net'
  if (spend !== 'net' && spend !== 'gross')
    throw InputError.single({ field: 'spend', value: String(spend), reason: 'one of net, gross' })
  return {
    calibrationEnd,
    holdoutEnd: options.holdoutEnd ?? null,
    unit: options.unit ?? 'week',
    origin: options.origin ?? 'first-purchase',
    model,
    horizonMonths,
    monthDays,
    annualDiscountRate: positive(options.annualDiscountRate ?? 0.1, 'discount rate', true),
    margin: positive(options.margin ?? 1, 'margin'),
    ...(options.timezone === undefined || options.timezone === 'UTC'
      ? {}
      : { timezone: options.timezone }),
    ...(spend === 'gross' ? { spend: 'gross' as const } : {}),
  }
}

/**
 * Fits the purchase model and Gamma–Gamma on the SQL summaries. Throws InputError when there is nothing
 * to fit (no purchases, no repeat buyers) and ModelFitError when a fit does not converge — a run is never
 * built on unconverged parameters.
 */
export async function fitClv(driver: Driver, options: ClvOptions = {}): Promise<ClvFit> {
  const o = await resolveClvOptions(driver, options)
  const s = await repeatBuyingSummaries(driver, o)
  return fitClvSummaries(
    s,
    o,
    {},
    o.model === 'bg-cnbd-k' ? await clvLogGaps(driver, o) : undefined,
  )
}

/** Σ log gaps between purchase days of the calibration period (what BG/CNBD-k needs beyond x, t_x, T). */
export async function clvLogGaps(driver: Driver, o: ResolvedClvOptions): Promise<number> {
  return (await logGapsTotal(driver, o)).litt
}

/**
 * Above this many distinct summaries (purchase model) or repeat buyers (spend model), a fit first runs on
 * a systematic sample of about this size from the models' default starting points, and the full fit
 * starts from that estimate only. The maximum-likelihood estimate is the same (the full fit still runs to
 * the gradient tolerance); the several starts cost a fraction of a full pass each. Should the warm-started
 * fit fail, the full multi-start fit runs.
 */
export const WARM_START_SIZE = 20_000

/** Every k-th element of each array, k = ⌊n / WARM_START_SIZE⌋ (null when the data are small). */
function warmSample(n: number, ...arrays: Float64Array[]): Float64Array[] | null {
  const k = Math.floor(n / WARM_START_SIZE)
  if (k < 2) return null
  const m = Math.ceil(n / k)
  return arrays.map((a) => {
    const out = new Float64Array(m)
    for (let i = 0, j = 0; i < n; i += k, j++) out[j] = a[i] as number
    return out
  })
}

function withWarmStart<P>(
  sample: Float64Array[] | null,
  fitSample: (sample: Float64Array[]) => P,
  fitFull: (starts?: readonly P[]) => { readonly params: P },
  budget: FitBudget = NO_BUDGET,
): ReturnType<typeof fitFull> {
  const full = (starts?: readonly P[]) => {
    try {
      return fitFull(starts)
    } catch (error) {
      throw budget.explain(error)
    }
  }
  if (sample === null) return full()
  let start: P
  try {
    start = fitSample(sample)
  } catch (error) {
    if (error instanceof ModelFitError && !budget.expired()) return full()
    throw budget.explain(error)
  }
  try {
    return fitFull([start])
  } catch (error) {
    if (error instanceof ModelFitError && !budget.expired()) return full()
    throw budget.explain(error)
  }
}

/** A wall-clock budget shared by the fits of one model (the sample fit, the full fit, the fallback). */
interface FitBudget {
  /** The fit options' `timeLimitMs` for what is left of the budget (none without a limit). */
  readonly left: () => { readonly timeLimitMs?: number }
  readonly expired: () => boolean
  /** A ModelFitError that says the time ran out when it did; other errors unchanged. */
  readonly explain: (error: unknown) => unknown
}

const NO_BUDGET: FitBudget = { left: () => ({}), expired: () => false, explain: (e) => e }

function fitBudget(model: string, limitMs: number | undefined): FitBudget {
  if (limitMs === undefined) return NO_BUDGET
  const deadline = performance.now() + limitMs
  const expired = () => performance.now() >= deadline
  return {
    left: () => ({ timeLimitMs: Math.max(0, deadline - performance.now()) }),
    expired,
    explain: (error) =>
      error instanceof ModelFitError && expired()
        ? new ModelFitError(
            `the ${model} fit did not converge within its time limit of ${+(limitMs / 1000).toFixed(3)} s ` +
              '(choose BG/NBD, or fewer members or a shorter calibration period)',
            error.iterations,
          )
        : error,
  }
}

/** The fit and the log-likelihood of the two repeat-buying models with parameters (r, α, a, b). */
const FOUR_PARAMETER_MODELS = {
  'bg-nbd': { fit: fitBgNbd, logLikelihood: bgNbdLogLikelihood },
  'mbg-nbd': { fit: fitMbgNbd, logLikelihood: mbgNbdLogLikelihood },
} as const

/**
 * The repeat-buying model fitted by maximum likelihood on the grouped summaries (identical (x, t_x, T)
 * counted once), warm-started from a sample on large data, with inverse-Hessian standard errors for
 * BG/NBD. Throws ModelFitError when no start converges.
 */
export function fitPurchaseModel(
  kind: PurchaseModelKind,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  groups?: SummaryGroups,
  limits: FitLimits = {},
  litt?: number,
): ClvFit['purchase'] {
  const g = groups ?? groupSummaries(x, tx, T)
  if (kind === 'bg-cnbd-k') return fitBgCnbdKPurchase(g, litt)
  const budget = fitBudget(MODEL_NAMES[kind], limits.timeLimitMs)
  const sample = warmSample(g.x.length, g.x, g.tx, g.T, g.weights)
  if (kind === 'bg-nbd' || kind === 'mbg-nbd') {
    // BG/NBD and MBG/NBD share their parameters (r, α, a, b) and the way they are fitted.
    const model = FOUR_PARAMETER_MODELS[kind]
    const f = withWarmStart(
      sample,
      ([sx, stx, sT, sw]) =>
        model.fit(sx as Float64Array, stx as Float64Array, sT as Float64Array, {
          weights: sw,
          ...budget.left(),
        }).params,
      (starts) =>
        model.fit(g.x, g.tx, g.T, {
          weights: g.weights,
          ...(starts === undefined ? {} : { starts }),
          ...budget.left(),
        }),
      budget,
    ) as ReturnType<typeof fitBgNbd>
    const theta = Float64Array.of(f.params.r, f.params.alpha, f.params.a, f.params.b)
    // BG/NBD's fit returns its analytic observed information; MBG/NBD's Hessian is taken numerically.
    const cov =
      f.logInformation !== undefined
        ? covarianceFromInformation(f.logInformation, 4)
        : observedInformationInverse(theta, (t, out) => {
            model.logLikelihood(
              { r: t[0] as number, alpha: t[1] as number, a: t[2] as number, b: t[3] as number },
              g.x,
              g.tx,
              g.T,
              g.weights,
              out,
            )
          })
    return {
      kind,
      params: f.params,
      logLikelihood: f.logLikelihood,
      iterations: f.iterations,
      members: f.members,
      distinctSummaries: f.distinctSummaries,
      standardErrors: logScaleStandardErrors(R_ALPHA_A_B, theta, cov).standardErrors,
    }
  }
  const f = withWarmStart(
    sample,
    ([sx, stx, sT, sw]) =>
      fitParetoNbd(sx as Float64Array, stx as Float64Array, sT as Float64Array, {
        weights: sw,
        ...budget.left(),
      }).params,
    (starts) =>
      fitParetoNbd(g.x, g.tx, g.T, {
        weights: g.weights,
        ...(starts === undefined ? {} : { starts }),
        ...budget.left(),
      }),
    budget,
  ) as ReturnType<typeof fitParetoNbd>
  return {
    kind: 'pareto-nbd',
    params: f.params,
    logLikelihood: f.logLikelihood,
    iterations: f.iterations,
    members: f.members,
    distinctSummaries: f.distinctSummaries,
    standardErrors: null,
  }
}

/**
 * BG/CNBD-k on grouped summaries: every order k from 1 until the likelihood has fallen twice (each order
 * warm-started from the previous one), and inverse-Hessian standard errors of (r, α, a, b) at the chosen k.
 */
function fitBgCnbdKPurchase(g: SummaryGroups, litt: number | undefined): ClvFit['purchase'] {
  if (litt === undefined) {
    throw new InputError(
      'BG/CNBD-k needs the Σ log gaps between purchases of the calibration period (computed from the orders)',
    )
  }
  const f = fitBgCnbdK(g.x, g.tx, g.T, { weights: g.weights, litt })
  const k = f.params.k
  const theta = Float64Array.of(f.params.r, f.params.alpha, f.params.a, f.params.b)
  const cov = observedInformationInverse(theta, (t, out) => {
    bgCnbdKLogLikelihood(
      { k, r: t[0] as number, alpha: t[1] as number, a: t[2] as number, b: t[3] as number },
      g.x,
      g.tx,
      g.T,
      litt,
      g.weights,
      out,
    )
  })
  return {
    kind: 'bg-cnbd-k',
    params: f.params,
    logLikelihood: f.logLikelihood,
    iterations: f.iterations,
    members: f.members,
    distinctSummaries: f.distinctSummaries,
    standardErrors: logScaleStandardErrors(R_ALPHA_A_B, theta, cov).standardErrors,
    orders: f.orders,
  }
}

/** Gamma–Gamma on (x, z̄) (members with x = 0 are left out by the model), warm-started on large data. */
export function fitSpendModel(
  x: Float64Array,
  zbar: Float64Array,
): ReturnType<typeof fitGammaGamma> {
  return withWarmStart(
    warmSample(x.length, x, zbar),
    ([sx, sz]) => fitGammaGamma(sx as Float64Array, sz as Float64Array).params,
    (starts) => fitGammaGamma(x, zbar, starts === undefined ? {} : { starts }),
  ) as ReturnType<typeof fitGammaGamma>
}

/** Limits of a fit. */
export interface FitLimits {
  /**
   * Wall-clock budget of the purchase model's fit in milliseconds (the sample fit, the full fit and the
   * fallback together); ModelFitError saying so when it runs out. Default: no limit.
   */
  readonly timeLimitMs?: number
}

/** The parameters BG/NBD, MBG/NBD and BG/CNBD-k (at its k) share, in their covariance's order. */
const R_ALPHA_A_B = ['r', 'alpha', 'a', 'b'] as const

const MODEL_NAMES: Readonly<Record<PurchaseModelKind, string>> = {
  'bg-nbd': 'BG/NBD',
  'pareto-nbd': 'Pareto/NBD',
  'mbg-nbd': 'MBG/NBD',
  'bg-cnbd-k': 'BG/CNBD-k',
}

/** {@link fitClv} on summaries already fetched (pure computation). */
export function fitClvSummaries(
  s: RepeatBuyingSummaries,
  o: ResolvedClvOptions,
  limits: FitLimits = {},
  litt?: number,
): ClvFit {
  let buyers = 0
  for (let i = 0; i < s.x.length && buyers < 2; i++) if ((s.x[i] as number) > 0) buyers++
  if (buyers < 2) {
    throw new InputError(
      `only ${buyers} member(s) with repeat purchases up to ${o.calibrationEnd} (of ${s.x.length}): ` +
        'the repeat-buying models need more (choose a later calibration end, or load more orders)',
    )
  }
  const groups = groupSummaries(s.x, s.tx, s.T)
  const purchase = fitPurchaseModel(o.model, s.x, s.tx, s.T, groups, limits, litt)
  // Gamma–Gamma needs positive values: repeat buyers whose repeat orders were all free are left out of
  // the spend fit (and get the population mean spend weighted by their x, see conditional spend).
  const spendX = new Float64Array(s.x.length)
  let excluded = 0
  let repeatBuyers = 0
  for (let i = 0; i < s.x.length; i++) {
    if ((s.x[i] as number) > 0) {
      repeatBuyers++
      if ((s.zbar[i] as number) > 0) spendX[i] = s.x[i] as number
      else excluded++
    }
  }
  if (repeatBuyers - excluded < 2) {
    throw new InputError(
      `only ${repeatBuyers - excluded} member(s) with repeat purchases of positive value up to ${o.calibrationEnd}: ` +
        'the spend model needs more (choose a later calibration end)',
    )
  }
  const g = fitSpendModel(spendX, s.zbar)
  const rho = frequencySpendCorrelation(spendX, s.zbar)
  return {
    options: o,
    summaries: s,
    groups,
    purchase,
    spend: {
      params: g.params,
      logLikelihood: g.logLikelihood,
      members: g.members,
      excludedZeroValue: excluded,
      standardErrors:
        g.logInformation === undefined
          ? gammaGammaStandardErrors(g.params, spendX, s.zbar).standardErrors
          : spendStandardErrors(g.params, g.logInformation),
    },
    frequencySpendCorrelation: rho,
    correlationWarning: Math.abs(rho) > CORRELATION_WARNING,
  }
}

/**
 * Gamma–Gamma standard errors from the observed information in log-parameters that the fit's
 * interior-maximum check already computed: SE(θ) = θ · SE(log θ) (delta method).
 */
function spendStandardErrors(
  p: { readonly p: number; readonly q: number; readonly gamma: number },
  information: Float64Array,
): Record<'p' | 'q' | 'gamma', number> {
  const theta = Float64Array.of(p.p, p.q, p.gamma)
  const cov = covarianceFromInformation(information, 3)
  return logScaleStandardErrors(['p', 'q', 'gamma'] as const, theta, cov).standardErrors
}

/**
 * Per-member scores of a fit: P(alive), expected transactions over the horizon, expected spend per
 * transaction E[Z | x, z̄] (Gamma–Gamma) and CLV = margin · E[Z | x, z̄] · Σ_k discounted expected
 * transactions of month k (see models/clv.ts).
 */
export function scoreMembers(fit: ClvFit): MemberScoreColumns {
  const { x, tx, T, zbar, memberId } = fit.summaries
  const o = fit.options
  const periodLength = o.monthDays / UNIT_DAYS[o.unit]
  const monthlyRate = (1 + o.annualDiscountRate) ** (1 / 12) - 1
  // P(alive) and expected purchases depend on (x, t_x, T) only: computed once per distinct summary.
  const g = fit.groups
  const expand = (perGroup: Float64Array) => {
    const out = new Float64Array(x.length)
    for (let i = 0; i < out.length; i++) out[i] = perGroup[g.groupOf[i] as number] as number
    return out
  }
  const pAlive = expand(probabilityAlive(fit.purchase, g.x, g.tx, g.T))
  const expectedPurchases = expand(
    expectedPurchasesOfGroups(fit.purchase, [o.horizonMonths * periodLength], g)[0] as Float64Array,
  )
  // z̄ = 0 (free repeat orders) is treated like x = 0: the population mean, since Gamma–Gamma has no
  // likelihood for a zero mean.
  const spendX = x.map((v, i) => ((zbar[i] as number) > 0 ? v : 0))
  const expectedSpend = conditionalExpectedAverageSpendMany(fit.spend.params, spendX, zbar)
  const discounted = discountedExpectedPurchases(
    fit.purchase,
    x,
    tx,
    T,
    o.horizonMonths,
    periodLength,
    monthlyRate,
    g,
  )
  const clv = new Float64Array(x.length)
  for (let i = 0; i < clv.length; i++) {
    const d = discounted[i] as number
    clv[i] = d === 0 ? 0 : o.margin * (expectedSpend[i] as number) * d
  }
  return { memberId, x, tx, T, zbar, pAlive, expectedPurchases, expectedSpend, clv }
}

/** The CLV distribution over members and the value at risk. */
export interface ClvDistribution {
  readonly members: number
  readonly total: number
  readonly mean: number
  /** p10, p25, p50, p75, p90, p99. */
  readonly quantiles: Readonly<Record<'p10' | 'p25' | 'p50' | 'p75' | 'p90' | 'p99', number>>
  /** Share of total CLV held by the top 10 % of members. */
  readonly top10Share: number
  /**
   * P(alive)-weighted value at risk: Σ (1 − P(alive)) · V, where V = CLV / P(alive) is the value the
   * member would bring if still active (CLV is P(alive) times that value).
   */
  readonly valueAtRisk: number
  /** Members with P(alive) < 0.5, and their value if active. */
  readonly likelyInactive: { readonly members: number; readonly valueIfActive: number }
  readonly meanPAlive: number
  readonly expectedPurchases: number
}

/** Summarises per-member scores. */
export function clvDistribution(s: MemberScoreColumns): ClvDistribution {
  const n = s.clv.length
  let total = 0
  let var_ = 0
  let pa = 0
  let purchases = 0
  let inactive = 0
  let inactiveValue = 0
  for (let i = 0; i < n; i++) {
    const c = s.clv[i] as number
    const p = s.pAlive[i] as number
    total += c
    pa += p
    purchases += s.expectedPurchases[i] as number
    const ifActive = p > 0 ? c / p : 0
    var_ += (1 - p) * ifActive
    if (p < 0.5) {
      inactive++
      inactiveValue += ifActive
    }
  }
  // One sort serves the quantiles and the top decile's share.
  const sorted = Float64Array.from(s.clv).sort()
  const [p10, p25, p50, p75, p90, p99] = quantilesOfSorted(
    sorted,
    [0.1, 0.25, 0.5, 0.75, 0.9, 0.99],
  ) as [number, number, number, number, number, number]
  let top = 0
  for (let i = n - Math.ceil(n / 10); i < n; i++) top += sorted[i] as number
  return {
    members: n,
    total,
    mean: n > 0 ? total / n : NaN,
    quantiles: { p10, p25, p50, p75, p90, p99 },
    top10Share: total > 0 ? top / total : NaN,
    valueAtRisk: var_,
    likelyInactive: { members: inactive, valueIfActive: inactiveValue },
    meanPAlive: n > 0 ? pa / n : NaN,
    expectedPurchases: purchases,
  }
}

/** What `runClv` returns (and stores as the run's report). */
export interface ClvRunReport {
  readonly runId: string
  readonly options: ResolvedClvOptions
  readonly purchase: Omit<ClvFit['purchase'], never>
  readonly spend: ClvFit['spend']
  readonly frequencySpendCorrelation: number
  readonly correlationWarning: boolean
  readonly distribution: ClvDistribution
}

/**
 * Fits, scores every member and stores the run (`model_runs`) and the scores (`member_scores`).
 * @example
 * const report = await runClv(db.driver, { calibrationEnd: '2026-10-31', horizonMonths: 12 }, systemClock)
 */
export async function runClv(
  driver: DuckDbDriver,
  options: ClvOptions,
  clock: Clock,
): Promise<ClvRunReport> {
  const fit = await fitClv(driver, options)
  const scores = scoreMembers(fit)
  await ensureScoreTables(driver)
  const runId = await newRunId(driver, 'clv', clock)
  const report: ClvRunReport = {
    runId,
    options: fit.options,
    purchase: fit.purchase,
    spend: fit.spend,
    frequencySpendCorrelation: fit.frequencySpendCorrelation,
    correlationWarning: fit.correlationWarning,
    distribution: clvDistribution(scores),
  }
  await saveRun(
    driver,
    {
      runId,
      kind: 'clv',
      createdAt: clock.now(),
      options: fit.options,
      params: { purchase: fit.purchase.params, spend: fit.spend.params, model: fit.purchase.kind },
      logLikelihood: fit.purchase.logLikelihood,
      report,
    },
    scores,
  )
  return report
}

/** One stored member score, with the forecasts a listing asked for. */
export interface MemberScore {
  readonly memberId: number
  readonly x: number
  readonly tX: number
  readonly tCal: number
  readonly zbar: number
  readonly pAlive: number
  readonly expectedPurchases: number
  readonly expectedSpend: number
  readonly clv: number
  /** E[Y(t) | x, t_x, T] over the requested horizon (see `outlook.expectedPurchases`). */
  readonly expectedPurchasesHorizon?: number
  /** P(no purchase within the requested days after the calibration end). */
  readonly pNoPurchase?: number
  /** P(alive) on the requested day. */
  readonly pAliveAt?: number
}

/** Sort orders of {@link listMemberScores}. */
export const SCORE_ORDERS = ['clv', 'p_alive', 'expected_purchases', 'value_at_risk'] as const
export type ScoreOrder = (typeof SCORE_ORDERS)[number]

/** What the forecasts of a listing mean (the values are on each score). */
export interface OutlookInfo {
  readonly calibrationEnd: string
  readonly expectedPurchases?: { readonly horizon: string; readonly days: number }
  readonly noPurchase?: { readonly days: number }
  readonly aliveAt?: { readonly date: string; readonly days: number }
}

/** The purchase model and the facts a forecast needs, from a stored CLV run. */
export function outlookRunOf(run: ModelRun): OutlookRun {
  const o = run.options as Partial<ResolvedClvOptions>
  const p = run.params as { purchase: Record<string, number>; model?: PurchaseModelKind }
  const model = { kind: p.model ?? 'bg-nbd', params: p.purchase } as unknown as PurchaseModel
  return {
    model,
    unit: o.unit ?? 'week',
    calibrationEnd: o.calibrationEnd as string,
    monthDays: o.monthDays ?? DAYS_PER_MONTH,
  }
}

/**
 * Member scores of a run (default the latest CLV run), highest first by `order`, or one member's.
 * `value_at_risk` orders by (1 − P(alive)) · CLV / P(alive). With `outlook`, each score also carries
 * expected purchases over a horizon, P(no purchase within M days) and P(alive) at a later day, computed
 * from the run's model and the member's stored summary.
 */
export async function listMemberScores(
  driver: DuckDbDriver,
  options: {
    runId?: string
    limit?: number
    memberId?: number
    order?: ScoreOrder
    outlook?: OutlookRequest
  } = {},
): Promise<{ runId: string; scores: MemberScore[]; outlook?: OutlookInfo }> {
  const run = await getRun(driver, 'clv', options.runId)
  const order = options.order ?? 'clv'
  const orderBy = {
    clv: sql`clv DESC`,
    p_alive: sql`p_alive DESC`,
    expected_purchases: sql`expected_purchases DESC`,
    value_at_risk: sql`CASE WHEN p_alive > 0 THEN (1 - p_alive) * clv / p_alive ELSE 0 END DESC`,
  }[order]
  const limit = options.limit ?? 100
  const rows = await driver.all<Record<string, unknown>>(
    sql`SELECT member_id::DOUBLE AS member_id, x, t_x, t_cal, zbar, p_alive, expected_purchases, expected_spend, clv
      FROM member_scores WHERE run_id = ${run.runId}
      ${options.memberId === undefined ? sql`` : sql`AND member_id = ${options.memberId}`}
      ORDER BY ${orderBy}, member_id LIMIT ${limit}`,
  )
  if (options.memberId !== undefined && rows.length === 0) {
    throw new NotFoundError(`member ${options.memberId} has no score in run ${run.runId}`)
  }
  const scores = rows as unknown as MemberScore[]
  const request = options.outlook
  if (
    request === undefined ||
    (request.horizon === undefined &&
      request.churnDays === undefined &&
      request.aliveAt === undefined)
  )
    return { runId: run.runId, scores }
  const outlookRun = outlookRunOf(run)
  const column = (f: (s: MemberScore) => number) => Float64Array.from(scores, f)
  const o = memberOutlook(
    outlookRun,
    column((s) => s.x),
    column((s) => s.tX),
    column((s) => s.tCal),
    request,
  )
  return {
    runId: run.runId,
    scores: scores.map((s, i) => ({
      ...s,
      ...(o.expectedPurchases === undefined
        ? {}
        : { expectedPurchasesHorizon: o.expectedPurchases.values[i] as number }),
      ...(o.noPurchase === undefined ? {} : { pNoPurchase: o.noPurchase.values[i] as number }),
      ...(o.aliveAt === undefined ? {} : { pAliveAt: o.aliveAt.values[i] as number }),
    })),
    outlook: {
      calibrationEnd: outlookRun.calibrationEnd,
      ...(o.expectedPurchases === undefined
        ? {}
        : {
            expectedPurchases: {
              horizon: o.expectedPurchases.horizon,
              days: o.expectedPurchases.days,
            },
          }),
      ...(o.noPurchase === undefined ? {} : { noPurchase: { days: o.noPurchase.days } }),
      ...(o.aliveAt === undefined
        ? {}
        : { aliveAt: { date: o.aliveAt.date, days: o.aliveAt.days } }),
    },
  }
}

/** Predicted vs actual holdout transactions of the members with x = k in the calibration period. */
export interface FrequencyBucket {
  /** '0', '1', …, '6', '7+'. */
  readonly x: string
  readonly members: number
  readonly actual: number
  readonly predicted: number
}

/** The calibration/holdout validation report (JSON-serialisable). */
export interface ClvValidationReport {
  readonly options: ResolvedClvOptions
  readonly members: number
  readonly holdoutLength: number
  readonly purchase: ClvFit['purchase']
  readonly spend: ClvFit['spend']
  readonly frequencySpendCorrelation: number
  /** Σ over members of holdout transactions, actual and predicted (conditional expectation, eq. 10). */
  readonly totals: { readonly actual: number; readonly predicted: number }
  readonly byFrequency: readonly FrequencyBucket[]
  /** Per-member errors of the holdout transaction counts. */
  readonly errors: { readonly mae: number; readonly rmse: number; readonly bias: number }
  /** Holdout value: actual vs predicted Σ spend (E[Z | x, z̄] · E[Y(t)]). */
  readonly value: { readonly actual: number; readonly predicted: number }
  /**
   * Every repeat-buying model fitted to the same calibration summaries, with AIC, BIC and its holdout
   * errors; `preferred` is the model of lowest AIC (the models have 4 parameters each and are not nested,
   * so a likelihood-ratio test does not apply and AIC ranks them as the likelihood does). Null unless
   * asked for (`compareModels`), since it fits every model.
   */
  readonly modelComparison: {
    readonly models: readonly ModelComparisonRow[]
    readonly preferred: PurchaseModelKind | null
  } | null
  /**
   * Tracking data: cumulative transactions per time unit since `start` (actual and expected, the sum of
   * each member's E[X(t − origin)]); `calibrationPeriods` marks where the holdout begins.
   */
  readonly tracking: {
    readonly start: string
    readonly unit: TimeUnit
    readonly calibrationPeriods: number
    readonly actual: readonly number[]
    readonly predicted: readonly number[]
  }
}

/** One model of the calibration/holdout comparison; a model that did not converge has `error` and nulls. */
export interface ModelComparisonRow {
  readonly kind: PurchaseModelKind
  readonly parameters: number
  readonly logLikelihood: number | null
  /** 2k − 2 log L. */
  readonly aic: number | null
  /** k log n − 2 log L, n members. */
  readonly bic: number | null
  readonly holdout: {
    readonly predicted: number
    readonly mae: number
    readonly rmse: number
  } | null
  readonly error?: string
}

/** Free parameters of a model: four, and BG/CNBD-k's order k counted as a fifth. */
function parameterCount(kind: PurchaseModelKind): number {
  return kind === 'bg-cnbd-k' ? 5 : 4
}

function comparisonRow(
  kind: PurchaseModelKind,
  fit: () => ClvFit['purchase'],
  s: RepeatBuyingSummaries,
): ModelComparisonRow {
  let purchase: ClvFit['purchase']
  try {
    purchase = fit()
  } catch (error) {
    if (!(error instanceof ModelFitError)) throw error
    return {
      kind,
      parameters: parameterCount(kind),
      logLikelihood: null,
      aic: null,
      bic: null,
      holdout: null,
      error: error.message,
    }
  }
  const n = s.x.length
  const predicted = conditionalExpectedPurchases(purchase, s.holdoutLength, s.x, s.tx, s.T)
  let total = 0
  let abs = 0
  let sq = 0
  for (let i = 0; i < n; i++) {
    const d = (predicted[i] as number) - (s.holdoutPurchases[i] as number)
    total += predicted[i] as number
    abs += Math.abs(d)
    sq += d * d
  }
  const k = parameterCount(kind)
  return {
    kind,
    parameters: k,
    logLikelihood: purchase.logLikelihood,
    aic: 2 * k - 2 * purchase.logLikelihood,
    bic: k * Math.log(n) - 2 * purchase.logLikelihood,
    holdout: { predicted: total, mae: abs / n, rmse: Math.sqrt(sq / n) },
  }
}

/**
 * Fits on the calibration period and compares with the holdout (Fader, Hardie & Lee 2005, §4:
 * conditional expectations by calibration frequency and the cumulative tracking plot).
 */
export async function clvValidationReport(
  driver: Driver,
  options: ClvOptions & {
    readonly holdoutEnd: string
    readonly compareModels?: boolean
    /**
     * How to fit the summaries; by default {@link fitClvSummaries} on this thread. The API passes a fit on
     * a worker thread with a time limit, so that a long fit does not hold up other requests.
     */
    readonly fit?: (s: RepeatBuyingSummaries, o: ResolvedClvOptions) => Promise<ClvFit>
  },
): Promise<ClvValidationReport> {
  const o = await resolveClvOptions(driver, options)
  const s = await repeatBuyingSummaries(driver, o)
  // BG/CNBD-k also needs the Σ log gaps of the calibration period (first-purchase origin only).
  const litt =
    o.model === 'bg-cnbd-k' || (options.compareModels === true && o.origin === 'first-purchase')
      ? await clvLogGaps(driver, o)
      : undefined
  const fit =
    options.fit === undefined || litt !== undefined
      ? fitClvSummaries(s, o, {}, litt)
      : await options.fit(s, o)
  const n = s.x.length
  const predicted = conditionalExpectedPurchases(fit.purchase, s.holdoutLength, s.x, s.tx, s.T)
  const spendX = s.x.map((v, i) => ((s.zbar[i] as number) > 0 ? v : 0))
  const spend = conditionalExpectedAverageSpendMany(fit.spend.params, spendX, s.zbar)
  const buckets = Array.from({ length: 8 }, (_, k) => ({
    x: k === 7 ? '7+' : String(k),
    members: 0,
    actual: 0,
    predicted: 0,
  }))
  let abs = 0
  let sq = 0
  let bias = 0
  let totalActual = 0
  let totalPredicted = 0
  let valueActual = 0
  let valuePredicted = 0
  for (let i = 0; i < n; i++) {
    const a = s.holdoutPurchases[i] as number
    const p = predicted[i] as number
    const b = buckets[Math.min(7, s.x[i] as number)] as {
      members: number
      actual: number
      predicted: number
    }
    b.members++
    b.actual += a
    b.predicted += p
    abs += Math.abs(p - a)
    sq += (p - a) ** 2
    bias += p - a
    totalActual += a
    totalPredicted += p
    valueActual += s.holdoutValue[i] as number
    valuePredicted += p * (spend[i] as number)
  }
  const byFrequency = buckets
    .filter((b) => b.members > 0)
    .map((b) => ({ ...b, actual: b.actual / b.members, predicted: b.predicted / b.members }))

  // Tracking: members grouped by origin (T differs only by the origin day); expected cumulative
  // transactions at the end of period k are Σ_members E[X(end_k − origin)].
  const track = await transactionsByPeriod(driver, o)
  const unitDays = UNIT_DAYS[o.unit]
  const startMs = Date.parse(`${track.start}T00:00:00Z`)
  const calMs = Date.parse(`${o.calibrationEnd}T00:00:00Z`)
  const byOrigin = new Map<number, number>()
  for (let i = 0; i < n; i++) {
    // Origin offset from `start` in units (exact: both are whole days).
    const off =
      Math.round(((calMs - startMs) / 86_400_000 - (s.T[i] as number) * unitDays) * 1e6) / 1e6
    byOrigin.set(off / unitDays, (byOrigin.get(off / unitDays) ?? 0) + 1)
  }
  const periods = track.counts.length
  const actual: number[] = []
  const expected: number[] = []
  let cum = 0
  for (let k = 0; k < periods; k++) {
    cum += track.counts[k] as number
    actual.push(cum)
    let e = 0
    for (const [origin, count] of byOrigin) {
      const t = k + 1 - origin
      if (t > 0) e += count * expectedPurchasesPopulationOf(fit.purchase, t)
    }
    expected.push(e)
  }
  const models = (options.compareModels === true ? PURCHASE_MODELS : []).map((kind) =>
    comparisonRow(
      kind,
      () => {
        if (kind === fit.purchase.kind) return fit.purchase
        if (kind === 'bg-cnbd-k' && litt === undefined) {
          throw new ModelFitError(
            'BG/CNBD-k models the gaps between purchases and needs origin first-purchase',
            0,
          )
        }
        return fitPurchaseModel(kind, s.x, s.tx, s.T, fit.groups, {}, litt)
      },
      s,
    ),
  )
  let preferred: PurchaseModelKind | null = null
  let bestAic = Infinity
  for (const m of models) {
    if (m.aic !== null && m.aic < bestAic) {
      bestAic = m.aic
      preferred = m.kind
    }
  }
  return {
    options: o,
    members: n,
    holdoutLength: s.holdoutLength,
    modelComparison: options.compareModels === true ? { models, preferred } : null,
    purchase: fit.purchase,
    spend: fit.spend,
    frequencySpendCorrelation: fit.frequencySpendCorrelation,
    totals: { actual: totalActual, predicted: totalPredicted },
    byFrequency,
    errors: { mae: abs / n, rmse: Math.sqrt(sq / n), bias: bias / n },
    value: { actual: valueActual, predicted: valuePredicted },
    tracking: {
      start: track.start,
      unit: o.unit,
      calibrationPeriods: (calMs - startMs) / 86_400_000 / unitDays,
      actual,
      predicted: expected,
    },
  }
}
