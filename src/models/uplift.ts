/**
 * Multi-armed uplift models for randomised campaigns with a holdout, and their evaluation.
 *
 * - T-learner (two models): one logistic regression of the outcome per arm and one for the holdout;
 *   the uplift of arm k is μ_k(x) − μ_0(x) (Künzel, Sekhon, Bickel & Yu 2019, "Metalearners for
 *   estimating heterogeneous treatment effects", PNAS 116(10), §2 "T-learner").
 * - X-learner (same paper, §3): the T-learner's response models impute each person's effect
 *   (D¹ = Y − μ_0(x) for the treated, D⁰ = μ_k(x) − Y for the holdout), two ridge regressions learn
 *   τ¹ and τ⁰ from them, and τ(x) = e·τ⁰(x) + (1 − e)·τ¹(x) with e the arm's share of the pair
 *   (randomised, so constant). The effect regressions see the features, the holdout's predicted
 *   non-response 1 − μ_0(x) and their products: a retention offer can only move those who would not
 *   come back anyway, so effects scale with 1 − μ_0.
 * - Bring-back model: the same premise made the model's form. The holdout's logistic response μ_0(x)
 *   is fitted first; then for each arm the share b_k(x) of would-be non-buyers the arm brings back, a
 *   logistic function of the features, by maximum likelihood on the arm's members with
 *   P(y = 1 | arm k, x) = μ_0(x) + (1 − μ_0(x))·b_k(x) (μ_0 held fixed, L2 on the standardised weights).
 *   The uplift is (1 − μ_0(x))·b_k(x): never negative, so it suits offers that can only bring members
 *   back (their harm, such as coupons given to members who buy anyway, is a cost, not lost retention).
 *   One logistic curve per arm instead of a difference of two noisy response models or an unbounded
 *   regression of noisy imputed effects: far less variance with a few thousand randomised members.
 * - Qini curve and AUUC per arm (Radcliffe 2007, "Using control groups to target on predicted lift",
 *   Direct Marketing Analytics Journal; Gutierrez & Gérardy 2017, PMLR 67): people ranked by predicted
 *   uplift, Q(φ) = Y_T(φ) − Y_C(φ)·N_T(φ)/N_C(φ) incremental responders in the top share φ, against the
 *   random ranking's straight line; and the observed uplift in the top k %.
 *
 * Pure: typed arrays in, readonly results out.
 * @module
 */
import { InputError } from '../core/errors.js'
import {
  fitLogisticRegression,
  fitStandardisedLinearScore,
  logistic,
  predictLogistic,
  softplus,
  type LogisticModel,
} from './logistic-regression.js'
import { fitRidgeRegression, predictRidge, type RidgeModel } from './ridge-regression.js'

/** Randomised training data: features (row-major), arm per row (0 = holdout, 1…K), 0/1 outcome. */
export interface UpliftData {
  readonly X: Float64Array
  readonly features: readonly string[]
  readonly arm: ArrayLike<number>
  readonly y: ArrayLike<number>
  /** Number of offered arms K (arms are 1…K). */
  readonly arms: number
}

export type UpliftLearner = 't-learner' | 'x-learner' | 'bring-back'
export const UPLIFT_LEARNERS: readonly UpliftLearner[] = ['t-learner', 'x-learner', 'bring-back']

/** A fitted multi-armed uplift model. */
export interface UpliftModel {
  readonly learner: UpliftLearner
  readonly features: readonly string[]
  /** Outcome model of the holdout, then of each arm 1…K. */
  readonly control: LogisticModel
  readonly treated: readonly LogisticModel[]
  /** X-learner only: effect regressions per arm (on the treated, on the holdout) and the arm's share e. */
  readonly effects:
    | readonly { readonly tau1: RidgeModel; readonly tau0: RidgeModel; readonly share: number }[]
    | null
  /** Bring-back model only: per arm, the logistic share b_k(x) of would-be non-buyers it brings back. */
  readonly bringBack?: {
    readonly models: readonly LogisticModel[]
    /** Columns of the features the share brought back uses. */
    readonly columns: readonly number[]
  }
}

/** Per-row predictions: the holdout response, and per arm its response and uplift. */
export interface UpliftPrediction {
  readonly control: Float64Array
  readonly response: readonly Float64Array[]
  readonly uplift: readonly Float64Array[]
}

