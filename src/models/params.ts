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
