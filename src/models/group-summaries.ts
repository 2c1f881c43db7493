/**
 * Grouping of identical member summaries (x, t_x, T), so that a likelihood costs one term per distinct
 * summary instead of one per member, and the input checks shared by the repeat-buying models.
 * @module
 */

import { InputError } from '../core/errors.js'

/**
 * Distinct (x, t_x, T) summaries with how many members share each one. `groupOf[i]` is the group of
 * input member i, so per-group predictions can be spread back to members.
 */
export interface SummaryGroups {
  /** Number of repeat transactions of each distinct summary. */
  readonly x: Float64Array
  /** Time of the last repeat transaction (0 when x = 0). */
  readonly tx: Float64Array
  /** Length of the observation period. */
  readonly T: Float64Array
  /** Members sharing each summary. */
  readonly weights: Float64Array
  /** Group index of each input member. */
  readonly groupOf: Uint32Array
}

/** The customer summaries of the repeat-buying models, optionally weighted. */
export interface Summaries {
  readonly x: Float64Array
  readonly tx: Float64Array
  readonly T: Float64Array
  readonly weights?: Float64Array
}

/**
 * Check the summaries: equal lengths, at least one member, x a non-negative integer, 0 ≤ t_x ≤ T, finite
 * values and non-negative weights with a positive total. Throws {@link InputError} naming the first bad
 * element.
 * @param what names the caller in messages, e.g. `fitBgNbd`.
 */
export function validateSummaries(s: Summaries, what: string): void {
  const n = s.x.length
  if (
    s.tx.length !== n ||
    s.T.length !== n ||
    (s.weights !== undefined && s.weights.length !== n)
  ) {
    throw new InputError(
      `${what}: x, tx, T${s.weights === undefined ? '' : ' and weights'} must have the same length ` +
        `(got ${n}, ${s.tx.length}, ${s.T.length}${s.weights === undefined ? '' : `, ${s.weights.length}`})`,
    )
  }
  if (n === 0) throw new InputError(`${what}: no members (the input arrays are empty)`)
  let total = 0
  for (let i = 0; i < n; i++) {
    const x = s.x[i] as number
    const tx = s.tx[i] as number
    const T = s.T[i] as number
    if (!(Number.isInteger(x) && x >= 0)) bad(what, `x[${i}]`, x, 'must be a non-negative integer')
    if (!(Number.isFinite(tx) && tx >= 0)) bad(what, `tx[${i}]`, tx, 'must be finite and ≥ 0')
    if (!(Number.isFinite(T) && T >= tx)) bad(what, `T[${i}]`, T, `must be finite and ≥ tx (${tx})`)
    if (s.weights !== undefined) {
      const w = s.weights[i] as number
      if (!(Number.isFinite(w) && w >= 0)) bad(what, `weights[${i}]`, w, 'must be finite and ≥ 0')
      total += w
    }
  }
  if (s.weights !== undefined && !(total > 0)) {
    throw new InputError(`${what}: the weights sum to zero`)
  }
}

function bad(what: string, field: string, value: number, reason: string): never {
  throw InputError.single({ field: `${what} ${field}`, value: String(value), reason })
}

// Scratch views for reading the bits of a double (the hash of a summary).
const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)

function mixDouble(h: number, v: number): number {
  f64[0] = v + 0 // + 0 turns −0 into 0 so that both land in the same group
  h = Math.imul(h ^ (u32[0] as number), 0x01000193)
  return Math.imul(h ^ (u32[1] as number), 0x01000193)
}

/** murmur3's final avalanche, so that the low bits used as a table index depend on every input bit. */
function finalize(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/**
 * Group members with identical (x, t_x, T) and count them, in order of first appearance. Linear time
 * (open-addressing hash table), so one million members take milliseconds; the model fits then cost one
 * likelihood term per distinct summary. Validates the input like the fits do.
 */
export function groupSummaries(x: Float64Array, tx: Float64Array, T: Float64Array): SummaryGroups {
  validateSummaries({ x, tx, T }, 'groupSummaries')
  return group(x, tx, T, null)
}

/**
 * The summaries with t_x and T rounded to the nearest multiple of `step` (in their time unit), grouped
 * again with their weights added. Rounding both with the same monotone rule keeps t_x ≤ T; x = 0 keeps
 * t_x = 0. For a fit on a coarser time grid (fewer distinct summaries); the input must be valid.
 */
export function roundSummariesToGrid(s: Required<Summaries>, step: number): Required<Summaries> {
  const n = s.x.length
  const tx = new Float64Array(n)
  const T = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    tx[i] = Math.round((s.tx[i] as number) / step) * step
    T[i] = Math.round((s.T[i] as number) / step) * step
  }
  const g = group(s.x, tx, T, s.weights)
  return { x: g.x, tx: g.tx, T: g.T, weights: g.weights }
}

/** The grouping of {@link groupSummaries}; with `weights`, each member counts its weight. */
function group(
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  weights: Float64Array | null,
): SummaryGroups {
  const n = x.length
  let size = 16
  while (size < 2 * n) size *= 2
  const mask = size - 1
  const table = new Int32Array(size).fill(-1)
  const gx = new Float64Array(n)
  const gtx = new Float64Array(n)
  const gT = new Float64Array(n)
  const gw = new Float64Array(n)
  const groupOf = new Uint32Array(n)
  let groups = 0
  for (let i = 0; i < n; i++) {
    const xi = (x[i] as number) + 0
    const txi = (tx[i] as number) + 0
    const Ti = (T[i] as number) + 0
    let slot = finalize(mixDouble(mixDouble(mixDouble(0x811c9dc5, xi), txi), Ti)) & mask
    for (;;) {
      const g = table[slot] as number
      if (g === -1) {
        table[slot] = groups
        gx[groups] = xi
        gtx[groups] = txi
        gT[groups] = Ti
        gw[groups] = weights === null ? 1 : (weights[i] as number)
        groupOf[i] = groups
        groups++
        break
      }
      if (gx[g] === xi && gtx[g] === txi && gT[g] === Ti) {
        gw[g] = (gw[g] as number) + (weights === null ? 1 : (weights[i] as number))
        groupOf[i] = g
        break
      }
      slot = (slot + 1) & mask
    }
  }
  return {
    x: gx.slice(0, groups),
    tx: gtx.slice(0, groups),
    T: gT.slice(0, groups),
    weights: gw.slice(0, groups),
    groupOf,
  }
}

/**
 * The data a repeat-buying fit runs on: identical summaries grouped (so the cost grows with distinct
 * summaries), or, when the caller gives weights, the summaries as they are after validation.
 */
export function fitData(
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  weights: Float64Array | undefined,
  what: string,
): Required<Summaries> {
  if (weights === undefined) {
    const g = groupSummaries(x, tx, T)
    return { x: g.x, tx: g.tx, T: g.T, weights: g.weights }
  }
  validateSummaries({ x, tx, T, weights }, what)
  return { x, tx, T, weights }
}
