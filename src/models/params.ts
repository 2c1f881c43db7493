import { InputError } from '../core/errors.js'

/**
 * Checks that every parameter of a model is a finite positive number (all the models here are
 * parameterised by shapes and scales); throws naming the first one that is not.
 */
export function assertPositiveParams<P extends object>(
  params: P,
  names: readonly (keyof P & string)[],
  what: string,
): void {
  for (const name of names) {
    const v = params[name]
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      throw InputError.single({ field: `${what} ${name}`, value: String(v), reason: 'must be > 0' })
    }
  }
}

/** Checks that a time horizon is finite and not negative; `what` names the function asked. */
export function assertHorizon(t: number, what: string): void {
  if (!(Number.isFinite(t) && t >= 0)) {
    throw InputError.single({
      field: `${what} t`,
      value: String(t),
      reason: 'must be finite and ≥ 0',
    })
  }
}

/** Checks that per-member input arrays have one length, and returns it. */
export function assertSameLength(what: string, ...arrays: ArrayLike<number>[]): number {
  const n = (arrays[0] as ArrayLike<number>).length
  for (const a of arrays) {
    if (a.length !== n) throw new InputError(`${what}: input arrays must have the same length`)
  }
  return n
}

/**
 * A per-member formula of (x, t_x, T) applied to every member, into `out` (allocated when omitted), after
 * checking that the arrays have one length (`what` names the function asked). No allocation per member.
 */
export function perMember(
  what: string,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  out: Float64Array | undefined,
  f: (x: number, tx: number, T: number) => number,
): Float64Array {
  const n = assertSameLength(what, x, tx, T, ...(out === undefined ? [] : [out]))
  const result = out ?? new Float64Array(n)
  for (let i = 0; i < n; i++) result[i] = f(x[i] as number, tx[i] as number, T[i] as number)
  return result
}
