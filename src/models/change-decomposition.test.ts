import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InputError } from '../core/errors.js'
import { decomposeChange, evaluateFormula, logMean, type Formula } from './change-decomposition.js'

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0)
/** Parts must add up to the change to floating-point precision of the values involved. */
const tolerance = (...values: number[]) => 1e-9 * Math.max(1, ...values.map(Math.abs))
/** The largest parent a mix of before and after values can make: the scale of the rounding in the parts. */
const largestMix = (
  exponents: readonly number[],
  before: readonly number[],
  after: readonly number[],
) =>
  exponents.reduce(
    (p, e, i) =>
      p * Math.max(Math.abs(before[i] as number) ** e, Math.abs(after[i] as number) ** e),
    1,
  )

describe('decomposeChange', () => {
  it('splits revenue = buyers × frequency × AOV by hand-checked numbers', () => {
    // 1000 buyers × 2 orders × 100 = 200,000 → 950 × 2 × 105 = 199,500: −500.
    const product: Formula = { kind: 'product', exponents: [1, 1, 1] }
    const before = [1000, 2, 100]
    const after = [950, 2, 105]
    const shap = decomposeChange(product, before, after, 'shapley')
    // Shapley: buyers ½[(190,000 − 200,000) + (199,500 − 210,000)] = −10,250; AOV ½[10,000 + 9,500] = 9,750.
    expect(shap.parts[0]).toBeCloseTo(-10_250, 9)
    expect(shap.parts[1]).toBeCloseTo(0, 12)
    expect(shap.parts[2]).toBeCloseTo(9_750, 9)
    // LMDI: L = −500 / ln(199,500/200,000) = 199,749.8957; buyers L·ln 0.95, AOV L·ln 1.05.
    const lmdi = decomposeChange(product, before, after)
    expect(lmdi.method).toBe('lmdi')
    expect(lmdi.change).toBe(-500)
    expect(lmdi.parts[0]).toBeCloseTo(-10_245.8302, 3)
    expect(lmdi.parts[1]).toBe(0)
    expect(lmdi.parts[2]).toBeCloseTo(9_745.8302, 3)
  })

  it('gives a sum each child’s own change with its sign', () => {
    // members = new + retained + reactivated − churned
    const d = decomposeChange(
      { kind: 'sum', signs: [1, 1, 1, -1] },
      [100, 800, 50, 70],
      [90, 820, 55, 90],
    )
    expect(d).toMatchObject({
      method: 'sum',
      before: 880,
      after: 875,
      change: -5,
      parts: [-10, 20, 5, -20],
    })
  })

  it('gives the whole change to the only child that moved, and treats ÷ as exponent −1', () => {
    const ratio: Formula = { kind: 'product', exponents: [1, -1] }
    expect(evaluateFormula(ratio, [300, 150])).toBe(2)
    const d = decomposeChange(ratio, [300, 150], [300, 100])
    expect(d.change).toBeCloseTo(1, 12)
    expect(d.parts[0]).toBe(0)
    expect(d.parts[1]).toBeCloseTo(1, 12)
  })

  it('falls back to Shapley when a value is not positive, and refuses LMDI there', () => {
    const product: Formula = { kind: 'product', exponents: [1, 1] }
    const d = decomposeChange(product, [10, -5], [12, 4])
    expect(d.method).toBe('shapley')
    expect(sum(d.parts)).toBeCloseTo(48 - -50, 9)
    expect(() => decomposeChange(product, [10, -5], [12, 4], 'lmdi')).toThrow(
      /needs every value positive/,
    )
    expect(() => decomposeChange(product, [1, 2], [1])).toThrow(InputError)
    expect(() => decomposeChange({ kind: 'product', exponents: [1, -1] }, [1, 0], [1, 2])).toThrow(
      /child 2 is a divisor and is 0/,
    )
  })

  it('log mean: symmetric, between the geometric and arithmetic means, L(a, a) = a', () => {
    expect(logMean(5, 5)).toBe(5)
    expect(logMean(2, 8)).toBeCloseTo(6 / Math.log(4), 12)
    expect(logMean(8, 2)).toBeCloseTo(logMean(2, 8), 12)
    expect(logMean(1, 1 + 1e-12)).toBeCloseTo(1 + 5e-13, 15)
  })
})

describe('decomposeChange (property)', () => {
  const positive = fc.double({ min: 1e-3, max: 1e7, noNaN: true })
  const anyValue = fc.double({ min: -1e6, max: 1e6, noNaN: true })
  const children = <T>(arb: fc.Arbitrary<T>) =>
    fc
      .integer({ min: 1, max: 6 })
      .chain((n) =>
        fc.tuple(
          fc.array(arb, { minLength: n, maxLength: n }),
          fc.array(arb, { minLength: n, maxLength: n }),
        ),
      )

  it('parts of a product of positive children sum to the change, by LMDI and by Shapley', () => {
    fc.assert(
      fc.property(
        children(positive),
        fc.array(fc.constantFrom(1, -1), { minLength: 6, maxLength: 6 }),
        ([before, after], signs) => {
          const formula: Formula = { kind: 'product', exponents: signs.slice(0, before.length) }
          for (const method of ['lmdi', 'shapley'] as const) {
            const d = decomposeChange(formula, before, after, method)
            expect(Math.abs(sum(d.parts) - d.change)).toBeLessThanOrEqual(
              tolerance(largestMix(formula.exponents, before, after)),
            )
            // A child that did not move is given nothing.
            before.forEach((b, i) => {
              if (b === after[i])
                expect(Math.abs(d.parts[i] ?? NaN)).toBeLessThanOrEqual(
                  tolerance(largestMix(formula.exponents, before, after)),
                )
            })
          }
        },
      ),
      { numRuns: 400, seed: 20 },
    )
  })

  it('parts of a product with any signs (Shapley) and of a signed sum sum to the change', () => {
    fc.assert(
      fc.property(children(anyValue), ([before, after]) => {
        const n = before.length
        const product = decomposeChange(
          { kind: 'product', exponents: new Array(n).fill(1) },
          before,
          after,
        )
        expect(Math.abs(sum(product.parts) - product.change)).toBeLessThanOrEqual(
          tolerance(largestMix(new Array<number>(n).fill(1), before, after)),
        )
        const signs = before.map((_, i) => (i % 2 === 0 ? 1 : -1))
        const s = decomposeChange({ kind: 'sum', signs }, before, after)
        expect(Math.abs(sum(s.parts) - s.change)).toBeLessThanOrEqual(
          tolerance(...before, ...after),
        )
      }),
      { numRuns: 400, seed: 21 },
    )
  })
})
