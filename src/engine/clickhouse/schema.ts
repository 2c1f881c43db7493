/**
 * ClickHouse tables for the canonical schema (src/core/schema.ts), derived from the same table definitions as
 * the DuckDB DDL.
 *
 * - Engine `ReplacingMergeTree`: a row loaded twice (same sorting key) is kept once after a merge, so a re-load
 *   is idempotent. The loader runs `OPTIMIZE … FINAL` after each load so reads never see the duplicates.
 * - Sorting key: member first, then the table's time field, then the rest of the table's key — per-member
 *   scans (RFM, lifecycle, CLV summaries) read contiguous ranges, and the key is unique, as the replacing
 *   engine needs.
 * - Partitions: one per month of the time field (`toYYYYMM`), so loads and deletes of old months touch few
 *   parts. Tables without a time field are not partitioned.
 * - Optional fields are `Nullable(T)`; key fields are not (ClickHouse sorting keys cannot be nullable).
 * - Money is `Decimal(18,4)`, exactly as in DuckDB.
 * - On a cluster, {@link buildClusterTables} gives a local table per node plus a `Distributed` table sharded by
 *   `intHash32(member_id)`, so every member's rows live on one shard and per-member aggregation stays local.
 * @module
 */
import type { FieldDef, TableDef } from '../../core/schema.js'
import type { SqlDialect } from '../dialects/dialect.js'
import { ident, join, sql, unsafeRaw, type Fragment } from '../sql/fragment.js'

/** What the DDL needs of a table: a canonical table, or another table of the DuckDB database (loyalty_*). */
export type TableShape = Pick<TableDef, 'fields' | 'key' | 'timeField'> & { readonly name: string }

/** The sorting key of a table: member, time, then the rest of its key. */
export function sortingKey(table: TableShape): string[] {
  const names = new Set(table.fields.map((f) => f.name))
  const out: string[] = []
  if (names.has('member_id')) out.push('member_id')
  if (table.timeField !== undefined) out.push(table.timeField)
  for (const k of table.key) if (!out.includes(k)) out.push(k)
  return out
}

function columnType(dialect: SqlDialect, f: FieldDef, inKey: boolean): string {
  const t = dialect.columnType(f.type)
  if (f.required || inKey) return t
  const lc = /^LowCardinality\((.*)\)$/.exec(t)
  return lc ? `LowCardinality(Nullable(${lc[1] ?? ''}))` : `Nullable(${t})`
}

export interface TableOptions {
  /** Table name (default: the canonical name). */
  readonly name?: string
  /** Partition by month of the time field (default true). */
  readonly partitioned?: boolean
}

/** `CREATE TABLE IF NOT EXISTS … ENGINE = ReplacingMergeTree` for a canonical table. */
export function buildClickHouseTable(
  dialect: SqlDialect,
  table: TableShape,
  options: TableOptions = {},
): Fragment {
  const key = sortingKey(table)
  const columns = table.fields.map(
    (f) => sql`${ident(f.name)} ${unsafeRaw(columnType(dialect, f, key.includes(f.name)))}`,
  )
  const partition =
    table.timeField !== undefined && options.partitioned !== false
      ? sql` PARTITION BY toYYYYMM(${ident(table.timeField)})`
      : sql``
  return sql`CREATE TABLE IF NOT EXISTS ${ident(options.name ?? table.name)} (${join(columns)})
    ENGINE = ReplacingMergeTree${partition} ORDER BY (${join(key.map((k) => ident(k)))})`
}

export interface ClusterOptions {
  /** Cluster name from the servers' `remote_servers` configuration. */
  readonly cluster: string
  /** Database holding the local tables on every node. */
  readonly database: string
}

/**
 * For a sharded deployment: the local table (`<name>_local`, on every node) and the `Distributed` table under
 * the canonical name that fans queries out and routes inserts by `intHash32(member_id)`. Tables with no member
 * (acquisition_spend, visitors, loads) are sharded by a hash of their key, so that a row loaded again reaches
 * the shard that holds it and the merge keeps it once (a random shard would count it twice).
 */
export function buildClusterTables(
  dialect: SqlDialect,
  table: TableDef,
  options: ClusterOptions,
): [local: Fragment, distributed: Fragment] {
  const localName = `${table.name}_local`
  const local = buildClickHouseTable(dialect, table, { name: localName })
  const hasMember = table.fields.some((f) => f.name === 'member_id')
  const shardKey = hasMember
    ? sql`intHash32(${ident('member_id')})`
    : sql`cityHash64(${join(sortingKey(table).map((k) => ident(k)))})`
  const distributed = sql`CREATE TABLE IF NOT EXISTS ${ident(table.name)} AS ${ident(localName)}
    ENGINE = Distributed(${ident(options.cluster)}, ${ident(options.database)}, ${ident(localName)}, ${shardKey})`
  return [local, distributed]
}
