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
import { fitData, validateSummaries } from './group-summaries.js'
import type { Summaries } from './group-summaries.js'
import { assertInteriorMinimum, minimizeFromStarts } from './optimize.js'
import type { Objective } from './optimize.js'
import {
  CompensatedSum,
  digamma,
  hyp2f1ScaledRemainder,
  lgamma,
  logBeta,
  logHyp2f1,
  oneMinusExpOver,
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
}

/** Settings of {@link fitBgNbd}. */
export interface BgNbdFitOptions {
  /** Members per summary (as from {@link groupSummaries}); without it identical summaries are grouped. */
  readonly weights?: Float64Array
  /** Starting points; by default three, scaled to the data's purchase rate. */
  readonly starts?: readonly BgNbdParams[]
  /** Gradient tolerance on the mean log-likelihood per member, in log-parameters. Default 1e-8. */
  readonly gradientTolerance?: number
  /** Default 500 per start. */
  readonly maxIterations?: number
}

function assertParams(p: BgNbdParams, what: string): void {
  assertPositiveParams(p, ['r', 'alpha', 'a', 'b'], what)
}

/**
 * Σ over summaries of weight × log L(r, α, a, b | x, t_x, T), paper eq. 6:
 * L = B(a, b+x)/B(a, b) · Γ(r+x)α^r / (Γ(r)(α+T)^(r+x))
 *   + δ(x>0) · B(a+1, b+x−1)/B(a, b) · Γ(r+x)α^r / (Γ(r)(α+t_x)^(r+x)).
 * The two terms are combined by log-sum-exp and the terms that depend only on x are summed once per
 * distinct x. When `gradient` is given, ∂/∂(r, α, a, b) is written into it.
 */
export function bgNbdLogLikelihood(
  params: BgNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  weights?: Float64Array,
  gradient?: Float64Array,
): number {
  validateSummaries(
    { x, tx, T, ...(weights === undefined ? {} : { weights }) },
    'bgNbdLogLikelihood',
  )
  assertParams(params, 'bgNbdLogLikelihood')
  const prepared = prepare({ x, tx, T, weights: weights ?? new Float64Array(x.length).fill(1) })
  return evaluate(prepared, params.r, params.alpha, params.a, params.b, gradient ?? null)
}

/** Summaries arranged for repeated likelihood evaluation. */
interface Prepared {
  readonly x: Float64Array
  readonly tx: Float64Array
  readonly T: Float64Array
  readonly w: Float64Array
  /** Distinct x values and the total weight of each. */
  readonly xs: Float64Array
  readonly wx: Float64Array
  readonly totalWeight: number
  /**
   * Distinct time values among t_x and T, with each summary's index into them: log(α + t) is then
   * taken once per distinct time per pass (`logTimes` is the scratch for it).
   */
  readonly times: Float64Array
  readonly txIndex: Uint32Array
  readonly TIndex: Uint32Array
  readonly logTimes: Float64Array
}

function prepare(s: Required<Summaries>): Prepared {
  const byX = new Map<number, number>()
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
  const txIndex = new Uint32Array(n)
  const TIndex = new Uint32Array(n)
  let total = 0
  for (let i = 0; i < n; i++) {
    const w = s.weights[i] as number
    const xi = s.x[i] as number
    byX.set(xi, (byX.get(xi) ?? 0) + w)
    total += w
    txIndex[i] = indexOf(s.tx[i] as number)
    TIndex[i] = indexOf(s.T[i] as number)
  }
  const xs = Float64Array.from(byX.keys())
  const wx = Float64Array.from(byX.values())
  const times = Float64Array.from(timeIndex.keys())
  return {
    x: s.x,
    tx: s.tx,
    T: s.T,
    w: s.weights,
    xs,
    wx,
    totalWeight: total,
    times,
    txIndex,
    TIndex,
    logTimes: new Float64Array(times.length),
  }
}

