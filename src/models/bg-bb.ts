/**
 * The beta-geometric/beta-Bernoulli (BG/BB) model of repeat transactions at discrete opportunities (Fader,
 * Hardie & Shang 2010, "Customer-Base Analysis in a Discrete-Time Noncontractual Setting", Marketing
 * Science 29(6), 1086–1108): a yearly donation drive, a monthly event, a weekly market day.
 *
 * At the start of each opportunity an active member drops out with probability θ ~ Beta(γ, δ); an active
 * member transacts at an opportunity with probability p ~ Beta(α, β). A member is summarised by x
 * (transactions in n opportunities after the first), t_x (the opportunity of the last one, 0 when x = 0)
 * and n.
 * @module
 */
import { InputError } from '../core/errors.js'
import { assertInteriorMinimum, logParameterObjective, minimizeFromStarts } from './optimize.js'
import { assertPositiveParams, assertSameLength } from './params.js'
import { CompensatedSum, digamma, logBeta } from './special-functions.js'

/** BG/BB parameters: transaction probability p ~ Beta(α, β), drop-out probability θ ~ Beta(γ, δ). */
export interface BgBbParams {
  readonly alpha: number
  readonly beta: number
  readonly gamma: number
  readonly delta: number
}

/** A BG/BB maximum-likelihood fit. */
export interface BgBbFit {
  readonly params: BgBbParams
  readonly logLikelihood: number
  readonly iterations: number
  /** Σ weights. */
  readonly members: number
}

function assertParams(p: BgBbParams, what: string): void {
  assertPositiveParams(p, ['alpha', 'beta', 'gamma', 'delta'], what)
}

/** Checks (x, t_x, n): whole numbers with 0 ≤ x ≤ t_x ≤ n, t_x = 0 exactly when x = 0; weights ≥ 0. */
function validate(
  x: ArrayLike<number>,
  tx: ArrayLike<number>,
  n: ArrayLike<number>,
  weights: ArrayLike<number> | undefined,
  what: string,
): number {
  const len = assertSameLength(what, x, tx, n, ...(weights === undefined ? [] : [weights]))
  for (let i = 0; i < len; i++) {
    const xi = x[i] as number
    const ti = tx[i] as number
    const ni = n[i] as number
    const ok =
      Number.isInteger(xi) &&
      Number.isInteger(ti) &&
      Number.isInteger(ni) &&
      xi >= 0 &&
      xi <= ti &&
      ti <= ni &&
      (xi === 0) === (ti === 0)
    if (!ok) {
      throw InputError.single({
        field: `${what} row ${i + 1}`,
        value: `x=${xi}, t_x=${ti}, n=${ni}`,
        reason: 'needs whole numbers 0 ≤ x ≤ t_x ≤ n, with t_x = 0 exactly when x = 0',
      })
    }
    const w = weights?.[i]
    if (w !== undefined && !(Number.isFinite(w) && w >= 0)) {
      throw InputError.single({
        field: `${what} weight ${i + 1}`,
        value: String(w),
        reason: 'must be ≥ 0',
      })
    }
  }
  return len
}

/**
 * log L of one summary (paper eq. 5):
 * B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ) + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ),
 * with its gradient in (α, β, γ, δ) added, times `weight`, into `grad` when given.
 */
