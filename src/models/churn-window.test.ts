/**
 * The business churn probability P(no purchase in (T, T + t]) and P(alive at T + t) of BG/NBD and
 * Pareto/NBD, checked against a Monte Carlo simulation of each model (members drawn from the prior, their
 * purchases and drop-out simulated up to T and on through the window), and the BG/NBD ₂F₁ form against a
 * direct numerical integral over the drop-out probability.
 */
import { describe, expect, it } from 'vitest'
import {
  probabilityAlive,
  probabilityAliveAfter,
  probabilityAliveAfterMany,
  probabilityNoPurchase,
  probabilityNoPurchaseMany,
  type BgNbdParams,
} from './bg-nbd.js'
import {
  paretoNbdProbabilityAlive,
  paretoNbdProbabilityAliveAfterMany,
  paretoNbdProbabilityNoPurchase,
  paretoNbdProbabilityNoPurchaseMany,
  type ParetoNbdParams,
} from './pareto-nbd.js'
import { beta, exponential, gamma, rng } from '../../test/helpers/random.js'

/** Published CDNOW estimates (Fader, Hardie & Lee 2005; Fader & Hardie 2005), in weeks. */
const BG: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }
const PARETO: ParetoNbdParams = { r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 }
const WINDOW = 90 / 7 // 90 days in weeks

interface Simulated {
  x: Float64Array
  tx: Float64Array
  T: Float64Array
  noPurchase: Uint8Array
  aliveAfter: Uint8Array
}

/** BG/NBD members: purchases at rate λ while active, drop-out with probability p after each repeat purchase. */
function simulateBgNbd(p: BgNbdParams, n: number, t: number, seed: number): Simulated {
  const u = rng(seed)
  const s: Simulated = {
    x: new Float64Array(n),
    tx: new Float64Array(n),
    T: new Float64Array(n),
    noPurchase: new Uint8Array(n),
    aliveAfter: new Uint8Array(n),
  }
  for (let i = 0; i < n; i++) {
    const lambda = gamma(u, p.r) / p.alpha
    const drop = beta(u, p.a, p.b)
    const T = 20 + 20 * u()
    let now = 0
    let x = 0
    let tx = 0
    let alive = true
    let inWindow = 0
    for (;;) {
      now += exponential(u, lambda)
      if (now > T + t) break
      if (now <= T) {
        x++
        tx = now
      } else inWindow++
      if (u() < drop) {
        alive = false
        break
      }
    }
    s.x[i] = x
    s.tx[i] = tx
    s.T[i] = T
    s.noPurchase[i] = inWindow === 0 ? 1 : 0
    s.aliveAfter[i] = alive ? 1 : 0
  }
  return s
}

/** Pareto/NBD members: purchases at rate λ until an exponential lifetime of rate μ ends. */
function simulateParetoNbd(p: ParetoNbdParams, n: number, t: number, seed: number): Simulated {
  const u = rng(seed)
  const s: Simulated = {
    x: new Float64Array(n),
    tx: new Float64Array(n),
    T: new Float64Array(n),
    noPurchase: new Uint8Array(n),
    aliveAfter: new Uint8Array(n),
  }
  for (let i = 0; i < n; i++) {
    const lambda = gamma(u, p.r) / p.alpha
    const lifetime = exponential(u, gamma(u, p.s) / p.beta)
    const T = 20 + 20 * u()
    const end = Math.min(lifetime, T + t)
    let now = 0
    let x = 0
    let tx = 0
    let inWindow = 0
    for (;;) {
      now += exponential(u, lambda)
      if (now > end) break
      if (now <= T) {
        x++
        tx = now
      } else inWindow++
    }
    s.x[i] = x
    s.tx[i] = tx
    s.T[i] = T
    s.noPurchase[i] = inWindow === 0 ? 1 : 0
    s.aliveAfter[i] = lifetime > T + t ? 1 : 0
  }
  return s
}

/**
 * Predicted vs simulated counts, overall and by x (0, 1, 2–4, 5+): the predicted count is a sum of
 * independent Bernoulli means, so |observed − predicted| / √Σ p(1 − p) is about standard normal.
 */
function expectCalibrated(predicted: Float64Array, observed: Uint8Array, x: Float64Array): void {
  const groups: Array<(v: number) => boolean> = [
    () => true,
    (v) => v === 0,
    (v) => v === 1,
    (v) => v >= 2 && v <= 4,
    (v) => v >= 5,
  ]
  for (const inGroup of groups) {
    let sumP = 0
    let variance = 0
    let count = 0
    let members = 0
    for (let i = 0; i < predicted.length; i++) {
      if (!inGroup(x[i] as number)) continue
      const q = predicted[i] as number
      sumP += q
      variance += q * (1 - q)
      count += observed[i] as number
      members++
    }
    expect(members).toBeGreaterThan(500)
    expect(Math.abs(count - sumP) / Math.sqrt(variance)).toBeLessThan(4)
  }
}

