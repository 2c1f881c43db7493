/**
 * The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "'Counting Your Customers' the Easy Way:
 * An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275–284).
 *
 * While active, a member buys at Poisson rate λ ~ Gamma(r, α); after each purchase they drop out with
 * probability p ~ Beta(a, b). A member is summarised by x (repeat purchases), t_x (time of the last one)
 * and T (time since the first purchase), all in one time unit of the caller's choice.
 * @module
 */

import { InputError } from '../core/errors.js'
import { fitData, roundSummariesToGrid, validateSummaries } from './group-summaries.js'
import type { Summaries } from './group-summaries.js'
import {
  assertInteriorMinimumAt,
  minimizeFromStarts,
  minimizeNewton,
  newtonStep,
} from './optimize.js'
import type { NewtonObjective, NewtonResult, Objective } from './optimize.js'
import {
  digamma,
  hyp2f1ScaledRemainder,
  lgamma,
  logBeta,
  logHyp2f1,
  oneMinusExpOver,
  trigamma,
} from './special-functions.js'
import { assertHorizon, assertSameLength, assertPositiveParams, perMember } from './params.js'
export { groupSummaries } from './group-summaries.js'
export type { SummaryGroups } from './group-summaries.js'

/** BG/NBD parameters: purchase rate λ ~ Gamma(shape r, rate α), dropout p ~ Beta(a, b). */
export interface BgNbdParams {
  readonly r: number
  readonly alpha: number
  readonly a: number
  readonly b: number
}

/** A maximum-likelihood BG/NBD fit. */
export interface BgNbdFit {
  readonly params: BgNbdParams
  /** Σ members log L (paper eq. 6), at the estimate. */
  readonly logLikelihood: number
  /** BFGS iterations of the winning start. */
  readonly iterations: number
  /** Always true: a fit that does not converge throws ModelFitError instead. */
  readonly converged: boolean
  /** Number of members (sum of weights). */
  readonly members: number
  /** Number of distinct (x, t_x, T) summaries the likelihood was summed over. */
  readonly distinctSummaries: number
  /**
   * −∇² log L at the estimate in log-parameters (log r, log α, log a, log b), row-major 4×4, summed over
   * members: the observed information, whose inverse is the covariance of the log-parameters.
   */
  readonly logInformation?: Float64Array
  /** With the `timeGrid` option: how the grid fit was checked against the exact summaries. */
  readonly timeGrid?: {
    /** The grid step, in the summaries' time unit. */
    readonly step: number
    /** Distinct summaries on the grid. */
    readonly distinctSummaries: number
    /**
     * Largest change of a log-parameter (≈ relative change of the parameter) that the Newton step on the
     * exact summaries predicts from the grid's estimate.
     */
    readonly estimatedShift: number
    /** True when that change exceeded 1e-4 and the fit continued on the exact summaries. */
    readonly refitOnExact: boolean
  }
}

/** Settings of {@link fitBgNbd}. */
export interface BgNbdFitOptions {
  /** Members per summary (as from {@link groupSummaries}); without it identical summaries are grouped. */
  readonly weights?: Float64Array
  /** Starting points; by default three, scaled to the data's purchase rate. */
  readonly starts?: readonly BgNbdParams[]
  /** Gradient tolerance on the mean log-likelihood per member, in log-parameters. Default 1e-8. */
  readonly gradientTolerance?: number
  /** Default 500 per start (BFGS fallback); Newton's method stops after 100. */
  readonly maxIterations?: number
  /**
   * Fit first with T and t_x rounded to multiples of this step (in the summaries' time unit, e.g. 1 = a
   * week when T is in weeks), then check the estimate on the exact summaries and refit from it there if a
   * parameter would move by more than 1e-4 (relative). Default: no grid.
   */
  readonly timeGrid?: number
  /** Wall-clock budget of the whole fit in milliseconds; ModelFitError when it runs out. Default none. */
  readonly timeLimitMs?: number
}

function assertParams(p: BgNbdParams, what: string): void {
  assertPositiveParams(p, ['r', 'alpha', 'a', 'b'], what)
}

/**
 * Σ over summaries of weight × log L(r, α, a, b | x, t_x, T), paper eq. 6:
 * L = B(a, b+x)/B(a, b) · Γ(r+x)α^r / (Γ(r)(α+T)^(r+x))
 *   + δ(x>0) · B(a+1, b+x−1)/B(a, b) · Γ(r+x)α^r / (Γ(r)(α+t_x)^(r+x)).
 * The two terms are combined by log-sum-exp and the terms that depend only on x are summed once per
 * distinct x. When `gradient` is given, ∂/∂(r, α, a, b) is written into it; when `hessian` is given, the
 * second derivatives (row-major 4×4, same order), analytic like the gradient.
 */
