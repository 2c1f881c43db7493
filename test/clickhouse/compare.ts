/**
 * Comparing results of the two engines: counts exactly, anything else to 1e-9 relative.
 * @module
 */
import { expect } from 'vitest'

/** Relative tolerance for sums, ratios and averages (summation order differs between engines). */
export const RELATIVE = 1e-9

/** Whether two numbers agree: exactly when `exact`, else to {@link RELATIVE}. */
export function close(a: number | null, b: number | null, exact: boolean): boolean {
  if (a === null || b === null) return a === b
  if (exact) return a === b
  if (a === b) return true
  return Math.abs(a - b) <= RELATIVE * Math.max(Math.abs(a), Math.abs(b))
}

const asNumber = (v: unknown): number | null =>
  v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : Number(v)

/**
 * Expects two lists of rows to match: the same keys, equal text, numbers per `exact` (a column name → exact)
 * and a readable message naming the first difference.
 */
export function expectSameRows(
  label: string,
  duck: readonly Record<string, unknown>[],
  ch: readonly Record<string, unknown>[],
  exact: (column: string) => boolean,
): void {
  expect(ch.length, `${label}: row count`).toBe(duck.length)
  duck.forEach((d, i) => {
    const c = ch[i] ?? {}
    expect(Object.keys(c).sort(), `${label}: columns of row ${i}`).toEqual(Object.keys(d).sort())
    for (const [k, v] of Object.entries(d)) {
      const w = c[k]
      const numeric = typeof v === 'number' || typeof v === 'bigint'
      if (numeric || typeof w === 'number') {
        const a = asNumber(v)
        const b = asNumber(w)
        if (!close(a, b, exact(k))) {
          throw new Error(`${label}: row ${i} ${k}: DuckDB ${String(a)} ClickHouse ${String(b)}`)
        }
      } else {
        expect(w, `${label}: row ${i} ${k}`).toEqual(v)
      }
    }
  })
}
