import type { TableDef } from '../../core/schema.js'
import type { SqlDialect } from '../dialects/dialect.js'
import { ident, join, sql, unsafeRaw, type Fragment } from './fragment.js'

/**
 * `CREATE TABLE IF NOT EXISTS` for a canonical table. Keys are enforced by the ingest path (anti-join insert
 * plus update), not by an index: an index on tens of millions of text keys costs memory the loads do not need.
 */
export function buildCreateTable(dialect: SqlDialect, table: TableDef): Fragment {
  const columns = table.fields.map((f) => {
    const type = unsafeRaw(dialect.columnType(f.type))
    return f.required ? sql`${ident(f.name)} ${type} NOT NULL` : sql`${ident(f.name)} ${type}`
  })
  return sql`CREATE TABLE IF NOT EXISTS ${ident(table.name)} (${join(columns)})`
}
