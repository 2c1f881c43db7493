import { describe, expect, it } from 'vitest'
import { ModelFitError } from '../core/errors.js'
import { assertInteriorMinimum, minimize, minimizeFromStarts } from './optimize.js'
import type { Objective } from './optimize.js'

/** Rosenbrock's function, minimum 0 at (1, 1), with its analytic gradient. */
const rosenbrock: Objective = {
  value: (v) => {
    const [x, y] = [v[0] as number, v[1] as number]
    return 100 * (y - x * x) ** 2 + (1 - x) ** 2
  },
  valueAndGradient: (v, g) => {
    const [x, y] = [v[0] as number, v[1] as number]
    g[0] = -400 * x * (y - x * x) - 2 * (1 - x)
    g[1] = 200 * (y - x * x)
    return 100 * (y - x * x) ** 2 + (1 - x) ** 2
  },
}

describe('minimize (BFGS, strong-Wolfe line search)', () => {
  it('finds the Rosenbrock minimum (1, 1) from (−1.2, 1) with the analytic gradient', () => {
    const r = minimize(rosenbrock, Float64Array.of(-1.2, 1), { gradientTolerance: 1e-10 })
    expect(r.converged).toBe(true)
    expect(r.x[0]).toBeCloseTo(1, 8)
    expect(r.x[1]).toBeCloseTo(1, 8)
    expect(r.value).toBeLessThan(1e-18)
    expect(r.gradientNorm).toBeLessThanOrEqual(1e-10)
    // BFGS with a Wolfe line search needs a few dozen iterations here, not thousands.
    expect(r.iterations).toBeLessThan(100)
  })

  it('falls back to central differences when no gradient is supplied', () => {
    const r = minimize({ value: rosenbrock.value }, Float64Array.of(-1.2, 1), {
      gradientTolerance: 1e-6,
    })
    expect(r.converged).toBe(true)
    expect(r.x[0]).toBeCloseTo(1, 5)
    expect(r.x[1]).toBeCloseTo(1, 5)
  })

  it('solves a badly scaled quadratic exactly', () => {
    // f = ½ Σ dᵢ (xᵢ − cᵢ)², d spanning six orders of magnitude
    const d = [1e-3, 1, 10, 1e3]
    const c = [3, -2, 0.5, 7]
    const quad: Objective = {
      value: (v) =>
        d.reduce((s, di, i) => s + 0.5 * di * ((v[i] as number) - (c[i] as number)) ** 2, 0),
      valueAndGradient: (v, g) => {
        let s = 0
        d.forEach((di, i) => {
          const e = (v[i] as number) - (c[i] as number)
          g[i] = di * e
          s += 0.5 * di * e * e
        })
        return s
      },
    }
    const r = minimize(quad, new Float64Array(4), { gradientTolerance: 1e-12, maxStep: 100 })
    expect(r.converged).toBe(true)
    c.forEach((ci, i) => expect(r.x[i]).toBeCloseTo(ci, 8))
  })

  it('backs off from points where the objective is not finite', () => {
    // f(x) = x − log x on x > 0 (NaN beyond), minimum at 1; the first steepest-descent step overshoots.
    const f: Objective = {
      value: (v) => (v[0] as number) - Math.log(v[0] as number),
      valueAndGradient: (v, g) => {
        const x = v[0] as number
        g[0] = 1 - 1 / x
        return x - Math.log(x)
      },
    }
    const r = minimize(f, Float64Array.of(0.01))
    expect(r.converged).toBe(true)
    expect(r.x[0]).toBeCloseTo(1, 8)
  })

  it('reports an unbounded objective as not converged instead of looping', () => {
    const r = minimize({ value: (v) => -(v[0] as number) }, Float64Array.of(0), {
      maxIterations: 50,
    })
    expect(r.converged).toBe(false)
    expect(r.iterations).toBeLessThanOrEqual(50)
  })

  it('reports a non-finite starting value', () => {
    const r = minimize({ value: () => NaN }, Float64Array.of(0))
    expect(r.converged).toBe(false)
    expect(r.message).toMatch(/not finite/)
  })
})

describe('minimizeFromStarts', () => {
  // Two local minima, the roots of 4x³ − 4x + 0.3: x = −1.035579 (global) and x = 0.960150.
  const tilted: Objective = {
    value: (v) => ((v[0] as number) ** 2 - 1) ** 2 + 0.3 * (v[0] as number),
    valueAndGradient: (v, g) => {
      const x = v[0] as number
      g[0] = 4 * x * (x * x - 1) + 0.3
      return (x * x - 1) ** 2 + 0.3 * x
    },
  }

  it('keeps the best converged start', () => {
    const { best, runs } = minimizeFromStarts(
      tilted,
      [Float64Array.of(1.2), Float64Array.of(-1.5)],
      {},
      'test',
    )
    expect(runs).toHaveLength(2)
    expect(runs[0]?.x[0]).toBeCloseTo(0.96015, 5)
    expect(best.x[0]).toBeCloseTo(-1.035579, 5)
  })

  it('throws ModelFitError with the iteration count when no start converges', () => {
    let caught: unknown
    try {
      minimizeFromStarts(rosenbrock, [Float64Array.of(-1.2, 1)], { maxIterations: 3 }, 'Rosenbrock')
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(ModelFitError)
    expect((caught as ModelFitError).iterations).toBe(3)
    expect((caught as ModelFitError).message).toMatch(/Rosenbrock fit did not converge/)
  })
})

describe('assertInteriorMinimum', () => {
  it('accepts a proper minimum and rejects a gradient that merely faded away', () => {
    const good = minimize(rosenbrock, Float64Array.of(-1.2, 1), { gradientTolerance: 1e-10 })
    expect(() => assertInteriorMinimum(rosenbrock, good, 'Rosenbrock')).not.toThrow()

    // f = e^(−x) + y²: no minimum in x; the gradient is below 1e-8 once x > 18.4.
    const fading: Objective = {
      value: (v) => Math.exp(-(v[0] as number)) + (v[1] as number) ** 2,
      valueAndGradient: (v, g) => {
        g[0] = -Math.exp(-(v[0] as number))
        g[1] = 2 * (v[1] as number)
        return Math.exp(-(v[0] as number)) + (v[1] as number) ** 2
      },
    }
    const drifted = minimize(fading, Float64Array.of(0, 1))
    expect(drifted.converged).toBe(true)
    expect(() => assertInteriorMinimum(fading, drifted, 'fading')).toThrow(ModelFitError)
  })
})
