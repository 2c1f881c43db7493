/**
 * BG/NBD with covariates: static member covariates on the purchase and the drop-out process, and a
 * time-varying "high season" effect on the purchase rate (for us the 春节, 618 and 双11 windows).
 *
 * Static covariates z (dummy-coded, one row per member) enter as in the covariate extensions of the
 * repeat-buying models (Fader & Hardie 2007, "Incorporating Time-Invariant Covariates into the Pareto/NBD
 * and BG/NBD Models"): the purchase rate's gamma scale becomes α_i = α·exp(−β_pᵀz_i), so E[λ_i] =
 * (r/α)·exp(β_pᵀz_i) and exp(β_p) is a multiplier of the purchase rate; the drop-out's beta shape becomes
 * a_i = a·exp(β_dᵀz_i), so exp(β_d) multiplies the odds a/b of the mean drop-out probability (scaling a and
 * b together would leave that mean unchanged).
 *
 * The season effect makes the purchase rate λ·exp(γ·s(t)) with s(t) = 1 inside a window and 0 outside.
 * Given λ and p the BG/NBD likelihood then only needs the integrated rate: the exposure up to t is
 * Λ(t) = t + (e^γ − 1)·t_in(t), where t_in(t) is the time spent inside windows by t, and each purchase
 * inside a window contributes a factor e^γ. Mixing over λ ~ Gamma(r, α_i) and p ~ Beta(a_i, b):
 * L = e^{γ x_in} Γ(r+x) α_i^r / Γ(r) · [B(a_i, b+x)/B(a_i, b) · (α_i + Λ(T))^−(r+x)
 *     + δ(x>0) B(a_i+1, b+x−1)/B(a_i, b) · (α_i + Λ(t_x))^−(r+x)],
 * which is BG/NBD's eq. 6 (Fader, Hardie & Lee 2005) at γ = 0 and β = 0.
 *
 * Fitted by maximum likelihood (BFGS on log r, log α, log a, log b and the effects, analytic gradient),
 * starting from the plain BG/NBD fit; standard errors from the observed information (the inverse of the
 * Hessian of −log L, central differences of the analytic gradient); Wald intervals; a likelihood-ratio
 * test against the plain BG/NBD fitted to the same summaries.
 * @module
 */

import { InputError } from '../core/errors.js'
import { fitBgNbd, type BgNbdFit, type BgNbdParams } from './bg-nbd.js'
import { validateSummaries } from './group-summaries.js'
import {
  baseParameters,
  covariateModelComparison,
  maximizeCovariateLikelihood,
  waldEffect,
  type CovariateEffect,
  type CovariateModelFit,
  type EffectProcess,
} from './covariate-fit.js'
import { CompensatedSum, digamma, lgamma } from './special-functions.js'
export type { CovariateEffect, EffectProcess } from './covariate-fit.js'

/** Per-member inputs of {@link fitBgNbdCovariates}. */
export interface CovariateSummaries {
  /** Repeat purchases, time of the last one, length of the observation (as for BG/NBD). */
  readonly x: Float64Array
  readonly tx: Float64Array
  readonly T: Float64Array
  /** Static covariates, row-major: member i's values are z[i·k … i·k+k−1]. Empty for none. */
  readonly z: Float64Array
  /** Names of the k covariate columns (e.g. `channel=store`). */
  readonly covariateNames: readonly string[]
  /** The seasonal purchase-rate effect's data; absent for a fit without it. */
  readonly season?: {
    /** Repeat purchases (of those counted in x) that fell inside a window. */
    readonly xIn: Float64Array
    /** Time inside windows between the origin and T (same unit as T; ≤ T). */
    readonly TIn: Float64Array
    /** Time inside windows between the origin and t_x (≤ t_x and ≤ TIn). */
    readonly txIn: Float64Array
  }
}

/** A maximum-likelihood fit of {@link fitBgNbdCovariates}. */
export interface BgNbdCovariatesFit extends CovariateModelFit<BgNbdParams> {
  readonly distinctSummaries: number
}

/** Settings of {@link fitBgNbdCovariates}. */
export interface BgNbdCovariatesOptions {
  /** Level of the Wald intervals. Default 0.95. */
  readonly confidenceLevel?: number
  /** Put the static covariates on the drop-out process too. Default true. */
  readonly dropout?: boolean
  /** A plain BG/NBD fit of the same summaries, when the caller has one (the start and the LRT's null). */
  readonly baseline?: Pick<BgNbdFit, 'params' | 'logLikelihood'>
}

