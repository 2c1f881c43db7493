/**
 * The Pareto/NBD model of repeat buying (Schmittlein, Morrison & Colombo 1987, "Counting Your Customers:
 * Who Are They and What Will They Do Next?", Management Science 33(1)), with the likelihood as derived in
 * Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model and Related Expressions".
 *
 * While active, a member buys at Poisson rate λ ~ Gamma(r, α); their lifetime is exponential with rate
 * μ ~ Gamma(s, β). Summaries (x, t_x, T) as for BG/NBD.
 * @module
 */

import { fitData, validateSummaries } from './group-summaries.js'
import type { Summaries } from './group-summaries.js'
import { assertInteriorMinimum, logParameterObjective, minimizeFromStarts } from './optimize.js'
import {
  CompensatedSum,
  digamma,
  lgamma,
  log1mExp,
  logHyp2f1A1,
  logIntegrateUnitInterval,
  oneMinusExpOver,
} from './special-functions.js'
import { assertHorizon, assertSameLength, assertPositiveParams, perMember } from './params.js'
/** Pareto/NBD parameters: purchase rate λ ~ Gamma(shape r, rate α), dropout rate μ ~ Gamma(s, β). */
export interface ParetoNbdParams {
  readonly r: number
  readonly alpha: number
  readonly s: number
  readonly beta: number
}

/** A maximum-likelihood Pareto/NBD fit. */
export interface ParetoNbdFit {
  readonly params: ParetoNbdParams
  /** Σ members log L (note §3), at the estimate. */
  readonly logLikelihood: number
  /** BFGS iterations of the winning start. */
  readonly iterations: number
  /** Always true: a fit that does not converge throws ModelFitError instead. */
  readonly converged: boolean
  /** Number of members (sum of weights). */
  readonly members: number
  /** Number of distinct (x, t_x, T) summaries the likelihood was summed over. */
  readonly distinctSummaries: number
}

/** Settings of {@link fitParetoNbd}. */
export interface ParetoNbdFitOptions {
  /** Members per summary; without it identical summaries are grouped. */
  readonly weights?: Float64Array
  /** Starting points; by default three, scaled to the data's purchase rate and observation length. */
  readonly starts?: readonly ParetoNbdParams[]
  /** Gradient tolerance on the mean log-likelihood per member, in log-parameters. Default 1e-8. */
  readonly gradientTolerance?: number
  /** Default 500 per start. */
  readonly maxIterations?: number
  /**
   * Wall-clock budget of the fit (all starts) in milliseconds; when it runs out the fit throws
   * ModelFitError saying so. Default: no limit.
   */
  readonly timeLimitMs?: number
}

function assertParams(p: ParetoNbdParams, what: string): void {
  assertPositiveParams(p, ['r', 'alpha', 's', 'beta'], what)
}

/**
 * log I(y), I(y) = ∫_y^∞ (α+u)^−(r+x) (β+u)^−(s+1) du, so that the note's A₀ (§3) is
 * (r+s+x)·(I(t_x) − I(T)). The note writes (r+s+x)·I(y) as
 * ₂F₁(r+s+x, s+1; r+s+x+1; (α−β)/(α+y)) / (α+y)^(r+s+x)            when α ≥ β, and
 * ₂F₁(r+s+x, r+x; r+s+x+1; (β−α)/(β+y)) / (β+y)^(r+s+x)             when α < β,
 * which keeps the argument z in [0, 1). Euler's transformation, ₂F₁(a,b;c;z) = (1−z)^(c−a−b)
 * ₂F₁(c−a, c−b; c; z), turns both into ₂F₁(1, ·; r+s+x+1; z), a series with terms below zⁿ for any x:
 *   α ≥ β:  log I = −s log(β+y) − (r+x) log(α+y) + log ₂F₁(1, r+x; r+s+x+1; z) − log(r+s+x)
 *   α < β:  log I = (1−r−x) log(α+y) − (s+1) log(β+y) + log ₂F₁(1, s+1; r+s+x+1; z) − log(r+s+x)
 * When `grad` is given, ∂ log I/∂(r, α, s, β) is written into it (`work` holds the ₂F₁ derivatives).
 */
