/**
 * The MBG/NBD model (Batislam, Denizel & Filiztekin 2007, "Empirical validation and comparison of models
 * for customer base analysis", International Journal of Research in Marketing 24(3)): BG/NBD in which a
 * member may also drop out right after the first purchase, so members with no repeat purchase can be
 * inactive (under BG/NBD they are always alive).
 *
 * While active, a member buys at Poisson rate λ ~ Gamma(r, α); after every purchase, the first included,
 * they drop out with probability p ~ Beta(a, b). Summaries (x, t_x, T) as for BG/NBD.
 * @module
 */
import { expectedPurchasesIfAlive, noPurchaseGivenAlive, type BgNbdParams } from './bg-nbd.js'
import { fitData } from './group-summaries.js'
import { assertInteriorMinimum, logParameterObjective, minimizeFromStarts } from './optimize.js'
import { assertHorizon, assertPositiveParams, perMember } from './params.js'
import { CompensatedSum, digamma, lgamma, logBeta, logHyp2f1 } from './special-functions.js'

/** MBG/NBD parameters, as BG/NBD's: λ ~ Gamma(shape r, rate α), p ~ Beta(a, b). */
export type MbgNbdParams = BgNbdParams

/** An MBG/NBD maximum-likelihood fit. */
export interface MbgNbdFit {
  readonly params: MbgNbdParams
  readonly logLikelihood: number
  readonly iterations: number
  readonly members: number
  readonly distinctSummaries: number
}

function assertParams(p: MbgNbdParams, what: string): void {
  assertPositiveParams(p, ['r', 'alpha', 'a', 'b'], what)
}

/**
 * log L of one member: alive at T after x + 1 survivals, or dropped right after the purchase at t_x:
 * Γ(r+x)α^r/Γ(r) · [B(a, b+x+1)/B(a,b) · (α+T)^−(r+x) + B(a+1, b+x)/B(a,b) · (α+t_x)^−(r+x)].
 */
function logLikelihoodOne(p: MbgNbdParams, x: number, tx: number, T: number): number {
  const common = lgamma(p.r + x) - lgamma(p.r) + p.r * Math.log(p.alpha) - logBeta(p.a, p.b)
  const alive = logBeta(p.a, p.b + x + 1) - (p.r + x) * Math.log(p.alpha + T)
  const dropped = logBeta(p.a + 1, p.b + x) - (p.r + x) * Math.log(p.alpha + tx)
  const m = Math.max(alive, dropped)
  return common + m + Math.log(Math.exp(alive - m) + Math.exp(dropped - m))
}

/**
 * Σ weight · log L over members (or distinct summaries with their counts as weights); with `gradient`,
 * ∂/∂(r, α, a, b) written into it.
 */
export function mbgNbdLogLikelihood(
  params: MbgNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  weights?: Float64Array,
  gradient?: Float64Array,
): number {
  assertParams(params, 'mbgNbdLogLikelihood')
  const d = fitData(x, tx, T, weights, 'mbgNbdLogLikelihood')
  return evaluate(params, d.x, d.tx, d.T, d.weights, gradient ?? null)
}