function logLikelihoodOne(
  p: BgBbParams,
  x: number,
  tx: number,
  n: number,
  weight: number,
  grad: Float64Array | null,
  terms: Float64Array,
): number {
  const { alpha, beta, gamma, delta } = p
  const lbAB = logBeta(alpha, beta)
  const lbGD = logBeta(gamma, delta)
  const k = n - tx // number of drop-out terms
  // terms[0] is the "alive through n" term; terms[1 + i] the drop-out after t_x + i opportunities.
  terms[0] = logBeta(alpha + x, beta + n - x) - lbAB + logBeta(gamma, delta + n) - lbGD
  let max = terms[0] as number
  for (let i = 0; i < k; i++) {
    const v =
      logBeta(alpha + x, beta + tx - x + i) - lbAB + logBeta(gamma + 1, delta + tx + i) - lbGD
    terms[1 + i] = v
    if (v > max) max = v
  }
  let sum = 0
  for (let j = 0; j <= k; j++) sum += Math.exp((terms[j] as number) - max)
  const ll = max + Math.log(sum)
  if (grad !== null) {
    const psiAB = digamma(alpha + beta)
    const psiA = digamma(alpha)
    const psiB = digamma(beta)
    const psiGD = digamma(gamma + delta)
    const psiG = digamma(gamma)
    const psiD = digamma(delta)
    const psiAx = digamma(alpha + x)
    for (let j = 0; j <= k; j++) {
      const share = (weight * Math.exp((terms[j] as number) - max)) / sum
      // Beta(α+x, β+m) and Beta(γ+c, δ+q) of this term.
      const m = j === 0 ? n - x : tx - x + (j - 1)
      const c = j === 0 ? 0 : 1
      const q = j === 0 ? n : tx + (j - 1)
      const psiSum1 = digamma(alpha + beta + x + m)
      const psiSum2 = digamma(gamma + delta + c + q)
      grad[0] = (grad[0] as number) + share * (psiAx - psiSum1 - psiA + psiAB)
      grad[1] = (grad[1] as number) + share * (digamma(beta + m) - psiSum1 - psiB + psiAB)
      grad[2] = (grad[2] as number) + share * (digamma(gamma + c) - psiSum2 - psiG + psiGD)
      grad[3] = (grad[3] as number) + share * (digamma(delta + q) - psiSum2 - psiD + psiGD)
    }
  }
  return ll
}

/**
 * Σ weight · log L over summaries (x, t_x, n); with `gradient`, ∂/∂(α, β, γ, δ) written into it.
 * @example bgBbLogLikelihood({ alpha: 1.2, beta: 0.75, gamma: 0.66, delta: 2.8 }, [0, 1], [0, 1], [6, 6], [3464, 1091])
 */
export function bgBbLogLikelihood(
  params: BgBbParams,
  x: ArrayLike<number>,
  tx: ArrayLike<number>,
  n: ArrayLike<number>,
  weights?: ArrayLike<number>,
  gradient?: Float64Array,
): number {
  assertParams(params, 'bgBbLogLikelihood')
  const len = validate(x, tx, n, weights, 'bgBbLogLikelihood')
  return evaluate(params, x, tx, n, weights, len, gradient ?? null)
}

function evaluate(
  params: BgBbParams,
  x: ArrayLike<number>,
  tx: ArrayLike<number>,
  n: ArrayLike<number>,
  weights: ArrayLike<number> | undefined,
  len: number,
  gradient: Float64Array | null,
): number {
  if (gradient !== null) gradient.fill(0)
  let maxN = 0
  for (let i = 0; i < len; i++) maxN = Math.max(maxN, n[i] as number)
  const terms = new Float64Array(maxN + 1)
  const total = new CompensatedSum()
  for (let i = 0; i < len; i++) {
    const w = weights === undefined ? 1 : (weights[i] as number)
    if (w === 0) continue
    total.add(
      w *
        logLikelihoodOne(
          params,
          x[i] as number,
          tx[i] as number,
          n[i] as number,
          w,
          gradient,
          terms,
        ),
    )
  }
  return total.value
}

/**
 * Fit BG/BB by maximum likelihood (BFGS on log-parameters with the analytic gradient, several starts; the
 * best converged start wins). Summaries may be given once per member or once per distinct (x, t_x, n)
 * with `weights` (the usual recency/frequency table). Throws InputError on bad input and ModelFitError
 * when no start converges to a proper maximum.
 */
