/**
 * Incremental sync of ledger facts into DuckDB, so that points and tier metrics and a tier dimension can be
 * computed next to the rest of the member data. DuckDB cannot attach PostgreSQL here (no postgres_scanner, see
 * ENGINES.md), so the sync goes through the application.
 *
 * Watermark: every ledger row carries the id of the transaction that last wrote it (`tx_id`). A sync reads the
 * rows of transactions in `[previous horizon, current horizon)`, where the horizon is the oldest transaction
 * still running on the ledger: everything below it has finished, so no row can appear there later — unlike an
 * `entry_id` watermark, which skips rows of a transaction that commits after a later one. Rows are upserted by
 * their key, so a sync interrupted half-way is simply run again.
 *
 * Buckets change after they are written (`remaining` falls on redemption, expiry and claw-back) and carry no
 * transaction id, so they follow another rule: every transaction that writes a bucket also writes an entry of
 * the bucket's member (the earn that creates it, or the debit that takes points from it), so a sync re-reads
 * every bucket of the members with entries in the window — their current state, which is at least as new as
 * the horizon; a change by a later transaction is read again by the next sync, whose window holds that
 * transaction's entry. The first sync that knows about buckets (no `bucket_tx_horizon` in the sync state)
 * copies them all.
 *
 * A horizon means something only for the ledger it was read on. The sync records the ledger's identity
 * (`ledger_id`, renewed when a ledger is rebuilt from scratch); when the ledger is a different one — another
 * store, a rebuilt one, or one synced before identities were recorded — it empties the copied tables and copies
 * everything again.
 * @module
 */
import { join, sql } from '../../engine/sql/fragment.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { tableExists } from '../../engine/drivers/driver.js'
import {
  ledgerIdentity,
  rowsWrittenBetween,
  transactionHorizon,
  type SyncTable,
} from '../../ledger/ledger.repository.js'
import type { Program } from '../../ledger/program.js'
import type { LedgerStore } from '../../ledger/stores/store.js'
import type { Database } from '../../store/database.js'

export const LOYALTY_TABLES_DDL = [
  `CREATE TABLE IF NOT EXISTS loyalty_accounts (
     ledger_member VARCHAR PRIMARY KEY, member_id BIGINT, enrolled_at TIMESTAMP, balance BIGINT, debt BIGINT,
     tier VARCHAR, tier_since TIMESTAMP, downgrade_due_at TIMESTAMP, updated_at TIMESTAMP)`,
  `CREATE TABLE IF NOT EXISTS loyalty_entries (
     entry_id BIGINT PRIMARY KEY, ledger_member VARCHAR, member_id BIGINT, kind VARCHAR, points BIGINT,
     occurred_at TIMESTAMP, recorded_at TIMESTAMP, reason VARCHAR, source_type VARCHAR, source_id VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS loyalty_tier_changes (
     change_id BIGINT PRIMARY KEY, ledger_member VARCHAR, member_id BIGINT, from_tier VARCHAR, to_tier VARCHAR,
     kind VARCHAR, changed_at TIMESTAMP, reason VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS loyalty_buckets (
     bucket_id BIGINT PRIMARY KEY, ledger_member VARCHAR, member_id BIGINT, entry_id BIGINT, order_id VARCHAR,
     earned_at TIMESTAMP, available_at TIMESTAMP, expires_at TIMESTAMP, points BIGINT, remaining BIGINT)`,
  `CREATE TABLE IF NOT EXISTS loyalty_sync_state (key VARCHAR PRIMARY KEY, value VARCHAR)`,
] as const

export interface SyncSummary {
  readonly entries: number
  readonly accounts: number
  readonly tierChanges: number
  /** Bucket rows copied (all of them on the first sync, else the buckets of members with new entries). */
  readonly buckets: number
  /** True when the copy was made from another ledger (or a rebuilt one) and was replaced in full. */
  readonly replaced: boolean
  readonly fromTx: number
  readonly toTx: number
}

const PAGE = 5_000
/** Members per bucket read of an incremental sync. */
const MEMBER_CHUNK = 1_000

const BUCKET_COLUMNS =
  'b.bucket_id, b.member_id, b.entry_id, b.order_id, b.earned_at, b.available_at, b.expires_at, b.points, b.remaining'

/**
 * Every bucket of the members: those with points left (the partial index on open buckets), and those that
 * gave points to one of the members' debits (allocations by entry). A bucket with nothing left has allocations
 * (points − remaining = Σ allocations), so the union is complete without an index on all buckets by member.
 */
