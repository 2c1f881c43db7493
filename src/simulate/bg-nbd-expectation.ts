/**
 * Expected purchases under BG/NBD, used for the simulator's ground truth. This is a small, closed-form
 * piece, kept here so the simulator depends on nothing outside `core/` (model fitting lives in `models/`).
 * @module
 */

/**
 * Gauss hypergeometric 2F1(a, b; c; z) for 0 ≤ z < 1 by its power series. Terms are summed until they stop
 * changing the sum in double precision; for the z = t / (α + t) < 1 of BG/NBD this takes at most a few
 * thousand terms.
 */
export function hypergeometric2F1(a: number, b: number, c: number, z: number): number {
  let term = 1
  let sum = 1
  for (let k = 0; k < 1_000_000; k++) {
    term *= ((a + k) * (b + k) * z) / ((c + k) * (k + 1))
    sum += term
    if (Math.abs(term) < 1e-16 * Math.abs(sum)) break
  }
  return sum
}

/**
 * E[X(t)], the expected number of purchases in (0, t] of a randomly chosen person under BG/NBD
 * (Fader, Hardie & Lee 2005, "Counting your customers the easy way", eq. 7):
 * (a + b − 1)/(a − 1) · [1 − (α/(α + t))^r · 2F1(r, b; a + b − 1; t/(α + t))].
 * Valid for a ≠ 1 (by analytic continuation also for a < 1, as in the CDNOW fit).
 */
export function bgNbdExpectedPurchases(
  r: number,
  alpha: number,
  a: number,
  b: number,
  t: number,
): number {
  if (t <= 0) return 0
  const z = t / (alpha + t)
  const f = hypergeometric2F1(r, b, a + b - 1, z)
  return ((a + b - 1) / (a - 1)) * (1 - Math.pow(alpha / (alpha + t), r) * f)
}

/** E[X(t) | λ, p] = (1 − e^(−λpt)) / p: expected purchases of one person with known rate and drop-out. */
export function bgNbdExpectedPurchasesGiven(lambda: number, p: number, t: number): number {
  return -Math.expm1(-lambda * p * t) / p
}
