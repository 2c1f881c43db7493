/**
 * Ridge (L2-penalised least squares) regression on standardised features, solved in closed form
 * (Hastie, Tibshirani & Friedman, "The Elements of Statistical Learning", 2nd ed., §3.4.1, eq. 3.44):
 * ŵ = (ZᵀZ + nλI)⁻¹ Zᵀ(y − ȳ) on the centred, scaled features Z, intercept ȳ (not penalised). Used by the
 * X-learner for its effect regressions. The normal equations are solved by Cholesky factorisation.
 * @module
 */
import { InputError, ModelFitError } from '../core/errors.js'

/** A fitted ridge model. Arrays have one entry per feature. */
export interface RidgeModel {
  readonly features: readonly string[]
  readonly means: readonly number[]
  readonly scales: readonly number[]
  readonly weights: readonly number[]
  readonly intercept: number
  readonly l2: number
}

/**
 * Fits y ≈ intercept + Σ wⱼ (xⱼ − x̄ⱼ)/sⱼ with penalty λ‖w‖² on the mean squared error scale. `X` is
 * row-major (n × features.length); `weights` (optional) weigh the rows.
 */
export function fitRidgeRegression(
  X: Float64Array,
  y: ArrayLike<number>,
  features: readonly string[],
  options: { readonly l2?: number; readonly weights?: ArrayLike<number> } = {},
): RidgeModel {
  const p = features.length
  const n = y.length
  if (p === 0) throw new InputError('fitRidgeRegression: no features')
  if (n === 0) throw new InputError('fitRidgeRegression: no rows')
  if (X.length !== n * p) {
    throw new InputError(`fitRidgeRegression: X has ${X.length} values, expected ${n} × ${p}`)
  }
  const w = options.weights
  let wSum = 0
  let yMean = 0
  const means = new Array<number>(p).fill(0)
  for (let i = 0; i < n; i++) {
    const wi = w === undefined ? 1 : (w[i] as number)
    const yi = y[i] as number
    if (!Number.isFinite(yi)) {
      throw InputError.single({ field: `y[${i}]`, value: String(yi), reason: 'must be finite' })
    }
    wSum += wi
    yMean += wi * yi
    for (let j = 0; j < p; j++) {
      const v = X[i * p + j] as number
      if (!Number.isFinite(v)) {
        throw InputError.single({
          field: `${features[j]}[${i}]`,
          value: String(v),
          reason: 'must be finite',
        })
      }
      means[j] = (means[j] as number) + wi * v
    }
  }
  if (!(wSum > 0)) throw new InputError('fitRidgeRegression: the row weights sum to 0')
  yMean /= wSum
  for (let j = 0; j < p; j++) means[j] = (means[j] as number) / wSum
  const scales = new Array<number>(p).fill(0)
  for (let i = 0; i < n; i++) {
    const wi = w === undefined ? 1 : (w[i] as number)
    for (let j = 0; j < p; j++) {
      scales[j] =
        (scales[j] as number) + wi * ((X[i * p + j] as number) - (means[j] as number)) ** 2
    }
  }
  for (let j = 0; j < p; j++) {
    const sd = Math.sqrt((scales[j] as number) / wSum)
    scales[j] = sd > 0 ? sd : 1
  }
  const l2 = options.l2 ?? 1e-3
  // A = ZᵀWZ / Σw + λI, b = ZᵀW(y − ȳ) / Σw.
  const A = new Float64Array(p * p)
  const b = new Float64Array(p)
  const z = new Float64Array(p)
  for (let i = 0; i < n; i++) {
    const wi = (w === undefined ? 1 : (w[i] as number)) / wSum
    for (let j = 0; j < p; j++) {
      z[j] = ((X[i * p + j] as number) - (means[j] as number)) / (scales[j] as number)
    }
    const r = (y[i] as number) - yMean
    for (let j = 0; j < p; j++) {
      const zj = z[j] as number
      b[j] = (b[j] as number) + wi * zj * r
      for (let k = 0; k <= j; k++)
        A[j * p + k] = (A[j * p + k] as number) + wi * zj * (z[k] as number)
    }
  }
  for (let j = 0; j < p; j++) A[j * p + j] = (A[j * p + j] as number) + l2
  const weights = choleskySolve(A, b, p)
  return { features: [...features], means, scales, weights, intercept: yMean, l2 }
}

/** Solves A x = b for symmetric positive definite A (lower triangle filled), row-major p × p. */
function choleskySolve(A: Float64Array, b: Float64Array, p: number): number[] {
  const L = new Float64Array(p * p)
  for (let j = 0; j < p; j++) {
    let d = A[j * p + j] as number
    for (let k = 0; k < j; k++) d -= (L[j * p + k] as number) ** 2
    if (!(d > 0)) throw new ModelFitError('ridge regression: the normal equations are singular', 0)
    const ljj = Math.sqrt(d)
    L[j * p + j] = ljj
    for (let i = j + 1; i < p; i++) {
      let s = A[i * p + j] as number
      for (let k = 0; k < j; k++) s -= (L[i * p + k] as number) * (L[j * p + k] as number)
      L[i * p + j] = s / ljj
    }
  }
  const yv = new Float64Array(p)
  for (let i = 0; i < p; i++) {
    let s = b[i] as number
    for (let k = 0; k < i; k++) s -= (L[i * p + k] as number) * (yv[k] as number)
    yv[i] = s / (L[i * p + i] as number)
  }
  const x = new Array<number>(p).fill(0)
  for (let i = p - 1; i >= 0; i--) {
    let s = yv[i] as number
    for (let k = i + 1; k < p; k++) s -= (L[k * p + i] as number) * (x[k] as number)
    x[i] = s / (L[i * p + i] as number)
  }
  return x
}

/** Predictions for each row of `X` (row-major, the model's features in order). */
export function predictRidge(model: RidgeModel, X: Float64Array, out?: Float64Array): Float64Array {
  const p = model.features.length
  const n = X.length / p
  if (!Number.isInteger(n)) throw new InputError('predictRidge: X does not have whole rows')
  const result = out ?? new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let v = model.intercept
    for (let j = 0; j < p; j++) {
      v +=
        ((model.weights[j] as number) * ((X[i * p + j] as number) - (model.means[j] as number))) /
        (model.scales[j] as number)
    }
    result[i] = v
  }
  return result
}
