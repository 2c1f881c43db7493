/**
 * L2-regularised logistic regression on standardised features (Hastie, Tibshirani & Friedman, "The
 * Elements of Statistical Learning", 2nd ed., §4.4 and §18.4): the churn-risk classifier. Fitted by BFGS
 * on the mean negative log-likelihood plus (λ/2)·‖w‖² (the intercept is not penalised), with the analytic
 * gradient. Features are standardised with the training means and standard deviations, so λ treats every
 * feature alike and each weight reads as "log-odds per standard deviation".
 * @module
 */

import { InputError, ModelFitError } from '../core/errors.js'
import { minimize } from './optimize.js'

/** A fitted model. Arrays have one entry per feature. */
export interface LogisticModel {
  readonly features: readonly string[]
  readonly means: readonly number[]
  /** Standard deviations used for scaling (1 for a constant feature). */
  readonly scales: readonly number[]
  /** Weights on the standardised features. */
  readonly weights: readonly number[]
  readonly intercept: number
  readonly l2: number
  readonly iterations: number
  /** Mean log-loss on the training data (without the penalty). */
  readonly logLoss: number
}

/** Settings of {@link fitLogisticRegression}. */
export interface LogisticOptions {
  /** Penalty λ on the mean log-likelihood scale. Default 1e-3. */
  readonly l2?: number
  readonly maxIterations?: number
}

/** σ(z) without overflow. */
export function logistic(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z))
}

/** log(1 + e^z) without overflow. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))
}

/**
 * A row's loss at its score z = θ₀ + w·x (x standardised): returns the loss and writes ∂loss/∂z into
 * `dz[0]` when `dz` is given.
 */
export type RowLoss = (row: number, z: number, dz: Float64Array | null) => number

/**
 * Fits θ = (intercept, w) of a linear score on standardised features by BFGS, minimising the mean of
 * `rowLoss` plus (λ/2)‖w‖² (the intercept is not penalised), with the analytic gradient. `X` is row-major
 * (n rows × features.length) and already checked finite. Returned as a {@link LogisticModel} whose logLoss
 * is the mean loss without the penalty; ModelFitError (naming `what`) when BFGS does not converge.
 */
export function fitStandardisedLinearScore(
  X: Float64Array,
  n: number,
  features: readonly string[],
  rowLoss: RowLoss,
  options: { l2: number; intercept: number; maxIterations: number; what: string },
): LogisticModel {
  const p = features.length
  const { l2 } = options
  const means = new Array<number>(p).fill(0)
  const scales = new Array<number>(p).fill(0)
  for (let i = 0; i < n; i++)
    for (let j = 0; j < p; j++) means[j] = (means[j] as number) + (X[i * p + j] as number)
  for (let j = 0; j < p; j++) means[j] = (means[j] as number) / n
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++)
      scales[j] = (scales[j] as number) + ((X[i * p + j] as number) - (means[j] as number)) ** 2
  }
  for (let j = 0; j < p; j++) {
    const sd = Math.sqrt((scales[j] as number) / n)
    scales[j] = sd > 0 ? sd : 1
  }
  const Z = new Float64Array(n * p)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      Z[i * p + j] = ((X[i * p + j] as number) - (means[j] as number)) / (scales[j] as number)
    }
  }
  const dz = new Float64Array(1)
  // θ = (intercept, w₁ … w_p); f = mean loss + (λ/2)‖w‖².
  const valueAndGradient = (theta: Float64Array, g: Float64Array | null): number => {
    let loss = 0
    if (g !== null) g.fill(0)
    for (let i = 0; i < n; i++) {
      let z = theta[0] as number
      for (let j = 0; j < p; j++) z += (theta[j + 1] as number) * (Z[i * p + j] as number)
      loss += rowLoss(i, z, g === null ? null : dz)
      if (g !== null) {
        const r = dz[0] as number
        g[0] = (g[0] as number) + r
        for (let j = 0; j < p; j++) g[j + 1] = (g[j + 1] as number) + r * (Z[i * p + j] as number)
      }
    }
    let penalty = 0
    for (let j = 1; j <= p; j++) penalty += (theta[j] as number) ** 2
    if (g !== null) {
      for (let k = 0; k <= p; k++)
        g[k] = (g[k] as number) / n + (k > 0 ? l2 * (theta[k] as number) : 0)
    }
    return loss / n + 0.5 * l2 * penalty
  }
  const start = new Float64Array(p + 1)
  start[0] = options.intercept
  const result = minimize(
    { value: (t) => valueAndGradient(t, null), valueAndGradient: (t, g) => valueAndGradient(t, g) },
    start,
    { gradientTolerance: 1e-7, maxIterations: options.maxIterations },
  )
  if (!result.converged) {
    throw new ModelFitError(
      `${options.what} did not converge: ${result.message}`,
      result.iterations,
    )
  }
  const theta = result.x
  let penalty = 0
  for (let j = 1; j <= p; j++) penalty += (theta[j] as number) ** 2
  return {
    features: [...features],
    means,
    scales,
    weights: Array.from(theta.subarray(1)),
    intercept: theta[0] as number,
    l2,
    iterations: result.iterations,
    logLoss: result.value - 0.5 * l2 * penalty,
  }
}

