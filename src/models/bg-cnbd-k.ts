/**
 * The BG/CNBD-k model (Platzer & Reutterer 2016, "Ticking away the moments: timing regularity helps to
 * better predict customer activity", Marketing Science 35(5)): BG/NBD with Erlang-k instead of
 * exponential times between purchases, for regular (grocery-like) buyers. k = 1 is BG/NBD.
 *
 * While active, the gaps between a member's purchases are Erlang-k with rate λ (the sum of k exponential
 * "phases" of rate λ, so a member buys every k/λ on average and more regularly the larger k);
 * λ ~ Gamma(r, α) across members. After every repeat purchase a member drops out with probability
 * p ~ Beta(a, b). Summaries: x, t_x, T as for BG/NBD, plus Σ log of the gaps between purchases (`litt`),
 * which enters the likelihood only through the term (k − 1) · litt: it matters for the choice of k, not
 * for (r, α, a, b) at a given k, nor for any per-member prediction.
 *
 * Per member, with Δ = T − t_x, s = r + kx, A = α + T:
 *   log L = (k−1)·litt − x·log (k−1)! + log B(a, b+x)/B(a, b) + log Γ(s)/Γ(r) + r log α − s log A
 *           + log( Σ_{j<k} Γ(s+j)/Γ(s) · Δ^j / (j! A^j) + [x > 0] · a/(b+x−1) · (A/(α+t_x))^s ).
 * The sum is the member still being alive with j phases of the next gap done by T; the last term is
 * the member having dropped out right after the purchase at t_x.
 *
 * Forecasts have no closed form for k > 1; they are exact series (no simulation): given alive, the
 * phases done since t_x (j) and λ have the posterior above (λ | j ~ Gamma(s + j, A)), the number of
 * phases in the next t is negative binomial given j, a purchase happens at every k-th phase counted
 * from the k − j still missing, and the member survives the m-th future purchase with
 * E[(1−p)^m] = B(a, b+x+m)/B(a, b+x). Each forecast sums these negative-binomial probabilities until the
 * remaining mass is below 1e-15.
 * @module
 */
import { InputError, ModelFitError } from '../core/errors.js'
import { fitData } from './group-summaries.js'
import { assertInteriorMinimum, logParameterObjective, minimizeFromStarts } from './optimize.js'
import { assertHorizon, assertPositiveParams, perMember } from './params.js'
import { CompensatedSum, digamma, lgamma, logBeta } from './special-functions.js'

/** BG/CNBD-k parameters: Erlang order k (a whole number ≥ 1), λ ~ Gamma(r, α), p ~ Beta(a, b). */
export interface BgCnbdKParams {
  readonly k: number
  readonly r: number
  readonly alpha: number
  readonly a: number
  readonly b: number
}

/** One order k tried by {@link fitBgCnbdK}: its log-likelihood, or why it did not converge. */
export interface BgCnbdKOrder {
  readonly k: number
  readonly logLikelihood: number | null
  readonly error?: string
}

/** A BG/CNBD-k maximum-likelihood fit. */
export interface BgCnbdKFit {
  readonly params: BgCnbdKParams
  readonly logLikelihood: number
  readonly iterations: number
  readonly members: number
  readonly distinctSummaries: number
  /** Every k tried, with its maximised log-likelihood. */
  readonly orders: readonly BgCnbdKOrder[]
}

/** Settings of {@link fitBgCnbdK}. */
export interface BgCnbdKFitOptions {
  /**
   * Σ over members (times their weights) of Σ log(gap between successive purchases), gaps in the unit of
   * t_x and T. Needed to compare orders k; ignored when `k` is given.
   */
  readonly litt?: number
  /** Fit this order only. */
  readonly k?: number
  /** Largest order tried when `k` is not given. Default 12. */
  readonly maxK?: number
  /** Members per summary; without it identical summaries are grouped. */
  readonly weights?: Float64Array
  /** Starting points for (r, α, a, b) at the first order tried. */
  readonly starts?: readonly Omit<BgCnbdKParams, 'k'>[]
}