/** Options of {@link fitUplift}. */
export interface UpliftOptions {
  readonly learner?: UpliftLearner
  /**
   * L2 penalty of the response models (default 1e-2) and of the effect regressions (X-learner, default
   * 1e-1) or of the share brought back (bring-back model, default 1e-2).
   */
  readonly l2?: number
  readonly effectL2?: number
  /**
   * Bring-back model only: the features of the share brought back b_k(x) (default: all). The holdout's
   * response model always uses all of them.
   */
  readonly effectFeatures?: readonly string[]
}

function selectColumns(X: Float64Array, p: number, cols: readonly number[]): Float64Array {
  const n = X.length / p
  const out = new Float64Array(n * cols.length)
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < cols.length; c++)
      out[i * cols.length + c] = X[i * p + (cols[c] as number)] as number
  }
  return out
}

function rowsOf(data: UpliftData, arm: number): { X: Float64Array; y: Float64Array } {
  const p = data.features.length
  let n = 0
  for (let i = 0; i < data.y.length; i++) if (data.arm[i] === arm) n++
  const X = new Float64Array(n * p)
  const y = new Float64Array(n)
  let r = 0
  for (let i = 0; i < data.y.length; i++) {
    if (data.arm[i] !== arm) continue
    X.set(data.X.subarray(i * p, (i + 1) * p), r * p)
    y[r++] = data.y[i] as number
  }
  return { X, y }
}

/** The effect regressions' design: features, 1 − μ_0 and each feature × (1 − μ_0). */
function effectDesign(X: Float64Array, p: number, mu0: Float64Array): Float64Array {
  const n = mu0.length
  const q = 2 * p + 1
  const out = new Float64Array(n * q)
  for (let i = 0; i < n; i++) {
    const s = 1 - (mu0[i] as number)
    for (let j = 0; j < p; j++) {
      const v = X[i * p + j] as number
      out[i * q + j] = v
      out[i * q + p + j] = v * s
    }
    out[i * q + 2 * p] = s
  }
  return out
}

function effectFeatures(features: readonly string[]): string[] {
  return [...features, ...features.map((f) => `${f}×(1−μ0)`), '1−μ0']
}

/**
 * Fits a T- or X-learner on randomised data. Throws InputError when an arm (or the holdout) has no rows
 * or only one outcome class.
 */
export function fitUplift(data: UpliftData, options: UpliftOptions = {}): UpliftModel {
  const p = data.features.length
  const n = data.y.length
  if (data.X.length !== n * p) {
    throw new InputError(`fitUplift: X has ${data.X.length} values, expected ${n} × ${p}`)
  }
  if (!(Number.isInteger(data.arms) && data.arms >= 1)) {
    throw InputError.single({ field: 'arms', value: String(data.arms), reason: 'must be ≥ 1' })
  }
  const learner = options.learner ?? 'x-learner'
  const l2 = options.l2 ?? 1e-2
  const fitArm = (k: number): LogisticModel => {
    const rows = rowsOf(data, k)
    if (rows.y.length === 0) {
      throw new InputError(`fitUplift: ${k === 0 ? 'the holdout' : `arm ${k}`} has no rows`)
    }
    return fitLogisticRegression(rows.X, rows.y, data.features, { l2 })
  }
  const control = fitArm(0)
  const treated: LogisticModel[] = []
  for (let k = 1; k <= data.arms; k++) treated.push(fitArm(k))
  if (learner === 't-learner') {
    return { learner, features: [...data.features], control, treated, effects: null }
  }
  if (learner === 'bring-back') {
    const keep = options.effectFeatures ?? data.features
    const cols = keep.map((f) => {
      const j = data.features.indexOf(f)
      if (j < 0)
        throw InputError.single({
          field: 'effectFeatures',
          value: f,
          reason: 'not a feature of the data',
        })
      return j
    })
    const bringBack = treated.map((_, idx) => {
      const rows = rowsOf(data, idx + 1)
      return fitBringBack(
        selectColumns(rows.X, p, cols),
        rows.y,
        predictLogistic(control, rows.X),
        keep,
        options.effectL2 ?? 1e-2,
      )
    })
    return {
      learner,
      features: [...data.features],
      control,
      treated,
      effects: null,
      bringBack: { models: bringBack, columns: cols },
    }
  }
  const ctrl = rowsOf(data, 0)
  const mu0Ctrl = predictLogistic(control, ctrl.X)
  const designCtrl = effectDesign(ctrl.X, p, mu0Ctrl)
  const names = effectFeatures(data.features)
  const effectL2 = options.effectL2 ?? 1e-1
  const effects = treated.map((model, idx) => {
    const rows = rowsOf(data, idx + 1)
    const mu0 = predictLogistic(control, rows.X)
    const d1 = new Float64Array(rows.y.length)
    for (let i = 0; i < d1.length; i++) d1[i] = (rows.y[i] as number) - (mu0[i] as number)
    const tau1 = fitRidgeRegression(effectDesign(rows.X, p, mu0), d1, names, { l2: effectL2 })
    const muK = predictLogistic(model, ctrl.X)
    const d0 = new Float64Array(ctrl.y.length)
    for (let i = 0; i < d0.length; i++) d0[i] = (muK[i] as number) - (ctrl.y[i] as number)
    const tau0 = fitRidgeRegression(designCtrl, d0, names, { l2: effectL2 })
    return { tau1, tau0, share: rows.y.length / (rows.y.length + ctrl.y.length) }
  })
  return { learner, features: [...data.features], control, treated, effects }
}