/** Throws InputError naming a covariate that is the same for every member (its effect cannot be estimated). */
export function assertCovariatesVary(s: CovariateSummaries): void {
  const n = s.x.length
  const k = s.covariateNames.length
  for (let j = 0; j < k; j++) {
    const first = s.z[j] as number
    let varies = false
    for (let i = 1; i < n && !varies; i++) varies = (s.z[i * k + j] as number) !== first
    if (!varies) {
      throw InputError.single({
        field: `covariate ${s.covariateNames[j]}`,
        value: String(first),
        reason: 'is the same for every member, so its effect cannot be estimated',
      })
    }
  }
}

/** Summaries grouped by (x, t_x, T, z, season data) with a weight each. */
interface Grouped {
  readonly n: number
  readonly k: number
  readonly x: Float64Array
  readonly tx: Float64Array
  readonly T: Float64Array
  readonly z: Float64Array
  readonly xIn: Float64Array
  readonly TIn: Float64Array
  readonly txIn: Float64Array
  readonly w: Float64Array
  readonly total: number
}

/** Checks covariate summaries (lengths, finite values, season data within bounds); errors name the field. */
export function validateCovariateSummaries(s: CovariateSummaries, what: string): void {
  validateSummaries({ x: s.x, tx: s.tx, T: s.T }, what)
  const n = s.x.length
  const k = s.covariateNames.length
  if (s.z.length !== n * k) {
    throw new InputError(
      `${what}: z must hold ${k} covariate(s) for each of ${n} members (${n * k} values), got ${s.z.length}`,
    )
  }
  for (let i = 0; i < s.z.length; i++) {
    if (!Number.isFinite(s.z[i] as number)) {
      throw InputError.single({
        field: `${what} covariate ${s.covariateNames[i % k] ?? ''} of member ${Math.floor(i / k)}`,
        value: String(s.z[i]),
        reason: 'must be finite',
      })
    }
  }
  const season = s.season
  if (season === undefined) return
  if (season.xIn.length !== n || season.TIn.length !== n || season.txIn.length !== n) {
    throw new InputError(`${what}: the season arrays must have one entry per member (${n})`)
  }
  for (let i = 0; i < n; i++) {
    const xIn = season.xIn[i] as number
    const TIn = season.TIn[i] as number
    const txIn = season.txIn[i] as number
    const tol = 1e-9 * Math.max(1, s.T[i] as number)
    if (!(Number.isInteger(xIn) && xIn >= 0 && xIn <= (s.x[i] as number)))
      bad(what, `season xIn[${i}]`, xIn, `must be a whole number from 0 to x (${s.x[i]})`)
    if (!(TIn >= 0 && TIn <= (s.T[i] as number) + tol))
      bad(what, `season TIn[${i}]`, TIn, `must be from 0 to T (${s.T[i]})`)
    if (!(txIn >= 0 && txIn <= (s.tx[i] as number) + tol && txIn <= TIn + tol))
      bad(what, `season txIn[${i}]`, txIn, `must be from 0 to min(tx, TIn) (${s.tx[i]}, ${TIn})`)
  }
}

function bad(what: string, field: string, value: number, reason: string): never {
  throw InputError.single({ field: `${what} ${field}`, value: String(value), reason })
}

function group(s: CovariateSummaries): Grouped {
  const n = s.x.length
  const k = s.covariateNames.length
  const season = s.season
  const index = new Map<string, number>()
  const rows: number[] = []
  const weights: number[] = []
  for (let i = 0; i < n; i++) {
    let key = `${s.x[i]},${s.tx[i]},${s.T[i]}`
    for (let j = 0; j < k; j++) key += `,${s.z[i * k + j]}`
    if (season !== undefined) key += `|${season.xIn[i]},${season.TIn[i]},${season.txIn[i]}`
    const g = index.get(key)
    if (g === undefined) {
      index.set(key, rows.length)
      rows.push(i)
      weights.push(1)
    } else weights[g] = (weights[g] as number) + 1
  }
  const pick = (a: Float64Array | undefined) =>
    Float64Array.from(rows, (i) => (a === undefined ? 0 : (a[i] as number)))
  const z = new Float64Array(rows.length * k)
  rows.forEach((i, g) => z.set(s.z.subarray(i * k, i * k + k), g * k))
  return {
    n: rows.length,
    k,
    x: pick(s.x),
    tx: pick(s.tx),
    T: pick(s.T),
    z,
    xIn: pick(season?.xIn),
    TIn: pick(season?.TIn),
    txIn: pick(season?.txIn),
    w: Float64Array.from(weights),
    total: n,
  }
}

