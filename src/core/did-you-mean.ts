/**
 * "Did you mean …?" for a mistyped name: the candidate nearest by edit distance (Levenshtein: insertions,
 * deletions and substitutions, each costing one), when it is near enough to be a plausible typo.
 * @module
 */

/** The number of single-character edits that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const x = [...a]
  const y = [...b]
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j)
  for (let i = 1; i <= x.length; i++) {
    const row = [i]
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost)
    }
    prev = row
  }
  return prev[y.length] ?? 0
}

/**
 * The candidate nearest to `value` (compared case-insensitively), or undefined when none is within a third
 * of the value's length (at least 2 edits) — further than that a suggestion is more confusing than helpful.
 * A candidate that starts with the value (an abbreviation) also counts. Ties go to the earlier candidate.
 */
export function nearest(value: string, candidates: readonly string[]): string | undefined {
  const v = value.toLowerCase()
  if (v === '') return undefined
  const limit = Math.max(2, Math.floor(v.length / 3))
  let best: { candidate: string; distance: number } | undefined
  for (const candidate of candidates) {
    const c = candidate.toLowerCase()
    const distance = c.startsWith(v) && v.length >= 3 ? 1 : editDistance(v, c)
    if (distance <= limit && (best === undefined || distance < best.distance))
      best = { candidate, distance }
  }
  return best?.candidate
}