function logTailIntegral(
  p: ParetoNbdParams,
  x: number,
  y: number,
  grad: Float64Array | null,
  work: Float64Array,
): number {
  const { r, alpha, s, beta } = p
  const c = r + s + x + 1
  const ay = alpha + y
  const by = beta + y
  const logAy = Math.log(ay)
  const logBy = Math.log(by)
  const rsx = r + s + x
  if (alpha >= beta) {
    const z = (alpha - beta) / ay
    const logF = logHyp2f1A1(r + x, c, z, grad === null ? undefined : work)
    if (grad !== null) {
      const [fb, fc, fz] = [work[0] as number, work[1] as number, work[2] as number]
      grad[0] = -logAy + fb + fc - 1 / rsx
      grad[1] = -(r + x) / ay + (fz * by) / (ay * ay) // ∂z/∂α = (β+y)/(α+y)²
      grad[2] = -logBy + fc - 1 / rsx
      grad[3] = -s / by - fz / ay // ∂z/∂β = −1/(α+y)
    }
    return -s * logBy - (r + x) * logAy + logF - Math.log(rsx)
  }
  const z = (beta - alpha) / by
  const logF = logHyp2f1A1(s + 1, c, z, grad === null ? undefined : work)
  if (grad !== null) {
    const [fb, fc, fz] = [work[0] as number, work[1] as number, work[2] as number]
    grad[0] = -logAy + fc - 1 / rsx
    grad[1] = (1 - r - x) / ay - fz / by // ∂z/∂α = −1/(β+y)
    grad[2] = -logBy + fb + fc - 1 / rsx
    grad[3] = -(s + 1) / by + (fz * ay) / (by * by) // ∂z/∂β = (α+y)/(β+y)²
  }
  return (1 - r - x) * logAy - (s + 1) * logBy + logF - Math.log(rsx)
}

/** log[(α+T)^−(r+x) (β+T)^−s]: the part of L (note §3, without Γ(r+x)α^r β^s / Γ(r)) where the member is still active at T. */
function logAlivePart(p: ParetoNbdParams, x: number, T: number): number {
  return -(p.r + x) * Math.log(p.alpha + T) - p.s * Math.log(p.beta + T)
}

const scalarWork = new Float64Array(3)

/**
 * log[s · (I(t_x) − I(T))] = log[s/(r+s+x) · A₀]: the part of L (same scaling) where the member left
 * between t_x and T. I(t_x) > I(T) because the integrand is positive; near t_x = T the difference loses
 * relative digits but is then small next to the alive part.
 */
function logDeadPart(p: ParetoNbdParams, x: number, tx: number, T: number): number {
  if (T === tx) return -Infinity
  const atTx = logTailIntegral(p, x, tx, null, scalarWork)
  const diff = logTailIntegral(p, x, T, null, scalarWork) - atTx
  if (!(diff < 0)) return Number.isNaN(diff) ? NaN : -Infinity
  return Math.log(p.s) + atTx + log1mExp(diff)
}

/**
 * Σ over summaries of weight × log L(r, α, s, β | x, t_x, T) (Fader & Hardie 2005 note, §3):
 * L = Γ(r+x)α^r β^s / Γ(r) · { 1/((α+T)^(r+x)(β+T)^s) + s/(r+s+x) · A₀ }.
 * When `gradient` is given, ∂/∂(r, α, s, β) is written into it.
 */
export function paretoNbdLogLikelihood(
  params: ParetoNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  weights?: Float64Array,
  gradient?: Float64Array,
): number {
  validateSummaries(
    { x, tx, T, ...(weights === undefined ? {} : { weights }) },
    'paretoNbdLogLikelihood',
  )
  assertParams(params, 'paretoNbdLogLikelihood')
  const prepared = prepare({ x, tx, T, weights: weights ?? new Float64Array(x.length).fill(1) })
  return evaluate(prepared, params, gradient ?? null)
}

/**
 * Summaries arranged for repeated likelihood evaluation. The ₂F₁ terms depend on (x, y) only, with y = t_x
 * or T, and there are usually far fewer distinct (x, y) pairs than (x, t_x, T) triples, so each pair is
 * evaluated once per likelihood pass; the gamma-function terms once per distinct x, the logarithms of
 * α + T and β + T once per distinct T.
 */
