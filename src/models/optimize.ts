/**
 * Unconstrained minimisation for the maximum-likelihood fits: BFGS with a line search that satisfies the
 * strong Wolfe conditions (Nocedal & Wright, "Numerical Optimization", 2nd ed., Algorithms 3.5, 3.6 and 6.1).
 *
 * The fits have two to four parameters, so a dense inverse-Hessian approximation is cheap and converges in
 * fewer evaluations than L-BFGS. Gradients come from the caller; central differences are the fallback.
 * @module
 */

import { ModelFitError } from '../core/errors.js'

/**
 * A function to minimise. `value` is required; `valueAndGradient` writes ∇f(x) into `gradient` and returns
 * f(x). Without it the gradient is taken by central differences of `value`.
 * Either may return a non-finite number for points outside the function's domain; the line search then
 * shortens the step.
 */
export interface Objective {
  readonly value: (x: Float64Array) => number
  readonly valueAndGradient?: (x: Float64Array, gradient: Float64Array) => number
}

/**
 * The objective of a fit on log-parameters, f(θ) = −log L(p(θ)) / W with p(θ) = {namesⱼ: exp θⱼ} (`at`), W
 * scaling f to a per-member average. `logLikelihood(p, gradient)` writes ∂ log L/∂pⱼ in `names` order into
 * `gradient` when it is given; the gradient in θ follows by the chain rule ∂/∂θⱼ = pⱼ ∂/∂pⱼ.
 */
export function logParameterObjective<K extends string>(
  names: readonly K[],
  W: number,
  logLikelihood: (p: Record<K, number>, gradient: Float64Array | null) => number,
): { readonly objective: Objective; readonly at: (theta: Float64Array) => Record<K, number> } {
  const at = (theta: Float64Array): Record<K, number> => {
    const p = {} as Record<K, number>
    names.forEach((name, j) => {
      p[name] = Math.exp(theta[j] as number)
    })
    return p
  }
  const natural = new Float64Array(names.length)
  const objective: Objective = {
    value: (theta) => -logLikelihood(at(theta), null) / W,
    valueAndGradient: (theta, g) => {
      const p = at(theta)
      const ll = logLikelihood(p, natural)
      names.forEach((name, j) => {
        g[j] = (-p[name] * (natural[j] as number)) / W
      })
      return -ll / W
    },
  }
  return { objective, at }
}

/** Settings of {@link minimize}. */
export interface MinimizeOptions {
  /** Converged when max |∂f/∂xᵢ| ≤ this. Default 1e-8 (the fits scale f to a per-member average). */
  readonly gradientTolerance?: number
  /** Default 500. */
  readonly maxIterations?: number
  /** Largest change of any coordinate in one iteration (the fits work on log-parameters). Default 5. */
  readonly maxStep?: number
  /** Relative step of the central-difference fallback gradient. Default 1e-6. */
  readonly finiteDifferenceStep?: number
  /**
   * Wall-clock budget in milliseconds for the whole minimisation (every start, for
   * {@link minimizeFromStarts}); when it runs out the result says `converged: false` with the reason, and
   * the fits throw ModelFitError. Default: no limit.
   */
  readonly timeLimitMs?: number
}

/** Outcome of {@link minimize}. `x` and `gradient` are fresh arrays owned by the caller. */
export interface MinimizeResult {
  readonly x: Float64Array
  readonly value: number
  readonly gradient: Float64Array
  /** max |∂f/∂xᵢ| at `x`. */
  readonly gradientNorm: number
  readonly iterations: number
  /** Number of calls of the objective (a central-difference gradient counts 2·n + 1). */
  readonly evaluations: number
  readonly converged: boolean
  /** Why the iteration stopped. */
  readonly message: string
}

const C1 = 1e-4 // sufficient decrease (Armijo)
const C2 = 0.9 // curvature; 0.9 is the usual choice for quasi-Newton methods
const MAX_LINE_SEARCH = 40