function evaluate(
  p: MbgNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  w: Float64Array,
  gradient: Float64Array | null = null,
): number {
  const sum = new CompensatedSum()
  if (gradient !== null) gradient.fill(0)
  const psiR = digamma(p.r)
  const psiA = digamma(p.a)
  const psiB = digamma(p.b)
  const psiAB = digamma(p.a + p.b)
  const logAlpha = Math.log(p.alpha)
  for (let i = 0; i < x.length; i++) {
    const wi = w[i] as number
    if (wi === 0) continue
    const xi = x[i] as number
    const txi = tx[i] as number
    const Ti = T[i] as number
    sum.add(wi * logLikelihoodOne(p, xi, txi, Ti))
    if (gradient === null) continue
    // Shares of the two terms of L (alive at T, dropped after t_x) and the derivatives of each.
    const logAT = Math.log(p.alpha + Ti)
    const logAtx = Math.log(p.alpha + txi)
    const alive = logBeta(p.a, p.b + xi + 1) - (p.r + xi) * logAT
    const dropped = logBeta(p.a + 1, p.b + xi) - (p.r + xi) * logAtx
    const wa = 1 / (1 + Math.exp(dropped - alive))
    const wd = 1 - wa
    const psiSum = digamma(p.a + p.b + xi + 1)
    gradient[0] =
      (gradient[0] as number) +
      wi * (digamma(p.r + xi) - psiR + logAlpha - wa * logAT - wd * logAtx)
    gradient[1] =
      (gradient[1] as number) +
      wi * (p.r / p.alpha - (p.r + xi) * (wa / (p.alpha + Ti) + wd / (p.alpha + txi)))
    gradient[2] =
      (gradient[2] as number) +
      wi * (-(psiA - psiAB) + wa * (psiA - psiSum) + wd * (digamma(p.a + 1) - psiSum))
    gradient[3] =
      (gradient[3] as number) +
      wi *
        (-(psiB - psiAB) +
          wa * (digamma(p.b + xi + 1) - psiSum) +
          wd * (digamma(p.b + xi) - psiSum))
  }
  return sum.value
}

/**
 * Fit MBG/NBD by maximum likelihood (BFGS on log-parameters with the analytic gradient, several
 * starts; identical summaries grouped first). Throws InputError on bad input and ModelFitError when no
 * start converges to a proper maximum.
 */
export function fitMbgNbd(
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  options: { weights?: Float64Array; starts?: readonly MbgNbdParams[] } = {},
): MbgNbdFit {
  const d = fitData(x, tx, T, options.weights, 'fitMbgNbd')
  let W = 0
  let sx = 0
  let sT = 0
  for (let i = 0; i < d.x.length; i++) {
    W += d.weights[i] as number
    sx += (d.weights[i] as number) * (d.x[i] as number)
    sT += (d.weights[i] as number) * (d.T[i] as number)
  }
  const { objective, at } = logParameterObjective(['r', 'alpha', 'a', 'b'] as const, W, (p, g) =>
    evaluate(p, d.x, d.tx, d.T, d.weights, g),
  )
  const rate = sx > 0 && sT > 0 ? sx / sT : 1
  const starts = (
    options.starts ?? [
      { r: 1, alpha: 1 / rate, a: 1, b: 1 },
      { r: 0.5, alpha: 0.5 / rate, a: 0.5, b: 2 },
      { r: 1, alpha: 1, a: 1, b: 1 },
    ]
  ).map((p) => {
    assertParams(p, 'fitMbgNbd start')
    return Float64Array.of(Math.log(p.r), Math.log(p.alpha), Math.log(p.a), Math.log(p.b))
  })
  const { best } = minimizeFromStarts(
    objective,
    starts,
    { gradientTolerance: 1e-8, maxIterations: 500 },
    'MBG/NBD',
  )
  assertInteriorMinimum(objective, best, 'MBG/NBD')
  return {
    params: at(best.x),
    logLikelihood: -best.value * W,
    iterations: best.iterations,
    members: W,
    distinctSummaries: d.x.length,
  }
}

/** P(alive | x, t_x, T) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)), for x = 0 too. */
export function mbgNbdProbabilityAlive(
  params: MbgNbdParams,
  x: number,
  tx: number,
  T: number,
): number {
  assertParams(params, 'mbgNbdProbabilityAlive')
  return pAlive(params, x, tx, T)
}

function pAlive(p: MbgNbdParams, x: number, tx: number, T: number): number {
  const logOdds =
    Math.log(p.a) - Math.log(p.b + x) + (p.r + x) * Math.log1p((T - tx) / (p.alpha + tx))
  return 1 / (1 + Math.exp(logOdds))
}

