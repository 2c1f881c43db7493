/**
 * The repeat-buying model chosen for a CLV run (BG/NBD, Pareto/NBD, MBG/NBD or BG/CNBD-k) behind one small interface, and the
 * discounted expected purchases that CLV multiplies by spend. Pure computation on typed arrays.
 * @module
 */
import {
  conditionalExpectedPurchasesMany,
  expectedPurchasesIfAlive,
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
  paretoNbdExpectedPurchasesIfAlive,
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
 * E[Y(t) | alive at T, x, T] of the models whose conditional expectation is P(alive | x, t_x, T) times an
 * expectation that depends on x and T only (BG/NBD eq. 10, MBG/NBD as BG/NBD at b + 1, Pareto/NBD note
 * §6); null for a model without that factorisation.
 */
function expectedIfAlive(m: PurchaseModel): ((t: number, x: number, T: number) => number) | null {
  switch (m.kind) {
    case 'bg-nbd':
      return (t, x, T) => expectedPurchasesIfAlive(m.params, t, x, T)
    case 'mbg-nbd': {
      const shifted = { ...m.params, b: m.params.b + 1 }
      return (t, x, T) => expectedPurchasesIfAlive(shifted, t, x, T)
    }
    case 'pareto-nbd':
      return (t, x, T) => paretoNbdExpectedPurchasesIfAlive(m.params, t, x, T)
    default:
      return null
  }
}

/**
 * Expected purchases of every distinct summary over each horizon in `horizons` (rows of `out`, one per
 * horizon, each of the groups' length). Where the model factorises as P(alive) × E[Y(t) | alive, x, T],
 * the costly second factor (a hypergeometric series for BG/NBD) is evaluated once per distinct (x, T) —
 * far fewer than distinct (x, t_x, T) at day resolution — and P(alive) once per summary.
 */
export function expectedPurchasesOfGroups(
  m: PurchaseModel,
  horizons: readonly number[],
  g: Pick<SummaryGroups, 'x' | 'tx' | 'T'>,
): Float64Array[] {
  const k = g.x.length
  const ifAlive = expectedIfAlive(m)
  if (ifAlive === null || k === 0) {
    return horizons.map((t) => conditionalExpectedPurchases(m, t, g.x, g.tx, g.T))
  }
  // Group the summaries by (x, T): t_x = 0 for all of them turns the summary grouping into that.
  const pairs = groupSummaries(g.x, new Float64Array(k), g.T)
  const alive = probabilityAlive(m, g.x, g.tx, g.T)
  const perPair = new Float64Array(pairs.x.length)
  return horizons.map((t) => {
    for (let j = 0; j < perPair.length; j++) {
      perPair[j] = ifAlive(t, pairs.x[j] as number, pairs.T[j] as number)
    }
    const out = new Float64Array(k)
    for (let i = 0; i < k; i++) {
      out[i] = (alive[i] as number) * (perPair[pairs.groupOf[i] as number] as number)
    }
    return out
  })
}

/**
 * Σ_{k=1}^{K} (E[Y(kL)] − E[Y((k−1)L)]) / (1 + d)^k per member: the discounted expected number of
 * transactions over K periods of length L (the purchase half of `customerLifetimeValue` in models/clv.ts,
 * for either model). Identical summaries are computed once (`groups`, when given, must be the grouping
 * of x, t_x, T), and the expectations of an alive member once per distinct (x, T).
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
  const horizons = Array.from({ length: periods }, (_, p) => (p + 1) * periodLength)
  const expected = expectedPurchasesOfGroups(m, horizons, g)
  let previous: Float64Array = new Float64Array(k)
  let discount = 1
  for (const current of expected) {
    discount /= 1 + discountRate
    for (let j = 0; j < k; j++) {
      acc[j] = (acc[j] as number) + ((current[j] as number) - (previous[j] as number)) * discount
    }
    previous = current
  }
  for (let i = 0; i < n; i++) out[i] = acc[g.groupOf[i] as number] as number
  return out
}

/** Quantiles of a sample (type 7, linear interpolation between order statistics, as R's default). */
export function quantiles(values: Float64Array, probabilities: readonly number[]): number[] {
  return quantilesOfSorted(Float64Array.from(values).sort(), probabilities)
}

/** {@link quantiles} of a sample already sorted in ascending order (no copy, no sort). */
export function quantilesOfSorted(
  sorted: Float64Array,
  probabilities: readonly number[],
): number[] {
  const n = sorted.length
  return probabilities.map((p) => {
    if (n === 0) return NaN
    const h = (n - 1) * p
    const lo = Math.floor(h)
    const hi = Math.min(n - 1, lo + 1)
    return (sorted[lo] as number) + (h - lo) * ((sorted[hi] as number) - (sorted[lo] as number))
  })
}
