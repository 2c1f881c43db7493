import { describe, expect, it } from 'vitest'
import { InputError } from '../core/errors.js'
import type { BgNbdParams } from './bg-nbd.js'
import { conditionalExpectedPurchases } from './bg-nbd.js'
import { customerLifetimeValue } from './clv.js'
import type { GammaGammaParams } from './gamma-gamma.js'

const BG: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }
const GG: GammaGammaParams = { p: 6.25, q: 3.74, gamma: 15.44 }
const f64 = (v: number[]): Float64Array => Float64Array.from(v)

// Three CDNOW members (weeks): IDs 1, 2, 3 of the summary file.
const members = {
  x: f64([2, 1, 0]),
  tx: f64([30.43, 1.71, 0]),
  T: f64([38.86, 38.86, 38.86]),
  zbar: f64([22.35, 11.77, 0]),
}
/** E[Z | x, z̄] = p(γ + x z̄)/(px + q − 1), written out by hand for the three members. */
const spend = [
  (6.25 * (15.44 + 2 * 22.35)) / (6.25 * 2 + 2.74),
  (6.25 * (15.44 + 11.77)) / (6.25 + 2.74),
  (6.25 * 15.44) / 2.74,
]

describe('customerLifetimeValue', () => {
  it('without discounting, telescopes to margin × spend × E[Y(K·L)]', () => {
    // 12 months of 52/12 weeks = 52 weeks.
    const clv = customerLifetimeValue(BG, GG, members, {
      periods: 12,
      periodLength: 52 / 12,
      discountRate: 0,
      margin: 0.3,
    })
    for (let i = 0; i < 3; i++) {
      const purchases = conditionalExpectedPurchases(
        BG,
        52,
        members.x[i] as number,
        members.tx[i] as number,
        members.T[i] as number,
      )
      expect(clv[i]).toBeCloseTo(0.3 * (spend[i] as number) * purchases, 10)
    }
  })

  it('discounts each period’s expected purchases by (1 + d)^k', () => {
    const d = 0.01
    const L = 52 / 12
    const clv = customerLifetimeValue(BG, GG, members, {
      periods: 24,
      periodLength: L,
      discountRate: d,
    })
    for (let i = 0; i < 3; i++) {
      let expected = 0
      let previous = 0
      for (let k = 1; k <= 24; k++) {
        const cumulative = conditionalExpectedPurchases(
          BG,
          k * L,
          members.x[i] as number,
          members.tx[i] as number,
          members.T[i] as number,
        )
        expected += ((cumulative - previous) * (spend[i] as number)) / (1 + d) ** k
        previous = cumulative
      }
      expect(clv[i]).toBeCloseTo(expected, 10)
    }
    // Discounting lowers the value; more periods raise it.
    const undiscounted = customerLifetimeValue(BG, GG, members, {
      periods: 24,
      periodLength: L,
      discountRate: 0,
    })
    const shorter = customerLifetimeValue(BG, GG, members, {
      periods: 12,
      periodLength: L,
      discountRate: d,
    })
    for (let i = 0; i < 3; i++) {
      expect(clv[i] as number).toBeLessThan(undiscounted[i] as number)
      expect(clv[i] as number).toBeGreaterThan(shorter[i] as number)
    }
  })

  it('writes into out, and zero periods give zero', () => {
    const out = new Float64Array(3).fill(99)
    const r = customerLifetimeValue(
      BG,
      GG,
      members,
      { periods: 0, periodLength: 4, discountRate: 0.01 },
      out,
    )
    expect(r).toBe(out)
    expect(Array.from(out)).toEqual([0, 0, 0])
  })

  it('rejects bad options and ragged input', () => {
    const ok = { periods: 12, periodLength: 4, discountRate: 0.01 }
    expect(() => customerLifetimeValue(BG, GG, members, { ...ok, periods: 1.5 })).toThrow(
      InputError,
    )
    expect(() => customerLifetimeValue(BG, GG, members, { ...ok, periodLength: 0 })).toThrow(
      InputError,
    )
    expect(() => customerLifetimeValue(BG, GG, members, { ...ok, discountRate: -1 })).toThrow(
      InputError,
    )
    expect(() => customerLifetimeValue(BG, GG, { ...members, zbar: f64([1]) }, ok)).toThrow(
      InputError,
    )
  })
})
