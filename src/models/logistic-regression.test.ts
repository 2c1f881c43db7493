import { describe, expect, it } from 'vitest'
import { InputError } from '../core/errors.js'
import { calibrationByDecile, rocAuc, topDecileLift } from './classification-metrics.js'
import {
  fitLogisticRegression,
  logisticContributions,
  predictLogistic,
} from './logistic-regression.js'

describe('fitLogisticRegression', () => {
  it('reproduces the group rates with one binary feature (closed-form MLE), λ → 0', () => {
    // x = 0: 1 of 4 positive; x = 1: 3 of 4 positive. The unpenalised MLE predicts exactly 1/4 and 3/4,
    // so the weight on x is log(3) − log(1/3) = 2 log 3 per unit of x.
    const x = Float64Array.of(0, 0, 0, 0, 1, 1, 1, 1)
    const y = [1, 0, 0, 0, 1, 1, 1, 0]
    const m = fitLogisticRegression(x, y, ['x'], { l2: 1e-10 })
    const p = predictLogistic(m, Float64Array.of(0, 1))
    expect(p[0]).toBeCloseTo(0.25, 5)
    expect(p[1]).toBeCloseTo(0.75, 5)
    expect((m.weights[0] as number) / (m.scales[0] as number)).toBeCloseTo(2 * Math.log(3), 4)
    // Mean log-loss at the MLE: −[¾ log ¾ + ¼ log ¼] (each group has entropy H(¼)).
    expect(m.logLoss).toBeCloseTo(-(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25)), 6)
  })

  it('shrinks the weights as λ grows, and contributions sum to the log-odds minus the intercept', () => {
    const n = 200
    const X = new Float64Array(n * 2)
    const y: number[] = []
    for (let i = 0; i < n; i++) {
      const a = Math.sin(i * 12.9898) * 2
      const b = Math.cos(i * 78.233)
      X[i * 2] = a
      X[i * 2 + 1] = b
      y.push(a + 0.3 * b + Math.sin(i * 3.1) > 0 ? 1 : 0)
    }
    const loose = fitLogisticRegression(X, y, ['a', 'b'], { l2: 1e-6 })
    const tight = fitLogisticRegression(X, y, ['a', 'b'], { l2: 1 })
    expect(Math.abs(tight.weights[0] as number)).toBeLessThan(Math.abs(loose.weights[0] as number))
    expect(loose.weights[0]).toBeGreaterThan(0)
    const c = logisticContributions(loose, X, 7)
    const p = predictLogistic(loose, X.subarray(14, 16))[0] as number
    expect(loose.intercept + (c[0] as number) + (c[1] as number)).toBeCloseTo(
      Math.log(p / (1 - p)),
      10,
    )
  })

  it('refuses one-class labels, non-finite features and bad labels', () => {
    expect(() => fitLogisticRegression(Float64Array.of(1, 2), [1, 1], ['x'])).toThrow(
      /both classes/,
    )
    expect(() => fitLogisticRegression(Float64Array.of(1, NaN), [0, 1], ['x'])).toThrow(InputError)
    expect(() => fitLogisticRegression(Float64Array.of(1, 2), [0, 2], ['x'])).toThrow(/0 or 1/)
    expect(() => fitLogisticRegression(new Float64Array(0), [], ['x'])).toThrow(/both classes/)
  })
})

describe('classification metrics', () => {
  it('AUC matches the hand count of concordant pairs, ties as ½', () => {
    // Positives 0.35, 0.8; negatives 0.1, 0.4: concordant pairs (0.35>0.1), (0.8>0.1), (0.8>0.4) = 3 of 4.
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75)
    expect(rocAuc([1, 1], [0, 1])).toBe(0.5)
    expect(rocAuc([3, 2, 1], [1, 0, 0])).toBe(1)
    expect(rocAuc([1, 2], [1, 1])).toBeNaN()
  })

  it('calibration by decile and top-decile lift', () => {
    const scores = Array.from({ length: 20 }, (_, i) => i / 20)
    const labels = scores.map((s) => (s >= 0.9 ? 1 : 0)) // the two highest scores are the positives
    const rows = calibrationByDecile(scores, labels)
    expect(rows).toHaveLength(10)
    expect(rows[0]).toEqual({ decile: 1, members: 2, meanScore: 0.925, observedRate: 1 })
    expect(rows[9]?.observedRate).toBe(0)
    // Overall rate 2/20 = 0.1; top decile 1 → lift 10.
    expect(topDecileLift(scores, labels)).toBeCloseTo(10, 12)
  })
})
