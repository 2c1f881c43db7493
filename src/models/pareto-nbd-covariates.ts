/**
 * Pareto/NBD with static covariates (Fader & Hardie 2007, "Incorporating Time-Invariant Covariates into the
 * Pareto/NBD and BG/NBD Models"): the purchase rate λ ~ Gamma(r, α_i) with α_i = α·e^(−β_pᵀz_i), and the
 * drop-out rate μ ~ Gamma(s, β_i) with β_i = β·e^(−β_dᵀz_i), so e^β_p multiplies the mean purchase rate and
 * e^β_d the mean drop-out rate. The parameters are constant within a covariate pattern, so the likelihood is
 * Pareto/NBD's (models/pareto-nbd.ts) summed over the distinct patterns, and its gradient follows from
 * Pareto/NBD's by the chain rule. Maximum likelihood from the plain Pareto/NBD fit; standard errors, Wald
 * intervals and the LRT as for BG/NBD with covariates. The seasonal effect is BG/NBD's only.
 * @module
 */
import { InputError } from '../core/errors.js'
import {
  assertCovariatesVary,
  validateCovariateSummaries,
  type CovariateSummaries,
} from './bg-nbd-covariates.js'
import {
  baseParameters,
  covariateModelComparison,
  maximizeCovariateLikelihood,
  waldEffect,
  type CovariateEffect,
  type CovariateModelFit,
} from './covariate-fit.js'
import { groupSummaries } from './group-summaries.js'
import {
  fitParetoNbd,
  paretoNbdLogLikelihood,
  type ParetoNbdFit,
  type ParetoNbdParams,
} from './pareto-nbd.js'

/** A maximum-likelihood fit of {@link fitParetoNbdCovariates}. */
export type ParetoNbdCovariatesFit = CovariateModelFit<ParetoNbdParams>

/** Members of one covariate pattern, their summaries grouped. */
interface Pattern {
  readonly z: Float64Array
  readonly x: Float64Array
  readonly tx: Float64Array
  readonly T: Float64Array
  readonly w: Float64Array
}

function patterns(s: CovariateSummaries): Pattern[] {
  const k = s.covariateNames.length
  const members = new Map<string, number[]>()
  for (let i = 0; i < s.x.length; i++) {
    const key = Array.from(s.z.subarray(i * k, i * k + k)).join(',')
    const list = members.get(key)
    if (list === undefined) members.set(key, [i])
    else list.push(i)
  }
  return [...members.values()].map((idx) => {
    const pick = (a: Float64Array) => Float64Array.from(idx, (i) => a[i] as number)
    const g = groupSummaries(pick(s.x), pick(s.tx), pick(s.T))
    const first = idx[0] as number
    return {
      z: s.z.slice(first * k, first * k + k),
      x: g.x,
      tx: g.tx,
      T: g.T,
      w: g.weights,
    }
  })
}

/** Σ log L at θ = (log r, log α, log s, log β, β_p, β_d); ∂/∂θ into `grad` when given. */
function logLikelihood(
  ps: readonly Pattern[],
  k: number,
  theta: Float64Array,
  grad: Float64Array | null,
): number {
  const r = Math.exp(theta[0] as number)
  const alpha = Math.exp(theta[1] as number)
  const s = Math.exp(theta[2] as number)
  const beta = Math.exp(theta[3] as number)
  const g4 = new Float64Array(4)
  if (grad !== null) grad.fill(0)
  let ll = 0
  for (const p of ps) {
    let etaP = 0
    let etaD = 0
    for (let j = 0; j < k; j++) {
      etaP += (theta[4 + j] as number) * (p.z[j] as number)
      etaD += (theta[4 + k + j] as number) * (p.z[j] as number)
    }
    const alphaI = alpha * Math.exp(-etaP)
    const betaI = beta * Math.exp(-etaD)
    ll += paretoNbdLogLikelihood(
      { r, alpha: alphaI, s, beta: betaI },
      p.x,
      p.tx,
      p.T,
      p.w,
      grad === null ? undefined : g4,
    )
    if (grad === null) continue
    const dAlpha = alphaI * (g4[1] as number)
    const dBeta = betaI * (g4[3] as number)
    grad[0] = (grad[0] as number) + r * (g4[0] as number)
    grad[1] = (grad[1] as number) + dAlpha
    grad[2] = (grad[2] as number) + s * (g4[2] as number)
    grad[3] = (grad[3] as number) + dBeta
    for (let j = 0; j < k; j++) {
      const zj = p.z[j] as number
      grad[4 + j] = (grad[4 + j] as number) - zj * dAlpha
      grad[4 + k + j] = (grad[4 + k + j] as number) - zj * dBeta
    }
  }
  return ll
}

/**
 * Fits Pareto/NBD with static covariates on the purchase and the drop-out rate. Throws InputError for bad
 * input (no covariate, season data, a constant covariate) and ModelFitError when the fit does not converge
 * to a proper maximum.
 */
export function fitParetoNbdCovariates(
  data: CovariateSummaries,
  options: {
    readonly confidenceLevel?: number
    readonly baseline?: Pick<ParetoNbdFit, 'params' | 'logLikelihood'>
  } = {},
): ParetoNbdCovariatesFit {
  const what = 'fitParetoNbdCovariates'
  validateCovariateSummaries(data, what)
  const k = data.covariateNames.length
  if (k === 0) throw new InputError(`${what}: no covariate to fit`)
  if (data.season !== undefined) {
    throw new InputError(`${what}: the seasonal effect is fitted with BG/NBD only`)
  }
  assertCovariatesVary(data)
  const level = options.confidenceLevel ?? 0.95
  if (!(level > 0 && level < 1)) {
    throw InputError.single({
      field: `${what} confidence level`,
      value: String(level),
      reason: 'must be between 0 and 1',
    })
  }
  const ps = patterns(data)
  const baseline = options.baseline ?? fitParetoNbd(data.x, data.tx, data.T)
  const p0 = baseline.params
  const size = 4 + 2 * k
  const start = new Float64Array(size)
  start.set([Math.log(p0.r), Math.log(p0.alpha), Math.log(p0.s), Math.log(p0.beta)])
  const n = data.x.length
  const m = maximizeCovariateLikelihood('Pareto/NBD with covariates', start, n, (t, g) =>
    logLikelihood(ps, k, t, g),
  )
  const effects: CovariateEffect[] = [
    ...data.covariateNames.map((c, j) =>
      waldEffect(c, 'purchase', m.theta, m.covariance, 4 + j, level),
    ),
    ...data.covariateNames.map((c, j) =>
      waldEffect(c, 'dropout', m.theta, m.covariance, 4 + k + j, level),
    ),
  ]
  const base = baseParameters(['r', 'alpha', 's', 'beta'] as const, m)
  return {
    params: base.params,
    baseStandardErrors: base.standardErrors,
    effects,
    logLikelihood: m.logLikelihood,
    baseline: { params: p0, logLikelihood: baseline.logLikelihood },
    ...covariateModelComparison(m, baseline.logLikelihood, 4, n),
    confidenceLevel: level,
    members: n,
    iterations: m.iterations,
    covariance: m.covariance,
  }
}