/** Predicted holdout response, arm responses and uplifts for each row of `X`. */
export function predictUplift(model: UpliftModel, X: Float64Array): UpliftPrediction {
  const p = model.features.length
  const control = predictLogistic(model.control, X)
  const response = model.treated.map((m) => predictLogistic(m, X))
  let uplift: Float64Array[]
  if (model.bringBack !== undefined) {
    const Xb = selectColumns(X, p, model.bringBack.columns)
    uplift = model.bringBack.models.map((b) =>
      predictLogistic(b, Xb).map((v, i) => (1 - (control[i] as number)) * v),
    )
    return {
      control,
      response: uplift.map((u) => u.map((v, i) => (control[i] as number) + v)),
      uplift,
    }
  }
  if (model.effects === null) {
    uplift = response.map((r) => r.map((v, i) => v - (control[i] as number)))
  } else {
    const design = effectDesign(X, p, control)
    uplift = model.effects.map((e) => {
      const t1 = predictRidge(e.tau1, design)
      const t0 = predictRidge(e.tau0, design)
      return t1.map((v, i) => e.share * (t0[i] as number) + (1 - e.share) * v)
    })
  }
  return { control, response, uplift }
}

/**
 * Maximum likelihood of b(x) = σ(c + w·z(x)) (z the standardised features) in
 * P(y = 1) = μ_0 + (1 − μ_0)·b, with μ_0 given per row; mean negative log-likelihood plus (λ/2)‖w‖²,
 * minimised by BFGS with the analytic gradient. Returned as a logistic model (of b).
 */
function fitBringBack(
  X: Float64Array,
  y: Float64Array,
  mu0: Float64Array,
  features: readonly string[],
  l2: number,
): LogisticModel {
  const n = y.length
  // Rows' μ_0 kept inside (0, 1) so that every outcome has a positive likelihood.
  const m0 = mu0.map((v) => Math.min(1 - 1e-9, Math.max(1e-9, v)))
  // Start from the mean share brought back (observed response over the holdout's, clamped).
  let ySum = 0
  let m0Sum = 0
  for (let i = 0; i < n; i++) {
    ySum += y[i] as number
    m0Sum += m0[i] as number
  }
  const share = Math.min(0.5, Math.max(0.01, (ySum - m0Sum) / Math.max(1, n - m0Sum)))
  return fitStandardisedLinearScore(
    X,
    n,
    features,
    (i, z, dz) => {
      const b = logistic(z)
      const s = 1 - (m0[i] as number)
      if ((y[i] as number) === 1) {
        const pr = 1 - s * (1 - b)
        if (dz !== null) dz[0] = (-s * b * (1 - b)) / pr
        return -Math.log(pr)
      }
      // log(1 − P) = log(1 − μ_0) + log(1 − b) = log(1 − μ_0) − softplus(z)
      if (dz !== null) dz[0] = b
      return -(Math.log(s) - softplus(z))
    },
    { l2, intercept: Math.log(share / (1 - share)), maxIterations: 1000, what: 'bring-back model' },
  )
}

