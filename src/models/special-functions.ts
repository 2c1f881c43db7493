/**
 * Special functions for the probability models: log-gamma, digamma, log-beta, log-sum-exp, the Gauss
 * hypergeometric function ₂F₁ and a tanh-sinh quadrature on (0, 1).
 *
 * Everything works in log space where overflow is possible, because the models raise numbers such as
 * (α + T) to powers r + x with x in the thousands.
 * @module
 */

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI)

/** Lanczos coefficients for g = 7, n = 9 (relative error of Γ about 1e-15 for real x > 0). */
const LANCZOS_G = 7
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
] as const

/**
 * log |Γ(x)| by the Lanczos approximation (g = 7, 9 terms), with the reflection formula
 * Γ(x)Γ(1 − x) = π / sin(πx) below 1/2. Returns +Infinity at the poles x = 0, −1, −2, …
 */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return NaN
  if (x === Infinity) return Infinity
  if (x < 0.5) {
    if (Number.isInteger(x)) return Infinity
    // Reflection keeps the series in its accurate region (x ≥ 1/2).
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x)
  }
  const y = x - 1
  let sum = LANCZOS[0]
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] as number) / (y + i)
  const t = y + LANCZOS_G + 0.5
  return HALF_LOG_TWO_PI + (y + 0.5) * Math.log(t) - t + Math.log(sum)
}

/**
 * Digamma ψ(x) = d/dx log Γ(x): the recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then the
 * asymptotic (Bernoulli) series; reflection ψ(1 − x) − ψ(x) = π cot(πx) for x ≤ 0.
 */
export function digamma(x: number): number {
  if (Number.isNaN(x) || x === -Infinity) return NaN
  if (x === Infinity) return Infinity
  let result = 0
  let y = x
  if (y <= 0) {
    if (Number.isInteger(y)) return NaN
    result = -Math.PI / Math.tan(Math.PI * y)
    y = 1 - y
  }
  while (y < 10) {
    result -= 1 / y
    y += 1
  }
  const inv2 = 1 / (y * y)
  // ln y − 1/(2y) − 1/(12y²) + 1/(120y⁴) − 1/(252y⁶) + 1/(240y⁸) − 1/(132y¹⁰) + 691/(32760y¹²);
  // the next term, 1/(12y¹⁴), is below 1e-15 at y = 10.
  const tail =
    inv2 *
    (1 / 12 -
      inv2 *
        (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132 - (inv2 * 691) / 32760)))))
  return result + Math.log(y) - 0.5 / y - tail
}

/**
 * Trigamma ψ′(x) = d²/dx² log Γ(x) for x > 0 (NaN otherwise): the recurrence ψ′(x) = ψ′(x + 1) + 1/x² up
 * to x ≥ 10, then the asymptotic series 1/y + 1/(2y²) + Σ B₂ₖ/y^(2k+1) with the Bernoulli numbers B₂ₖ.
 */
export function trigamma(x: number): number {
  if (!(x > 0)) return NaN
  if (x === Infinity) return 0
  let result = 0
  let y = x
  while (y < 10) {
    result += 1 / (y * y)
    y += 1
  }
  const inv = 1 / y
  const inv2 = inv * inv
  // 1/y + 1/(2y²) + 1/(6y³) − 1/(30y⁵) + 1/(42y⁷) − 1/(30y⁹) + 5/(66y¹¹) − 691/(2730y¹³); the next term,
  // 7/(6y¹⁵), is below 1e-15 at y = 10.
  const series =
    inv *
    (1 +
      0.5 * inv +
      inv2 *
        (1 / 6 -
          inv2 *
            (1 / 30 - inv2 * (1 / 42 - inv2 * (1 / 30 - inv2 * (5 / 66 - (inv2 * 691) / 2730))))))
  return result + series
}

/** log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b), for a, b > 0. */
export function logBeta(a: number, b: number): number {
  return lgamma(a) + lgamma(b) - lgamma(a + b)
}

/** log(eᵃ + eᵇ) without overflow; −Infinity terms are allowed. */
export function logSumExp(a: number, b: number): number {
  const m = a > b ? a : b
  if (m === -Infinity) return -Infinity
  if (m === Infinity) return Infinity
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m))
}