export function bgNbdLogLikelihood(
  params: BgNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  weights?: Float64Array,
  gradient?: Float64Array,
  hessian?: Float64Array,
): number {
  validateSummaries(
    { x, tx, T, ...(weights === undefined ? {} : { weights }) },
    'bgNbdLogLikelihood',
  )
  assertParams(params, 'bgNbdLogLikelihood')
  const prepared = prepare({ x, tx, T, weights: weights ?? new Float64Array(x.length).fill(1) })
  return evaluate(
    prepared,
    params.r,
    params.alpha,
    params.a,
    params.b,
    gradient ?? null,
    hessian ?? null,
  )
}

/**
 * Summaries arranged for repeated likelihood evaluation. Members with x = 0 contribute
 * −r·log(α + T) only, so they are pooled by T; the others keep one entry per distinct summary. Every
 * distinct time among T and t_x gets log(α + t) and 1/(α + t) once per pass, every distinct x its
 * x-only terms once per pass.
 */
interface Prepared {
  /** Distinct summaries the data came as. */
  readonly summaries: number
  readonly totalWeight: number
  /** Distinct x values and the total weight of each. */
  readonly xs: Float64Array
  readonly wx: Float64Array
  /** Distinct times among T (all) and t_x (x > 0), the weight of x = 0 members at each T. */
  readonly times: Float64Array
  readonly zeroWeight: Float64Array
  /** Summaries with x > 0: x, weight, index of x in xs, of t_x and T in times. */
  readonly x: Float64Array
  readonly w: Float64Array
  readonly xIndex: Uint32Array
  readonly txIndex: Uint32Array
  readonly TIndex: Uint32Array
  // Scratch of one pass.
  readonly logTimes: Float64Array
  readonly invTimes: Float64Array
  readonly logBx1: Float64Array
  readonly invBx1: Float64Array
}

function prepare(s: Required<Summaries>): Prepared {
  const xIndexOf = new Map<number, number>()
  const timeIndex = new Map<number, number>()
  const indexOf = (t: number): number => {
    let k = timeIndex.get(t)
    if (k === undefined) {
      k = timeIndex.size
      timeIndex.set(t, k)
    }
    return k
  }
  const n = s.x.length
  let positive = 0
  for (let i = 0; i < n; i++) if ((s.x[i] as number) > 0 && (s.weights[i] as number) > 0) positive++
  const x = new Float64Array(positive)
  const w = new Float64Array(positive)
  const xIndex = new Uint32Array(positive)
  const txIndex = new Uint32Array(positive)
  const TIndex = new Uint32Array(positive)
  const wx: number[] = []
  const zero: number[] = []
  let total = 0
  for (let i = 0, j = 0; i < n; i++) {
    const wi = s.weights[i] as number
    if (wi === 0) continue
    const xi = s.x[i] as number
    let k = xIndexOf.get(xi)
    if (k === undefined) {
      k = xIndexOf.size
      xIndexOf.set(xi, k)
      wx.push(0)
    }
    wx[k] = (wx[k] as number) + wi
    total += wi
    const tI = indexOf(s.T[i] as number)
    if (xi === 0) {
      while (zero.length <= tI) zero.push(0)
      zero[tI] = (zero[tI] as number) + wi
      continue
    }
    x[j] = xi
    w[j] = wi
    xIndex[j] = k
    TIndex[j] = tI
    txIndex[j] = indexOf(s.tx[i] as number)
    j++
  }
  const times = Float64Array.from(timeIndex.keys())
  const zeroWeight = new Float64Array(times.length)
  zeroWeight.set(zero)
  const xs = Float64Array.from(xIndexOf.keys())
  return {
    summaries: n,
    totalWeight: total,
    xs,
    wx: Float64Array.from(wx),
    times,
    zeroWeight,
    x,
    w,
    xIndex,
    txIndex,
    TIndex,
    logTimes: new Float64Array(times.length),
    invTimes: new Float64Array(times.length),
    logBx1: new Float64Array(xs.length),
    invBx1: new Float64Array(xs.length),
  }
}