/**
 * E[Y(t) | x, t_x, T]: P(alive) times the expected purchases of an alive member, whose posterior is
 * λ ~ Gamma(r + x, α + T), p ~ Beta(a, b + x + 1) — BG/NBD's with b + 1 (eq. 10 of BG/NBD without its
 * P(alive), at b + 1).
 */
export function mbgNbdConditionalExpectedPurchases(
  params: MbgNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  assertParams(params, 'mbgNbdConditionalExpectedPurchases')
  assertHorizon(t, 'mbgNbdConditionalExpectedPurchases')
  return (
    pAlive(params, x, tx, T) * expectedPurchasesIfAlive({ ...params, b: params.b + 1 }, t, x, T)
  )
}

/**
 * E[X(t)] of a new member: survives the first purchase with b/(a+b), then buys as an alive BG/NBD member
 * with p ~ Beta(a, b + 1).
 */
export function mbgNbdExpectedPurchasesPopulation(params: MbgNbdParams, t: number): number {
  assertParams(params, 'mbgNbdExpectedPurchasesPopulation')
  assertHorizon(t, 'mbgNbdExpectedPurchasesPopulation')
  return (
    (params.b / (params.a + params.b)) *
    expectedPurchasesIfAlive({ ...params, b: params.b + 1 }, t, 0, 0)
  )
}

/** {@link mbgNbdConditionalExpectedPurchases} for every member, into `out` (allocated when omitted). */
export function mbgNbdConditionalExpectedPurchasesMany(
  params: MbgNbdParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out?: Float64Array,
): Float64Array {
  return perMember('mbgNbdConditionalExpectedPurchasesMany', x, tx, T, out, (xi, txi, Ti) =>
    mbgNbdConditionalExpectedPurchases(params, t, xi, txi, Ti),
  )
}

/** {@link mbgNbdProbabilityAlive} for every member, into `out` (allocated when omitted). */
export function mbgNbdProbabilityAliveMany(
  params: MbgNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out?: Float64Array,
): Float64Array {
  assertParams(params, 'mbgNbdProbabilityAliveMany')
  return perMember('mbgNbdProbabilityAliveMany', x, tx, T, out, (xi, txi, Ti) =>
    pAlive(params, xi, txi, Ti),
  )
}

/**
 * P(no purchase in (T, T + t] | x, t_x, T) for every member: as for BG/NBD, drop-out happens only right
 * after a purchase, so 1 − P(alive) + P(alive) · ((α+T)/(α+T+t))^(r+x), with MBG/NBD's P(alive).
 */
export function mbgNbdProbabilityNoPurchaseMany(
  params: MbgNbdParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): Float64Array {
  assertParams(params, 'mbgNbdProbabilityNoPurchaseMany')
  assertHorizon(t, 'mbgNbdProbabilityNoPurchaseMany')
  return perMember('mbgNbdProbabilityNoPurchaseMany', x, tx, T, undefined, (xi, txi, Ti) => {
    return noPurchaseGivenAlive(pAlive(params, xi, txi, Ti), params, t, xi, Ti)
  })
}

/**
 * P(alive at T + t | x, t_x, T) for every member: P(alive) · ₂F₁(r + x, a; a + b + x + 1; −t/(α + T)), the
 * BG/NBD argument with p | alive ~ Beta(a, b + x + 1).
 */
export function mbgNbdProbabilityAliveAfterMany(
  params: MbgNbdParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): Float64Array {
  assertParams(params, 'mbgNbdProbabilityAliveAfterMany')
  assertHorizon(t, 'mbgNbdProbabilityAliveAfterMany')
  return perMember('mbgNbdProbabilityAliveAfterMany', x, tx, T, undefined, (xi, txi, Ti) => {
    const alive = pAlive(params, xi, txi, Ti)
    return t === 0 || alive === 0
      ? alive
      : alive *
          Math.exp(
            logHyp2f1(
              params.r + xi,
              params.a,
              params.a + params.b + xi + 1,
              -t / (params.alpha + Ti),
            ),
          )
  })
}