/** The gradient, by central differences with step h·max(1, |xᵢ|), when the caller supplies none. */
function centralDifferenceGradient(
  f: (x: Float64Array) => number,
  h: number,
): (x: Float64Array, gradient: Float64Array) => number {
  return (x, gradient) => {
    const fx = f(x)
    for (let i = 0; i < x.length; i++) {
      const xi = x[i] as number
      const step = h * Math.max(1, Math.abs(xi))
      x[i] = xi + step
      const up = f(x)
      x[i] = xi - step
      const down = f(x)
      x[i] = xi
      gradient[i] = (up - down) / (2 * step)
    }
    return fx
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number)
  return s
}

function maxAbs(a: Float64Array): number {
  let m = 0
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i] as number)
    if (!(v <= m)) m = v // also propagates NaN
  }
  return m
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i] as number)) return false
  return true
}

/** gᵀ M g for a row-major n×n matrix M. */
function quadraticForm(M: Float64Array, g: Float64Array, n: number): number {
  let q = 0
  for (let i = 0; i < n; i++) {
    let row = 0
    for (let j = 0; j < n; j++) row += (M[i * n + j] as number) * (g[j] as number)
    q += (g[i] as number) * row
  }
  return q
}

/**
 * Minimise `objective` from `start` by BFGS with a strong-Wolfe line search. Never throws for a failed
 * minimisation: the result says `converged: false` and why. The fitting functions turn that into a
 * {@link ModelFitError} (see {@link minimizeFromStarts}).
 */