function assertParams(p: BgCnbdKParams, what: string): void {
  assertPositiveParams(p, ['k', 'r', 'alpha', 'a', 'b'], what)
  if (!Number.isInteger(p.k)) {
    throw InputError.single({
      field: `${what} k`,
      value: String(p.k),
      reason: 'a whole number ≥ 1',
    })
  }
}

/** log((k−1)!) */
function logFactorialOf(n: number): number {
  return lgamma(n + 1)
}

/**
 * log of the (r, α, a, b)-dependent part of one member's likelihood (everything but (k−1)·litt −
 * x·log (k−1)!), with ∂/∂(r, α, a, b) in `gradient` when given. `logc` is scratch of length ≥ k.
 */
function memberTerm(
  p: BgCnbdKParams,
  x: number,
  tx: number,
  T: number,
  logc: Float64Array,
  gradient: Float64Array | null,
): number {
  const k = p.k
  const s = p.r + k * x
  const A = p.alpha + T
  const logA = Math.log(A)
  const delta = T - tx
  // log c_j = log Γ(s+j)/Γ(s) + j log Δ − log j! − j log A
  logc[0] = 0
  for (let j = 1; j < k; j++) {
    logc[j] =
      delta > 0
        ? (logc[j - 1] as number) + Math.log((s + j - 1) * delta) - Math.log(j) - logA
        : -Infinity
  }
  const logS1 =
    x > 0 ? Math.log(p.a) - Math.log(p.b + x - 1) + s * (logA - Math.log(p.alpha + tx)) : -Infinity
  let m = logS1
  for (let j = 0; j < k; j++) m = Math.max(m, logc[j] as number)
  let total = Math.exp(logS1 - m)
  for (let j = 0; j < k; j++) total += Math.exp((logc[j] as number) - m)
  const logS = m + Math.log(total)
  const value =
    logBeta(p.a, p.b + x) -
    logBeta(p.a, p.b) +
    lgamma(s) -
    lgamma(p.r) +
    p.r * Math.log(p.alpha) -
    s * logA +
    logS
  if (gradient !== null) {
    const w1 = Math.exp(logS1 - logS)
    // Shares of the alive terms: ∂c_j/∂r = c_j Σ_{i<j} 1/(s+i), ∂c_j/∂α = −c_j j/A.
    let dr = w1 * (logA - Math.log(p.alpha + tx))
    let dalpha = w1 * s * (1 / A - 1 / (p.alpha + tx))
    let harmonic = 0
    for (let j = 0; j < k; j++) {
      const wj = Math.exp((logc[j] as number) - logS)
      dr += wj * harmonic
      dalpha -= (wj * j) / A
      harmonic += 1 / (s + j)
    }
    const psiAbx = digamma(p.a + p.b + x)
    const psiAb = digamma(p.a + p.b)
    gradient[0] = digamma(s) - digamma(p.r) + Math.log(p.alpha) - logA + dr
    gradient[1] = p.r / p.alpha - s / A + dalpha
    gradient[2] = psiAb - psiAbx + w1 / p.a
    gradient[3] =
      digamma(p.b + x) - psiAbx - digamma(p.b) + psiAb - (x > 0 ? w1 / (p.b + x - 1) : 0)
  }
  return value
}

/**
 * log L of one member (the full likelihood, `litt` the member's Σ log gaps); for checks against the
 * formula as published.
 */
export function bgCnbdKLogLikelihoodOne(
  params: BgCnbdKParams,
  x: number,
  tx: number,
  T: number,
  litt: number,
): number {
  assertParams(params, 'bgCnbdKLogLikelihoodOne')
  const logc = new Float64Array(params.k)
  return (
    (params.k - 1) * litt -
    x * logFactorialOf(params.k - 1) +
    memberTerm(params, x, tx, T, logc, null)
  )
}

/**
 * Σ weight · log L over members (or distinct summaries with their counts as weights); `litt` is the
 * weighted total of Σ log gaps over members. With `gradient`, ∂/∂(r, α, a, b) written into it (k is
 * discrete).
 */
