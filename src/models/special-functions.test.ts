import { describe, expect, it } from 'vitest'
import {
  digamma,
  hyp2f1,
  hyp2f1ScaledRemainder,
  lgamma,
  log1mExp,
  logBeta,
  logHyp2f1,
  logIntegrateUnitInterval,
  logSumExp,
  logSumExpArray,
  oneMinusExpOver,
} from './special-functions.js'

const EULER_GAMMA = 0.5772156649015329

function expectRel(actual: number, expected: number, tol: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected)))
}

describe('lgamma', () => {
  it('matches exact values: log √π, log 9!, 0 at 1 and 2, log(2√π) at −1/2', () => {
    expectRel(lgamma(0.5), 0.5 * Math.log(Math.PI), 1e-14)
    expectRel(lgamma(10), Math.log(362880), 1e-14)
    expect(Math.abs(lgamma(1))).toBeLessThan(1e-14)
    expect(Math.abs(lgamma(2))).toBeLessThan(1e-14)
    expectRel(lgamma(-0.5), Math.log(2 * Math.sqrt(Math.PI)), 1e-14)
  })

  it('matches log n! summed directly for n up to 170, and Stirling for huge arguments', () => {
    let logFactorial = 0
    for (let n = 1; n <= 170; n++) {
      logFactorial += Math.log(n)
      expectRel(lgamma(n + 1), logFactorial, 1e-13)
    }
    // Stirling with two correction terms is exact to ~1e-22 relative at 1e6.
    const x = 1e6
    const stirling = (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x)
    expectRel(lgamma(x), stirling, 1e-14)
  })

  it('is −log x − γx near 0 and infinite at the poles', () => {
    expectRel(lgamma(1e-8), -Math.log(1e-8) - EULER_GAMMA * 1e-8, 1e-14)
    expect(lgamma(0)).toBe(Infinity)
    expect(lgamma(-3)).toBe(Infinity)
  })
})

describe('digamma', () => {
  it('matches exact values: −γ, −γ − 2 log 2, H₉ − γ, reflection at −1/2', () => {
    expectRel(digamma(1), -EULER_GAMMA, 1e-14)
    expectRel(digamma(0.5), -EULER_GAMMA - 2 * Math.LN2, 1e-14)
    const h9 = 1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5 + 1 / 6 + 1 / 7 + 1 / 8 + 1 / 9
    expectRel(digamma(10), h9 - EULER_GAMMA, 1e-14)
    // ψ(1 − x) − ψ(x) = π cot(πx) = 0 at x = −1/2, so ψ(−1/2) = ψ(3/2) = 2 − γ − 2 log 2
    expectRel(digamma(-0.5), 2 - EULER_GAMMA - 2 * Math.LN2, 1e-13)
  })

  it('is the derivative of lgamma (central differences)', () => {
    for (const x of [0.01, 0.3, 1.7, 9.99, 10.01, 57.3, 5000.2]) {
      const h = 1e-4 * x
      const numeric = (lgamma(x + h) - lgamma(x - h)) / (2 * h)
      expectRel(digamma(x), numeric, 1e-7)
    }
  })
})

describe('logBeta, logSumExp, log1mExp, oneMinusExpOver', () => {
  it('logBeta(2, 3) = log(1/12), logBeta(1/2, 1/2) = log π', () => {
    expectRel(logBeta(2, 3), Math.log(1 / 12), 1e-14)
    expectRel(logBeta(0.5, 0.5), Math.log(Math.PI), 1e-14)
  })

  it('log-sum-exp does not overflow and accepts −Infinity', () => {
    expectRel(logSumExp(1000, 1000), 1000 + Math.LN2, 1e-15)
    expect(logSumExp(-Infinity, 5)).toBe(5)
    expect(logSumExp(-Infinity, -Infinity)).toBe(-Infinity)
    expectRel(logSumExpArray([-1000, -1000, -1000]), -1000 + Math.log(3), 1e-15)
    expect(logSumExpArray([])).toBe(-Infinity)
  })

  it('log(1 − eˣ) keeps its digits near 0 and far from it', () => {
    expectRel(log1mExp(-1e-20), Math.log(1e-20), 1e-14)
    expectRel(log1mExp(-50), -Math.exp(-50), 1e-14)
    expect(log1mExp(0)).toBe(-Infinity)
  })

  it('(1 − e^(εL))/ε is continuous at ε = 0', () => {
    expect(oneMinusExpOver(0, -0.3)).toBe(0.3)
    expectRel(oneMinusExpOver(1e-12, -0.3), 0.3, 1e-11)
    expectRel(oneMinusExpOver(-0.5, -0.3), (1 - Math.exp(0.15)) / -0.5, 1e-15)
  })
})

