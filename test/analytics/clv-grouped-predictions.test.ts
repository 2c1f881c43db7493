/**
 * The CLV predictions computed once per distinct (x, T) (P(alive) once per summary) equal the per-summary
 * formulas of every purchase model.
 */
import { describe, expect, it } from 'vitest'
import {
  conditionalExpectedPurchases,
  discountedExpectedPurchases,
  expectedPurchasesOfGroups,
  type PurchaseModel,
} from '../../src/analytics/clv/models.js'
import { groupSummaries } from '../../src/models/group-summaries.js'

/** Members on a day grid (in weeks) with many shared (x, T) but different t_x. */
function members(n: number): { x: Float64Array; tx: Float64Array; T: Float64Array } {
  const x = new Float64Array(n)
  const tx = new Float64Array(n)
  const T = new Float64Array(n)
  let s = 12345
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
  for (let i = 0; i < n; i++) {
    T[i] = Math.floor(next() * 60) / 7
    x[i] = Math.floor(next() * 4) * (next() < 0.6 ? 1 : 0)
    tx[i] = x[i] === 0 ? 0 : Math.floor(next() * (T[i] as number) * 7) / 7
  }
  return { x, tx, T }
}

const MODELS: PurchaseModel[] = [
  { kind: 'bg-nbd', params: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 } },
  { kind: 'mbg-nbd', params: { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 } },
  { kind: 'pareto-nbd', params: { r: 0.553, alpha: 10.58, s: 0.606, beta: 11.67 } },
]

describe('predictions per distinct (x, T)', () => {
  const m = members(3000)
  const g = groupSummaries(m.x, m.tx, m.T)
  for (const model of MODELS) {
    it(`${model.kind}: expected purchases and their discounted sum equal the per-summary formulas`, () => {
      const horizons = [1, 4.35, 52]
      const grouped = expectedPurchasesOfGroups(model, horizons, g)
      horizons.forEach((t, h) => {
        const direct = conditionalExpectedPurchases(model, t, g.x, g.tx, g.T)
        const row = grouped[h] as Float64Array
        for (let i = 0; i < direct.length; i++) {
          expect(Math.abs((row[i] as number) - (direct[i] as number))).toBeLessThanOrEqual(
            1e-13 * Math.max(1, direct[i] as number),
          )
        }
      })
      const d = discountedExpectedPurchases(model, m.x, m.tx, m.T, 12, 30.4375 / 7, 0.008, g)
      for (const i of [0, 7, 123, 2999]) {
        let sum = 0
        let prev = 0
        for (let k = 1; k <= 12; k++) {
          const one = (a: number) => Float64Array.of(a)
          const e = conditionalExpectedPurchases(
            model,
            (k * 30.4375) / 7,
            one(m.x[i] as number),
            one(m.tx[i] as number),
            one(m.T[i] as number),
          )[0] as number
          sum += (e - prev) / 1.008 ** k
          prev = e
        }
        expect(d[i]).toBeCloseTo(sum, 12)
      }
    })
  }
})
