import { describe, expect, it } from 'vitest'
import { erfc, fitKaplanMeier, survivalAt, twoSidedZ } from './kaplan-meier.js'

/*
 * Hand-computed example: times 1, 2, 2, 3+, 4, 5+, 6 (+ = censored), n = 7.
 *   t=1: n 7, d 1 → S = 6/7;            Greenwood Σ d/(n(n−d)) = 1/42
 *   t=2: n 6, d 2 → S = 6/7·4/6 = 4/7;  Σ = 1/42 + 2/24 = 3/28
 *   t=4: n 3, d 1 → S = 4/7·2/3 = 8/21; Σ = 3/28 + 1/6 = 23/84   (3+ leaves the risk set before t=4)
 *   t=6: n 1, d 1 → S = 0
 * se(S) = S·√Σ: t=2 → (4/7)·√(3/28) = 0.1870439. log-log 95 % interval S^exp(±z·√Σ/|log S|), z = 1.959964:
 *   t=1 [0.3340539, 0.9785611], t=2 [0.1718660, 0.8370828], t=4 [0.0612312, 0.7164420].
 * Median: first S ≤ 0.5 → 4. Brookmeyer–Crowley: first lower ≤ 0.5 → 1; upper never ≤ 0.5 (S = 0 has no
 * interval) → open (null).
 */
const TIMES = [1, 2, 2, 3, 4, 5, 6]
const EVENTS = [1, 1, 1, 0, 1, 0, 1]

describe('Kaplan–Meier', () => {
  it('matches the hand-computed product-limit estimate and Greenwood errors', () => {
    const km = fitKaplanMeier(TIMES, EVENTS)
    expect(km.steps.map((s) => [s.time, s.atRisk, s.events, s.censored])).toEqual([
      [1, 7, 1, 0],
      [2, 6, 2, 1],
      [4, 3, 1, 1],
      [6, 1, 1, 0],
    ])
    const s = km.steps.map((x) => x.survival)
    expect(s[0]).toBeCloseTo(6 / 7, 12)
    expect(s[1]).toBeCloseTo(4 / 7, 12)
    expect(s[2]).toBeCloseTo(8 / 21, 12)
    expect(s[3]).toBe(0)
    expect(km.steps[1]?.stdError).toBeCloseTo(0.1870439, 6)
    expect(km.steps[0]?.lower).toBeCloseTo(0.3340539, 6)
    expect(km.steps[0]?.upper).toBeCloseTo(0.9785611, 6)
    expect(km.steps[1]?.lower).toBeCloseTo(0.171866, 6)
    expect(km.steps[1]?.upper).toBeCloseTo(0.8370828, 6)
    expect(km.steps[2]?.lower).toBeCloseTo(0.0612312, 6)
    expect(km.steps[2]?.upper).toBeCloseTo(0.716442, 6)
    expect(km.steps[3]).toMatchObject({ lower: null, upper: null })
    expect([km.median, km.medianLower, km.medianUpper]).toEqual([4, 1, null])
    expect(km.subjects).toBe(7)
    expect(km.events).toBe(5)
  })

  it('gives the same answer from aggregated counts', () => {
    const km = fitKaplanMeier([1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 0, 1], {
      counts: [1, 2, 1, 1, 1, 1],
    })
    expect(km.steps.map((x) => x.survival)).toEqual(
      fitKaplanMeier(TIMES, EVENTS).steps.map((x) => x.survival),
    )
  })

  it('keeps censored subjects at risk at an event time they share', () => {
    // times 1, 1+, 2: at t=1 both subjects at 1 are at risk (n 3), S = 2/3; at t=2 n = 1, S = 0.
    const km = fitKaplanMeier([1, 1, 2], [1, 0, 1])
    expect(km.steps.map((x) => x.atRisk)).toEqual([3, 1])
    expect(km.steps[0]?.survival).toBeCloseTo(2 / 3, 12)
    expect(km.steps[1]?.survival).toBe(0)
  })

  it('handles all-censored data and reports S(t) between steps', () => {
    const none = fitKaplanMeier([3, 5], [0, 0])
    expect(none.steps).toEqual([])
    expect(none.median).toBeNull()
    expect(none.censoredBeforeFirstEvent).toBe(2)
    const km = fitKaplanMeier(TIMES, EVENTS)
    expect(survivalAt(km, 0.5)).toBe(1)
    expect(survivalAt(km, 3)).toBeCloseTo(4 / 7, 12)
  })

  it('offers log and plain intervals', () => {
    // log: S·exp(±z√Σ) at t=2: (4/7)·exp(±1.959964·0.3273268) = [0.3008, 1 (clipped from 1.0856)].
    const log = fitKaplanMeier(TIMES, EVENTS, { confidenceType: 'log' })
    expect(log.steps[1]?.lower).toBeCloseTo((4 / 7) * Math.exp(-1.959964 * Math.sqrt(3 / 28)), 5)
    expect(log.steps[1]?.upper).toBe(1)
    const plain = fitKaplanMeier(TIMES, EVENTS, { confidenceType: 'plain' })
    expect(plain.steps[1]?.lower).toBeCloseTo(4 / 7 - 1.959964 * 0.1870439, 5)
  })

  it('has an accurate normal quantile', () => {
    expect(twoSidedZ(0.95)).toBeCloseTo(1.959964, 5)
    expect(twoSidedZ(0.9)).toBeCloseTo(1.644854, 5)
    expect(erfc(0)).toBeCloseTo(1, 7)
  })

  it('refuses bad input', () => {
    expect(() => fitKaplanMeier([1, -1], [1, 1])).toThrow('time 1')
    expect(() => fitKaplanMeier([1], [1, 0])).toThrow('same length')
  })
})
