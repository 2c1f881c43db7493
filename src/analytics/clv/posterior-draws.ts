/**
 * Random draws for prediction intervals, from the seeded generator of core/random.ts: parameter sets drawn
 * from the asymptotic normal distribution of the log-parameters (the inverse of the observed information, see models/standard-errors.ts); and one member's purchases in the next t drawn from a
 * repeat-buying model's posterior given the member's summary, which adds the purchase process's own
 * noise to the uncertainty of the parameters.
 * @module
 */
import { InputError, ModelFitError } from '../../core/errors.js'
import type { Rng } from '../../core/random.js'

/**
 * Lower-triangular L with L Lᵀ = C for a symmetric positive-definite n × n matrix C (row-major). Throws
 * ModelFitError when C is not positive definite.
 */
export function cholesky(C: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = C[i * n + j] as number
      for (let k = 0; k < j; k++) s -= (L[i * n + k] as number) * (L[j * n + k] as number)
      if (i === j) {
        if (!(s > 0)) {
          throw new ModelFitError(
            'the parameter covariance is not positive definite: no intervals',
            0,
          )
        }
        L[i * n + i] = Math.sqrt(s)
      } else L[i * n + j] = s / (L[j * n + j] as number)
    }
  }
  return L
}

/**
 * `draws` parameter vectors θ = exp(log θ̂ + L z), z standard normal, L Lᵀ the covariance of log θ̂: the
 * asymptotic normal distribution of the maximum-likelihood estimate on the log scale (parameters stay
 * positive). Row-major, `draws` × n.
 */
export function drawLogNormalParameters(
  estimate: Float64Array,
  logCovariance: Float64Array,
  draws: number,
  random: Rng,
): Float64Array {
  const n = estimate.length
  if (logCovariance.length !== n * n) {
    throw new InputError(`drawLogNormalParameters: a ${n} × ${n} covariance is needed`)
  }
  const L = cholesky(logCovariance, n)
  const out = new Float64Array(draws * n)
  const z = new Float64Array(n)
  for (let d = 0; d < draws; d++) {
    for (let i = 0; i < n; i++) z[i] = random.normal()
    for (let i = 0; i < n; i++) {
      let s = Math.log(estimate[i] as number)
      for (let k = 0; k <= i; k++) s += (L[i * n + k] as number) * (z[k] as number)
      out[d * n + i] = Math.exp(s)
    }
  }
  return out
}

/**
 * Purchases in (0, t] of a member who is alive now, buying with gaps Gamma(shape, rate λ) — the first gap
 * Gamma(firstShape) — and dropping out with probability p after each purchase (BG/NBD-type models;
 * shapes 1 for BG/NBD and MBG/NBD, k and k − j for BG/CNBD-k).
 */
export function drawPurchasesWhileAlive(
  random: Rng,
  t: number,
  lambda: number,
  p: number,
  firstShape: number,
  shape: number,
): number {
  let time = random.gamma(firstShape) / lambda
  let count = 0
  while (time <= t) {
    count++
    if (random.uniform() < p) break
    time += (shape === 1 ? -Math.log(random.uniform()) : random.gamma(shape)) / lambda
  }
  return count
}

/**
 * Purchases in (0, t] of a Pareto/NBD member alive now: Poisson(λ · min(t, τ)), lifetime τ ~ Exp(μ).
 */
export function drawParetoPurchasesWhileAlive(
  random: Rng,
  t: number,
  lambda: number,
  mu: number,
): number {
  const lifetime = -Math.log(random.uniform()) / mu
  return random.poisson(lambda * Math.min(t, lifetime))
}
