import { describe, expect, it } from 'vitest'
import { fitRidgeRegression, predictRidge } from './ridge-regression.js'
import { fitUplift, predictUplift, qiniCurve, type UpliftData } from './uplift.js'

/** mulberry32: a small seeded generator, so the tests are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z))

/**
 * Two arms and a holdout. Baseline response μ0 = σ(−0.3 + 1.2 x₂); arm 1 brings back a share 0.35 of
 * would-be non-responders when x₁ = 1 (else 0.02), arm 2 a share 0.3 when x₃ > 0.5 (else 0).
 */
function synthetic(n: number, seed: number): { data: UpliftData; truth: Float64Array[] } {
  const u = rng(seed)
  const p = 3
  const X = new Float64Array(n * p)
  const arm = new Int32Array(n)
  const y = new Float64Array(n)
  const truth = [new Float64Array(n), new Float64Array(n)]
  for (let i = 0; i < n; i++) {
    const x1 = u() < 0.3 ? 1 : 0
    const x2 = (u() + u() + u() - 1.5) * 2
    const x3 = u()
    X.set([x1, x2, x3], i * p)
    const mu0 = sigmoid(-0.3 + 1.2 * x2)
    const pi = [x1 === 1 ? 0.35 : 0.02, x3 > 0.5 ? 0.3 : 0]
    truth[0]![i] = pi[0]! * (1 - mu0)
    truth[1]![i] = pi[1]! * (1 - mu0)
    const a = Math.floor(u() * 3)
    arm[i] = a
    const natural = u() < mu0
    y[i] = natural || (a > 0 && u() < pi[a - 1]!) ? 1 : 0
  }
  return { data: { X, features: ['x1', 'x2', 'x3'], arm, y, arms: 2 }, truth }
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length
  let ma = 0
  let mb = 0
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n
    mb += b[i]! / n
  }
  let sab = 0
  let saa = 0
  let sbb = 0
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb)
    saa += (a[i]! - ma) ** 2
    sbb += (b[i]! - mb) ** 2
  }
  return sab / Math.sqrt(saa * sbb)
}

describe('ridge regression', () => {
  it('recovers the coefficients of a noiseless linear model (λ → 0)', () => {
    const u = rng(1)
    const n = 200
    const X = new Float64Array(n * 2)
    const y = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const a = u() * 10
      const b = u() - 0.5
      X.set([a, b], i * 2)
      y[i] = 3 + 2 * a - 4 * b
    }
    const m = fitRidgeRegression(X, y, ['a', 'b'], { l2: 1e-12 })
    const fit = predictRidge(m, new Float64Array([1, 0.25]))
    expect(fit[0]).toBeCloseTo(3 + 2 - 1, 6)
    // On the standardised scale the weight is the coefficient times the feature's sd.
    expect((m.weights[0] as number) / (m.scales[0] as number)).toBeCloseTo(2, 6)
  })
  it('shrinks toward the mean as λ grows', () => {
    const X = new Float64Array([0, 1, 2, 3])
    const y = [0, 1, 2, 3]
    const small = fitRidgeRegression(X, y, ['x'], { l2: 1e-9 })
    const big = fitRidgeRegression(X, y, ['x'], { l2: 100 })
    expect(Math.abs(big.weights[0]!)).toBeLessThan(Math.abs(small.weights[0]!) / 50)
    expect(big.intercept).toBeCloseTo(1.5, 12)
  })
})

