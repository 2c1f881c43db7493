/**
 * A small constant relation written as `SELECT … UNION ALL SELECT …`, which every engine reads the same way.
 * (`(VALUES …) AS t(a, b)` names columns in DuckDB and PostgreSQL, but ClickHouse has no column list on a
 * VALUES alias.) The values travel as parameters.
 * @module
 */
import { ident, join, sql, type Fragment, type SqlPart } from './fragment.js'

/** `(SELECT v11 AS c1, v12 AS c2 UNION ALL SELECT v21, v22 …) AS alias`; at least one row. */
export function valuesRelation(
  alias: string,
  columns: readonly string[],
  rows: readonly (readonly SqlPart[])[],
): Fragment {
  if (rows.length === 0) throw new Error('a values relation needs at least one row')
  const selects = rows.map((row, i) => {
    if (row.length !== columns.length) throw new Error(`row ${i} has ${row.length} values`)
    const cells = row.map((v, j) => (i === 0 ? sql`${v} AS ${ident(columns[j] ?? '')}` : sql`${v}`))
    return sql`SELECT ${join(cells)}`
  })
  return sql`(${join(selects, ' UNION ALL ')}) AS ${ident(alias)}`
}