/**
 * log L and, when asked, its gradient and Hessian in (r, α, a, b). Per summary with x > 0, log L is the
 * log-sum-exp of two terms l₃, l₄ whose derivatives are simple; with p₃, p₄ their shares of the sum,
 * ∇ log L = p₃∇l₃ + p₄∇l₄ and ∇² log L = p₃∇²l₃ + p₄∇²l₄ + p₃p₄ (∇l₄ − ∇l₃)(∇l₄ − ∇l₃)ᵀ.
 */
function evaluate(
  d: Prepared,
  r: number,
  alpha: number,
  a: number,
  b: number,
  grad: Float64Array | null,
  hess: Float64Array | null,
): number {
  const wantGrad = grad !== null || hess !== null
  const wantHess = hess !== null
  // log L by Neumaier's compensated sum (see CompensatedSum: plain summation leaves noise as large as the
  // decrease a line search has to detect near the optimum); the derivatives by plain sums.
  let sum = 0
  let comp = 0
  const add = (v: number): void => {
    const t = sum + v
    if (Math.abs(sum) >= Math.abs(v)) comp += sum - t + v
    else comp += v - t + sum
    sum = t
  }
  let gr = 0
  let gAlpha = 0
  let ga = 0
  let gb = 0
  let hrr = 0
  let hra = 0
  let haa = 0 // α, α
  let hAA = 0 // a, a; also a, b (the x-only terms depend on a and b through a + b there)
  let hBB = 0 // b, b
  const logAlpha = Math.log(alpha)
  const logA = Math.log(a)
  const lgR = lgamma(r)
  const lgB = lgamma(b)
  const lgAB = lgamma(a + b)
  const psiR = wantGrad ? digamma(r) : 0
  const psiB = wantGrad ? digamma(b) : 0
  const psiAB = wantGrad ? digamma(a + b) : 0
  const triR = wantHess ? trigamma(r) : 0
  const triB = wantHess ? trigamma(b) : 0
  const triAB = wantHess ? trigamma(a + b) : 0

  // Terms depending on x alone: log[Γ(r+x)α^r/Γ(r)] + log[B(a, b+x)/B(a, b)].
  let rateWeight = 0
  for (let k = 0; k < d.xs.length; k++) {
    const w = d.wx[k] as number
    const x = d.xs[k] as number
    d.logBx1[k] = x > 0 ? Math.log(b + x - 1) : 0
    d.invBx1[k] = x > 0 ? 1 / (b + x - 1) : 0
    if (w === 0) continue
    rateWeight += w
    if (x === 0) {
      add(w * r * logAlpha)
      if (wantGrad) gr += w * logAlpha
      continue
    }
    add(w * (lgamma(r + x) - lgR + r * logAlpha + lgAB + lgamma(b + x) - lgB - lgamma(a + b + x)))
    if (wantGrad) {
      const psiABx = digamma(a + b + x)
      gr += w * (digamma(r + x) - psiR + logAlpha)
      ga += w * (psiAB - psiABx)
      gb += w * (psiAB + digamma(b + x) - psiB - psiABx)
      if (wantHess) {
        const triABx = trigamma(a + b + x)
        hrr += w * (trigamma(r + x) - triR)
        hAA += w * (triAB - triABx)
        hBB += w * (triAB + trigamma(b + x) - triB - triABx)
      }
    }
  }
  // ∂/∂α of r·log α for every member, ∂²/∂r∂α and ∂²/∂α².
  gAlpha += (rateWeight * r) / alpha
  hra += rateWeight / alpha
  haa -= (rateWeight * r) / (alpha * alpha)

  // Members with x = 0: −r·log(α + T), pooled by T.
  for (let k = 0; k < d.times.length; k++) {
    const at = alpha + (d.times[k] as number)
    const u = Math.log(at)
    const inv = 1 / at
    d.logTimes[k] = u
    d.invTimes[k] = inv
    const w = d.zeroWeight[k] as number
    if (w === 0) continue
    add(-w * r * u)
    if (wantGrad) {
      gr -= w * u
      gAlpha -= w * r * inv
      if (wantHess) {
        hra -= w * inv
        haa += w * r * inv * inv
      }
    }
  }

  // Members with x > 0: log[(α+T)^−(r+x) + a/(b+x−1) (α+t_x)^−(r+x)], using
  // B(a+1, b+x−1)/B(a, b+x) = a/(b+x−1).
  let sp4 = 0 // Σ w p₄
  let sp4c = 0 // Σ w p₄/(b+x−1)
  let sp4c2 = 0 // Σ w p₄/(b+x−1)²
  // Σ q δᵢδⱼ with q = w p₃ p₄ and δ = ∇l₄ − ∇l₃ = (log(α+T) − log(α+t_x), (r+x)(1/(α+T) − 1/(α+t_x)), 1/a, −1/(b+x−1)).
  let q0 = 0
  let q1 = 0
  let q3 = 0
  let qq = 0
  let q00 = 0
  let q01 = 0
  let q11 = 0
  let q03 = 0
  let q13 = 0
  let q33 = 0
  for (let i = 0; i < d.x.length; i++) {
    const w = d.w[i] as number
    const x = d.x[i] as number
    const rx = r + x
    const tI = d.TIndex[i] as number
    const sI = d.txIndex[i] as number
    const xI = d.xIndex[i] as number
    const u = d.logTimes[tI] as number
    const v = d.logTimes[sI] as number
    const l3 = -rx * u
    const l4 = logA - (d.logBx1[xI] as number) - rx * v
    const diff = l4 - l3
    let p3: number
    let p4: number
    if (diff > 0) {
      const e = Math.exp(-diff)
      add(w * (l4 + Math.log1p(e)))
      p3 = e / (1 + e)
      p4 = 1 / (1 + e)
    } else {
      const e = Math.exp(diff)
      add(w * (l3 + Math.log1p(e)))
      p3 = 1 / (1 + e)
      p4 = e / (1 + e)
    }
    if (!wantGrad) continue
    const iT = d.invTimes[tI] as number
    const itx = d.invTimes[sI] as number
    const c = d.invBx1[xI] as number
    gr -= w * (p3 * u + p4 * v)
    gAlpha -= w * rx * (p3 * iT + p4 * itx)
    const wp4 = w * p4
    sp4 += wp4
    sp4c += wp4 * c
    if (!wantHess) continue
    sp4c2 += wp4 * c * c
    hra -= w * (p3 * iT + p4 * itx)
    haa += w * rx * (p3 * iT * iT + p4 * itx * itx)
    const q = wp4 * p3
    const d0 = u - v
    const d1 = rx * (iT - itx)
    qq += q
    q0 += q * d0
    q1 += q * d1
    q3 -= q * c
    q00 += q * d0 * d0
    q01 += q * d0 * d1
    q11 += q * d1 * d1
    q03 -= q * d0 * c
    q13 -= q * d1 * c
    q33 += q * c * c
  }
  ga += sp4 / a
  gb -= sp4c
  if (grad !== null) {
    grad[0] = gr
    grad[1] = gAlpha
    grad[2] = ga
    grad[3] = gb
  }
  if (hess !== null) {
    const ia = 1 / a
    const h = [
      [hrr + q00, hra + q01, q0 * ia, q03],
      [0, haa + q11, q1 * ia, q13],
      [0, 0, hAA - sp4 * ia * ia + qq * ia * ia, hAA + q3 * ia],
      [0, 0, 0, hBB + sp4c2 + q33],
    ]
    for (let i = 0; i < 4; i++) {
      for (let j = i; j < 4; j++) {
        const v = (h[i] as number[])[j] as number
        hess[i * 4 + j] = v
        hess[j * 4 + i] = v
      }
    }
  }
  return sum + comp
}