const MEMBER_BUCKETS_SQL = `SELECT ${BUCKET_COLUMNS} FROM ledger_buckets b
  WHERE b.member_id = ANY($1::text[]) AND b.remaining > 0
  UNION
  SELECT ${BUCKET_COLUMNS} FROM ledger_entries e
  JOIN ledger_allocations a ON a.entry_id = e.entry_id
  JOIN ledger_buckets b ON b.bucket_id = a.bucket_id
  WHERE e.member_id = ANY($1::text[])`

const ALL_BUCKETS_SQL = `SELECT ${BUCKET_COLUMNS} FROM ledger_buckets b
  WHERE $1::bigint IS NULL OR b.bucket_id > $1::bigint ORDER BY b.bucket_id LIMIT $2`

const ts = (v: unknown): string | null =>
  v === null || v === undefined
    ? null
    : (v instanceof Date ? v : new Date(String(v))).toISOString().replace('T', ' ').replace('Z', '')

const memberNumber = (v: unknown): bigint | null =>
  /^\d{1,18}$/.test(String(v)) ? BigInt(String(v)) : null

async function upsert(
  d: DuckDbDriver,
  table: SyncTable,
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  if (rows.length === 0) return
  const values = rows.map((r) => {
    switch (table) {
      case 'ledger_entries':
        return sql`(${BigInt(String(r['entry_id']))}, ${String(r['member_id'])}, ${memberNumber(r['member_id'])}, ${String(r['kind'])},
          ${BigInt(String(r['points']))}, CAST(${ts(r['occurred_at'])} AS TIMESTAMP), CAST(${ts(r['recorded_at'])} AS TIMESTAMP),
          ${String(r['reason'])}, ${String(r['source_type'])}, ${r['source_id'] === null ? null : String(r['source_id'])})`
      case 'ledger_accounts':
        return sql`(${String(r['member_id'])}, ${memberNumber(r['member_id'])}, CAST(${ts(r['enrolled_at'])} AS TIMESTAMP),
          ${BigInt(String(r['balance']))}, ${BigInt(String(r['debt']))}, ${String(r['tier'])}, CAST(${ts(r['tier_since'])} AS TIMESTAMP),
          CAST(${ts(r['downgrade_due_at'])} AS TIMESTAMP), CAST(${ts(r['updated_at'])} AS TIMESTAMP))`
      case 'ledger_tier_changes':
        return sql`(${BigInt(String(r['change_id']))}, ${String(r['member_id'])}, ${memberNumber(r['member_id'])},
          ${r['from_tier'] === null ? null : String(r['from_tier'])}, ${String(r['to_tier'])}, ${String(r['kind'])},
          CAST(${ts(r['changed_at'])} AS TIMESTAMP), ${String(r['reason'])})`
      default: {
        const _exhaustive: never = table
        return _exhaustive
      }
    }
  })
  const target =
    table === 'ledger_entries'
      ? sql`loyalty_entries`
      : table === 'ledger_accounts'
        ? sql`loyalty_accounts`
        : sql`loyalty_tier_changes`
  await d.execute(sql`INSERT OR REPLACE INTO ${target} VALUES ${join(values)}`)
}

async function upsertBuckets(
  d: DuckDbDriver,
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  if (rows.length === 0) return
  const values = rows.map(
    (r) =>
      sql`(${BigInt(String(r['bucket_id']))}, ${String(r['member_id'])}, ${memberNumber(r['member_id'])},
        ${BigInt(String(r['entry_id']))}, ${r['order_id'] === null ? null : String(r['order_id'])},
        CAST(${ts(r['earned_at'])} AS TIMESTAMP), CAST(${ts(r['available_at'])} AS TIMESTAMP),
        CAST(${ts(r['expires_at'])} AS TIMESTAMP), ${BigInt(String(r['points']))}, ${BigInt(String(r['remaining']))})`,
  )
  await d.execute(sql`INSERT OR REPLACE INTO loyalty_buckets VALUES ${join(values)}`)
}

/** Creates the loyalty tables in DuckDB if needed. */
export async function ensureLoyaltyTables(d: DuckDbDriver): Promise<void> {
  for (const ddl of LOYALTY_TABLES_DDL) await d.execute({ sql: ddl, parameters: [] })
}