export function minimize(
  objective: Objective,
  start: Float64Array,
  options: MinimizeOptions = {},
): MinimizeResult {
  const n = start.length
  const gtol = options.gradientTolerance ?? 1e-8
  const maxIterations = options.maxIterations ?? 500
  const maxStep = options.maxStep ?? 5
  let evaluations = 0
  const fdStep = options.finiteDifferenceStep ?? 1e-6
  const rawFg = objective.valueAndGradient ?? centralDifferenceGradient(objective.value, fdStep)
  const evalsPerCall = objective.valueAndGradient === undefined ? 2 * n + 1 : 1
  const fg = (x: Float64Array, g: Float64Array): number => {
    evaluations += evalsPerCall
    const v = rawFg(x, g)
    // Anything non-finite is "outside the domain": the line search backs off from it.
    return Number.isFinite(v) && allFinite(g) ? v : Infinity
  }

  const x = Float64Array.from(start)
  const g = new Float64Array(n)
  let f = fg(x, g)
  const done = (iterations: number, converged: boolean, message: string): MinimizeResult => ({
    x: Float64Array.from(x),
    value: f,
    gradient: Float64Array.from(g),
    gradientNorm: maxAbs(g),
    iterations,
    evaluations,
    converged,
    message,
  })
  if (!Number.isFinite(f)) return done(0, false, 'objective is not finite at the starting point')

  // Inverse-Hessian approximation, row-major n×n.
  const H = new Float64Array(n * n)
  const resetH = (scale: number): void => {
    H.fill(0)
    for (let i = 0; i < n; i++) H[i * n + i] = scale
  }
  resetH(1)
  let fresh = true // H is a multiple of I (just started or reset)

  const p = new Float64Array(n)
  const s = new Float64Array(n)
  const y = new Float64Array(n)
  const xNew = new Float64Array(n)
  const gNew = new Float64Array(n)
  const ls = makeLineSearch(n, fg)
  const deadline = deadlineOf(options)

  for (let iter = 0; iter < maxIterations; iter++) {
    if (maxAbs(g) <= gtol) return done(iter, true, 'gradient below tolerance')
    if (performance.now() > deadline) return done(iter, false, timeLimitMessage(options))

    // p = −H g
    for (let i = 0; i < n; i++) {
      let v = 0
      for (let j = 0; j < n; j++) v -= (H[i * n + j] as number) * (g[j] as number)
      p[i] = v
    }
    let slope = dot(p, g)
    if (!(slope < 0)) {
      // H lost positive definiteness through rounding: restart from steepest descent.
      resetH(1)
      fresh = true
      for (let i = 0; i < n; i++) p[i] = -(g[i] as number)
      slope = dot(p, g)
    }
    const pNorm = maxAbs(p)
    // Steepest-descent steps have no natural length; after a BFGS update the unit step is the right guess.
    let alpha0 = fresh ? Math.min(1, 1 / pNorm) : 1
    if (alpha0 * pNorm > maxStep) alpha0 = maxStep / pNorm

    const found = ls(x, f, g, p, slope, alpha0, maxStep / pNorm, xNew, gNew)
    if (found === null) {
      if (!fresh) {
        // A stale curvature model can point along a poor direction; retry once from steepest descent.
        resetH(1)
        fresh = true
        continue
      }
      return done(iter, maxAbs(g) <= gtol, 'line search found no acceptable step')
    }

    for (let i = 0; i < n; i++) {
      s[i] = (xNew[i] as number) - (x[i] as number)
      y[i] = (gNew[i] as number) - (g[i] as number)
    }
    const fOld = f
    x.set(xNew)
    g.set(gNew)
    f = found
    const sy = dot(s, y)
    const yy = dot(y, y)
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * yy)) {
      if (fresh) {
        // Scale the initial matrix before the first update (Nocedal & Wright eq. 6.20).
        resetH(sy / yy)
        fresh = false
      }
      bfgsUpdate(H, s, y, sy, n)
    }
    if (maxAbs(s) === 0 && f === fOld) {
      if (maxAbs(g) <= gtol) return done(iter + 1, true, 'gradient below tolerance')
      // The gradient may stay a little above the tolerance only through its own rounding (sums of many
      // terms that cancel). If it is within 100× the tolerance and a Newton step on the curvature model
      // would lower f by less than f's rounding, no step can show progress: the point is a minimum to
      // working precision (the fits still check the Hessian). A larger gradient is never accepted: along a
      // ridge the curvature model can be nearly singular and promise no decrease where there is one.
      const decrease = fresh ? Infinity : 0.5 * quadraticForm(H, g, n)
      return done(
        iter + 1,
        maxAbs(g) <= 100 * gtol && decrease >= 0 && decrease <= 1e-13 * Math.max(1, Math.abs(f)),
        'no progress possible at machine precision',
      )
    }
  }
  return done(maxIterations, maxAbs(g) <= gtol, 'maximum number of iterations reached')
}

/** The time at which a minimisation with these options must stop (performance.now() clock). */
function deadlineOf(options: MinimizeOptions): number {
  const limit = options.timeLimitMs
  return limit === undefined ? Infinity : performance.now() + limit
}

function timeLimitMessage(options: MinimizeOptions): string {
  return `time limit of ${((options.timeLimitMs ?? 0) / 1000).toFixed(1)} s reached`
}

/** H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ with ρ = 1 / (yᵀs) (Nocedal & Wright eq. 6.17). */
function bfgsUpdate(
  H: Float64Array,
  s: Float64Array,
  y: Float64Array,
  sy: number,
  n: number,
): void {
  const rho = 1 / sy
  const Hy = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let v = 0
    for (let j = 0; j < n; j++) v += (H[i * n + j] as number) * (y[j] as number)
    Hy[i] = v
  }
  const yHy = dot(y, Hy)
  const k = (1 + rho * yHy) * rho
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const si = s[i] as number
      const sj = s[j] as number
      H[i * n + j] =
        (H[i * n + j] as number) -
        rho * ((Hy[i] as number) * sj + si * (Hy[j] as number)) +
        k * si * sj
    }
  }
}

