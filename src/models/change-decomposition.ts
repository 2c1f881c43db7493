/**
 * Exact decomposition of a change (指标变动归因): a parent that is a product (or quotient) of its children, or a
 * signed sum of them, moves from `before` to `after`; each child is given the part of the parent's change it
 * accounts for, and the parts add up to the parent's change (to floating-point precision).
 *
 * Products use the logarithmic mean Divisia index (LMDI-I, Ang 2004, _Energy Policy_ 32(9)): with L(a, b) =
 * (a − b) / (ln a − ln b), child i with exponent eᵢ contributes L(V₁, V₀)·eᵢ·ln(xᵢ₁ / xᵢ₀); since
 * Σ eᵢ ln(xᵢ₁/xᵢ₀) = ln(V₁/V₀), the parts sum to V₁ − V₀. LMDI needs every value positive; when one is zero
 * or negative the Shapley value is used instead: child i's part is its marginal effect averaged over every
 * order in which the children could have changed (exact by construction, any signs). Sums: each child's own
 * change times its sign.
 * @module
 */
import { InputError } from '../core/errors.js'

/** How a parent is made from its children: a product of powers (±1 for ÷), or a signed sum. */
export type Formula =
  | { readonly kind: 'product'; readonly exponents: readonly number[] }
  | { readonly kind: 'sum'; readonly signs: readonly number[] }

export type DecompositionMethod = 'lmdi' | 'shapley' | 'sum'

export interface ChangeDecomposition {
  readonly method: DecompositionMethod
  /** The parent before and after, as the formula makes it from the children. */
  readonly before: number
  readonly after: number
  readonly change: number
  /** Each child's part of `change`, in the children's order; they sum to `change`. */
  readonly parts: readonly number[]
}

/** The parent's value from its children's values. */
export function evaluateFormula(formula: Formula, values: readonly number[]): number {
  if (formula.kind === 'sum') return values.reduce((s, v, i) => s + (formula.signs[i] ?? 1) * v, 0)
  return values.reduce((p, v, i) => p * v ** (formula.exponents[i] ?? 1), 1)
}

/** The logarithmic mean of two positive numbers; L(a, a) = a. */
export function logMean(a: number, b: number): number {
  if (a === b) return a
  const d = Math.log(a) - Math.log(b)
  // Near-equal values: the quotient loses precision; the arithmetic mean is within O(d²) of the log mean.
  return Math.abs(d) < 1e-8 ? (a + b) / 2 : (a - b) / d
}

function checkInput(formula: Formula, before: readonly number[], after: readonly number[]): number {
  const n = formula.kind === 'sum' ? formula.signs.length : formula.exponents.length
  const bad = (reason: string) => InputError.single({ field: 'children', reason })
  if (n === 0) throw bad('a formula needs at least one child')
  if (before.length !== n || after.length !== n)
    throw bad(`expected ${n} values before and after (got ${before.length} and ${after.length})`)
  if (![...before, ...after].every(Number.isFinite))
    throw bad('every value must be a finite number')
  if (formula.kind === 'product') {
    if (n > 16) throw bad('a product of more than 16 children is not decomposed')
    // A child of 0 with a negative exponent makes the parent undefined.
    formula.exponents.forEach((e, i) => {
      if (e < 0 && (before[i] === 0 || after[i] === 0))
        throw bad(`child ${i + 1} is a divisor and is 0`)
    })
  }
  return n
}

/** ln(a / b), exact to rounding also when a / b would fall out of the normal range of doubles. */
function logRatio(a: number, b: number): number {
  const r = a / b
  return r >= 1e-300 && r <= 1e300 ? Math.log(r) : Math.log(a) - Math.log(b)
}

/**
 * The parts of the parent's change from `before` to `after` (the children's values at the two times), one per
 * child. `method` forces LMDI or Shapley for a product; by default LMDI when every value is positive, else
 * Shapley.
 */
export function decomposeChange(
  formula: Formula,
  before: readonly number[],
  after: readonly number[],
  method?: 'lmdi' | 'shapley',
): ChangeDecomposition {
  const n = checkInput(formula, before, after)
  const v0 = evaluateFormula(formula, before)
  const v1 = evaluateFormula(formula, after)
  if (formula.kind === 'sum') {
    const parts = before.map((b, i) => (formula.signs[i] ?? 1) * ((after[i] as number) - b))
    return { method: 'sum', before: v0, after: v1, change: v1 - v0, parts }
  }
  const positive = [...before, ...after].every((v) => v > 0)
  const use = method ?? (positive ? 'lmdi' : 'shapley')
  if (use === 'lmdi' && !positive)
    throw InputError.single({
      field: 'method',
      value: 'lmdi',
      reason: 'the log-mean method needs every value positive; use shapley',
    })
  const parts =
    use === 'lmdi'
      ? formula.exponents.map(
          (e, i) => logMean(v1, v0) * e * logRatio(after[i] as number, before[i] as number),
        )
      : shapley(formula, before, after, n)
  return { method: use, before: v0, after: v1, change: v1 - v0, parts }
}

/** Shapley parts: child i's marginal effect averaged over the 2ⁿ⁻¹ coalitions of the others, by weight. */
function shapley(
  formula: Formula,
  before: readonly number[],
  after: readonly number[],
  n: number,
): number[] {
  const fact = [1]
  for (let k = 1; k <= n; k++) fact.push((fact[k - 1] as number) * k)
  // f(S): the parent with the children in S at their after values and the rest at their before values.
  const f = new Array<number>(1 << n)
  for (let s = 0; s < 1 << n; s++)
    f[s] = evaluateFormula(
      formula,
      before.map((b, i) => ((s >> i) & 1 ? (after[i] as number) : b)),
    )
  const size = (s: number) => {
    let c = 0
    for (let x = s; x > 0; x &= x - 1) c++
    return c
  }
  return before.map((_, i) => {
    let part = 0
    for (let s = 0; s < 1 << n; s++) {
      if ((s >> i) & 1) continue
      const k = size(s)
      const weight = ((fact[k] as number) * (fact[n - k - 1] as number)) / (fact[n] as number)
      part += weight * ((f[s | (1 << i)] as number) - (f[s] as number))
    }
    return part
  })
}