describe('BG/NBD: P(no purchase within t) and P(alive at T + t)', () => {
  const sim = simulateBgNbd(BG, 60_000, WINDOW, 7)

  it('P(no purchase in the next 90 days) matches a Monte Carlo simulation of the model', () => {
    const p = probabilityNoPurchaseMany(BG, WINDOW, sim.x, sim.tx, sim.T)
    expectCalibrated(p, sim.noPurchase, sim.x)
  })

  it('P(alive 90 days on) matches a Monte Carlo simulation of the model', () => {
    const p = probabilityAliveAfterMany(BG, WINDOW, sim.x, sim.tx, sim.T)
    expectCalibrated(p, sim.aliveAfter, sim.x)
  })

  it('the ₂F₁ form equals a direct integral over the drop-out probability p ~ Beta(a, b + x)', () => {
    for (const [x, tx, T, t] of [
      [0, 0, 38.86, 13],
      [2, 30.43, 38.86, 39],
      [7, 35, 36, 100],
      [1, 1.71, 38.86, 5],
    ] as const) {
      // E_p[(1 + p t/(α+T))^−(r+x)], p = w^(1/a): the Beta density becomes bounded; Simpson's rule.
      const u = t / (BG.alpha + T)
      const m = 20_000
      let num = 0
      let den = 0
      for (let k = 0; k <= m; k++) {
        const w = k / m
        const weight = k === 0 || k === m ? 1 : k % 2 === 1 ? 4 : 2
        const p = w ** (1 / BG.a)
        const density = (1 - p) ** (BG.b + x - 1)
        num += weight * density * (1 + p * u) ** -(BG.r + x)
        den += weight * density
      }
      const reference = probabilityAlive(BG, x, tx, T) * (num / den)
      expect(probabilityAliveAfter(BG, t, x, tx, T)).toBeCloseTo(reference, 7)
    }
  })

  it('limits: t = 0 gives 1 and P(alive); a long window tends to 1 − P(alive) … 1', () => {
    expect(probabilityNoPurchase(BG, 0, 3, 20, 30)).toBe(1)
    expect(probabilityAliveAfter(BG, 0, 3, 20, 30)).toBeCloseTo(probabilityAlive(BG, 3, 20, 30), 14)
    const pa = probabilityAlive(BG, 3, 20, 30)
    expect(probabilityNoPurchase(BG, 1e-9, 3, 20, 30)).toBeCloseTo(1, 8)
    expect(probabilityNoPurchase(BG, 13, 3, 20, 30)).toBeGreaterThan(1 - pa)
    expect(probabilityNoPurchase(BG, 13, 3, 20, 30)).toBeLessThan(1)
    expect(probabilityAliveAfter(BG, 52, 3, 20, 30)).toBeLessThan(pa)
  })
})

describe('Pareto/NBD: P(no purchase within t) and P(alive at T + t)', () => {
  const sim = simulateParetoNbd(PARETO, 60_000, WINDOW, 11)

  it('P(no purchase in the next 90 days) matches a Monte Carlo simulation of the model', () => {
    const p = paretoNbdProbabilityNoPurchaseMany(PARETO, WINDOW, sim.x, sim.tx, sim.T)
    expectCalibrated(p, sim.noPurchase, sim.x)
  })

  it('P(alive 90 days on) matches a Monte Carlo simulation of the model', () => {
    const p = paretoNbdProbabilityAliveAfterMany(PARETO, WINDOW, sim.x, sim.tx, sim.T)
    expectCalibrated(p, sim.aliveAfter, sim.x)
  })

  it('t = 0 gives 1; with s → 0 (no drop-out) P(no purchase) → ((α+T)/(α+T+t))^(r+x) of the alive', () => {
    expect(paretoNbdProbabilityNoPurchase(PARETO, 0, 3, 20, 30)).toBe(1)
    const p = { ...PARETO, s: 1e-9 }
    const alive = paretoNbdProbabilityAlive(p, 3, 20, 30)
    expect(paretoNbdProbabilityNoPurchase(p, 13, 3, 20, 30)).toBeCloseTo(
      1 - alive + alive * ((PARETO.alpha + 30) / (PARETO.alpha + 43)) ** (PARETO.r + 3),
      6,
    )
  })
})