/**
 * A fit on a coarser time grid is kept when the exact summaries' Newton step from it moves no
 * log-parameter by more than this (about the relative change of the parameter).
 */
const GRID_SHIFT_TOLERANCE = 1e-4

/**
 * The objective of a fit: the mean negative log-likelihood per member in log-parameters (so the gradient
 * tolerance does not depend on the number of members), with its gradient and Hessian.
 */
function logParameterObjective(d: Prepared): Objective & NewtonObjective {
  const W = d.totalWeight
  const natural = new Float64Array(4)
  const hess = new Float64Array(16)
  const theta = new Float64Array(4)
  const at = (th: Float64Array): void => {
    for (let i = 0; i < 4; i++) theta[i] = Math.exp(th[i] as number)
  }
  return {
    value: (th) => {
      at(th)
      return -evaluate(d, theta[0]!, theta[1]!, theta[2]!, theta[3]!, null, null) / W
    },
    valueAndGradient: (th, g) => {
      at(th)
      const ll = evaluate(d, theta[0]!, theta[1]!, theta[2]!, theta[3]!, natural, null)
      // ∂/∂log θ = θ ∂/∂θ
      for (let i = 0; i < 4; i++) g[i] = (-(theta[i] as number) * (natural[i] as number)) / W
      return -ll / W
    },
    valueGradientHessian: (th, g, H) => {
      at(th)
      const ll = evaluate(d, theta[0]!, theta[1]!, theta[2]!, theta[3]!, natural, hess)
      // ∂²/∂log θᵢ∂log θⱼ = θᵢθⱼ ∂²/∂θᵢ∂θⱼ + δᵢⱼ θᵢ ∂/∂θᵢ
      for (let i = 0; i < 4; i++) {
        const ti = theta[i] as number
        g[i] = (-ti * (natural[i] as number)) / W
        for (let j = 0; j < 4; j++) {
          H[i * 4 + j] =
            (-(ti * (theta[j] as number) * (hess[i * 4 + j] as number)) -
              (i === j ? ti * (natural[i] as number) : 0)) /
            W
        }
      }
      return -ll / W
    },
  }
}

