/**
 * Comparing results of the two engines: counts exactly, anything else to 1e-9 relative.
 * @module
 */

/** Relative tolerance for sums, ratios and averages (the engines add in different orders). */
export const RELATIVE = 1e-9

/** Whether two numbers agree: exactly when `exact`, else to {@link RELATIVE}. */
export function close(a: number | null, b: number | null, exact: boolean): boolean {
  if (a === null || b === null) return a === b
  if (exact) return a === b
  if (a === b) return true
  return Math.abs(a - b) <= RELATIVE * Math.max(Math.abs(a), Math.abs(b))
}

const num = (v: unknown): number | null =>
  typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : null

/**
 * Throws naming the first difference between two results (objects, arrays, numbers, text). Numbers under a key
 * in `countKeys` (or in an array under such a key) must be equal; other numbers agree to {@link RELATIVE}.
 * A bigint and a number of the same value are equal (the engines' clients differ there).
 */
export function expectSame(
  duck: unknown,
  ch: unknown,
  countKeys: ReadonlySet<string>,
  path = '$',
  exact = false,
): void {
  const a = num(duck)
  const b = num(ch)
  if (a !== null || b !== null) {
    if (a === null || b === null || !close(a, b, exact)) {
      throw new Error(`${path}: DuckDB ${String(duck)}, ClickHouse ${String(ch)}`)
    }
    return
  }
  if (Array.isArray(duck)) {
    if (!Array.isArray(ch) || ch.length !== duck.length) {
      throw new Error(
        `${path}: DuckDB has ${duck.length} items, ClickHouse ${JSON.stringify(ch)?.slice(0, 80)}`,
      )
    }
    duck.forEach((x, i) => expectSame(x, ch[i], countKeys, `${path}[${i}]`, exact))
    return
  }
  if (duck !== null && typeof duck === 'object') {
    if (ch === null || typeof ch !== 'object') throw new Error(`${path}: ClickHouse ${String(ch)}`)
    const ka = Object.keys(duck).sort()
    const kb = Object.keys(ch).sort()
    if (ka.join() !== kb.join()) throw new Error(`${path}: keys ${ka.join()} vs ${kb.join()}`)
    for (const k of ka) {
      const x = (duck as Record<string, unknown>)[k]
      const y = (ch as Record<string, unknown>)[k]
      expectSame(x, y, countKeys, `${path}.${k}`, countKeys.has(k))
    }
    return
  }
  if (duck !== ch) throw new Error(`${path}: DuckDB ${String(duck)}, ClickHouse ${String(ch)}`)
}