export function bgCnbdKLogLikelihood(
  params: BgCnbdKParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  litt: number,
  weights?: Float64Array,
  gradient?: Float64Array,
): number {
  assertParams(params, 'bgCnbdKLogLikelihood')
  const d = fitData(x, tx, T, weights, 'bgCnbdKLogLikelihood')
  return (
    constantPart(params.k, d.x, d.weights, litt) +
    evaluate(params, d.x, d.tx, d.T, d.weights, gradient ?? null)
  )
}

function constantPart(k: number, x: Float64Array, w: Float64Array, litt: number): number {
  if (k === 1) return 0
  let sx = 0
  for (let i = 0; i < x.length; i++) sx += (w[i] as number) * (x[i] as number)
  return (k - 1) * litt - sx * logFactorialOf(k - 1)
}

function evaluate(
  p: BgCnbdKParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  w: Float64Array,
  gradient: Float64Array | null,
): number {
  const sum = new CompensatedSum()
  const logc = new Float64Array(p.k)
  const g = gradient === null ? null : new Float64Array(4)
  if (gradient !== null) gradient.fill(0)
  for (let i = 0; i < x.length; i++) {
    const wi = w[i] as number
    if (wi === 0) continue
    sum.add(wi * memberTerm(p, x[i] as number, tx[i] as number, T[i] as number, logc, g))
    if (gradient !== null && g !== null) {
      for (let c = 0; c < 4; c++) gradient[c] = (gradient[c] as number) + wi * (g[c] as number)
    }
  }
  return sum.value
}

/** (r, α, a, b) by maximum likelihood at a fixed order k; throws ModelFitError when no start converges. */
function fitOrder(
  k: number,
  d: ReturnType<typeof fitData>,
  W: number,
  starts: readonly Omit<BgCnbdKParams, 'k'>[],
): { params: BgCnbdKParams; value: number; iterations: number } {
  const log = logParameterObjective(['r', 'alpha', 'a', 'b'] as const, W, (p, g) =>
    evaluate({ k, ...p }, d.x, d.tx, d.T, d.weights, g),
  )
  const objective = log.objective
  const at = (th: Float64Array): BgCnbdKParams => ({ k, ...log.at(th) })
  const thetas = starts.map((p) =>
    Float64Array.of(Math.log(p.r), Math.log(p.alpha), Math.log(p.a), Math.log(p.b)),
  )
  const what = `BG/CNBD-k (k = ${k})`
  const { best } = minimizeFromStarts(
    objective,
    thetas,
    { gradientTolerance: 1e-8, maxIterations: 500 },
    what,
  )
  assertInteriorMinimum(objective, best, what)
  return { params: at(best.x), value: -best.value * W, iterations: best.iterations }
}

/**
 * Fit BG/CNBD-k by maximum likelihood: for each order k = 1, 2, …, maxK, (r, α, a, b) by BFGS on
 * log-parameters with the analytic gradient, and the k of the highest likelihood (k is an integer and
 * its likelihood includes (k−1)·litt, so `litt` must be the Σ log gaps of the same members). The search
 * stops once the likelihood has fallen for two successive orders. With `k`, that order only.
 * Throws InputError on bad input and ModelFitError when no order converges.
 */