/** One converged optimum of {@link fitBgNbd}'s objective, with its Hessian. */
interface Optimum {
  readonly result: NewtonResult
  readonly iterations: number
}

/**
 * Newton's method with the analytic Hessian from each start; should no start converge, BFGS from the same
 * starts (whose ModelFitError names every start's reason). Then the interior-minimum check.
 */
function optimise(
  d: Prepared,
  starts: readonly Float64Array[],
  options: BgNbdFitOptions,
  deadline: number,
): Optimum {
  const objective = logParameterObjective(d)
  const budget = (): { timeLimitMs?: number } =>
    deadline === Infinity ? {} : { timeLimitMs: Math.max(0, deadline - performance.now()) }
  const settings = {
    gradientTolerance: options.gradientTolerance ?? 1e-8,
    maxIterations: options.maxIterations ?? 500,
  }
  let best: NewtonResult | undefined
  for (const s of starts) {
    const run = minimizeNewton(objective, s, { ...settings, maxIterations: 100, ...budget() })
    if (run.converged && (best === undefined || run.value < best.value)) best = run
  }
  if (best === undefined) {
    const { best: b } = minimizeFromStarts(
      objective,
      starts,
      { ...settings, ...budget() },
      'BG/NBD',
    )
    // The Hessian at the BFGS optimum, for the interior check and the standard errors.
    const g = new Float64Array(4)
    const H = new Float64Array(16)
    objective.valueGradientHessian(b.x, g, H)
    best = { ...b, gradient: g, hessian: H }
  }
  assertInteriorMinimumAt(best, 'BG/NBD')
  return { result: best, iterations: best.iterations }
}

/**
 * Fit BG/NBD by maximum likelihood (paper eq. 6) in log-parameter space (log r, log α, log a, log b):
 * Newton's method with the analytic gradient and Hessian from each start (the best converged start wins;
 * BFGS is the fallback). Identical summaries are grouped first unless `weights` are given, so the cost grows
 * with distinct summaries, not members. With `timeGrid`, the fit runs first on T and t_x rounded to that
 * grid (far fewer distinct summaries) and is then checked on the exact summaries: when the Newton step there
 * would move no parameter by more than 1e-4 (relative), the grid's estimate is kept, otherwise the fit
 * continues on the exact summaries from it (see {@link BgNbdFit.timeGrid}).
 * Throws InputError on bad input (including empty input) and ModelFitError when no start converges to a
 * proper maximum or the time limit runs out.
 */