/** A point of a Qini curve: the top `share` of people by score and their incremental responders. */
export interface QiniPoint {
  readonly share: number
  readonly incremental: number
}

/** Qini evaluation of one arm against the holdout on held-out randomised data. */
export interface QiniReport {
  readonly treated: number
  readonly control: number
  /** Observed incremental responders over everyone (the curve's end point). */
  readonly totalIncremental: number
  /** The curve at every tenth of the population (share 0 … 1). */
  readonly curve: readonly QiniPoint[]
  /** Area under the Qini curve per person, the random ranking's (the diagonal: total / 2) and the gap. */
  readonly auuc: number
  readonly randomAuuc: number
  readonly qini: number
  /** Observed uplift (treated rate − holdout rate) in the top 10, 20, 30 and 50 % (null: a side empty). */
  readonly upliftAt: readonly { readonly share: number; readonly uplift: number | null }[]
}

const UPLIFT_AT = [0.1, 0.2, 0.3, 0.5] as const

/**
 * The Qini curve of `score` for people with `treated` = 1 (the arm) or 0 (the holdout) and 0/1 outcome
 * `y`. Ties in the score are taken together (their order would otherwise be arbitrary), so a constant
 * score gives the random ranking's diagonal.
 */
export function qiniCurve(
  score: ArrayLike<number>,
  treated: ArrayLike<number>,
  y: ArrayLike<number>,
): QiniReport {
  const n = score.length
  if (treated.length !== n || y.length !== n) {
    throw new InputError('qiniCurve: score, treated and y differ in length')
  }
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (score[b] as number) - (score[a] as number),
  )
  let nt = 0
  let nc = 0
  let yt = 0
  let yc = 0
  for (let i = 0; i < n; i++) {
    if (treated[i] === 1) {
      nt++
      yt += y[i] as number
    } else {
      nc++
      yc += y[i] as number
    }
  }
  if (nt === 0 || nc === 0) {
    throw new InputError(`qiniCurve: needs both sides (${nt} treated, ${nc} holdout)`)
  }
  const total = yt - (yc * nt) / nc
  // Cumulative counts at the end of each tie group; the curve is linear inside a group.
  const xs: number[] = [0]
  const qs: number[] = [0]
  const cum: { nt: number; nc: number; yt: number; yc: number }[] = [{ nt: 0, nc: 0, yt: 0, yc: 0 }]
  let a = { nt: 0, nc: 0, yt: 0, yc: 0 }
  for (let r = 0; r < n;) {
    const s = score[order[r] as number] as number
    while (r < n && score[order[r] as number] === s) {
      const i = order[r] as number
      if (treated[i] === 1) a = { ...a, nt: a.nt + 1, yt: a.yt + (y[i] as number) }
      else a = { ...a, nc: a.nc + 1, yc: a.yc + (y[i] as number) }
      r++
    }
    xs.push(r / n)
    qs.push(a.nc === 0 ? a.yt : a.yt - (a.yc * a.nt) / a.nc)
    cum.push(a)
  }
  let area = 0
  for (let k = 1; k < xs.length; k++) {
    area +=
      (((xs[k] as number) - (xs[k - 1] as number)) * ((qs[k] as number) + (qs[k - 1] as number))) /
      2
  }
  const at = (share: number): number => {
    let k = 1
    while (k < xs.length - 1 && (xs[k] as number) < share) k++
    const x0 = xs[k - 1] as number
    const x1 = xs[k] as number
    const t = x1 > x0 ? (share - x0) / (x1 - x0) : 1
    return (qs[k - 1] as number) + t * ((qs[k] as number) - (qs[k - 1] as number))
  }
  const curve = Array.from({ length: 11 }, (_, k) => ({ share: k / 10, incremental: at(k / 10) }))
  const upliftAt = UPLIFT_AT.map((share) => {
    // The first tie group reaching the share (whole groups, so ties are not split).
    let k = 1
    while (k < xs.length - 1 && (xs[k] as number) < share - 1e-12) k++
    const c = cum[k] ?? a
    return {
      share,
      uplift: c.nt === 0 || c.nc === 0 ? null : c.yt / c.nt - c.yc / c.nc,
    }
  })
  return {
    treated: nt,
    control: nc,
    totalIncremental: total,
    curve,
    auuc: area / n,
    randomAuuc: total / 2 / n,
    qini: (area - total / 2) / n,
    upliftAt,
  }
}
