/**
 * Correlation and a small linear model for driver analysis: Pearson's r with a Fisher-z confidence interval,
 * and ordinary least squares on standardised variables (coefficients comparable across drivers). Pure math.
 * @module
 */
import { InputError } from '../core/errors.js'

/** Pearson correlation of two equally long samples; NaN when either has no variance. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length
  if (n !== y.length) throw new InputError('pearson: samples differ in length')
  let mx = 0
  let my = 0
  for (let i = 0; i < n; i++) {
    mx += x[i] as number
    my += y[i] as number
  }
  mx /= n
  my /= n
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx
    const dy = (y[i] as number) - my
    sxy += dx * dy
    sxx += dx * dx
    syy += dy * dy
  }
  return sxy / Math.sqrt(sxx * syy)
}

/**
 * Confidence interval of a correlation by Fisher's z transform: tanh(atanh(r) ± z_{α/2} / √(n − 3)).
 * Undefined (NaN bounds) for n ≤ 3.
 */
export function correlationInterval(r: number, n: number, level = 0.95): [number, number] {
  if (n <= 3 || !Number.isFinite(r)) return [Number.NaN, Number.NaN]
  const z = Math.atanh(Math.max(-0.9999999, Math.min(0.9999999, r)))
  const q = normalQuantile(0.5 + level / 2)
  const se = 1 / Math.sqrt(n - 3)
  return [Math.tanh(z - q * se), Math.tanh(z + q * se)]
}

/** Quantile of the standard normal distribution (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new InputError(`normalQuantile: p must be in (0, 1), got ${p}`)
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ]
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
    -13.28068155288572,
  ]
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  const pl = 0.02425
  const poly = (k: number[], x: number) => k.reduce((s, v) => s * x + v, 0)
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p))
    return poly(c, q) / (poly(d, q) * q + 1)
  }
  if (p > 1 - pl) {
    const q = Math.sqrt(-2 * Math.log(1 - p))
    return -poly(c, q) / (poly(d, q) * q + 1)
  }
  const q = p - 0.5
  const r = q * q
  return (poly(a, r) * q) / (poly(b, r) * r + 1)
}

export interface StandardizedOls {
  /** Coefficients on standardised predictors (one per column), in standard deviations of y. */
  readonly beta: readonly number[]
  readonly r2: number
}

/**
 * OLS of standardised y on standardised columns of X (given as columns). Columns without variance get a 0
 * coefficient. Solves the normal equations by Gaussian elimination with partial pivoting.
 */
export function standardizedOls(
  columns: ReadonlyArray<ArrayLike<number>>,
  y: ArrayLike<number>,
): StandardizedOls {
  const n = y.length
  const k = columns.length
  if (n <= k)
    throw new InputError(`standardizedOls: need more observations (${n}) than predictors (${k})`)
  const z = (v: ArrayLike<number>): Float64Array | undefined => {
    let m = 0
    for (let i = 0; i < n; i++) m += v[i] as number
    m /= n
    let s = 0
    for (let i = 0; i < n; i++) s += ((v[i] as number) - m) ** 2
    const sd = Math.sqrt(s / (n - 1))
    if (!(sd > 0)) return undefined
    const out = new Float64Array(n)
    for (let i = 0; i < n; i++) out[i] = ((v[i] as number) - m) / sd
    return out
  }
  const zy = z(y)
  if (zy === undefined) throw new InputError('standardizedOls: y has no variance')
  const used: number[] = []
  const zx: Float64Array[] = []
  columns.forEach((c, j) => {
    const zc = z(c)
    if (zc !== undefined) {
      used.push(j)
      zx.push(zc)
    }
  })
  const p = zx.length
  // Augmented normal equations [XᵀX | Xᵀy].
  const a = Array.from({ length: p }, () => new Float64Array(p + 1))
  for (let r = 0; r < p; r++) {
    for (let c = 0; c < p; c++) {
      let s = 0
      for (let i = 0; i < n; i++) s += (zx[r] as Float64Array)[i]! * (zx[c] as Float64Array)[i]!
      a[r]![c] = s
    }
    let s = 0
    for (let i = 0; i < n; i++) s += (zx[r] as Float64Array)[i]! * zy[i]!
    a[r]![p] = s
  }
  for (let col = 0; col < p; col++) {
    let piv = col
    for (let r = col + 1; r < p; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[piv]![col]!)) piv = r
    if (Math.abs(a[piv]![col]!) < 1e-12)
      throw new InputError('standardizedOls: predictors are collinear')
    ;[a[col], a[piv]] = [a[piv]!, a[col]!]
    for (let r = 0; r < p; r++) {
      if (r === col) continue
      const f = a[r]![col]! / a[col]![col]!
      for (let c = col; c <= p; c++) a[r]![c] = a[r]![c]! - f * a[col]![c]!
    }
  }
  const coef = a.map((row, i) => row[p]! / row[i]!)
  const beta = columns.map((_, j) => {
    const at = used.indexOf(j)
    return at < 0 ? 0 : (coef[at] as number)
  })
  let sse = 0
  for (let i = 0; i < n; i++) {
    let fit = 0
    for (let j = 0; j < p; j++) fit += (coef[j] as number) * (zx[j] as Float64Array)[i]!
    sse += (zy[i]! - fit) ** 2
  }
  return { beta, r2: 1 - sse / (n - 1) }
}