describe('uplift learners on randomised data with known effects', () => {
  const train = synthetic(12_000, 7)
  const test = synthetic(6000, 8)
  for (const learner of ['t-learner', 'x-learner', 'bring-back'] as const) {
    it(`${learner}: predicted uplift follows the true effect of each arm`, () => {
      const model = fitUplift(train.data, { learner })
      const pred = predictUplift(model, test.data.X)
      for (let k = 0; k < 2; k++) {
        const r = correlation(pred.uplift[k]!, test.truth[k]!)
        expect(r, `${learner} arm ${k + 1}: r = ${r}`).toBeGreaterThan(0.7)
        // Mean effect recovered within 0.02 (the true means are about 0.05 and 0.04).
        const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length
        expect(Math.abs(mean(pred.uplift[k]!) - mean(test.truth[k]!))).toBeLessThan(0.02)
      }
    })
  }
  it('bring-back: the shares brought back are recovered, uplifts are never negative', () => {
    const model = fitUplift(train.data, { learner: 'bring-back' })
    const pred = predictUplift(model, test.data.X)
    // Arm 1 brings back 35 % of would-be non-responders with x1 = 1 and 2 % without.
    const X = new Float64Array([1, 0, 0.2, 0, 0, 0.2])
    const p = predictUplift(model, X)
    const share = (k: number, i: number) => p.uplift[k]![i]! / (1 - p.control[i]!)
    expect(share(0, 0)).toBeGreaterThan(0.25)
    expect(share(0, 0)).toBeLessThan(0.45)
    expect(share(0, 1)).toBeLessThan(0.08)
    for (const u of pred.uplift) expect(Math.min(...u)).toBeGreaterThanOrEqual(0)
    // The arm's response is the holdout's plus the uplift.
    expect(pred.response[0]![5]).toBeCloseTo(pred.control[5]! + pred.uplift[0]![5]!, 12)
  })
  it('bring-back: the share can be limited to some features', () => {
    const model = fitUplift(train.data, { learner: 'bring-back', effectFeatures: ['x1', 'x3'] })
    expect(model.bringBack?.columns).toEqual([0, 2])
    expect(model.bringBack?.models[0]?.features).toEqual(['x1', 'x3'])
    expect(() => fitUplift(train.data, { learner: 'bring-back', effectFeatures: ['x9'] })).toThrow(
      /x9/,
    )
  })
  it('refuses an arm without rows', () => {
    const d = synthetic(300, 3).data
    expect(() => fitUplift({ ...d, arms: 3 })).toThrow(/arm 3 has no rows/)
  })
})

describe('Qini curve', () => {
  it('matches a hand computation', () => {
    // Scores 4 > 3 > 2 > 1: T responder, C non-responder, T non-responder, C responder.
    const q = qiniCurve([4, 3, 2, 1], [1, 0, 1, 0], [1, 0, 0, 1])
    // Prefix Q: 1 (no control yet: Y_T), 1 − 0·1/1 = 1, 1 − 0·2/1 = 1, 1 − 1·2/2 = 0.
    expect(q.totalIncremental).toBe(0)
    expect(q.curve[10]!.incremental).toBeCloseTo(0, 12)
    // Area: trapezoids on x = 0, .25, .5, .75, 1 with Q = 0, 1, 1, 1, 0 → 0.125 + .25 + .25 + .125.
    expect(q.auuc).toBeCloseTo(0.75 / 4, 12)
    expect(q.randomAuuc).toBe(0)
    expect(q.upliftAt.find((r) => r.share === 0.5)?.uplift).toBe(1)
  })
  it('a constant score is the random ranking: Qini 0', () => {
    const { data } = synthetic(2000, 4)
    const idx = Array.from({ length: data.y.length }, (_, i) => i).filter((i) => data.arm[i] !== 2)
    const q = qiniCurve(
      idx.map(() => 0.5),
      idx.map((i) => (data.arm[i] === 1 ? 1 : 0)),
      idx.map((i) => data.y[i]!),
    )
    expect(q.qini).toBeCloseTo(0, 12)
  })
  it('ranking by the true effect beats random on held-out data', () => {
    const { data, truth } = synthetic(8000, 5)
    const idx = Array.from({ length: data.y.length }, (_, i) => i).filter((i) => data.arm[i] !== 2)
    const q = qiniCurve(
      idx.map((i) => truth[0]![i]!),
      idx.map((i) => (data.arm[i] === 1 ? 1 : 0)),
      idx.map((i) => data.y[i]!),
    )
    expect(q.qini).toBeGreaterThan(0.005)
    expect(q.auuc).toBeGreaterThan(q.randomAuuc)
  })
})