/** Which parameters a fit has: 4 base ones, then kp purchase effects, kd drop-out effects, then season. */
interface Layout {
  readonly k: number
  readonly dropout: boolean
  readonly season: boolean
  readonly size: number
}

function layoutOf(k: number, dropout: boolean, season: boolean): Layout {
  return { k, dropout, season, size: 4 + k + (dropout ? k : 0) + (season ? 1 : 0) }
}

/**
 * Σ weight × log L at θ = (log r, log α, log a, log b, β_p, β_d, γ); writes ∂/∂θ into `grad` when given.
 */
function logLikelihood(
  d: Grouped,
  lay: Layout,
  theta: Float64Array,
  grad: Float64Array | null,
): number {
  const r = Math.exp(theta[0] as number)
  const a = Math.exp(theta[2] as number)
  const b = Math.exp(theta[3] as number)
  const k = lay.k
  const dOff = 4 + k
  const sOff = dOff + (lay.dropout ? k : 0)
  const gamma = lay.season ? (theta[sOff] as number) : 0
  const cm1 = Math.expm1(gamma) // e^γ − 1
  const lgR = lgamma(r)
  const lgB = lgamma(b)
  const psiR = grad === null ? 0 : digamma(r)
  const psiB = grad === null ? 0 : digamma(b)
  const ll = new CompensatedSum()
  const g = grad === null ? null : Array.from({ length: lay.size }, () => new CompensatedSum())
  for (let i = 0; i < d.n; i++) {
    const w = d.w[i] as number
    const x = d.x[i] as number
    let etaP = 0
    let etaD = 0
    for (let j = 0; j < k; j++) {
      const zj = d.z[i * k + j] as number
      etaP += (theta[4 + j] as number) * zj
      if (lay.dropout) etaD += (theta[dOff + j] as number) * zj
    }
    const ai = a * Math.exp(etaD)
    const logAlphaI = (theta[1] as number) - etaP
    const alphaI = Math.exp(logAlphaI)
    const rx = r + x
    const TIn = d.TIn[i] as number
    const txIn = d.txIn[i] as number
    const xIn = d.xIn[i] as number
    const aT = alphaI + (d.T[i] as number) + cm1 * TIn
    const atx = alphaI + (d.tx[i] as number) + cm1 * txIn
    const logAT = Math.log(aT)
    const A = -rx * logAT
    let lse = A
    let omega = 0
    let logAtx = 0
    if (x > 0) {
      logAtx = Math.log(atx)
      const B = Math.log(ai / (b + x - 1)) - rx * logAtx
      const m = Math.max(A, B)
      lse = m + Math.log(Math.exp(A - m) + Math.exp(B - m))
      omega = Math.exp(B - lse)
    }
    const term =
      lgamma(rx) -
      lgR +
      r * logAlphaI +
      gamma * xIn +
      lgamma(ai + b) +
      lgamma(b + x) -
      lgB -
      lgamma(ai + b + x) +
      lse
    ll.add(w * term)
    if (g === null) continue
    const psiAB = digamma(ai + b)
    const psiABx = digamma(ai + b + x)
    const dr = digamma(rx) - psiR + logAlphaI - (1 - omega) * logAT - omega * logAtx
    const dAlphaI = r / alphaI - rx * ((1 - omega) / aT + (x > 0 ? omega / atx : 0))
    const dAi = psiAB - psiABx + (x > 0 ? omega / ai : 0)
    const db = digamma(b + x) - psiB + psiAB - psiABx - (x > 0 ? omega / (b + x - 1) : 0)
    ;(g[0] as CompensatedSum).add(w * r * dr)
    ;(g[1] as CompensatedSum).add(w * alphaI * dAlphaI)
    ;(g[2] as CompensatedSum).add(w * ai * dAi)
    ;(g[3] as CompensatedSum).add(w * b * db)
    for (let j = 0; j < k; j++) {
      const zj = d.z[i * k + j] as number
      if (zj === 0) continue
      ;(g[4 + j] as CompensatedSum).add(-w * zj * alphaI * dAlphaI)
      if (lay.dropout) (g[dOff + j] as CompensatedSum).add(w * zj * ai * dAi)
    }
    if (lay.season) {
      const dc = -rx * (((1 - omega) * TIn) / aT + (x > 0 ? (omega * txIn) / atx : 0))
      ;(g[sOff] as CompensatedSum).add(w * (xIn + (cm1 + 1) * dc))
    }
  }
  if (grad !== null && g !== null)
    for (let j = 0; j < lay.size; j++) grad[j] = (g[j] as CompensatedSum).value
  return ll.value
}