/** log Σ exp(values[i]) without overflow; −Infinity for an empty list. */
export function logSumExpArray(values: ArrayLike<number>): number {
  let m = -Infinity
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number
    if (v > m) m = v
  }
  if (m === -Infinity || m === Infinity) return m
  let s = 0
  for (let i = 0; i < values.length; i++) s += Math.exp((values[i] as number) - m)
  return m + Math.log(s)
}

/**
 * log(1 − eˣ) for x ≤ 0, accurate near both ends (Mächler 2012, "Accurately computing log(1 − exp(−|a|))").
 * Returns −Infinity at x = 0 and NaN for x > 0.
 */
export function log1mExp(x: number): number {
  if (x > 0) return NaN
  return x > -Math.LN2 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x))
}

/**
 * (1 − e^(εL)) / ε, continuous at ε = 0 where it equals −L. Used where a closed form divides by a − 1 or
 * s − 1 and the parameter may sit at or near 1.
 */
export function oneMinusExpOver(epsilon: number, logBase: number): number {
  if (epsilon === 0) return -logBase
  return -Math.expm1(epsilon * logBase) / epsilon
}

// ---------------------------------------------------------------------------------------------------------
// Tanh-sinh quadrature on (0, 1)

/**
 * Step of the tanh-sinh rule. The rule is exact to rounding for analytic integrands once the step resolves
 * their features; 1/64 resolves the end-point layers of the Euler integrals used below (checked in tests).
 */
const TANH_SINH_STEP = 1 / 64
/**
 * |u| up to 8 reaches t ≈ e^(−π sinh 8) ≈ e^(−4682). The sums run in log space, so such nodes still count:
 * an end-point singularity t^(−0.99) keeps a relative mass t^(0.01) ≈ e^(−47) below the last node.
 */
const TANH_SINH_LIMIT = 8
const TANH_SINH_NODES = 2 * Math.round(TANH_SINH_LIMIT / TANH_SINH_STEP) + 1

/** Nodes t, 1 − t (both computed directly so that neither loses digits) and their logs and log-weights. */
const tsT = new Float64Array(TANH_SINH_NODES)
const tsOneMinusT = new Float64Array(TANH_SINH_NODES)
const tsLogT = new Float64Array(TANH_SINH_NODES)
const tsLogOneMinusT = new Float64Array(TANH_SINH_NODES)
const tsLogWeight = new Float64Array(TANH_SINH_NODES)
{
  const half = (TANH_SINH_NODES - 1) / 2
  for (let k = 0; k < TANH_SINH_NODES; k++) {
    const u = (k - half) * TANH_SINH_STEP
    const q = Math.PI * Math.sinh(u)
    // t = 1 / (1 + e^q); log t = −softplus(q), log(1 − t) = −softplus(−q).
    const logT = -softplus(q)
    const logOneMinusT = -softplus(-q)
    tsT[k] = Math.exp(logT)
    tsOneMinusT[k] = Math.exp(logOneMinusT)
    tsLogT[k] = logT
    tsLogOneMinusT[k] = logOneMinusT
    // dt/du = π cosh(u) · t · (1 − t)
    tsLogWeight[k] = Math.log(TANH_SINH_STEP * Math.PI * Math.cosh(u)) + logT + logOneMinusT
  }
}

function softplus(q: number): number {
  return q > 0 ? q + Math.log1p(Math.exp(-q)) : Math.log1p(Math.exp(q))
}

/**
 * log ∫₀¹ exp(logIntegrand(t)) dt by tanh-sinh (double-exponential) quadrature, summed in log space.
 * The integrand receives t, 1 − t and their logarithms, all accurate near both end points, so integrable
 * end-point singularities such as t^(−0.9) are handled.
 */
export function logIntegrateUnitInterval(
  logIntegrand: (t: number, oneMinusT: number, logT: number, logOneMinusT: number) => number,
): number {
  let m = -Infinity
  let s = 0
  for (let k = 0; k < TANH_SINH_NODES; k++) {
    const v =
      logIntegrand(
        tsT[k] as number,
        tsOneMinusT[k] as number,
        tsLogT[k] as number,
        tsLogOneMinusT[k] as number,
      ) + (tsLogWeight[k] as number)
    if (Number.isNaN(v)) return NaN
    if (v === -Infinity) continue
    if (v > m) {
      s = s * Math.exp(m - v) + 1
      m = v
    } else {
      s += Math.exp(v - m)
    }
  }
  return m === -Infinity ? -Infinity : m + Math.log(s)
}