interface Prepared {
  readonly x: Float64Array
  readonly T: Float64Array
  readonly w: Float64Array
  readonly xIndex: Uint32Array
  readonly xs: Float64Array
  readonly TIndex: Uint32Array
  readonly Ts: Float64Array
  /** Pair indices of (x, t_x) and (x, T); −1 when t_x = T (no dead part). */
  readonly txPair: Int32Array
  readonly TPair: Int32Array
  readonly pairX: Float64Array
  readonly pairY: Float64Array
  /** Scratch refilled on every pass: log I and its four derivatives per pair (stride 5). */
  readonly tail: Float64Array
  /** Per distinct x: log Γ(r+x), ψ(r+x). Per distinct T: log(α+T), log(β+T). */
  readonly lgRx: Float64Array
  readonly psiRx: Float64Array
  readonly logAT: Float64Array
  readonly logBT: Float64Array
}

function prepare(d: Required<Summaries>): Prepared {
  const xsMap = new Map<number, number>()
  const TsMap = new Map<number, number>()
  const indexIn = (map: Map<number, number>, v: number): number => {
    let k = map.get(v)
    if (k === undefined) {
      k = map.size
      map.set(v, k)
    }
    return k
  }
  const pairs = new Map<number, Map<number, number>>()
  const pairX: number[] = []
  const pairY: number[] = []
  const pairOf = (x: number, y: number): number => {
    let inner = pairs.get(x)
    if (inner === undefined) {
      inner = new Map()
      pairs.set(x, inner)
    }
    let k = inner.get(y)
    if (k === undefined) {
      k = pairX.length
      inner.set(y, k)
      pairX.push(x)
      pairY.push(y)
    }
    return k
  }
  const keep: number[] = []
  for (let i = 0; i < d.x.length; i++) if ((d.weights[i] as number) > 0) keep.push(i)
  const m = keep.length
  const x = new Float64Array(m)
  const T = new Float64Array(m)
  const w = new Float64Array(m)
  const xIndex = new Uint32Array(m)
  const TIndex = new Uint32Array(m)
  const txPair = new Int32Array(m)
  const TPair = new Int32Array(m)
  keep.forEach((i, j) => {
    const xi = d.x[i] as number
    const txi = d.tx[i] as number
    const Ti = d.T[i] as number
    x[j] = xi
    T[j] = Ti
    w[j] = d.weights[i] as number
    xIndex[j] = indexIn(xsMap, xi)
    TIndex[j] = indexIn(TsMap, Ti)
    txPair[j] = Ti === txi ? -1 : pairOf(xi, txi)
    TPair[j] = Ti === txi ? -1 : pairOf(xi, Ti)
  })
  return {
    x,
    T,
    w,
    xIndex,
    xs: Float64Array.from(xsMap.keys()),
    TIndex,
    Ts: Float64Array.from(TsMap.keys()),
    txPair,
    TPair,
    pairX: Float64Array.from(pairX),
    pairY: Float64Array.from(pairY),
    tail: new Float64Array(5 * pairX.length),
    lgRx: new Float64Array(xsMap.size),
    psiRx: new Float64Array(xsMap.size),
    logAT: new Float64Array(TsMap.size),
    logBT: new Float64Array(TsMap.size),
  }
}

