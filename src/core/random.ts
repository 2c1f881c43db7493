/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number
 * generators", 2018) plus the distributions the simulator's member model and the CLV prediction intervals'
 * draws need.
 *
 * One generator can be re-seeded from `(seed, key, stream)` in O(1). The simulator gives every person
 * several independent streams (profile and purchases, order lines, events, feedback, …), so writing only a
 * subset of the tables, or changing how many events one person draws, never shifts the numbers another
 * table sees.
 * @module
 */

const INV_2_32 = 1 / 4294967296
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI)

/** The 32-bit finaliser of MurmurHash3: a cheap bijective mixer used to spread seeds over the state. */
function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Hash of a (seed, key, stream) triple to 32 bits; also used for stable per-index scrambles. */
export function hash32(seed: number, key = 0, stream = 0): number {
  const lo = seed >>> 0
  const hi = Math.floor(seed / 4294967296) >>> 0
  let x = fmix32(lo ^ fmix32((hi + 0x632be5ab) >>> 0))
  x = fmix32(x ^ fmix32(((key >>> 0) + 0x9e3779b9) >>> 0))
  x = fmix32(x ^ fmix32(((stream >>> 0) + 0x7f4a7c15) >>> 0))
  return x
}

/**
 * ln k! for integer k ≥ 0: exact sums below 16, Stirling's series (to 1/k⁵) above, which is accurate to
 * better than 1e-12 there.
 */
export function logFactorial(k: number): number {
  if (k < 16) {
    let s = 0
    for (let i = 2; i <= k; i++) s += Math.log(i)
    return s
  }
  const x = k + 1
  const x2 = x * x
  return (
    (x - 0.5) * Math.log(x) -
    x +
    HALF_LOG_2PI +
    1 / (12 * x) -
    1 / (360 * x * x2) +
    1 / (1260 * x * x2 * x2)
  )
}

/** xoshiro128** with samplers. Not cryptographic; fast, 2^128 − 1 period, reproducible across runs. */
export class Rng {
  private s0 = 0
  private s1 = 0
  private s2 = 0
  private s3 = 0
  private spare = 0
  private hasSpare = false

  constructor(seed: number, key = 0, stream = 0) {
    this.reseed(seed, key, stream)
  }

  /** Restarts the generator on the stream identified by `(seed, key, stream)`. */
  reseed(seed: number, key: number, stream: number): this {
    // splitmix-style expansion of one 32-bit hash into four state words.
    let z = hash32(seed, key, stream)
    z = (z + 0x9e3779b9) | 0
    this.s0 = fmix32(z)
    z = (z + 0x9e3779b9) | 0
    this.s1 = fmix32(z)
    z = (z + 0x9e3779b9) | 0
    this.s2 = fmix32(z)
    z = (z + 0x9e3779b9) | 0
    this.s3 = fmix32(z)
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1
    this.hasSpare = false
    return this
  }

  /** Next raw 32-bit output, as an unsigned integer. */
  nextU32(): number {
    const s1 = this.s1
    const m = Math.imul(s1, 5)
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0
    const t = s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21)
    return result
  }

  /** Uniform on the open interval (0, 1): never 0, so `Math.log(u)` is always finite. */
  uniform(): number {
    return (this.nextU32() + 0.5) * INV_2_32
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n)
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.uniform() < p
  }

  /** Exponential with mean 1. */
  exp(): number {
    return -Math.log(this.uniform())
  }

  /** Standard normal, by Marsaglia's polar method (one draw is kept for the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false
      return this.spare
    }
    let u: number
    let v: number
    let s: number
    do {
      u = 2 * this.uniform() - 1
      v = 2 * this.uniform() - 1
      s = u * u + v * v
    } while (s >= 1 || s === 0)
    const f = Math.sqrt((-2 * Math.log(s)) / s)
    this.spare = v * f
    this.hasSpare = true
    return u * f
  }

  /** exp(mu + sigma·Z): log-normal with median e^mu. */
  logNormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.normal())
  }

  /**
   * Gamma with the given shape and scale 1 (divide by a rate to get Gamma(shape, rate)).
   * Marsaglia & Tsang, "A simple method for generating gamma variables", ACM TOMS 26(3), 2000; shapes
   * below 1 use their boost Gamma(k) = Gamma(k + 1) · U^(1/k).
   */
  gamma(shape: number): number {
    if (shape < 1) {
      const g = this.gamma(shape + 1)
      return g * Math.pow(this.uniform(), 1 / shape)
    }
    const d = shape - 1 / 3
    const c = 1 / Math.sqrt(9 * d)
    for (;;) {
      let x: number
      let v: number
      do {
        x = this.normal()
        v = 1 + c * x
      } while (v <= 0)
      v = v * v * v
      const u = this.uniform()
      const x2 = x * x
      if (u < 1 - 0.0331 * x2 * x2) return d * v
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v
    }
  }

  /** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
  beta(a: number, b: number): number {
    const x = this.gamma(a)
    const y = this.gamma(b)
    return x / (x + y)
  }

  /**
   * Poisson with the given mean. Small means multiply uniforms (Knuth); from 30 up, the transformed
   * rejection method PTRS (Hörmann, "The transformed rejection method for generating Poisson random
   * variables", Insurance: Mathematics and Economics 12, 1993), whose cost does not grow with the mean.
   */
  poisson(mean: number): number {
    if (mean <= 0) return 0
    if (mean < 30) {
      const limit = Math.exp(-mean)
      let k = 0
      let prod = this.uniform()
      while (prod > limit) {
        k++
        prod *= this.uniform()
      }
      return k
    }
    const slam = Math.sqrt(mean)
    const logLam = Math.log(mean)
    const b = 0.931 + 2.53 * slam
    const a = -0.059 + 0.02483 * b
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4)
    const vr = 0.9277 - 3.6224 / (b - 2)
    for (;;) {
      const u = this.uniform() - 0.5
      const v = this.uniform()
      const us = 0.5 - Math.abs(u)
      const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43)
      if (us >= 0.07 && v <= vr) return k
      if (k < 0 || (us < 0.013 && v > us)) continue
      const lhs = Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b)
      if (lhs <= -mean + k * logLam - logFactorial(k)) return k
    }
  }

  /** Index drawn from cumulative weights `cum` (non-decreasing, last entry = total). */
  pickCumulative(cum: ArrayLike<number>): number {
    const n = cum.length
    const x = this.uniform() * (cum[n - 1] ?? 0)
    for (let i = 0; i < n - 1; i++) {
      if (x < (cum[i] ?? 0)) return i
    }
    return n - 1
  }
}

/** Cumulative sums of `weights`, for {@link Rng.pickCumulative}. */
export function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length)
  let s = 0
  for (let i = 0; i < weights.length; i++) {
    s += weights[i] ?? 0
    out[i] = s
  }
  return out
}