// ---------------------------------------------------------------------------------------------------------
// Gauss hypergeometric function

const SERIES_EPS = 1e-17
/** Beyond this z the plain series needs thousands of terms; the Euler integral is used instead. */
const SERIES_Z_LIMIT = 0.99
const SERIES_MAX_TERMS = 200_000
const RESCALE = 1e250
const LOG_RESCALE = Math.log(RESCALE)

/**
 * Σₙ (a)ₙ(b)ₙ/((c)ₙ n!) zⁿ for 0 ≤ z < 1, as log |sum| and its sign. The running sum is rescaled so that
 * series whose terms first grow to astronomically large values (large a·b·z/c) do not overflow.
 */
function seriesLog(a: number, b: number, c: number, z: number): { logAbs: number; sign: number } {
  let term = 1
  let sum = 1
  let logScale = 0
  // A negative a or b makes a factor (a + n) pass near zero; no convergence test before that point.
  const settled = Math.max(0, -a, -b, -c) + 1
  for (let n = 0; n < SERIES_MAX_TERMS; n++) {
    const ratio = ((a + n) * (b + n)) / ((c + n) * (n + 1))
    term *= ratio * z
    sum += term
    if (term === 0) break // a or b is a non-positive integer: the series is a polynomial
    if (Math.abs(sum) > RESCALE || Math.abs(term) > RESCALE) {
      sum /= RESCALE
      term /= RESCALE
      logScale += LOG_RESCALE
    }
    // Once the ratio has settled below 1 the tail is bounded by a geometric series with ratio ρ.
    const rho = Math.max(Math.abs(ratio * z), z)
    if (n > settled && rho < 1 && Math.abs(term) <= SERIES_EPS * (1 - rho) * Math.abs(sum)) break
    if (n === SERIES_MAX_TERMS - 1) return { logAbs: NaN, sign: NaN }
  }
  return { logAbs: Math.log(Math.abs(sum)) + logScale, sign: Math.sign(sum) }
}

/** Euler's integral, in log form, for 0 < b < c:  Γ(c)/(Γ(b)Γ(c−b)) ∫₀¹ t^(b−1)(1−t)^(c−b−1)(1−zt)^(−a) dt. */
function eulerIntegralLog(a: number, b: number, c: number, z: number): number {
  const oneMinusZ = 1 - z
  const logI = logIntegrateUnitInterval(
    (_t, oneMinusT, logT, logOneMinusT) =>
      (b - 1) * logT +
      (c - b - 1) * logOneMinusT -
      // 1 − z t written as (1 − z) + z (1 − t) so that it keeps its digits near t = 1
      a * Math.log(oneMinusZ + z * oneMinusT),
  )
  return logI - logBeta(b, c - b)
}

/**
 * log ₂F₁(a, b; c; z) for real parameters and z < 1 where the function is positive (for example
 * a, b, c > 0). Stable for large parameters (a = r + s + x with x in the thousands):
 * - z < 0: Pfaff, ₂F₁(a,b;c;z) = (1 − z)^(−a) ₂F₁(a, c − b; c; z/(z − 1)), which maps z into (0, 1);
 * - 0 ≤ z < 1: the power series, or Euler's transformation
 *   ₂F₁(a,b;c;z) = (1 − z)^(c−a−b) ₂F₁(c − a, c − b; c; z) when that series has the smaller terms;
 * - z > 0.99: Euler's integral by tanh-sinh quadrature, which needs 0 < b < c or 0 < a < c (otherwise
 *   the series, up to 200,000 terms).
 * Returns NaN where none of these applies or the value is not positive.
 * (Abramowitz & Stegun 15.1.1, 15.3.1, 15.3.3, 15.3.5.)
 */