function evaluate(d: Prepared, p: ParetoNbdParams, grad: Float64Array | null): number {
  const { r, alpha, s, beta } = p
  const work = new Float64Array(3)
  const g4 = new Float64Array(4)
  for (let k = 0; k < d.pairX.length; k++) {
    d.tail[5 * k] = logTailIntegral(
      p,
      d.pairX[k] as number,
      d.pairY[k] as number,
      grad === null ? null : g4,
      work,
    )
    if (grad !== null) d.tail.set(g4, 5 * k + 1)
  }
  for (let k = 0; k < d.xs.length; k++) {
    const x = d.xs[k] as number
    d.lgRx[k] = lgamma(r + x)
    if (grad !== null) d.psiRx[k] = digamma(r + x)
  }
  for (let k = 0; k < d.Ts.length; k++) {
    const T = d.Ts[k] as number
    d.logAT[k] = Math.log(alpha + T)
    d.logBT[k] = Math.log(beta + T)
  }
  const logAlpha = Math.log(alpha)
  const logBeta = Math.log(beta)
  const constant = r * logAlpha + s * logBeta - lgamma(r)
  const psiR = grad === null ? 0 : digamma(r)
  const logS = Math.log(s)
  // Compensated sums: the likelihood of a million members is a sum of ~1e5 terms (see CompensatedSum).
  const ll = new CompensatedSum()
  const gr = new CompensatedSum()
  const gAlpha = new CompensatedSum()
  const gs = new CompensatedSum()
  const gBeta = new CompensatedSum()
  for (let i = 0; i < d.x.length; i++) {
    const w = d.w[i] as number
    const x = d.x[i] as number
    const xk = d.xIndex[i] as number
    const Tk = d.TIndex[i] as number
    const logAT = d.logAT[Tk] as number
    const logBT = d.logBT[Tk] as number
    const alive = -(r + x) * logAT - s * logBT
    let logL = alive
    const kTx = d.txPair[i] as number
    // Share of the likelihood in the alive and dead parts, and the dead part's derivative weights.
    let shareAlive = 1
    let kT = -1
    let deadTx = 0 // e^(log s + log I(t_x) − log L)
    let deadT = 0 // e^(log s + log I(T) − log L)
    if (kTx >= 0) {
      // log(e^alive + s·(I(t_x) − I(T))) with one logarithm and three exponentials; the difference can
      // lose relative digits only where it is small next to e^alive.
      kT = d.TPair[i] as number
      const hi = logS + (d.tail[5 * kTx] as number)
      const lo = logS + (d.tail[5 * kT] as number)
      const m = alive > hi ? alive : hi
      const eAlive = Math.exp(alive - m)
      const eHi = Math.exp(hi - m)
      const eLo = Math.exp(lo - m)
      const inner = eAlive + Math.max(0, eHi - eLo)
      logL = m + Math.log(inner)
      shareAlive = eAlive / inner
      deadTx = eHi / inner
      deadT = eLo / inner
    }
    ll.add(w * ((d.lgRx[xk] as number) + constant + logL))
    if (grad !== null) {
      // ∂ log L = ∂const + shareAlive·∂alive + [e^(s I(t_x)) ∂log I(t_x) − e^(s I(T)) ∂log I(T)]/L
      //          + (1 − shareAlive)/s for s.
      let dr = (d.psiRx[xk] as number) - psiR + logAlpha - shareAlive * logAT
      let dAlpha = r / alpha - (shareAlive * (r + x)) / (alpha + (d.T[i] as number))
      let ds = logBeta - shareAlive * logBT
      let dBeta = s / beta - (shareAlive * s) / (beta + (d.T[i] as number))
      if (kTx >= 0) {
        const a = 5 * kTx
        const b = 5 * kT
        const t = d.tail
        dr += deadTx * (t[a + 1] as number) - deadT * (t[b + 1] as number)
        dAlpha += deadTx * (t[a + 2] as number) - deadT * (t[b + 2] as number)
        ds += deadTx * (t[a + 3] as number) - deadT * (t[b + 3] as number) + (1 - shareAlive) / s
        dBeta += deadTx * (t[a + 4] as number) - deadT * (t[b + 4] as number)
      }
      gr.add(w * dr)
      gAlpha.add(w * dAlpha)
      gs.add(w * ds)
      gBeta.add(w * dBeta)
    }
  }
  if (grad !== null) {
    grad[0] = gr.value
    grad[1] = gAlpha.value
    grad[2] = gs.value
    grad[3] = gBeta.value
  }
  return ll.value
}

/**
 * Fit Pareto/NBD by maximum likelihood (note §3) in log-parameter space (log r, log α, log s, log β)
 * with BFGS from several starts and the analytic gradient: the ₂F₁ series is differentiated term by term
 * in its parameters and argument (see `logHyp2f1A1`). Identical summaries are grouped unless `weights`
 * are given, and the ₂F₁ terms are shared between summaries with the same (x, t_x) or (x, T). Throws
 * InputError on bad input and ModelFitError when no start converges to a proper maximum.
 */