export function fitBgNbd(
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  options: BgNbdFitOptions = {},
): BgNbdFit {
  const data = fitData(x, tx, T, options.weights, 'fitBgNbd')
  const grid = options.timeGrid
  if (grid !== undefined && !(Number.isFinite(grid) && grid > 0)) {
    throw InputError.single({
      field: 'fitBgNbd timeGrid',
      value: String(grid),
      reason: 'must be a positive number of time units',
    })
  }
  const deadline =
    options.timeLimitMs === undefined ? Infinity : performance.now() + options.timeLimitMs
  const d = prepare(data)
  const W = d.totalWeight
  const starts = (options.starts ?? defaultStarts(data)).map((p) => {
    assertParams(p, 'fitBgNbd start')
    return Float64Array.of(Math.log(p.r), Math.log(p.alpha), Math.log(p.a), Math.log(p.b))
  })
  let optimum: Optimum
  let gridReport: BgNbdFit['timeGrid']
  if (grid === undefined) {
    optimum = optimise(d, starts, options, deadline)
  } else {
    const coarse = prepare(roundSummariesToGrid(data, grid))
    const onGrid = optimise(coarse, starts, options, deadline)
    // One exact pass at the grid's estimate: its Newton step is (to second order) the distance, in
    // log-parameters, to the exact estimate.
    const g = new Float64Array(4)
    const H = new Float64Array(16)
    const objective = logParameterObjective(d)
    const value = objective.valueGradientHessian(onGrid.result.x, g, H)
    const step = newtonStep(H, g)
    const shift = step === null ? Infinity : Math.max(...Array.from(step, Math.abs))
    if (shift <= GRID_SHIFT_TOLERANCE && Number.isFinite(value)) {
      const result: NewtonResult = { ...onGrid.result, value, gradient: g, hessian: H }
      assertInteriorMinimumAt(result, 'BG/NBD')
      optimum = { result, iterations: onGrid.iterations }
    } else {
      optimum = optimise(d, [onGrid.result.x], options, deadline)
    }
    gridReport = {
      step: grid,
      distinctSummaries: coarse.summaries,
      estimatedShift: shift,
      refitOnExact: !(shift <= GRID_SHIFT_TOLERANCE),
    }
  }
  const best = optimum.result
  const params: BgNbdParams = {
    r: Math.exp(best.x[0] as number),
    alpha: Math.exp(best.x[1] as number),
    a: Math.exp(best.x[2] as number),
    b: Math.exp(best.x[3] as number),
  }
  return {
    params,
    logLikelihood: -best.value * W,
    iterations: optimum.iterations,
    converged: true,
    members: W,
    distinctSummaries: d.summaries,
    logInformation: Float64Array.from(best.hessian, (v) => v * W),
    ...(gridReport === undefined ? {} : { timeGrid: gridReport }),
  }
}

/** Starts scaled so that the prior mean purchase rate r/α matches the observed repeat rate Σx / ΣT. */
function defaultStarts(d: Required<Summaries>): BgNbdParams[] {
  let sx = 0
  let sT = 0
  for (let i = 0; i < d.x.length; i++) {
    sx += (d.weights[i] as number) * (d.x[i] as number)
    sT += (d.weights[i] as number) * (d.T[i] as number)
  }
  const rate = sx > 0 && sT > 0 ? sx / sT : 1
  return [
    { r: 1, alpha: 1 / rate, a: 1, b: 1 },
    { r: 0.5, alpha: 0.5 / rate, a: 0.5, b: 2 },
    { r: 1, alpha: 1, a: 1, b: 1 },
  ]
}

/**
 * P(alive | x, t_x, T) (Fader, Hardie & Lee 2008, "Computing P(alive) Using the BG/NBD Model"; it is the
 * reciprocal of the denominator of paper eq. 10):
 * 1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)). Computed in log space, so huge x gives 0, not NaN.
 */
export function probabilityAlive(params: BgNbdParams, x: number, tx: number, T: number): number {
  assertParams(params, 'probabilityAlive')
  return pAlive(params, x, tx, T)
}

function pAlive(p: BgNbdParams, x: number, tx: number, T: number): number {
  if (x === 0) return 1
  const logOdds =
    Math.log(p.a) - Math.log(p.b + x - 1) + (p.r + x) * Math.log1p((T - tx) / (p.alpha + tx))
  return 1 / (1 + Math.exp(logOdds))
}

/**
 * E[Y(t) | alive at T, x, T]: expected purchases in (T, T + t] of a member known to be alive at T.
 * This is paper eq. 10 without its P(alive) denominator:
 * (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)], z = t/(α+T+t).
 * Euler's transformation turns ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z) into
 * (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z), whose series has bounded terms for any x; writing
 * ₂F₁ − 1 as a scaled remainder removes the 0/0 at a = 1 and at a + b + x − 1 = 0.
 */
function expectedWhileAlive(p: BgNbdParams, t: number, x: number, T: number): number {
  if (t === 0) return 0
  const u = t / (p.alpha + T)
  const logBase = -Math.log1p(u) // log((α+T)/(α+T+t)) = log(1 − z)
  const z = u / (1 + u)
  const eps = p.a - 1
  const c = p.a + p.b + x - 1
  const A = p.a + p.b - 1 - p.r
  // c·(1 − (1−z)^ε (1 + ε·F̃))/ε with F̃ = (₂F₁(A, ε; c; z) − 1)/ε = A·R/c, R the scaled remainder.
  const remainder = A === 0 ? 0 : A * hyp2f1ScaledRemainder(A, eps, c, z)
  return c * oneMinusExpOver(eps, logBase) - Math.exp(eps * logBase) * remainder
}