/**
 * A strong-Wolfe line search (Nocedal & Wright Algorithm 3.5 with `zoom`, Algorithm 3.6), cubic
 * interpolation safeguarded by bisection, steps at most alphaMax. Returns f at the accepted point
 * (written into xOut/gOut), or
 * null when no point with sufficient decrease was found. If the curvature condition cannot be met within
 * the budget, the best point with sufficient decrease is accepted (an Armijo step).
 */
function makeLineSearch(
  n: number,
  fg: (x: Float64Array, g: Float64Array) => number,
): (
  x: Float64Array,
  f0: number,
  g0: Float64Array,
  p: Float64Array,
  slope0: number,
  alphaInit: number,
  alphaMax: number,
  xOut: Float64Array,
  gOut: Float64Array,
) => number | null {
  const xt = new Float64Array(n)
  const gt = new Float64Array(n)
  return (x, f0, _g0, p, slope0, alphaInit, alphaMax, xOut, gOut) => {
    let evals = 0
    let bestF = Infinity // best point meeting the Armijo condition, written to xOut/gOut
    const phi = (alpha: number): { f: number; d: number } => {
      evals++
      for (let i = 0; i < n; i++) xt[i] = (x[i] as number) + alpha * (p[i] as number)
      const f = fg(xt, gt)
      const d = Number.isFinite(f) ? dot(gt, p) : NaN
      if (f <= f0 + C1 * alpha * slope0 && f < bestF) {
        bestF = f
        xOut.set(xt)
        gOut.set(gt)
      }
      return { f, d }
    }
    const accept = (f: number): number => {
      // The last evaluated point is the accepted one; make sure it is the one in xOut/gOut.
      xOut.set(xt)
      gOut.set(gt)
      return f
    }
    const armijo = (alpha: number, f: number): boolean => f <= f0 + C1 * alpha * slope0

    const zoom = (
      lo: number,
      fLo: number,
      dLo: number,
      hi: number,
      fHi: number,
      dHi: number,
    ): number | null => {
      while (evals < MAX_LINE_SEARCH) {
        const width = hi - lo
        let a = NaN
        if (Number.isFinite(fHi) && Number.isFinite(dHi))
          a = cubicMinimizer(lo, fLo, dLo, hi, fHi, dHi)
        // Keep the trial well inside the bracket, or bisect.
        const lower = Math.min(lo, hi) + 0.1 * Math.abs(width)
        const upper = Math.max(lo, hi) - 0.1 * Math.abs(width)
        if (!(a >= lower && a <= upper)) a = lo + 0.5 * width
        if (Math.abs(width) <= 1e-16 * Math.max(1, Math.abs(lo))) break
        const { f, d } = phi(a)
        if (!Number.isFinite(f) || !armijo(a, f) || f >= fLo) {
          hi = a
          fHi = f
          dHi = d
        } else {
          if (Math.abs(d) <= -C2 * slope0) return accept(f)
          if (d * (hi - lo) >= 0) {
            hi = lo
            fHi = fLo
            dHi = dLo
          }
          lo = a
          fLo = f
          dLo = d
        }
      }
      return Number.isFinite(bestF) ? bestF : null
    }

    let aPrev = 0
    let fPrev = f0
    let dPrev = slope0
    let a = alphaInit
    for (let i = 0; evals < MAX_LINE_SEARCH; i++) {
      const { f, d } = phi(a)
      if (!Number.isFinite(f) || !armijo(a, f) || (i > 0 && f >= fPrev)) {
        return zoom(aPrev, fPrev, dPrev, a, f, d)
      }
      if (Math.abs(d) <= -C2 * slope0) return accept(f)
      if (d >= 0) return zoom(a, f, d, aPrev, fPrev, dPrev)
      // Still descending at the longest step allowed: take it (it meets the Armijo condition).
      if (a >= alphaMax) return accept(f)
      aPrev = a
      fPrev = f
      dPrev = d
      a = Math.min(2 * a, alphaMax)
    }
    return Number.isFinite(bestF) ? bestF : null
  }
}