function evaluate(
  d: Prepared,
  r: number,
  alpha: number,
  a: number,
  b: number,
  grad: Float64Array | null,
): number {
  // Compensated sums: see CompensatedSum for why plain summation is not enough here.
  const ll = new CompensatedSum()
  const gr = new CompensatedSum()
  const gAlpha = new CompensatedSum()
  const ga = new CompensatedSum()
  const gb = new CompensatedSum()
  const logAlpha = Math.log(alpha)
  const logA = Math.log(a)
  const lgR = lgamma(r)
  const lgB = lgamma(b)
  const lgAB = lgamma(a + b)
  const psiR = grad === null ? 0 : digamma(r)
  const psiB = grad === null ? 0 : digamma(b)
  const psiAB = grad === null ? 0 : digamma(a + b)

  // Terms depending on x alone: log[Γ(r+x)α^r/Γ(r)] + log[B(a, b+x)/B(a, b)].
  for (let k = 0; k < d.xs.length; k++) {
    const w = d.wx[k] as number
    if (w === 0) continue
    const x = d.xs[k] as number
    ll.add(
      w * (lgamma(r + x) - lgR + r * logAlpha + lgAB + lgamma(b + x) - lgB - lgamma(a + b + x)),
    )
    if (grad !== null) {
      const psiABx = digamma(a + b + x)
      gr.add(w * (digamma(r + x) - psiR + logAlpha))
      gAlpha.add((w * r) / alpha)
      ga.add(w * (psiAB - psiABx))
      gb.add(w * (psiAB + digamma(b + x) - psiB - psiABx))
    }
  }

  // log[(α+T)^−(r+x) + δ(x>0) a/(b+x−1) (α+t_x)^−(r+x)], using B(a+1, b+x−1)/B(a, b+x) = a/(b+x−1).
  for (let k = 0; k < d.times.length; k++) d.logTimes[k] = Math.log(alpha + (d.times[k] as number))
  for (let i = 0; i < d.x.length; i++) {
    const w = d.w[i] as number
    if (w === 0) continue
    const x = d.x[i] as number
    const rx = r + x
    const aT = alpha + (d.T[i] as number)
    const logAT = d.logTimes[d.TIndex[i] as number] as number
    const l3 = -rx * logAT
    if (x === 0) {
      ll.add(w * l3)
      if (grad !== null) {
        gr.add(-w * logAT)
        gAlpha.add((-w * rx) / aT)
      }
      continue
    }
    const aTx = alpha + (d.tx[i] as number)
    const logATx = d.logTimes[d.txIndex[i] as number] as number
    const bx1 = b + x - 1
    const l4 = logA - Math.log(bx1) - rx * logATx
    const m = l3 > l4 ? l3 : l4
    const e3 = Math.exp(l3 - m)
    const e4 = Math.exp(l4 - m)
    const sum = e3 + e4
    ll.add(w * (m + Math.log(sum)))
    if (grad !== null) {
      // Each term's derivative, weighted by that term's share of the likelihood.
      const p3 = e3 / sum
      const p4 = e4 / sum
      gr.add(-w * (p3 * logAT + p4 * logATx))
      gAlpha.add(-w * rx * (p3 / aT + p4 / aTx))
      ga.add((w * p4) / a)
      gb.add((-w * p4) / bx1)
    }
  }
  if (grad !== null) {
    grad[0] = gr.value
    grad[1] = gAlpha.value
    grad[2] = ga.value
    grad[3] = gb.value
  }
  return ll.value
}

/**
 * Fit BG/NBD by maximum likelihood (paper eq. 6) in log-parameter space (log r, log α, log a, log b), with
 * the analytic gradient, BFGS from several starts (the best converged start wins). Identical summaries
 * are grouped first unless `weights` are given, so the cost grows with distinct summaries, not members.
 * Throws InputError on bad input (including empty input) and ModelFitError when no start converges to a
 * proper maximum.
 */
export function fitBgNbd(
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  options: BgNbdFitOptions = {},
): BgNbdFit {
  const data = fitData(x, tx, T, options.weights, 'fitBgNbd')
  const d = prepare(data)
  const W = d.totalWeight
  const natural = new Float64Array(4)
  // Mean negative log-likelihood per member in log-parameters: the scale of the gradient tolerance does
  // not depend on the number of members.
  const objective: Objective = {
    value: (th) =>
      -evaluate(
        d,
        Math.exp(th[0] as number),
        Math.exp(th[1] as number),
        Math.exp(th[2] as number),
        Math.exp(th[3] as number),
        null,
      ) / W,
    valueAndGradient: (th, g) => {
      const r = Math.exp(th[0] as number)
      const alpha = Math.exp(th[1] as number)
      const a = Math.exp(th[2] as number)
      const b = Math.exp(th[3] as number)
      const ll = evaluate(d, r, alpha, a, b, natural)
      // ∂/∂log θ = θ ∂/∂θ
      g[0] = (-r * (natural[0] as number)) / W
      g[1] = (-alpha * (natural[1] as number)) / W
      g[2] = (-a * (natural[2] as number)) / W
      g[3] = (-b * (natural[3] as number)) / W
      return -ll / W
    },
  }
  const starts = (options.starts ?? defaultStarts(d)).map((p) => {
    assertParams(p, 'fitBgNbd start')
    return Float64Array.of(Math.log(p.r), Math.log(p.alpha), Math.log(p.a), Math.log(p.b))
  })
  const { best } = minimizeFromStarts(
    objective,
    starts,
    {
      gradientTolerance: options.gradientTolerance ?? 1e-8,
      maxIterations: options.maxIterations ?? 500,
    },
    'BG/NBD',
  )
  assertInteriorMinimum(objective, best, 'BG/NBD')
  const params: BgNbdParams = {
    r: Math.exp(best.x[0] as number),
    alpha: Math.exp(best.x[1] as number),
    a: Math.exp(best.x[2] as number),
    b: Math.exp(best.x[3] as number),
  }
  return {
    params,
    logLikelihood: -best.value * W,
    iterations: best.iterations,
    converged: true,
    members: W,
    distinctSummaries: d.x.length,
  }
}

/** Starts scaled so that the prior mean purchase rate r/α matches the observed repeat rate Σx / ΣT. */
function defaultStarts(d: Prepared): BgNbdParams[] {
  let sx = 0
  let sT = 0
  for (let i = 0; i < d.x.length; i++) {
    sx += (d.w[i] as number) * (d.x[i] as number)
    sT += (d.w[i] as number) * (d.T[i] as number)
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