export function fitBgCnbdK(
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  options: BgCnbdKFitOptions = {},
): BgCnbdKFit {
  const d = fitData(x, tx, T, options.weights, 'fitBgCnbdK')
  const fixed = options.k
  const maxK = fixed ?? options.maxK ?? 12
  if (!(Number.isInteger(maxK) && maxK >= 1 && maxK <= 50)) {
    throw InputError.single({
      field: `fitBgCnbdK ${fixed === undefined ? 'maxK' : 'k'}`,
      value: String(maxK),
      reason: 'a whole number 1–50',
    })
  }
  const litt = options.litt ?? 0
  if (fixed === undefined && maxK > 1 && options.litt === undefined) {
    throw new InputError(
      'fitBgCnbdK: choosing k needs litt, the Σ log gaps between purchases of the same members',
    )
  }
  if (!Number.isFinite(litt)) {
    throw InputError.single({
      field: 'fitBgCnbdK litt',
      value: String(litt),
      reason: 'must be finite',
    })
  }
  let W = 0
  let sx = 0
  let sT = 0
  for (let i = 0; i < d.x.length; i++) {
    W += d.weights[i] as number
    sx += (d.weights[i] as number) * (d.x[i] as number)
    sT += (d.weights[i] as number) * (d.T[i] as number)
  }
  const rate = sx > 0 && sT > 0 ? sx / sT : 1
  const orders: BgCnbdKOrder[] = []
  let best: { params: BgCnbdKParams; ll: number; iterations: number } | null = null
  let previous: Omit<BgCnbdKParams, 'k'> | null = null
  let falls = 0
  let lastLl = -Infinity
  for (let k = fixed ?? 1; k <= maxK; k++) {
    // λ is the rate of phases: a member buying at rate ρ has λ = kρ, so α scales as 1/k.
    const starts = [
      ...(previous === null
        ? (options.starts ?? [])
        : [{ ...previous, alpha: (previous.alpha * (k - 1)) / k }]),
      { r: 1, alpha: 1 / (k * rate), a: 1, b: 1 },
      { r: 0.5, alpha: 0.5 / (k * rate), a: 0.5, b: 2 },
      { r: 1, alpha: 1, a: 1, b: 1 },
    ]
    let fit: ReturnType<typeof fitOrder>
    try {
      fit = fitOrder(k, d, W, starts)
    } catch (error) {
      if (!(error instanceof ModelFitError)) throw error
      orders.push({ k, logLikelihood: null, error: error.message })
      continue
    }
    const ll = fit.value + constantPart(k, d.x, d.weights, litt)
    orders.push({ k, logLikelihood: ll })
    previous = { r: fit.params.r, alpha: fit.params.alpha, a: fit.params.a, b: fit.params.b }
    if (best === null || ll > best.ll) best = { params: fit.params, ll, iterations: fit.iterations }
    falls = ll < lastLl ? falls + 1 : 0
    lastLl = ll
    if (falls >= 2) break
  }
  if (best === null) {
    throw new ModelFitError(
      `BG/CNBD-k fit did not converge for any k: ${orders.map((o) => `k = ${o.k}: ${o.error ?? ''}`).join('; ')}`,
      0,
    )
  }
  return {
    params: best.params,
    logLikelihood: best.ll,
    iterations: best.iterations,
    members: W,
    distinctSummaries: d.x.length,
    orders,
  }
}

/** The alive-member posterior of one summary: P(alive) and the weights of j phases done (Σ = 1). */
interface Posterior {
  readonly pAlive: number
  readonly weights: Float64Array
}

function posterior(p: BgCnbdKParams, x: number, tx: number, T: number): Posterior {
  const logc = new Float64Array(p.k)
  const s = p.r + p.k * x
  const A = p.alpha + T
  const logA = Math.log(A)
  const delta = T - tx
  logc[0] = 0
  for (let j = 1; j < p.k; j++) {
    logc[j] =
      delta > 0
        ? (logc[j - 1] as number) + Math.log((s + j - 1) * delta) - Math.log(j) - logA
        : -Infinity
  }
  let m = 0
  for (let j = 1; j < p.k; j++) m = Math.max(m, logc[j] as number)
  let alive = 0
  for (let j = 0; j < p.k; j++) {
    logc[j] = Math.exp((logc[j] as number) - m)
    alive += logc[j] as number
  }
  for (let j = 0; j < p.k; j++) logc[j] = (logc[j] as number) / alive
  const logS1 =
    x > 0 ? Math.log(p.a) - Math.log(p.b + x - 1) + s * (logA - Math.log(p.alpha + tx)) : -Infinity
  // P(alive) = S2 / (S2 + S1), S2 = alive · e^m
  const logOdds = logS1 - (m + Math.log(alive))
  return { pAlive: 1 / (1 + Math.exp(logOdds)), weights: logc }
}

/**
 * Σ_n NB(n; shape, q) · f(n) for the negative binomial of `shape` and success probability q
 * (P(n) = Γ(shape+n)/(Γ(shape) n!) q^shape (1−q)^n): the number of Poisson(λt) events with
 * λ ~ Gamma(shape, rate A), q = A/(A+t). Summed outwards from the mode until the terms left are
 * below 1e-15 of the mass; f must be bounded by a polynomial in n.
 */