export function fitBgBb(
  x: ArrayLike<number>,
  tx: ArrayLike<number>,
  n: ArrayLike<number>,
  options: { weights?: ArrayLike<number>; starts?: readonly BgBbParams[] } = {},
): BgBbFit {
  const len = validate(x, tx, n, options.weights, 'fitBgBb')
  let W = 0
  for (let i = 0; i < len; i++)
    W += options.weights === undefined ? 1 : (options.weights[i] as number)
  if (!(W > 0)) throw new InputError('fitBgBb: no members to fit')
  const { objective, at } = logParameterObjective(
    ['alpha', 'beta', 'gamma', 'delta'] as const,
    W,
    (p, g) => evaluate(p, x, tx, n, options.weights, len, g),
  )
  const starts = (
    options.starts ?? [
      { alpha: 1, beta: 1, gamma: 1, delta: 1 },
      { alpha: 0.5, beta: 2, gamma: 0.5, delta: 2 },
      { alpha: 2, beta: 0.5, gamma: 2, delta: 5 },
    ]
  ).map((p) => {
    assertParams(p, 'fitBgBb start')
    return Float64Array.of(
      Math.log(p.alpha),
      Math.log(p.beta),
      Math.log(p.gamma),
      Math.log(p.delta),
    )
  })
  const { best } = minimizeFromStarts(objective, starts, { gradientTolerance: 1e-9 }, 'BG/BB')
  assertInteriorMinimum(objective, best, 'BG/BB')
  return {
    params: at(best.x),
    logLikelihood: -best.value * W,
    iterations: best.iterations,
    members: W,
  }
}

/**
 * P(alive at opportunity n + 1 | x, t_x, n) (paper eq. 11):
 * B(α+x, β+n−x)/B(α,β) · B(γ, δ+n+1)/B(γ,δ) / L(x, t_x, n).
 */
export function bgBbProbabilityAlive(params: BgBbParams, x: number, tx: number, n: number): number {
  assertParams(params, 'bgBbProbabilityAlive')
  validate([x], [tx], [n], undefined, 'bgBbProbabilityAlive')
  const { alpha, beta, gamma, delta } = params
  const ll = logLikelihoodOne(params, x, tx, n, 1, null, new Float64Array(n + 1))
  return Math.exp(
    logBeta(alpha + x, beta + n - x) -
      logBeta(alpha, beta) +
      logBeta(gamma, delta + n + 1) -
      logBeta(gamma, delta) -
      ll,
  )
}

/**
 * Expected transactions in the next m opportunities, n + 1 … n + m, of a member with history
 * (x, t_x, n) (paper eq. 13):
 * 1/L · B(α+x+1, β+n−x)/B(α,β) · δ/(γ−1) · Γ(γ+δ)/Γ(1+δ) · [Γ(1+δ+n)/Γ(γ+δ+n) − Γ(1+δ+n+m)/Γ(γ+δ+n+m)],
 * evaluated as the sum over the m opportunities of P(alive at n+k) · E[p | alive], which has no 1/(γ − 1).
 */
export function bgBbConditionalExpectedTransactions(
  params: BgBbParams,
  m: number,
  x: number,
  tx: number,
  n: number,
): number {
  assertParams(params, 'bgBbConditionalExpectedTransactions')
  validate([x], [tx], [n], undefined, 'bgBbConditionalExpectedTransactions')
  if (!(Number.isInteger(m) && m >= 0)) {
    throw InputError.single({
      field: 'bgBbConditionalExpectedTransactions m',
      value: String(m),
      reason: 'a whole number of opportunities ≥ 0',
    })
  }
  const { alpha, beta, gamma, delta } = params
  const ll = logLikelihoodOne(params, x, tx, n, 1, null, new Float64Array(n + 1))
  // Alive through n with x transactions: B(α+x+1, β+n−x)/B(α,β) carries E[p]; survival to n + k:
  // E[(1−θ)^(n+k)] = B(γ, δ+n+k)/B(γ,δ).
  const base =
    logBeta(alpha + x + 1, beta + n - x) - logBeta(alpha, beta) - logBeta(gamma, delta) - ll
  let sum = 0
  for (let k = 1; k <= m; k++) sum += Math.exp(base + logBeta(gamma, delta + n + k))
  return sum
}

/** E[X(n)]: expected transactions of a new member in n opportunities (paper eq. 7, summed per opportunity). */
export function bgBbExpectedTransactionsPopulation(params: BgBbParams, n: number): number {
  assertParams(params, 'bgBbExpectedTransactionsPopulation')
  const { alpha, beta, gamma, delta } = params
  let sum = 0
  for (let k = 1; k <= n; k++)
    sum += Math.exp(
      Math.log(alpha / (alpha + beta)) + logBeta(gamma, delta + k) - logBeta(gamma, delta),
    )
  return sum
}