export function logHyp2f1(a: number, b: number, c: number, z: number): number {
  if (!(z < 1) || Number.isNaN(a + b + c)) return NaN
  if (c <= 0 && Number.isInteger(c)) return NaN
  if (z === 0 || a === 0 || b === 0) return 0
  if (z < 0) {
    const w = z / (z - 1)
    return -a * Math.log1p(-z) + logHyp2f1(a, c - b, c, w)
  }
  const logEuler = (c - a - b) * Math.log1p(-z)
  // ₂F₁(a, 0; c; z) = 1, so an Euler transform with c = a or c = b is exact.
  if (c === a || c === b) return logEuler
  if (z > SERIES_Z_LIMIT) {
    // Near z = 1 the series converges like zⁿ; use Euler's integral where it exists. (After Euler's
    // transformation it would need 0 < c − b < c, the same condition, so that adds nothing.)
    if (b > 0 && b < c) return eulerIntegralLog(a, b, c, z)
    if (a > 0 && a < c) return eulerIntegralLog(b, a, c, z)
  }
  // Euler's transformation when its series is the better one: all terms positive (no cancellation)
  // first, then the smaller first ratio |a·b/c| (fewer and smaller terms).
  let pa = a
  let pb = b
  let logPrefactor = 0
  const directPositive = a > 0 && b > 0 && c > 0
  const eulerPositive = c - a > 0 && c - b > 0 && c > 0
  const eulerSmaller = Math.abs((c - a) * (c - b)) < Math.abs(a * b)
  if (eulerPositive ? !directPositive || eulerSmaller : !directPositive && eulerSmaller) {
    pa = c - a
    pb = c - b
    logPrefactor = logEuler
  }
  const { logAbs, sign } = seriesLog(pa, pb, c, z)
  return sign > 0 ? logPrefactor + logAbs : NaN
}

/**
 * The Gauss hypergeometric function ₂F₁(a, b; c; z) for z < 1, by the same transformations as
 * {@link logHyp2f1}; negative values are supported where the power series applies.
 */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  const l = logHyp2f1(a, b, c, z)
  if (!Number.isNaN(l)) return Math.exp(l)
  if (!(z < 1) || (c <= 0 && Number.isInteger(c))) return NaN
  if (z < 0) return Math.pow(1 - z, -a) * hyp2f1(a, c - b, c, z / (z - 1))
  const { logAbs, sign } = seriesLog(a, b, c, z)
  return sign * Math.exp(logAbs)
}

/**
 * The scaled remainder c·(₂F₁(a, b; c; z) − 1)/(a·b) = Σₙ≥₁ (a+1)ₙ₋₁(b+1)ₙ₋₁ / ((c+1)ₙ₋₁ n!) zⁿ, for
 * 0 ≤ z < 1. It is analytic at a = 0, b = 0 and c = 0, which is what the BG/NBD conditional expectation
 * (Fader, Hardie & Lee 2005, eq. 10) needs when a → 1 or a + b + x − 1 → 0. The sum is taken directly
 * (no subtraction of 1), so it keeps full relative accuracy for small z. Throws a RangeError when z is so
 * close to 1 that the series would need more than two million terms.
 */
export function hyp2f1ScaledRemainder(a: number, b: number, c: number, z: number): number {
  if (!(z >= 0 && z < 1)) throw new RangeError(`hyp2f1ScaledRemainder needs 0 ≤ z < 1, got ${z}`)
  if (z === 0) return 0
  let term = z
  let sum = z
  const maxTerms = 2_000_000
  // A negative a or b makes a factor (a + n) pass near zero; no convergence test before that point.
  const settled = Math.max(0, -a, -b, -c) + 1
  for (let n = 1; n < maxTerms; n++) {
    // term_{n+1} / term_n = (a + n)(b + n) / ((c + n)(n + 1)) · z
    const ratio = ((a + n) * (b + n)) / ((c + n) * (n + 1))
    term *= ratio * z
    sum += term
    if (term === 0) return sum
    const rho = Math.max(Math.abs(ratio * z), z)
    if (n > settled && rho < 1 && Math.abs(term) <= SERIES_EPS * (1 - rho) * Math.abs(sum))
      return sum
  }
  throw new RangeError(`hyp2f1ScaledRemainder did not converge for z = ${z}`)
}

/**
 * Neumaier's compensated summation (an improved Kahan sum). Likelihoods of a million members are sums of
 * hundreds of thousands of terms; plain summation leaves noise of about 1e-13 relative in the mean, which
 * is as large as the decrease a line search has to detect near the optimum.
 */
export class CompensatedSum {
  private sum = 0
  private compensation = 0

