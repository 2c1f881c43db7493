import { describe, expect, it } from 'vitest'
import { Rng, logFactorial } from './random.js'

/** Sample mean and variance (ddof = 1) of n draws. */
function moments(n: number, draw: () => number): { mean: number; variance: number } {
  let sum = 0
  let sumSq = 0
  for (let i = 0; i < n; i++) {
    const x = draw()
    sum += x
    sumSq += x * x
  }
  const mean = sum / n
  return { mean, variance: (sumSq - n * mean * mean) / (n - 1) }
}

const N = 200_000

describe('Rng', () => {
  it('is reproducible per (seed, key, stream) and differs between streams', () => {
    const a = new Rng(42, 7, 3)
    const b = new Rng(42, 7, 3)
    const c = new Rng(42, 7, 4)
    const xs = Array.from({ length: 5 }, () => a.nextU32())
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs)
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xs)
    a.reseed(42, 7, 3)
    expect(a.nextU32()).toBe(xs[0])
  })

  it('draws uniforms strictly inside (0, 1) with mean 1/2 and variance 1/12', () => {
    const rng = new Rng(1)
    let min = 1
    let max = 0
    const m = moments(N, () => {
      const u = rng.uniform()
      min = Math.min(min, u)
      max = Math.max(max, u)
      return u
    })
    expect(min).toBeGreaterThan(0)
    expect(max).toBeLessThan(1)
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / N))
    expect(m.variance).toBeCloseTo(1 / 12, 3)
  })

  it('draws standard normals', () => {
    const rng = new Rng(2)
    const m = moments(N, () => rng.normal())
    expect(Math.abs(m.mean)).toBeLessThan(4 / Math.sqrt(N))
    expect(Math.abs(m.variance - 1)).toBeLessThan(4 * Math.sqrt(2 / N))
  })

  it.each([0.3, 0.6, 1, 4, 6])('Gamma(%d) has mean = variance = shape', (shape) => {
    const rng = new Rng(3)
    const m = moments(N, () => rng.gamma(shape))
    expect(Math.abs(m.mean - shape)).toBeLessThan(4 * Math.sqrt(shape / N))
    // Var of the sample variance of a Gamma(k): (μ4 − σ⁴)/n with μ4 = 3k² + 6k.
    const seVar = Math.sqrt((2 * shape * shape + 6 * shape) / N)
    expect(Math.abs(m.variance - shape)).toBeLessThan(4 * seVar)
  })

  it('draws Beta(a, b) with mean a/(a+b) and variance ab/((a+b)²(a+b+1))', () => {
    const rng = new Rng(4)
    const [a, b] = [0.8, 2.5]
    const mean = a / (a + b)
    const variance = (a * b) / ((a + b) ** 2 * (a + b + 1))
    const m = moments(N, () => rng.beta(a, b))
    expect(Math.abs(m.mean - mean)).toBeLessThan(4 * Math.sqrt(variance / N))
    expect(m.variance).toBeCloseTo(variance, 3)
  })

  it.each([0.5, 2, 12, 29.5, 30, 50, 400])('Poisson(%d) has mean = variance', (mean) => {
    const rng = new Rng(5)
    const n = 100_000
    const m = moments(n, () => rng.poisson(mean))
    expect(Math.abs(m.mean - mean)).toBeLessThan(4 * Math.sqrt(mean / n))
    // Var of the sample variance of a Poisson: (μ4 − σ⁴)/n = (λ + 2λ²)/n.
    expect(Math.abs(m.variance - mean)).toBeLessThan(4 * Math.sqrt((mean + 2 * mean * mean) / n))
  })

  it('picks from cumulative weights in proportion', () => {
    const rng = new Rng(6)
    const counts = [0, 0, 0]
    const cum = [1, 3, 6]
    for (let i = 0; i < 60_000; i++) {
      const k = rng.pickCumulative(cum)
      counts[k] = (counts[k] ?? 0) + 1
    }
    expect((counts[0] ?? 0) / 60_000).toBeCloseTo(1 / 6, 2)
    expect((counts[2] ?? 0) / 60_000).toBeCloseTo(1 / 2, 2)
  })
})

describe('logFactorial', () => {
  it('matches exact sums on both sides of the Stirling switch', () => {
    for (const k of [0, 1, 5, 15, 16, 20, 100, 1000]) {
      let exact = 0
      for (let i = 2; i <= k; i++) exact += Math.log(i)
      expect(logFactorial(k)).toBeCloseTo(exact, 9)
    }
  })
})
