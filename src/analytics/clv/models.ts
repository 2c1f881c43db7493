/**
 * The repeat-buying model chosen for a CLV run (BG/NBD, Pareto/NBD, MBG/NBD or BG/CNBD-k) behind one small interface, and the
 * discounted expected purchases that CLV multiplies by spend. Pure computation on typed arrays.
 * @module
 */
import {
  conditionalExpectedPurchasesMany,
  expectedPurchasesPopulation,
  probabilityAliveAfterMany,
  probabilityAliveMany,
  probabilityNoPurchaseMany,
  type BgNbdParams,
} from '../../models/bg-nbd.js'
import {
  bgCnbdKConditionalExpectedPurchasesMany,
  bgCnbdKExpectedPurchasesPopulation,
  bgCnbdKProbabilityAliveAfterMany,
  bgCnbdKProbabilityAliveMany,
  bgCnbdKProbabilityNoPurchaseMany,
  type BgCnbdKParams,
} from '../../models/bg-cnbd-k.js'
import { groupSummaries, type SummaryGroups } from '../../models/group-summaries.js'
import {
  mbgNbdConditionalExpectedPurchasesMany,
  mbgNbdExpectedPurchasesPopulation,
  mbgNbdProbabilityAliveAfterMany,
  mbgNbdProbabilityAliveMany,
  mbgNbdProbabilityNoPurchaseMany,
  type MbgNbdParams,
} from '../../models/mbg-nbd.js'
import {
  paretoNbdConditionalExpectedPurchasesMany,
  paretoNbdExpectedPurchasesPopulation,
  paretoNbdProbabilityAliveAfterMany,
  paretoNbdProbabilityAliveMany,
  paretoNbdProbabilityNoPurchaseMany,
  type ParetoNbdParams,
} from '../../models/pareto-nbd.js'

export type PurchaseModelKind = 'bg-nbd' | 'pareto-nbd' | 'mbg-nbd' | 'bg-cnbd-k'
export const PURCHASE_MODELS: readonly PurchaseModelKind[] = [
  'bg-nbd',
  'pareto-nbd',
  'mbg-nbd',
  'bg-cnbd-k',
]

/** A fitted purchase model. */
export type PurchaseModel =
  | { readonly kind: 'bg-nbd'; readonly params: BgNbdParams }
  | { readonly kind: 'pareto-nbd'; readonly params: ParetoNbdParams }
  | { readonly kind: 'mbg-nbd'; readonly params: MbgNbdParams }
  | { readonly kind: 'bg-cnbd-k'; readonly params: BgCnbdKParams }

/** P(alive | x, t_x, T) for every member (BG/NBD: Fader, Hardie & Lee 2008; Pareto/NBD: Fader & Hardie 2005 note §5). */
export function probabilityAlive(
  m: PurchaseModel,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out?: Float64Array,
): Float64Array {
  if (m.kind === 'bg-cnbd-k') return bgCnbdKProbabilityAliveMany(m.params, x, tx, T, out)
  return m.kind === 'bg-nbd'
    ? probabilityAliveMany(m.params, x, tx, T, out)
    : m.kind === 'mbg-nbd'
      ? mbgNbdProbabilityAliveMany(m.params, x, tx, T, out)
      : paretoNbdProbabilityAliveMany(m.params, x, tx, T, out)
}

/** E[Y(t) | x, t_x, T]: expected transactions in (T, T + t] (BG/NBD eq. 10; Pareto/NBD: note §6). */
export function conditionalExpectedPurchases(
  m: PurchaseModel,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out?: Float64Array,
): Float64Array {
  if (m.kind === 'bg-cnbd-k') {
    return bgCnbdKConditionalExpectedPurchasesMany(m.params, t, x, tx, T, out)
  }
  return m.kind === 'bg-nbd'
    ? conditionalExpectedPurchasesMany(m.params, t, x, tx, T, out)
    : m.kind === 'mbg-nbd'
      ? mbgNbdConditionalExpectedPurchasesMany(m.params, t, x, tx, T, out)
      : paretoNbdConditionalExpectedPurchasesMany(m.params, t, x, tx, T, out)
}

/**
 * P(no purchase in (T, T + t] | x, t_x, T) — the retail churn definition over a window of length t
 * (Zammit & Zerafa 2025). Identical summaries are computed once.
 */