function negativeBinomialSum(shape: number, q: number, f: (n: number) => number): number {
  if (q >= 1) return f(0)
  const log1q = Math.log1p(-q)
  const mode = shape > 1 ? Math.floor(((shape - 1) * (1 - q)) / q) : 0
  const logPmf = (n: number) =>
    lgamma(shape + n) - lgamma(shape) - lgamma(n + 1) + shape * Math.log(q) + n * log1q
  const top = Math.exp(logPmf(mode))
  let sum = top * f(mode)
  let mass = top
  // Downwards: P(n−1) = P(n) · n / ((shape + n − 1)(1 − q)).
  let pmf = top
  for (let n = mode; n > 0; n--) {
    pmf = (pmf * n) / ((shape + n - 1) * (1 - q))
    sum += pmf * f(n - 1)
    mass += pmf
    if (pmf < 1e-17 * mass) break
  }
  // Upwards: P(n+1) = P(n) · (shape + n)(1 − q) / (n + 1).
  pmf = top
  for (let n = mode; ; n++) {
    pmf = (pmf * (shape + n) * (1 - q)) / (n + 1)
    sum += pmf * f(n + 1)
    mass += pmf
    if (pmf < 1e-17 * mass || n > mode + 10_000_000) break
  }
  return sum
}

/** What an alive member does over the next t, averaged over the posterior. */
interface Future {
  readonly pAlive: number
  /** E[Y(t) | x, t_x, T] */
  readonly expected: number
  /** P(no purchase in (T, T+t]) */
  readonly noPurchase: number
  /** P(alive at T + t) */
  readonly aliveAfter: number
}

type Quantity = 'expected' | 'noPurchase' | 'aliveAfter'

function future(
  p: BgCnbdKParams,
  t: number,
  x: number,
  tx: number,
  T: number,
  only?: Quantity,
): Future {
  const post = posterior(p, x, tx, T)
  if (t === 0 || post.pAlive === 0) {
    return { pAlive: post.pAlive, expected: 0, noPurchase: 1, aliveAfter: post.pAlive }
  }
  const k = p.k
  const A = p.alpha + T
  const q = A / (A + t)
  const bx = p.b + x
  // survive[m] = E[(1−p)^m] for p ~ Beta(a, b + x); cumulative[m] = Σ_{i<m} survive[i].
  const survive = [1]
  const cumulative = [0, 1]
  const grow = (m: number) => {
    while (survive.length <= m) {
      const i = survive.length - 1
      survive.push(((survive[i] as number) * (bx + i)) / (p.a + bx + i))
      cumulative.push((cumulative[cumulative.length - 1] as number) + (survive[i + 1] as number))
    }
  }
  let expected = 0
  let noPurchase = 0
  let aliveAfter = 0
  for (let j = 0; j < k; j++) {
    const wj = post.weights[j] as number
    if (wj === 0) continue
    const shape = p.r + k * x + j
    const first = k - j
    // Purchases made when n phases fall in the window.
    const purchases = (n: number) => (n < first ? 0 : 1 + Math.floor((n - first) / k))
    if (only === undefined || only === 'expected')
      expected +=
        wj *
        negativeBinomialSum(shape, q, (n) => {
          const m = purchases(n)
          grow(m)
          return cumulative[m] as number
        })
    if (only === undefined || only === 'noPurchase')
      noPurchase += wj * negativeBinomialSum(shape, q, (n) => (n < first ? 1 : 0))
    if (only === undefined || only === 'aliveAfter')
      aliveAfter +=
        wj *
        negativeBinomialSum(shape, q, (n) => {
          const m = purchases(n)
          grow(m)
          return survive[m] as number
        })
  }
  return {
    pAlive: post.pAlive,
    expected: post.pAlive * expected,
    noPurchase: 1 - post.pAlive + post.pAlive * noPurchase,
    aliveAfter: post.pAlive * aliveAfter,
  }
}

/** P(alive | x, t_x, T) = S₂ / (S₂ + S₁) in the notation of the module comment. */
export function bgCnbdKProbabilityAlive(
  params: BgCnbdKParams,
  x: number,
  tx: number,
  T: number,
): number {
  assertParams(params, 'bgCnbdKProbabilityAlive')
  return posterior(params, x, tx, T).pAlive
}

