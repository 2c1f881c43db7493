/**
 * Holm's step-down adjustment for several comparisons (Holm 1979, Scand. J. Statist. 6(2)).
 * @module
 */

/**
 * Holm-adjusted p-values, in the input order. With p₍₁₎ ≤ … ≤ p₍ₘ₎ sorted ascending:
 *   p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1)·p₍ⱼ₎).
 * Rejecting where p̃ ≤ α controls the family-wise error rate at α, uniformly more powerful than Bonferroni.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p)
  const out = new Array<number>(m).fill(NaN)
  let running = 0
  order.forEach(({ p, i }, k) => {
    running = Math.max(running, Math.min(1, (m - k) * p))
    out[i] = running
  })
  return out
}