export function probabilityNoPurchase(
  m: PurchaseModel,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): Float64Array {
  return perGroup(x, tx, T, (gx, gtx, gT) =>
    m.kind === 'bg-cnbd-k'
      ? bgCnbdKProbabilityNoPurchaseMany(m.params, t, gx, gtx, gT)
      : m.kind === 'bg-nbd'
        ? probabilityNoPurchaseMany(m.params, t, gx, gtx, gT)
        : m.kind === 'mbg-nbd'
          ? mbgNbdProbabilityNoPurchaseMany(m.params, t, gx, gtx, gT)
          : paretoNbdProbabilityNoPurchaseMany(m.params, t, gx, gtx, gT),
  )
}

/** P(alive at T + t | x, t_x, T). Identical summaries are computed once. */
export function probabilityAliveAfter(
  m: PurchaseModel,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): Float64Array {
  return perGroup(x, tx, T, (gx, gtx, gT) =>
    m.kind === 'bg-cnbd-k'
      ? bgCnbdKProbabilityAliveAfterMany(m.params, t, gx, gtx, gT)
      : m.kind === 'bg-nbd'
        ? probabilityAliveAfterMany(m.params, t, gx, gtx, gT)
        : m.kind === 'mbg-nbd'
          ? mbgNbdProbabilityAliveAfterMany(m.params, t, gx, gtx, gT)
          : paretoNbdProbabilityAliveAfterMany(m.params, t, gx, gtx, gT),
  )
}

/** E[Y(t) | x, t_x, T] with identical summaries computed once. */
export function conditionalExpectedPurchasesGrouped(
  m: PurchaseModel,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): Float64Array {
  return perGroup(x, tx, T, (gx, gtx, gT) => conditionalExpectedPurchases(m, t, gx, gtx, gT))
}

function perGroup(
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  f: (x: Float64Array, tx: Float64Array, T: Float64Array) => Float64Array,
): Float64Array {
  const g = groupSummaries(x, tx, T)
  const values = f(g.x, g.tx, g.T)
  const out = new Float64Array(x.length)
  for (let i = 0; i < out.length; i++) out[i] = values[g.groupOf[i] as number] as number
  return out
}

/** E[X(t)] of a new member (BG/NBD eq. 7; Pareto/NBD: note §4). */
export function expectedPurchasesPopulationOf(m: PurchaseModel, t: number): number {
  if (m.kind === 'bg-cnbd-k') return bgCnbdKExpectedPurchasesPopulation(m.params, t)
  return m.kind === 'bg-nbd'
    ? expectedPurchasesPopulation(m.params, t)
    : m.kind === 'mbg-nbd'
      ? mbgNbdExpectedPurchasesPopulation(m.params, t)
      : paretoNbdExpectedPurchasesPopulation(m.params, t)
}

/**
 * Σ_{k=1}^{K} (E[Y(kL)] − E[Y((k−1)L)]) / (1 + d)^k per member: the discounted expected number of
 * transactions over K periods of length L (the purchase half of `customerLifetimeValue` in models/clv.ts,
 * for either model). Identical summaries are computed once (`groups`, when given, must be the grouping
 * of x, t_x, T).
 */
export function discountedExpectedPurchases(
  m: PurchaseModel,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  periods: number,
  periodLength: number,
  discountRate: number,
  groups?: SummaryGroups,
): Float64Array {
  const n = x.length
  const out = new Float64Array(n)
  if (n === 0) return out
  const g = groups ?? groupSummaries(x, tx, T)
  const k = g.x.length
  const acc = new Float64Array(k)
  let previous = new Float64Array(k)
  let current = new Float64Array(k)
  let discount = 1
  for (let p = 1; p <= periods; p++) {
    discount /= 1 + discountRate
    conditionalExpectedPurchases(m, p * periodLength, g.x, g.tx, g.T, current)
    for (let j = 0; j < k; j++) {
      acc[j] = (acc[j] as number) + ((current[j] as number) - (previous[j] as number)) * discount
    }
    const swap = previous
    previous = current
    current = swap
  }
  for (let i = 0; i < n; i++) out[i] = acc[g.groupOf[i] as number] as number
  return out
}

/** Quantiles of a sample (type 7, linear interpolation between order statistics, as R's default). */
export function quantiles(values: Float64Array, probabilities: readonly number[]): number[] {
  const sorted = Float64Array.from(values).sort()
  const n = sorted.length
  return probabilities.map((p) => {
    if (n === 0) return NaN
    const h = (n - 1) * p
    const lo = Math.floor(h)
    const hi = Math.min(n - 1, lo + 1)
    return (sorted[lo] as number) + (h - lo) * ((sorted[hi] as number) - (sorted[lo] as number))
  })
}