/**
 * log L of the covariate BG/NBD at base parameters and effects (β_p, β_d as arrays of length k; γ the
 * season effect, 0 or absent without season data). Members are not grouped: one term per member.
 */
export function bgNbdCovariatesLogLikelihood(
  s: CovariateSummaries,
  params: BgNbdParams,
  effects: {
    readonly purchase: readonly number[]
    readonly dropout?: readonly number[]
    readonly season?: number
  },
): number {
  validateCovariateSummaries(s, 'bgNbdCovariatesLogLikelihood')
  const k = s.covariateNames.length
  const dropout = effects.dropout !== undefined
  const season = s.season !== undefined
  if (effects.purchase.length !== k || (dropout && effects.dropout?.length !== k)) {
    throw new InputError(`bgNbdCovariatesLogLikelihood: give one effect per covariate (${k})`)
  }
  const lay = layoutOf(k, dropout, season)
  const theta = Float64Array.from([
    Math.log(params.r),
    Math.log(params.alpha),
    Math.log(params.a),
    Math.log(params.b),
    ...effects.purchase,
    ...(effects.dropout ?? []),
    ...(season ? [effects.season ?? 0] : []),
  ])
  const d = group(s)
  return logLikelihood(d, lay, theta, null)
}

/**
 * Fits BG/NBD with static covariates (on the purchase rate and, by default, the drop-out) and, when the
 * summaries carry season data, the seasonal purchase-rate effect. Throws InputError for bad input (no
 * covariate and no season, a covariate column that is constant) and ModelFitError when the fit does not
 * converge to a proper maximum.
 */
export function fitBgNbdCovariates(
  s: CovariateSummaries,
  options: BgNbdCovariatesOptions = {},
): BgNbdCovariatesFit {
  const what = 'fitBgNbdCovariates'
  validateCovariateSummaries(s, what)
  const k = s.covariateNames.length
  const season = s.season !== undefined
  if (k === 0 && !season) throw new InputError(`${what}: no covariate and no season effect to fit`)
  const level = options.confidenceLevel ?? 0.95
  if (!(level > 0 && level < 1)) bad(what, 'confidence level', level, 'must be between 0 and 1')
  const n = s.x.length
  assertCovariatesVary(s)
  if (season) {
    let inside = 0
    for (let i = 0; i < n; i++) inside += s.season.TIn[i] as number
    if (!(inside > 0)) {
      throw new InputError(
        `${what}: no member spent any time inside a season window: the season effect cannot be estimated`,
      )
    }
  }
  const lay = layoutOf(k, options.dropout ?? true, season)
  const d = group(s)
  const baseline = options.baseline ?? fitBgNbd(s.x, s.tx, s.T)
  const p0 = baseline.params
  const start = new Float64Array(lay.size)
  start.set([Math.log(p0.r), Math.log(p0.alpha), Math.log(p0.a), Math.log(p0.b)])
  const m = maximizeCovariateLikelihood('BG/NBD with covariates', start, d.total, (t, g) =>
    logLikelihood(d, lay, t, g),
  )
  const effect = (name: string, process: EffectProcess, j: number): CovariateEffect =>
    waldEffect(name, process, m.theta, m.covariance, j, level)
  const effects: CovariateEffect[] = []
  s.covariateNames.forEach((name, j) => effects.push(effect(name, 'purchase', 4 + j)))
  if (lay.dropout)
    s.covariateNames.forEach((name, j) => effects.push(effect(name, 'dropout', 4 + k + j)))
  if (season) effects.push(effect('season', 'purchase', lay.size - 1))
  const base = baseParameters(['r', 'alpha', 'a', 'b'] as const, m)
  return {
    params: base.params,
    baseStandardErrors: base.standardErrors,
    effects,
    logLikelihood: m.logLikelihood,
    baseline: { params: p0, logLikelihood: baseline.logLikelihood },
    ...covariateModelComparison(m, baseline.logLikelihood, 4, d.total),
    confidenceLevel: level,
    members: d.total,
    distinctSummaries: d.n,
    iterations: m.iterations,
    covariance: m.covariance,
  }
}