export function fitParetoNbd(
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  options: ParetoNbdFitOptions = {},
): ParetoNbdFit {
  const data = fitData(x, tx, T, options.weights, 'fitParetoNbd')
  let W = 0
  let sx = 0
  let sT = 0
  for (let i = 0; i < data.x.length; i++) {
    const w = data.weights[i] as number
    W += w
    sx += w * (data.x[i] as number)
    sT += w * (data.T[i] as number)
  }
  const prepared = prepare(data)
  const { objective, at } = logParameterObjective(['r', 'alpha', 's', 'beta'] as const, W, (p, g) =>
    evaluate(prepared, p, g),
  )
  const rate = sx > 0 && sT > 0 ? sx / sT : 1
  const meanT = sT > 0 ? sT / W : 1
  const defaults: ParetoNbdParams[] = [
    { r: 1, alpha: 1 / rate, s: 1, beta: meanT },
    { r: 0.5, alpha: 0.5 / rate, s: 0.5, beta: 0.5 * meanT },
    { r: 1, alpha: 1, s: 1, beta: 1 },
  ]
  const starts = (options.starts ?? defaults).map((p) => {
    assertParams(p, 'fitParetoNbd start')
    return Float64Array.of(Math.log(p.r), Math.log(p.alpha), Math.log(p.s), Math.log(p.beta))
  })
  const { best } = minimizeFromStarts(
    objective,
    starts,
    {
      gradientTolerance: options.gradientTolerance ?? 1e-8,
      maxIterations: options.maxIterations ?? 500,
      ...(options.timeLimitMs === undefined ? {} : { timeLimitMs: options.timeLimitMs }),
    },
    'Pareto/NBD',
  )
  assertInteriorMinimum(objective, best, 'Pareto/NBD')
  return {
    params: at(best.x),
    logLikelihood: -best.value * W,
    iterations: best.iterations,
    converged: true,
    members: W,
    distinctSummaries: prepared.x.length,
  }
}

/**
 * P(alive | x, t_x, T) (note §5): 1 / (1 + s/(r+s+x) · (α+T)^(r+x) (β+T)^s · A₀), in log space.
 */
export function paretoNbdProbabilityAlive(
  params: ParetoNbdParams,
  x: number,
  tx: number,
  T: number,
): number {
  assertParams(params, 'paretoNbdProbabilityAlive')
  return pAlive(params, x, tx, T)
}

function pAlive(p: ParetoNbdParams, x: number, tx: number, T: number): number {
  return 1 / (1 + Math.exp(logDeadPart(p, x, tx, T) - logAlivePart(p, x, T)))
}

/**
 * Expected purchases in (T, T + t] given the history (Schmittlein, Morrison & Colombo
 * 1987; note §6): P(alive) · (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)], continuous at s = 1.
 */
export function paretoNbdConditionalExpectedPurchases(
  params: ParetoNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  assertParams(params, 'paretoNbdConditionalExpectedPurchases')
  assertHorizon(t, 'paretoNbdConditionalExpectedPurchases')
  return pAlive(params, x, tx, T) * expectedWhileAlive(params, t, x, T)
}

/**
 * E[Y(t) | alive at T, x, T]: the expected purchases in (T, T + t] of a member known to be alive at T
 * (the factor after P(alive) in {@link paretoNbdConditionalExpectedPurchases}); it depends on x and T only.
 */
export function paretoNbdExpectedPurchasesIfAlive(
  params: ParetoNbdParams,
  t: number,
  x: number,
  T: number,
): number {
  assertParams(params, 'paretoNbdExpectedPurchasesIfAlive')
  assertHorizon(t, 'paretoNbdExpectedPurchasesIfAlive')
  return expectedWhileAlive(params, t, x, T)
}

function expectedWhileAlive(p: ParetoNbdParams, t: number, x: number, T: number): number {
  if (t === 0) return 0
  const logBase = -Math.log1p(t / (p.beta + T)) // log((β+T)/(β+T+t))
  return ((p.r + x) / (p.alpha + T)) * (p.beta + T) * oneMinusExpOver(p.s - 1, logBase)
}

/**
 * Expected purchases in (0, t] of a randomly chosen new member (note §4):
 * E[X(t)] = rβ / (α(s−1)) · [1 − (β/(β+t))^(s−1)].
 */
export function paretoNbdExpectedPurchasesPopulation(params: ParetoNbdParams, t: number): number {
  assertParams(params, 'paretoNbdExpectedPurchasesPopulation')
  assertHorizon(t, 'paretoNbdExpectedPurchasesPopulation')
  return expectedWhileAlive(params, t, 0, 0)
}

/** {@link paretoNbdProbabilityAlive} for every member, into `out` (allocated when omitted). */
export function paretoNbdProbabilityAliveMany(
  params: ParetoNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out?: Float64Array,
): Float64Array {
  assertParams(params, 'paretoNbdProbabilityAliveMany')
  const n = assertSameLength('paretoNbdProbabilityAliveMany', x, tx, T, ...(out ? [out] : []))
  const result = out ?? new Float64Array(n)
  for (let i = 0; i < n; i++)
    result[i] = pAlive(params, x[i] as number, tx[i] as number, T[i] as number)
  return result
}

