import { describe, expect, it } from 'vitest'
import {
  chiSquareSf,
  normalCdf,
  normalQuantile,
  normalSf,
  studentTQuantile,
  studentTSf,
} from './distributions.js'

// Reference values: tabulated quantiles (Φ⁻¹(0.975) = 1.959963984540054, t_{0.975,10} = 2.228138851986274,
// χ²₁ upper 5 % point 3.841458820694124) and scipy.stats 1.17 (norm, t, chi2) for the tails.
describe('distributions', () => {
  it('normal CDF and quantile match the tables to 1e-12', () => {
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 12)
    expect(normalCdf(0)).toBe(0.5)
    expect(normalSf(8)).toBeCloseTo(6.22096057427174e-16, 25)
    expect(normalSf(8) / 6.22096057427174e-16).toBeCloseTo(1, 10)
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12)
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 9)
    for (const p of [0.001, 0.2, 0.5, 0.9, 0.999])
      expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 13)
  })

  it('chi-square and Student t tails', () => {
    expect(chiSquareSf(3.84, 1)).toBeCloseTo(0.05004352124870519, 12)
    expect(chiSquareSf(3.841458820694124, 1)).toBeCloseTo(0.05, 12)
    expect(chiSquareSf(10, 3)).toBeCloseTo(0.01856613546304325, 12)
    expect(studentTSf(2, 10)).toBeCloseTo(0.03669401738537018, 12)
    expect(studentTSf(1.5, 25.3)).toBeCloseTo(0.07299560662412272, 11)
    expect(studentTSf(-2, 10)).toBeCloseTo(1 - 0.03669401738537018, 12)
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228138851986274, 10)
    expect(studentTQuantile(0.025, 10)).toBeCloseTo(-2.228138851986274, 10)
  })
})