/**
 * Copies ledger rows written since the last sync into DuckDB (`loyalty_accounts`, `loyalty_entries`,
 * `loyalty_tier_changes`), re-reads the buckets of the members with new entries (`loyalty_buckets`) and
 * records the program's currency and point value for the money figures, and its tier names (en and zh).
 */
export async function syncLedgerToDuckDb(
  db: Database,
  store: LedgerStore,
  program: Program,
): Promise<SyncSummary> {
  const d = db.driver
  await ensureLoyaltyTables(d)
  const stateOf = (key: string) =>
    d.first<{ value: string }>(sql`SELECT value FROM loyalty_sync_state WHERE key = ${key}`)
  const state = await stateOf('tx_horizon')
  const synced = await stateOf('ledger_id')
  const ledgerId = await ledgerIdentity(store)
  const toTx = await transactionHorizon(store)
  // A copy of another ledger (or of this one before it was rebuilt) is replaced: its horizon is meaningless here.
  const replaced = state !== undefined && (synced?.value !== ledgerId || Number(state.value) > toTx)
  const fromTx = state && !replaced ? Number(state.value) : 0
  const bucketState = replaced ? undefined : await stateOf('bucket_tx_horizon')
  const counts: Record<SyncTable, number> = {
    ledger_entries: 0,
    ledger_accounts: 0,
    ledger_tier_changes: 0,
  }
  let buckets = 0
  await d.transaction(async () => {
    if (replaced) {
      for (const t of [
        'loyalty_accounts',
        'loyalty_entries',
        'loyalty_tier_changes',
        'loyalty_buckets',
      ])
        await d.execute({ sql: `DELETE FROM ${t}`, parameters: [] })
    }
    const touched = new Set<string>()
    for (const table of Object.keys(counts) as SyncTable[]) {
      const key =
        table === 'ledger_entries'
          ? 'entry_id'
          : table === 'ledger_accounts'
            ? 'member_id'
            : 'change_id'
      let after: string | number | null = null
      for (;;) {
        const rows = await rowsWrittenBetween(store, table, fromTx, toTx, after, PAGE)
        await upsert(d, table, rows)
        if (table === 'ledger_entries') for (const r of rows) touched.add(String(r['member_id']))
        counts[table] += rows.length
        if (rows.length < PAGE) break
        after = String(rows[rows.length - 1]?.[key])
      }
    }
    if (bucketState === undefined) {
      let after: string | null = null
      for (;;) {
        const rows: Record<string, unknown>[] = await store.query(ALL_BUCKETS_SQL, [after, PAGE])
        await upsertBuckets(d, rows)
        buckets += rows.length
        if (rows.length < PAGE) break
        after = String(rows[rows.length - 1]?.['bucket_id'])
      }
    } else {
      const members = [...touched].sort()
      for (let i = 0; i < members.length; i += MEMBER_CHUNK) {
        const rows = await store.query(MEMBER_BUCKETS_SQL, [members.slice(i, i + MEMBER_CHUNK)])
        await upsertBuckets(d, rows)
        buckets += rows.length
      }
    }
    for (const [k, v] of [
      ['ledger_id', ledgerId],
      ['tx_horizon', String(toTx)],
      ['bucket_tx_horizon', String(toTx)],
      ['currency', program.currency],
      ['point_value', program.point_value],
      [
        'tier_names',
        JSON.stringify(
          Object.fromEntries(
            program.tiers.levels.map((l) => [l.id, { en: l.name, zh: l.name_zh ?? l.name }]),
          ),
        ),
      ],
    ] as const) {
      await d.execute(sql`INSERT OR REPLACE INTO loyalty_sync_state VALUES (${k}, ${v})`)
    }
  })
  return {
    entries: counts.ledger_entries,
    accounts: counts.ledger_accounts,
    tierChanges: counts.ledger_tier_changes,
    buckets,
    replaced,
    fromTx,
    toTx,
  }
}

/** A tier's name in English and Chinese. */
export interface TierName {
  readonly en: string
  readonly zh: string
}

/** The program's tier names by tier id, as of the last sync (empty before the first). */
export async function syncedTierNames(d: DuckDbDriver): Promise<Record<string, TierName>> {
  if (!(await tableExists(d, 'loyalty_sync_state'))) return {}
  const r = await d.first<{ value: string }>(
    sql`SELECT value FROM loyalty_sync_state WHERE key = 'tier_names'`,
  )
  return r ? (JSON.parse(r.value) as Record<string, TierName>) : {}
}
