/**
 * Window-function building blocks that read the same on every engine.
 * @module
 */
import { sql, type Fragment } from './fragment.js'

/**
 * The previous row's `expr` in `window` (a `PARTITION BY … ORDER BY …` text), NULL on a partition's first row.
 * Plain `lag` gives NULL there in standard SQL but the column type's default (0, 1970-01-01) in ClickHouse;
 * guarding it with `row_number()` gives NULL on both.
 */
export function previousValue(expr: Fragment, window: Fragment): Fragment {
  return sql`CASE WHEN row_number() OVER (${window}) > 1 THEN lag(${expr}) OVER (${window}) END`
}