/**
 * E[Y(t) | alive at T, x, T] (eq. 10 without P(alive)), for models that share BG/NBD's posterior of an
 * alive member (MBG/NBD, with b + 1).
 */
export function expectedPurchasesIfAlive(
  params: BgNbdParams,
  t: number,
  x: number,
  T: number,
): number {
  assertParams(params, 'expectedPurchasesIfAlive')
  assertHorizon(t, 'expectedPurchasesIfAlive')
  return expectedWhileAlive(params, t, x, T)
}

/**
 * Expected number of purchases in (T, T + t] for a member with history (x, t_x, T), paper eq. 10:
 * E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) × E[Y(t) | alive]. Stable for large x and for a near 1.
 */
export function conditionalExpectedPurchases(
  params: BgNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  assertParams(params, 'conditionalExpectedPurchases')
  assertHorizon(t, 'conditionalExpectedPurchases')
  return pAlive(params, x, tx, T) * expectedWhileAlive(params, t, x, T)
}

/**
 * Expected number of purchases in (0, t] of a randomly chosen new member, paper eq. 7:
 * E[X(t)] = (a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))] (evaluated as eq. 10 with
 * x = 0, T = 0, which is the same expression).
 */
export function expectedPurchasesPopulation(params: BgNbdParams, t: number): number {
  assertParams(params, 'expectedPurchasesPopulation')
  assertHorizon(t, 'expectedPurchasesPopulation')
  return expectedWhileAlive(params, t, 0, 0)
}

/**
 * P(X(t) = n) for a randomly chosen new member, paper eq. 8:
 * B(a, b+n)/B(a, b) · NB(n) + δ(n>0) · B(a+1, b+n−1)/B(a, b) · [1 − Σ_{j<n} NB(j)], where
 * NB(j) = Γ(r+j)/(Γ(r) j!) (α/(α+t))^r (t/(α+t))^j. The bracket is summed from whichever side avoids
 * cancellation.
 */
export function probabilityOfNPurchases(params: BgNbdParams, t: number, n: number): number {
  assertParams(params, 'probabilityOfNPurchases')
  assertHorizon(t, 'probabilityOfNPurchases')
  if (!(Number.isInteger(n) && n >= 0)) {
    throw InputError.single({
      field: 'probabilityOfNPurchases n',
      value: String(n),
      reason: 'must be a non-negative integer',
    })
  }
  const { r, alpha, a, b } = params
  if (t === 0) return n === 0 ? 1 : 0
  const logP = Math.log(alpha / (alpha + t)) // log P(no purchase) of the NBD part
  const logQ = Math.log(t / (alpha + t))
  const lgR = lgamma(r)
  const logNb = (j: number): number =>
    lgamma(r + j) - lgR - lgamma(j + 1) + r * logP + (j === 0 ? 0 : j * logQ)
  const lbAB = logBeta(a, b)
  const first = Math.exp(logBeta(a, b + n) - lbAB + logNb(n))
  if (n === 0) return first
  // P(NBD count ≥ n): lower sum when it is small, else the upper tail (terms fall geometrically by q).
  const q = t / (alpha + t)
  let cdf = 0
  let term = Math.exp(r * logP)
  for (let j = 0; j < n; j++) {
    cdf += term
    term *= ((r + j) / (j + 1)) * q
  }
  let tail: number
  if (cdf < 0.5) {
    tail = 1 - cdf
  } else {
    tail = 0
    let tj = Math.exp(logNb(n))
    for (let j = n; j < n + 10_000_000; j++) {
      tail += tj
      const ratio = ((r + j) / (j + 1)) * q
      tj *= ratio
      if (ratio < 1 && tj <= 1e-17 * (1 - ratio) * tail) break
    }
  }
  return first + Math.exp(logBeta(a + 1, b + n - 1) - lbAB) * tail
}

/**
 * {@link probabilityAlive} for every member, into `out` (allocated when omitted). No allocation per member.
 */
export function probabilityAliveMany(
  params: BgNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out?: Float64Array,
): Float64Array {
  assertParams(params, 'probabilityAliveMany')
  const n = assertSameLength('probabilityAliveMany', x, tx, T, ...(out === undefined ? [] : [out]))
  const result = out ?? new Float64Array(n)
  for (let i = 0; i < n; i++) {
    result[i] = pAlive(params, x[i] as number, tx[i] as number, T[i] as number)
  }
  return result
}

