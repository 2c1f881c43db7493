/**
 * Power analysis for a two-arm comparison with equal allocation: sample size per arm, minimum detectable
 * effect (MDE) and duration. Two-sided tests at level α with power 1 − β.
 * @module
 */
import { InputError } from '../../core/errors.js'
import { normalQuantile } from './distributions.js'

/** Test settings shared by every calculator. */
export interface PowerSettings {
  /** Two-sided significance level. Default 0.05. */
  readonly alpha?: number
  /** 1 − β. Default 0.8. */
  readonly power?: number
  /**
   * Share of variance removed by CUPED (ρ² of the metric with its pre-period value); the variance entering
   * the formulas is multiplied by (1 − varianceReduction). Default 0.
   */
  readonly varianceReduction?: number
}

function quantiles(s: PowerSettings): { za: number; zb: number; keep: number } {
  const alpha = s.alpha ?? 0.05
  const power = s.power ?? 0.8
  const vr = s.varianceReduction ?? 0
  if (!(alpha > 0 && alpha < 1) || !(power > 0 && power < 1) || !(vr >= 0 && vr < 1)) {
    throw new InputError('power: need 0 < alpha < 1, 0 < power < 1 and 0 ≤ varianceReduction < 1')
  }
  return { za: normalQuantile(1 - alpha / 2), zb: normalQuantile(power), keep: 1 - vr }
}

/**
 * Members per arm to detect an absolute difference δ in a mean with per-member standard deviation σ
 * (normal approximation, equal σ in both arms):
 *   n = 2·(z_{1−α/2} + z_{1−β})²·σ²·(1 − vr) / δ²   (e.g. Chow, Shao & Wang, Sample Size Calculations in
 * Clinical Research, 2nd ed., §3.2.1), rounded up.
 */
export function sampleSizeMeans(sd: number, delta: number, settings: PowerSettings = {}): number {
  if (!(sd > 0) || !(Math.abs(delta) > 0))
    throw new InputError('sampleSizeMeans: need sd > 0 and δ ≠ 0')
  const { za, zb, keep } = quantiles(settings)
  return Math.ceil((2 * (za + zb) ** 2 * sd * sd * keep) / (delta * delta))
}

/** MDE of a mean with n members per arm: δ = (z_{1−α/2} + z_{1−β})·σ·√(2(1 − vr)/n). */
export function mdeMeans(sd: number, nPerArm: number, settings: PowerSettings = {}): number {
  if (!(sd >= 0) || !(nPerArm > 0)) throw new InputError('mdeMeans: need sd ≥ 0 and n > 0')
  const { za, zb, keep } = quantiles(settings)
  return (za + zb) * sd * Math.sqrt((2 * keep) / nPerArm)
}

/**
 * Members per arm to move a proportion from p₁ to p₂ (Fleiss, Levin & Paik, Statistical Methods for Rates
 * and Proportions, 3rd ed., eq. 4.14, without continuity correction):
 *   n = (z_{1−α/2}·√(2·p̄(1 − p̄)) + z_{1−β}·√(p₁(1 − p₁) + p₂(1 − p₂)))²·(1 − vr) / (p₂ − p₁)², p̄ = (p₁ + p₂)/2.
 */
export function sampleSizeProportions(
  p1: number,
  p2: number,
  settings: PowerSettings = {},
): number {
  if (!(p1 > 0 && p1 < 1 && p2 > 0 && p2 < 1) || p1 === p2) {
    throw new InputError('sampleSizeProportions: need two different proportions in (0, 1)')
  }
  const { za, zb, keep } = quantiles(settings)
  const pbar = (p1 + p2) / 2
  const num = za * Math.sqrt(2 * pbar * (1 - pbar)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
  return Math.ceil((num * num * keep) / (p2 - p1) ** 2)
}

/**
 * Smallest absolute increase δ of a baseline proportion p detectable with n members per arm: the root of
 * sampleSizeProportions(p, p + δ) = n, found by bisection on the continuous formula (1e-10).
 */
export function mdeProportions(
  baseline: number,
  nPerArm: number,
  settings: PowerSettings = {},
): number {
  if (!(baseline > 0 && baseline < 1) || !(nPerArm > 0)) {
    throw new InputError('mdeProportions: need 0 < baseline < 1 and n > 0')
  }
  const { za, zb, keep } = quantiles(settings)
  const need = (d: number): number => {
    const p2 = baseline + d
    const pbar = (baseline + p2) / 2
    const num =
      za * Math.sqrt(2 * pbar * (1 - pbar)) +
      zb * Math.sqrt(baseline * (1 - baseline) + p2 * (1 - p2))
    return (num * num * keep) / (d * d)
  }
  let lo = 1e-12
  let hi = 1 - baseline - 1e-12
  if (need(hi) > nPerArm) return NaN
  for (let i = 0; i < 200 && hi - lo > 1e-10; i++) {
    const mid = (lo + hi) / 2
    if (need(mid) > nPerArm) lo = mid
    else hi = mid
  }
  return hi
}

/** Days to enrol `arms` × `nPerArm` members at `eligiblePerDay` new eligible members a day (rounded up). */
export function durationDays(nPerArm: number, arms: number, eligiblePerDay: number): number {
  if (!(eligiblePerDay > 0)) return Infinity
  return Math.ceil((nPerArm * arms) / eligiblePerDay)
}