/** Minimiser of the cubic through (a, fa, da) and (b, fb, db) (Nocedal & Wright eq. 3.59). */
function cubicMinimizer(
  a: number,
  fa: number,
  da: number,
  b: number,
  fb: number,
  db: number,
): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b)
  const disc = d1 * d1 - da * db
  if (!(disc >= 0)) return NaN
  const d2 = Math.sign(b - a) * Math.sqrt(disc)
  return b - (b - a) * ((db + d2 - d1) / (db - da + 2 * d2))
}

/** Result of {@link minimizeFromStarts}: the best run, and every run for diagnostics. */
export interface MultiStartResult {
  readonly best: MinimizeResult
  readonly runs: readonly MinimizeResult[]
}

/**
 * Run {@link minimize} from each start and keep the converged run with the lowest value. Throws
 * {@link ModelFitError} (with the total iteration count) when no run converges, so that unconverged
 * parameters are never used.
 * @param what names the model in the error message, e.g. `BG/NBD`.
 */
export function minimizeFromStarts(
  objective: Objective,
  starts: readonly Float64Array[],
  options: MinimizeOptions,
  what: string,
): MultiStartResult {
  if (starts.length === 0) throw new ModelFitError(`${what}: no starting point given`, 0)
  // One time budget for all the starts together.
  const deadline = deadlineOf(options)
  const runs = starts.map((s) =>
    minimize(
      objective,
      s,
      options.timeLimitMs === undefined
        ? options
        : { ...options, timeLimitMs: Math.max(0, deadline - performance.now()) },
    ),
  )
  let best: MinimizeResult | undefined
  for (const r of runs) {
    if (r.converged && (best === undefined || r.value < best.value)) best = r
  }
  if (best === undefined) {
    const iterations = runs.reduce((t, r) => t + r.iterations, 0)
    const why = runs.map((r) => `${r.message} (|g| = ${r.gradientNorm.toExponential(2)})`)
    throw new ModelFitError(
      `${what} fit did not converge from ${runs.length} starting point(s): ${why.join('; ')}`,
      iterations,
    )
  }
  return { best, runs }
}

/**
 * Check that a converged point is a proper interior minimum: the Hessian (central differences of the
 * gradient) must be positive definite and the Newton step H⁻¹g must be below `stepTolerance` in every
 * coordinate. On a likelihood that keeps rising towards the edge of the parameter space (a single member,
 * no repeat buyers…) the gradient fades away before the parameters settle; this catches that case.
 * Throws {@link ModelFitError} when the check fails; otherwise returns that Hessian (row-major n×n,
 * symmetrised), which for a mean negative log-likelihood is the observed information per member.
 */
export function assertInteriorMinimum(
  objective: Objective,
  result: MinimizeResult,
  what: string,
  stepTolerance = 1e-3,
  finiteDifferenceStep = 1e-6,
): Float64Array {
  const n = result.x.length
  const fg =
    objective.valueAndGradient ?? centralDifferenceGradient(objective.value, finiteDifferenceStep)
  const hess = new Float64Array(n * n)
  const x = Float64Array.from(result.x)
  const gUp = new Float64Array(n)
  const gDown = new Float64Array(n)
  // The Hessian step balances truncation (∝ h²) and the noise of a possibly numerical gradient (∝ 1/h).
  const h = objective.valueAndGradient === undefined ? 1e-3 : 1e-5
  for (let j = 0; j < n; j++) {
    const xj = x[j] as number
    const step = h * Math.max(1, Math.abs(xj))
    x[j] = xj + step
    fg(x, gUp)
    x[j] = xj - step
    fg(x, gDown)
    x[j] = xj
    for (let i = 0; i < n; i++)
      hess[i * n + j] = ((gUp[i] as number) - (gDown[i] as number)) / (2 * step)
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = 0.5 * ((hess[i * n + j] as number) + (hess[j * n + i] as number))
      hess[i * n + j] = v
      hess[j * n + i] = v
    }
  }
  const fail = (why: string): never => {
    throw new ModelFitError(
      `${what} fit has no well-defined maximum of the likelihood (${why}); ` +
        'the data may be too few or degenerate for this model',
      result.iterations,
    )
  }
  if (!allFinite(hess)) fail('the curvature is not finite')
  const newton = choleskySolve(hess, result.gradient, n)
  if (newton === null) fail('the likelihood is flat or curved the wrong way in some direction')
  else if (maxAbs(newton) > stepTolerance) {
    fail(`a Newton step of ${maxAbs(newton).toExponential(2)} remains`)
  }
  return hess
}