/**
 * {@link conditionalExpectedPurchases} (paper eq. 10) for every member over the same horizon t, into
 * `out` (allocated when omitted). No allocation per member.
 */
export function conditionalExpectedPurchasesMany(
  params: BgNbdParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out?: Float64Array,
): Float64Array {
  assertParams(params, 'conditionalExpectedPurchasesMany')
  assertHorizon(t, 'conditionalExpectedPurchasesMany')
  const n = assertSameLength(
    'conditionalExpectedPurchasesMany',
    x,
    tx,
    T,
    ...(out === undefined ? [] : [out]),
  )
  const result = out ?? new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const xi = x[i] as number
    const Ti = T[i] as number
    result[i] = pAlive(params, xi, tx[i] as number, Ti) * expectedWhileAlive(params, t, xi, Ti)
  }
  return result
}

/**
 * P(no purchase in (T, T + t] | x, t_x, T): the retail definition of churn over a window of length t (no
 * purchase within M days; Zammit & Zerafa 2025, arXiv:2502.12912). A BG/NBD member drops out only just
 * after a purchase, so one alive at T with rate λ buys nothing in the window with probability e^(−λt); given
 * alive, λ ~ Gamma(r + x, α + T). Hence 1 − P(alive) + P(alive) · ((α+T)/(α+T+t))^(r+x).
 */
export function probabilityNoPurchase(
  params: BgNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  assertParams(params, 'probabilityNoPurchase')
  assertHorizon(t, 'probabilityNoPurchase')
  return noPurchase(params, t, x, tx, T)
}

function noPurchase(p: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  return noPurchaseGivenAlive(pAlive(p, x, tx, T), p, t, x, T)
}

/**
 * P(no purchase in (T, T + t]) from P(alive at T), for models whose members drop out only right after a
 * purchase (BG/NBD, MBG/NBD): 1 − P(alive) + P(alive) · ((α+T)/(α+T+t))^(r+x).
 */
export function noPurchaseGivenAlive(
  alive: number,
  p: { readonly r: number; readonly alpha: number },
  t: number,
  x: number,
  T: number,
): number {
  return 1 - alive + alive * Math.exp(-(p.r + x) * Math.log1p(t / (p.alpha + T)))
}

/**
 * P(alive at T + t | x, t_x, T): alive at T, then no drop-out after any purchase in (T, T + t]. Given alive
 * at T, λ ~ Gamma(r + x, α + T) and p ~ Beta(a, b + x) independently, and N purchases survive with
 * (1 − p)^N, whose mean over N ~ Poisson(λt) is e^(−λpt); averaging over λ and p gives
 * P(alive) · ₂F₁(r + x, a; a + b + x; −t/(α + T)) (Euler's integral of ₂F₁).
 */
export function probabilityAliveAfter(
  params: BgNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  assertParams(params, 'probabilityAliveAfter')
  assertHorizon(t, 'probabilityAliveAfter')
  return aliveAfter(params, t, x, tx, T)
}

function aliveAfter(p: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const alive = pAlive(p, x, tx, T)
  if (t === 0 || alive === 0) return alive
  return alive * Math.exp(logHyp2f1(p.r + x, p.a, p.a + p.b + x, -t / (p.alpha + T)))
}

/** {@link probabilityNoPurchase} for every member over the same window t, into `out` (allocated when omitted). */
export function probabilityNoPurchaseMany(
  params: BgNbdParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out?: Float64Array,
): Float64Array {
  assertParams(params, 'probabilityNoPurchaseMany')
  assertHorizon(t, 'probabilityNoPurchaseMany')
  return perMember('probabilityNoPurchaseMany', x, tx, T, out, (xi, txi, Ti) =>
    noPurchase(params, t, xi, txi, Ti),
  )
}

/** {@link probabilityAliveAfter} for every member over the same t, into `out` (allocated when omitted). */
export function probabilityAliveAfterMany(
  params: BgNbdParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out?: Float64Array,
): Float64Array {
  assertParams(params, 'probabilityAliveAfterMany')
  assertHorizon(t, 'probabilityAliveAfterMany')
  return perMember('probabilityAliveAfterMany', x, tx, T, out, (xi, txi, Ti) =>
    aliveAfter(params, t, xi, txi, Ti),
  )
}
