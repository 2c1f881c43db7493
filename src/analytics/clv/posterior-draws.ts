/**
 * Random draws for prediction intervals: a seeded generator with normal, gamma and beta variates;
 * parameter sets drawn from the asymptotic normal distribution of the log-parameters (the inverse of the
 * observed information, see models/standard-errors.ts); and one member's purchases in the next t drawn from a
 * repeat-buying model's posterior given the member's summary, which adds the purchase process's own
 * noise to the uncertainty of the parameters.
 * @module
 */
import { InputError, ModelFitError } from '../../core/errors.js'

/**
 * A seeded pseudo-random generator (sfc32 by Chris Doty-Humphrey, from PractRand): reproducible for a seed
 * and fast; not cryptographic.
 */
export class SeededRandom {
  private a: number
  private b: number
  private c: number
  private d: number
  private spare: number | null = null

  constructor(seed: number) {
    this.a = 0x9e3779b9
    this.b = 0x243f6a88
    this.c = 0xb7e15162
    this.d = seed | 0
    for (let i = 0; i < 15; i++) this.next32()
  }

  private next32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** Uniform on (0, 1), never 0. */
  uniform(): number {
    return (this.next32() + 0.5) / 4_294_967_296
  }

  /** Standard normal (Marsaglia's polar method). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare
      this.spare = null
      return v
    }
    for (;;) {
      const u = 2 * this.uniform() - 1
      const v = 2 * this.uniform() - 1
      const s = u * u + v * v
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s)
        this.spare = v * f
        return u * f
      }
    }
  }

  /** Gamma(shape, rate 1) by Marsaglia & Tsang (2000); shapes below 1 by Gamma(shape + 1) · U^(1/shape). */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.uniform(), 1 / shape)
    const d = shape - 1 / 3
    const c = 1 / Math.sqrt(9 * d)
    for (;;) {
      let z: number
      let v: number
      do {
        z = this.normal()
        v = 1 + c * z
      } while (v <= 0)
      v = v * v * v
      const u = this.uniform()
      if (u < 1 - 0.0331 * z * z * z * z) return d * v
      if (Math.log(u) < 0.5 * z * z + d * (1 - v + Math.log(v))) return d * v
    }
  }

  /** Beta(a, b) as G_a / (G_a + G_b). */
  beta(a: number, b: number): number {
    const x = this.gamma(a)
    return x / (x + this.gamma(b))
  }

  /** Poisson(mean): by counting exponential gaps below small means, else as a gamma-Poisson split. */
  poisson(mean: number): number {
    let count = 0
    let m = mean
    // Ahrens & Dieter's recursive split keeps the work logarithmic in the mean.
    while (m > 16) {
      const n = Math.floor(0.875 * m)
      const g = this.gamma(n)
      if (g > m) return count + this.binomial(n - 1, m / g)
      count += n
      m -= g
    }
    const limit = Math.exp(-m)
    let prod = this.uniform()
    while (prod > limit) {
      count++
      prod *= this.uniform()
    }
    return count
  }

  /** Binomial(n, p) by the beta split (used by {@link poisson}). */
  private binomial(n: number, p: number): number {
    let count = 0
    let trials = n
    let prob = p
    while (trials > 16) {
      const i = 1 + (trials >> 1)
      const y = this.beta(i, trials + 1 - i)
      if (y >= prob) {
        trials = i - 1
        prob /= y
      } else {
        count += i
        trials -= i
        prob = (prob - y) / (1 - y)
      }
    }
    for (let k = 0; k < trials; k++) if (this.uniform() < prob) count++
    return count
  }
}

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
  random: SeededRandom,
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
  random: SeededRandom,
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
  random: SeededRandom,
  t: number,
  lambda: number,
  mu: number,
): number {
  const lifetime = -Math.log(random.uniform()) / mu
  return random.poisson(lambda * Math.min(t, lifetime))
}