/** Solve A v = b for symmetric positive-definite A by Cholesky; null when A is not positive definite. */
function choleskySolve(A: Float64Array, b: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n)
  let maxDiag = 0
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(A[i * n + i] as number))
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = A[i * n + j] as number
      for (let k = 0; k < j; k++) sum -= (L[i * n + k] as number) * (L[j * n + k] as number)
      if (i === j) {
        // A pivot that is tiny relative to the largest curvature is a flat direction, not a minimum.
        if (!(sum > 1e-12 * maxDiag)) return null
        L[i * n + i] = Math.sqrt(sum)
      } else {
        L[i * n + j] = sum / (L[j * n + j] as number)
      }
    }
  }
  const v = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let sum = b[i] as number
    for (let k = 0; k < i; k++) sum -= (L[i * n + k] as number) * (v[k] as number)
    v[i] = sum / (L[i * n + i] as number)
  }
  for (let i = n - 1; i >= 0; i--) {
    let sum = v[i] as number
    for (let k = i + 1; k < n; k++) sum -= (L[k * n + i] as number) * (v[k] as number)
    v[i] = sum / (L[i * n + i] as number)
  }
  return v
}

/**
 * A function to minimise with its gradient and Hessian. `valueGradientHessian` writes ∇f(x) into
 * `gradient` and ∇²f(x) (row-major n×n) into `hessian` and returns f(x); non-finite means outside the
 * domain.
 */
export interface NewtonObjective {
  readonly valueGradientHessian: (
    x: Float64Array,
    gradient: Float64Array,
    hessian: Float64Array,
  ) => number
}

/** Outcome of {@link minimizeNewton}: a {@link MinimizeResult} with the Hessian at `x`. */
export interface NewtonResult extends MinimizeResult {
  /** ∇²f at `x`, row-major n×n (a fresh array). */
  readonly hessian: Float64Array
}

/**
 * Minimise by Newton's method with the exact Hessian, for objectives that have one (Nocedal & Wright §3.4):
 * the step solves H p = −g by Cholesky, with H + τI (τ raised tenfold until positive definite) where H is
 * not positive definite, at most `maxStep` in any coordinate, and halved until it meets the Armijo
 * condition. Every trial point is evaluated with its gradient and Hessian, so an accepted step costs one
 * evaluation; near the optimum convergence is quadratic, so from a warm start a fit takes a few passes over
 * the data. Never throws: the result says `converged: false` and why.
 */