  /** Add one term. */
  add(v: number): void {
    const t = this.sum + v
    if (Math.abs(this.sum) >= Math.abs(v)) this.compensation += this.sum - t + v
    else this.compensation += v - t + this.sum
    this.sum = t
  }

  /** The sum of all terms added so far. */
  get value(): number {
    return this.sum + this.compensation
  }
}

/**
 * log ₂F₁(1, b; c; z) = log Σₙ (b)ₙ/(c)ₙ zⁿ for 0 < b < c, c > 1, 0 ≤ z < 1, and, when `gradient` is given,
 * its partial derivatives ∂/∂b, ∂/∂c, ∂/∂z written into gradient[0..2]. This is the form the Pareto/NBD
 * likelihood reaches after Euler's transformation; its terms fall at least like zⁿ, so the series is used
 * up to z = 0.99 and Euler's integral (c − 1)∫₀¹ (1 − t)^(c−2) (1 − zt)^(−b) dt beyond, differentiated
 * under the integral sign. The derivatives of the series come from ∂(b)ₙ/∂b = (b)ₙ Σ_{k<n} 1/(b + k).
 */
export function logHyp2f1A1(b: number, c: number, z: number, gradient?: Float64Array): number {
  if (!(z >= 0 && z < 1 && b > 0 && c > b && c > 1)) return NaN
  if (z > SERIES_Z_LIMIT) return eulerIntegralA1(b, c, z, gradient)
  let term = 1
  let sum = 1
  let sumB = 0 // Σ ∂tₙ/∂b
  let sumC = 0 // Σ ∂tₙ/∂c
  let sumN = 0 // Σ n tₙ (= z ∂S/∂z)
  let hB = 0
  let hC = 0
  for (let n = 0; n < SERIES_MAX_TERMS; n++) {
    hB += 1 / (b + n)
    hC += 1 / (c + n)
    term *= ((b + n) / (c + n)) * z
    sum += term
    sumB += term * hB
    sumC -= term * hC
    sumN += (n + 1) * term
    // The ratio is below z, so the tail of Σ n·tₙ is below (n+2)·tₙ/(1−z)² relative to the sum.
    const tail = (term * (n + 2)) / ((1 - z) * (1 - z))
    if (tail <= SERIES_EPS * sum || term === 0) break
    if (n === SERIES_MAX_TERMS - 1) return NaN
  }
  if (gradient !== undefined) {
    gradient[0] = sumB / sum
    gradient[1] = sumC / sum
    // ∂S/∂z = Σ n tₙ / z; at z = 0 it is the first coefficient b/c.
    gradient[2] = z > 0 ? sumN / (z * sum) : b / c
  }
  return Math.log(sum)
}

/** Euler's integral for ₂F₁(1, b; c; z) with its derivatives; see {@link logHyp2f1A1}. */
function eulerIntegralA1(b: number, c: number, z: number, gradient?: Float64Array): number {
  const oneMinusZ = 1 - z
  // log ∫ e^φ with φ = (c − 2) log(1 − t) − b log(1 − zt); derivatives are e^φ-weighted means of ∂φ.
  let m = -Infinity
  let s0 = 0
  let sB = 0
  let sC = 0
  let sZ = 0
  for (let k = 0; k < TANH_SINH_NODES; k++) {
    const t = tsT[k] as number
    const oneMinusT = tsOneMinusT[k] as number
    const logOneMinusT = tsLogOneMinusT[k] as number
    const q = oneMinusZ + z * oneMinusT // 1 − z t, without cancellation near t = 1
    const logQ = Math.log(q)
    const v = (c - 2) * logOneMinusT - b * logQ + (tsLogWeight[k] as number)
    if (v === -Infinity) continue
    if (v > m) {
      const scale = Math.exp(m - v)
      s0 *= scale
      sB *= scale
      sC *= scale
      sZ *= scale
      m = v
    }
    const e = Math.exp(v - m)
    s0 += e
    sB -= e * logQ
    sC += e * logOneMinusT
    sZ += (e * b * t) / q
  }
  if (gradient !== undefined) {
    gradient[0] = sB / s0
    gradient[1] = 1 / (c - 1) + sC / s0
    gradient[2] = sZ / s0
  }
  return Math.log(c - 1) + m + Math.log(s0)
}