describe('tanh-sinh quadrature', () => {
  it('integrates Beta kernels with end-point singularities to full precision', () => {
    const beta = (a: number, b: number): number =>
      logIntegrateUnitInterval((_t, _u, lt, lu) => (a - 1) * lt + (b - 1) * lu)
    // B(0.3, 0.5) = Γ(0.3)Γ(0.5)/Γ(0.8) and B(0.01, 4) = 1/(0.01·1.01·2.01·3.01)·3!
    expectRel(
      beta(0.3, 0.5),
      Math.log((2.9915689876875904 * Math.sqrt(Math.PI)) / 1.164229713725303),
      1e-13,
    )
    expectRel(beta(0.01, 4), Math.log(6 / (0.01 * 1.01 * 2.01 * 3.01)), 1e-13)
  })
})

describe('hyp2f1', () => {
  const closedForms: [string, (z: number) => number, (z: number) => number][] = [
    ['₂F₁(1, 1; 2; z) = −log(1 − z)/z', (z) => hyp2f1(1, 1, 2, z), (z) => -Math.log1p(-z) / z],
    [
      '₂F₁(1/2, 1/2; 3/2; z²) = asin(z)/z',
      (z) => hyp2f1(0.5, 0.5, 1.5, z),
      (z) => Math.asin(Math.sqrt(z)) / Math.sqrt(z),
    ],
    [
      '₂F₁(2.3, 1.7; 1.7; z) = (1 − z)^(−2.3)',
      (z) => hyp2f1(2.3, 1.7, 1.7, z),
      (z) => (1 - z) ** -2.3,
    ],
    [
      '₂F₁(a, 1; 2; z) = ((1 − z)^(1−a) − 1)/((a − 1)z), a = 3.4',
      (z) => hyp2f1(3.4, 1, 2, z),
      (z) => ((1 - z) ** -2.4 - 1) / (2.4 * z),
    ],
  ]
  // 0.3 and 0.9: power series; 0.995 and 0.99999: Euler integral by quadrature.
  for (const [name, f, exact] of closedForms) {
    it(`${name} for z in the series and the quadrature regimes`, () => {
      for (const z of [0.3, 0.9, 0.995, 0.99999]) expectRel(f(z), exact(z), 1e-12)
    })
  }

  it('Pfaff transformation for z < 0: ₂F₁(1/2, 1; 3/2; −w²) = atan(w)/w', () => {
    for (const w of [0.5, 2, 30]) expectRel(hyp2f1(0.5, 1, 1.5, -w * w), Math.atan(w) / w, 1e-13)
  })

  it('stays in log space for huge parameters: log ₂F₁(50000.5, 1; 2; 0.1) ≈ 5259', () => {
    // ((1 − z)^(1−a) − 1)/((a − 1)z) in log form; the value itself overflows a double.
    const a = 50000.5
    const exact = (1 - a) * Math.log(0.9) + Math.log1p(-(0.9 ** (a - 1))) - Math.log((a - 1) * 0.1)
    expectRel(logHyp2f1(a, 1, 2, 0.1), exact, 1e-13)
    expect(hyp2f1(a, 1, 2, 0.1)).toBe(Infinity)
  })

  it('handles terminating series and rejects z ≥ 1', () => {
    // ₂F₁(−2, b; c; z) = 1 − 2bz/c + b(b+1)z²/(c(c+1))
    expectRel(
      hyp2f1(-2, 1.5, 2.5, 0.4),
      1 - (2 * 1.5 * 0.4) / 2.5 + (1.5 * 2.5 * 0.16) / (2.5 * 3.5),
      1e-14,
    )
    expect(hyp2f1(1, 1, 2, 1)).toBeNaN()
  })

  it('scaled remainder c(₂F₁ − 1)/(ab) matches the closed form and is finite at a = b = c = 0', () => {
    // c(₂F₁(1,1;2;z) − 1)/(ab) = 2(−log(1−z)/z − 1)
    for (const z of [1e-6, 0.2, 0.97]) {
      expectRel(hyp2f1ScaledRemainder(1, 1, 2, z), 2 * (-Math.log1p(-z) / z - 1), 1e-12)
    }
    // At a = b = c = 0 the terms are (n−1)!²/((n−1)! n!) zⁿ = zⁿ/n, summing to −log(1 − z).
    expectRel(hyp2f1ScaledRemainder(0, 0, 0, 0.5), Math.LN2, 1e-14)
  })
})