export function minimizeNewton(
  objective: NewtonObjective,
  start: Float64Array,
  options: MinimizeOptions = {},
): NewtonResult {
  const n = start.length
  const gtol = options.gradientTolerance ?? 1e-8
  const maxIterations = options.maxIterations ?? 100
  const maxStep = options.maxStep ?? 5
  const deadline = deadlineOf(options)
  let evaluations = 0
  const fgh = (x: Float64Array, g: Float64Array, h: Float64Array): number => {
    evaluations++
    const v = objective.valueGradientHessian(x, g, h)
    return Number.isFinite(v) && allFinite(g) && allFinite(h) ? v : Infinity
  }
  const x = Float64Array.from(start)
  const g = new Float64Array(n)
  const H = new Float64Array(n * n)
  let f = fgh(x, g, H)
  const done = (iterations: number, converged: boolean, message: string): NewtonResult => ({
    x: Float64Array.from(x),
    value: f,
    gradient: Float64Array.from(g),
    gradientNorm: maxAbs(g),
    iterations,
    evaluations,
    converged,
    message,
    hessian: Float64Array.from(H),
  })
  if (!Number.isFinite(f)) return done(0, false, 'objective is not finite at the starting point')
  const xt = new Float64Array(n)
  const gt = new Float64Array(n)
  const Ht = new Float64Array(n * n)
  const shifted = new Float64Array(n * n)
  const minusG = new Float64Array(n)
  for (let iter = 0; iter < maxIterations; iter++) {
    if (maxAbs(g) <= gtol) return done(iter, true, 'gradient below tolerance')
    if (performance.now() > deadline) return done(iter, false, timeLimitMessage(options))
    for (let i = 0; i < n; i++) minusG[i] = -(g[i] as number)
    let p = choleskySolve(H, minusG, n)
    let maxDiag = 0
    for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(H[i * n + i] as number))
    for (let tau = 1e-8 * Math.max(maxDiag, 1e-12); p === null && tau < 1e12; tau *= 10) {
      shifted.set(H)
      for (let i = 0; i < n; i++) shifted[i * n + i] = (H[i * n + i] as number) + tau
      p = choleskySolve(shifted, minusG, n)
    }
    if (p === null) return done(iter, false, 'no descent direction (the curvature is not finite)')
    const pNorm = maxAbs(p)
    if (pNorm > maxStep) for (let i = 0; i < n; i++) p[i] = ((p[i] as number) * maxStep) / pNorm
    const slope = dot(p, g)
    let t = 1
    let accepted = false
    let ft = Infinity
    for (let k = 0; k < 40; k++, t *= 0.5) {
      for (let i = 0; i < n; i++) xt[i] = (x[i] as number) + t * (p[i] as number)
      ft = fgh(xt, gt, Ht)
      // Near the optimum f changes below its rounding noise; a step that does not raise f beyond that
      // noise and reduces the gradient is taken too.
      if (ft <= f + C1 * t * slope || (ft <= f + 1e-14 * Math.abs(f) && maxAbs(gt) < maxAbs(g))) {
        accepted = true
        break
      }
    }
    if (!accepted) return done(iter, maxAbs(g) <= gtol, 'line search found no acceptable step')
    x.set(xt)
    g.set(gt)
    H.set(Ht)
    f = ft
  }
  return done(maxIterations, maxAbs(g) <= gtol, 'maximum number of iterations reached')
}

/**
 * {@link assertInteriorMinimum} from a Hessian already at hand (as {@link minimizeNewton} returns it): the
 * Hessian must be positive definite and the Newton step H⁻¹g below `stepTolerance` in every coordinate.
 * Throws {@link ModelFitError} otherwise.
 */
export function assertInteriorMinimumAt(
  result: NewtonResult,
  what: string,
  stepTolerance = 1e-3,
): void {
  const n = result.x.length
  const fail = (why: string): never => {
    throw new ModelFitError(
      `${what} fit has no well-defined maximum of the likelihood (${why}); ` +
        'the data may be too few or degenerate for this model',
      result.iterations,
    )
  }
  if (!allFinite(result.hessian)) fail('the curvature is not finite')
  const newton = choleskySolve(result.hessian, result.gradient, n)
  if (newton === null) fail('the likelihood is flat or curved the wrong way in some direction')
  else if (maxAbs(newton) > stepTolerance) {
    fail(`a Newton step of ${maxAbs(newton).toExponential(2)} remains`)
  }
}

/** The Newton step −H⁻¹g (null when H is not positive definite). */
export function newtonStep(hessian: Float64Array, gradient: Float64Array): Float64Array | null {
  const n = gradient.length
  const v = choleskySolve(hessian, gradient, n)
  if (v === null) return null
  for (let i = 0; i < n; i++) v[i] = -(v[i] as number)
  return v
}