/** E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (exact series, see the module comment). */
export function bgCnbdKConditionalExpectedPurchases(
  params: BgCnbdKParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  assertParams(params, 'bgCnbdKConditionalExpectedPurchases')
  assertHorizon(t, 'bgCnbdKConditionalExpectedPurchases')
  return future(params, t, x, tx, T, 'expected').expected
}

/** E[X(t)] of a new member, whose clock starts at the first purchase: the forecast at x = t_x = T = 0. */
export function bgCnbdKExpectedPurchasesPopulation(params: BgCnbdKParams, t: number): number {
  assertParams(params, 'bgCnbdKExpectedPurchasesPopulation')
  assertHorizon(t, 'bgCnbdKExpectedPurchasesPopulation')
  return future(params, t, 0, 0, 0, 'expected').expected
}

/** {@link bgCnbdKProbabilityAlive} for every member, into `out` (allocated when omitted). */
export function bgCnbdKProbabilityAliveMany(
  params: BgCnbdKParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out?: Float64Array,
): Float64Array {
  assertParams(params, 'bgCnbdKProbabilityAliveMany')
  return perMember(
    'bgCnbdKProbabilityAliveMany',
    x,
    tx,
    T,
    out,
    (xi, txi, Ti) => posterior(params, xi, txi, Ti).pAlive,
  )
}

/** {@link bgCnbdKConditionalExpectedPurchases} for every member, into `out` (allocated when omitted). */
export function bgCnbdKConditionalExpectedPurchasesMany(
  params: BgCnbdKParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out?: Float64Array,
): Float64Array {
  assertParams(params, 'bgCnbdKConditionalExpectedPurchasesMany')
  assertHorizon(t, 'bgCnbdKConditionalExpectedPurchasesMany')
  return perMember(
    'bgCnbdKConditionalExpectedPurchasesMany',
    x,
    tx,
    T,
    out,
    (xi, txi, Ti) => future(params, t, xi, txi, Ti, 'expected').expected,
  )
}

/**
 * P(no purchase in (T, T + t] | x, t_x, T) for every member: 1 − P(alive) + P(alive) · P(fewer than the
 * k − j missing phases in t), averaged over the phases j done.
 */
export function bgCnbdKProbabilityNoPurchaseMany(
  params: BgCnbdKParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): Float64Array {
  assertParams(params, 'bgCnbdKProbabilityNoPurchaseMany')
  assertHorizon(t, 'bgCnbdKProbabilityNoPurchaseMany')
  return perMember(
    'bgCnbdKProbabilityNoPurchaseMany',
    x,
    tx,
    T,
    undefined,
    (xi, txi, Ti) => future(params, t, xi, txi, Ti, 'noPurchase').noPurchase,
  )
}

/** P(alive at T + t | x, t_x, T) for every member: alive now and surviving every purchase before T + t. */
export function bgCnbdKProbabilityAliveAfterMany(
  params: BgCnbdKParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): Float64Array {
  assertParams(params, 'bgCnbdKProbabilityAliveAfterMany')
  assertHorizon(t, 'bgCnbdKProbabilityAliveAfterMany')
  return perMember(
    'bgCnbdKProbabilityAliveAfterMany',
    x,
    tx,
    T,
    undefined,
    (xi, txi, Ti) => future(params, t, xi, txi, Ti, 'aliveAfter').aliveAfter,
  )
}

/**
 * The posterior of an alive member, for simulation: P(alive), and the weights of j = 0…k−1 phases of the
 * next gap done by T (λ | alive, j ~ Gamma(r + kx + j, α + T); p | alive ~ Beta(a, b + x)).
 */
export function bgCnbdKPosterior(
  params: BgCnbdKParams,
  x: number,
  tx: number,
  T: number,
): { pAlive: number; phaseWeights: Float64Array } {
  assertParams(params, 'bgCnbdKPosterior')
  const p = posterior(params, x, tx, T)
  return { pAlive: p.pAlive, phaseWeights: p.weights }
}