/**
 * Fits the model. `X` is row-major (n rows × features.length), `y` holds 0/1 labels. Non-finite feature
 * values are refused (impute before). Throws InputError on bad input (empty, one class only) and
 * ModelFitError when BFGS does not converge.
 */
export function fitLogisticRegression(
  X: Float64Array,
  y: ArrayLike<number>,
  features: readonly string[],
  options: LogisticOptions = {},
): LogisticModel {
  const p = features.length
  const n = y.length
  if (p === 0) throw new InputError('fitLogisticRegression: no features')
  if (X.length !== n * p) {
    throw new InputError(`fitLogisticRegression: X has ${X.length} values, expected ${n} × ${p}`)
  }
  let positives = 0
  for (let i = 0; i < n; i++) {
    const v = y[i] as number
    if (v !== 0 && v !== 1)
      throw InputError.single({ field: `y[${i}]`, value: String(v), reason: 'must be 0 or 1' })
    positives += v
  }
  if (positives === 0 || positives === n) {
    throw new InputError(
      `fitLogisticRegression: the labels need both classes (${positives} of ${n} are 1)`,
    )
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      const v = X[i * p + j] as number
      if (!Number.isFinite(v)) {
        throw InputError.single({
          field: `${features[j]}[${i}]`,
          value: String(v),
          reason: 'must be finite',
        })
      }
    }
  }
  // −[y log σ(z) + (1−y) log(1−σ(z))] = softplus(z) − y z; its derivative in z is σ(z) − y.
  return fitStandardisedLinearScore(
    X,
    n,
    features,
    (i, z, dz) => {
      const yi = y[i] as number
      if (dz !== null) dz[0] = logistic(z) - yi
      return softplus(z) - yi * z
    },
    {
      l2: options.l2 ?? 1e-3,
      intercept: Math.log(positives / (n - positives)),
      maxIterations: options.maxIterations ?? 1000,
      what: 'logistic regression',
    },
  )
}

/** P(y = 1) for each row of `X` (row-major, the model's features in order). */
export function predictLogistic(
  model: LogisticModel,
  X: Float64Array,
  out?: Float64Array,
): Float64Array {
  const p = model.features.length
  const n = X.length / p
  if (!Number.isInteger(n)) throw new InputError('predictLogistic: X does not have whole rows')
  const result = out ?? new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let z = model.intercept
    for (let j = 0; j < p; j++) {
      z +=
        ((model.weights[j] as number) * ((X[i * p + j] as number) - (model.means[j] as number))) /
        (model.scales[j] as number)
    }
    result[i] = logistic(z)
  }
  return result
}

/**
 * Each feature's contribution to row i's log-odds relative to an average member: wⱼ·(xᵢⱼ − x̄ⱼ)/sⱼ.
 * The largest positive contributions are the row's reason codes.
 */
export function logisticContributions(
  model: LogisticModel,
  X: Float64Array,
  i: number,
  out?: Float64Array,
): Float64Array {
  const p = model.features.length
  const result = out ?? new Float64Array(p)
  for (let j = 0; j < p; j++) {
    result[j] =
      ((model.weights[j] as number) * ((X[i * p + j] as number) - (model.means[j] as number))) /
      (model.scales[j] as number)
  }
  return result
}
