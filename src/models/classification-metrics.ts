/**
 * Evaluation of a risk score against 0/1 outcomes: ROC AUC, calibration by decile and top-decile lift.
 * @module
 */

import { InputError } from '../core/errors.js'

function check(scores: ArrayLike<number>, labels: ArrayLike<number>, what: string): number {
  if (scores.length !== labels.length)
    throw new InputError(`${what}: scores and labels differ in length`)
  if (scores.length === 0) throw new InputError(`${what}: no rows`)
  return scores.length
}

/**
 * Area under the ROC curve = P(score of a random positive > score of a random negative), ties counting ½
 * (the Mann–Whitney U statistic over n₁n₀; Hanley & McNeil 1982, Radiology 143(1), eq. 1). O(n log n)
 * by average ranks. NaN when either class is missing.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = check(scores, labels, 'rocAuc')
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (scores[a] as number) - (scores[b] as number),
  )
  let rankSumPositives = 0
  let positives = 0
  let i = 0
  while (i < n) {
    let j = i
    while (j + 1 < n && scores[order[j + 1] as number] === scores[order[i] as number]) j++
    const averageRank = (i + j) / 2 + 1 // ranks are 1-based
    for (let k = i; k <= j; k++) {
      if ((labels[order[k] as number] as number) === 1) {
        rankSumPositives += averageRank
        positives++
      }
    }
    i = j + 1
  }
  const negatives = n - positives
  if (positives === 0 || negatives === 0) return NaN
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives)
}

/** One decile of members ranked by score (decile 1 = highest scores). */
export interface DecileRow {
  readonly decile: number
  readonly members: number
  readonly meanScore: number
  readonly observedRate: number
}

/** Calibration table: members sorted by score, cut into 10 groups of (nearly) equal size. */
export function calibrationByDecile(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
): DecileRow[] {
  const n = check(scores, labels, 'calibrationByDecile')
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (scores[b] as number) - (scores[a] as number),
  )
  const rows: DecileRow[] = []
  for (let d = 0; d < 10; d++) {
    const from = Math.floor((d * n) / 10)
    const to = Math.floor(((d + 1) * n) / 10)
    let s = 0
    let y = 0
    for (let k = from; k < to; k++) {
      s += scores[order[k] as number] as number
      y += labels[order[k] as number] as number
    }
    const m = to - from
    rows.push({
      decile: d + 1,
      members: m,
      meanScore: m > 0 ? s / m : NaN,
      observedRate: m > 0 ? y / m : NaN,
    })
  }
  return rows
}

/** Outcome rate in the top-scored decile divided by the overall rate. */
export function topDecileLift(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const rows = calibrationByDecile(scores, labels)
  let y = 0
  for (let i = 0; i < labels.length; i++) y += labels[i] as number
  const overall = y / labels.length
  return overall > 0 ? (rows[0] as DecileRow).observedRate / overall : NaN
}