/** {@link paretoNbdConditionalExpectedPurchases} for every member, into `out` (allocated when omitted). */
export function paretoNbdConditionalExpectedPurchasesMany(
  params: ParetoNbdParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out?: Float64Array,
): Float64Array {
  assertParams(params, 'paretoNbdConditionalExpectedPurchasesMany')
  assertHorizon(t, 'paretoNbdConditionalExpectedPurchasesMany')
  const n = assertSameLength(
    'paretoNbdConditionalExpectedPurchasesMany',
    x,
    tx,
    T,
    ...(out ? [out] : []),
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
 * P(no purchase in (T, T + t] | x, t_x, T), the retail churn definition (no purchase within M days;
 * Zammit & Zerafa 2025). Given alive at T, λ ~ Gamma(R = r + x, A = α + T) and μ ~ Gamma(s, B = β + T)
 * independently; with lifetime τ ~ Exp(μ) the window is empty with (μ + λ e^(−(λ+μ)t)) / (λ + μ), whose
 * mean is 1 − (R/A) ∫₀ᵗ (1 + v/A)^(−R−1) (1 + v/B)^(−s) dv (size-biasing λ turns λ/(λ+μ) e^(−(λ+μ)t) into
 * an integral of Laplace transforms). The integral is taken by tanh-sinh quadrature on (0, 1).
 */
export function paretoNbdProbabilityNoPurchase(
  params: ParetoNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  assertParams(params, 'paretoNbdProbabilityNoPurchase')
  assertHorizon(t, 'paretoNbdProbabilityNoPurchase')
  return noPurchase(params, t, x, tx, T)
}

function noPurchase(p: ParetoNbdParams, t: number, x: number, tx: number, T: number): number {
  const alive = pAlive(p, x, tx, T)
  if (t === 0 || alive === 0) return 1
  const R = p.r + x
  const uA = t / (p.alpha + T)
  const uB = t / (p.beta + T)
  const logIntegral = logIntegrateUnitInterval(
    (w) => -(R + 1) * Math.log1p(w * uA) - p.s * Math.log1p(w * uB),
  )
  const buys = Math.min(1, R * uA * Math.exp(logIntegral))
  return 1 - alive * buys
}

/**
 * P(alive at T + t | x, t_x, T): alive at T and a lifetime beyond T + t; given alive at T,
 * μ ~ Gamma(s, β + T), so P(alive) · ((β+T)/(β+T+t))^s.
 */
export function paretoNbdProbabilityAliveAfter(
  params: ParetoNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  assertParams(params, 'paretoNbdProbabilityAliveAfter')
  assertHorizon(t, 'paretoNbdProbabilityAliveAfter')
  return aliveAfter(params, t, x, tx, T)
}

function aliveAfter(p: ParetoNbdParams, t: number, x: number, tx: number, T: number): number {
  return pAlive(p, x, tx, T) * Math.exp(-p.s * Math.log1p(t / (p.beta + T)))
}

/** {@link paretoNbdProbabilityNoPurchase} for every member, into `out` (allocated when omitted). */
export function paretoNbdProbabilityNoPurchaseMany(
  params: ParetoNbdParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out?: Float64Array,
): Float64Array {
  assertParams(params, 'paretoNbdProbabilityNoPurchaseMany')
  assertHorizon(t, 'paretoNbdProbabilityNoPurchaseMany')
  return perMember('paretoNbdProbabilityNoPurchaseMany', x, tx, T, out, (xi, txi, Ti) =>
    noPurchase(params, t, xi, txi, Ti),
  )
}

/** {@link paretoNbdProbabilityAliveAfter} for every member, into `out` (allocated when omitted). */
export function paretoNbdProbabilityAliveAfterMany(
  params: ParetoNbdParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out?: Float64Array,
): Float64Array {
  assertParams(params, 'paretoNbdProbabilityAliveAfterMany')
  assertHorizon(t, 'paretoNbdProbabilityAliveAfterMany')
  return perMember('paretoNbdProbabilityAliveAfterMany', x, tx, T, out, (xi, txi, Ti) =>
    aliveAfter(params, t, xi, txi, Ti),
  )
}
