/**
 * The ledger's tables (PostgreSQL DDL, run unchanged on PGlite and on a PostgreSQL 15+ server) and their row
 * types. Entries are append-only; balances are derived from them and cached on the account row, which is also
 * the row every write locks.
 * @module
 */
import { ConfigError } from '../core/errors.js'
import { sqlState, type LedgerStore, type SqlExecutor } from './stores/store.js'

export const ENTRY_KINDS = ['earn', 'redeem', 'expire', 'reverse', 'adjust'] as const
export type EntryKind = (typeof ENTRY_KINDS)[number]

export const SOURCE_TYPES = [
  'order',
  'return',
  'rule',
  'campaign',
  'operator',
  'redemption',
  'system',
] as const
export type SourceType = (typeof SOURCE_TYPES)[number]

const DDL = `
CREATE TABLE IF NOT EXISTS ledger_meta (
  key text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE IF NOT EXISTS ledger_accounts (
  member_id text PRIMARY KEY,
  enrolled_at timestamptz NOT NULL,
  birthday date,
  -- cached sum of the member's entries; the invariant tests check it against the entries
  balance bigint NOT NULL DEFAULT 0,
  -- points reversed by returns after they were spent, paid back by later earns (the documented claw-back rule)
  debt bigint NOT NULL DEFAULT 0 CHECK (debt >= 0),
  tier text NOT NULL,
  tier_since timestamptz NOT NULL,
  downgrade_due_at timestamptz,
  last_check_in date,
  check_in_streak integer NOT NULL DEFAULT 0,
  -- the writing transaction's id: the incremental sync reads rows of transactions that have finished
  tx_id bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
  updated_at timestamptz NOT NULL,
  CHECK (balance >= 0 OR debt > 0)
);

CREATE TABLE IF NOT EXISTS ledger_entries (
  entry_id bigserial PRIMARY KEY,
  member_id text NOT NULL REFERENCES ledger_accounts (member_id),
  kind text NOT NULL CHECK (kind IN ('earn', 'redeem', 'expire', 'reverse', 'adjust')),
  points bigint NOT NULL CHECK (points <> 0),
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL,
  reason text NOT NULL,
  source_type text NOT NULL
    CHECK (source_type IN ('order', 'return', 'rule', 'campaign', 'operator', 'redemption', 'system')),
  source_id text,
  idempotency_key text NOT NULL,
  tx_id bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
  CHECK ((kind = 'earn' AND points > 0) OR (kind IN ('redeem', 'expire', 'reverse') AND points < 0)
         OR kind = 'adjust')
);
CREATE INDEX IF NOT EXISTS ledger_entries_member ON ledger_entries (member_id, entry_id);

CREATE TABLE IF NOT EXISTS ledger_buckets (
  bucket_id bigserial PRIMARY KEY,
  member_id text NOT NULL REFERENCES ledger_accounts (member_id),
  entry_id bigint NOT NULL REFERENCES ledger_entries (entry_id),
  order_id text,
  earned_at timestamptz NOT NULL,
  available_at timestamptz NOT NULL,
  expires_at timestamptz,
  points bigint NOT NULL CHECK (points > 0),
  remaining bigint NOT NULL CHECK (remaining >= 0 AND remaining <= points)
);
CREATE INDEX IF NOT EXISTS ledger_buckets_open ON ledger_buckets (member_id, expires_at, bucket_id)
  WHERE remaining > 0;
CREATE INDEX IF NOT EXISTS ledger_buckets_expiring ON ledger_buckets (expires_at) WHERE remaining > 0;

-- which bucket each debit took its points from: the proof that no bucket is consumed twice
CREATE TABLE IF NOT EXISTS ledger_allocations (
  entry_id bigint NOT NULL REFERENCES ledger_entries (entry_id),
  bucket_id bigint NOT NULL REFERENCES ledger_buckets (bucket_id),
  points bigint NOT NULL CHECK (points > 0),
  PRIMARY KEY (entry_id, bucket_id)
);

CREATE TABLE IF NOT EXISTS ledger_requests (
  idempotency_key text PRIMARY KEY,
  member_id text NOT NULL,
  operation text NOT NULL,
  request_hash text NOT NULL,
  result text NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS ledger_orders (
  order_id text PRIMARY KEY,
  member_id text NOT NULL REFERENCES ledger_accounts (member_id),
  ordered_at timestamptz NOT NULL,
  channel text NOT NULL,
  net_amount numeric(18, 4) NOT NULL CHECK (net_amount >= 0),
  earned_points bigint NOT NULL,
  bucket_id bigint,
  returned_amount numeric(18, 4) NOT NULL DEFAULT 0,
  reversed_points bigint NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ledger_orders_member ON ledger_orders (member_id, ordered_at);

CREATE TABLE IF NOT EXISTS ledger_returns (
  return_id text PRIMARY KEY,
  order_id text NOT NULL REFERENCES ledger_orders (order_id),
  amount numeric(18, 4) NOT NULL,
  returned_at timestamptz NOT NULL,
  reversed_points bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS ledger_rewards (
  reward_id text PRIMARY KEY,
  redeemed bigint NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS ledger_tier_changes (
  change_id bigserial PRIMARY KEY,
  member_id text NOT NULL REFERENCES ledger_accounts (member_id),
  from_tier text,
  to_tier text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('enroll', 'upgrade', 'downgrade', 'grace_started', 'grace_cleared')),
  changed_at timestamptz NOT NULL,
  reason text NOT NULL,
  tx_id bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint)
);
CREATE INDEX IF NOT EXISTS ledger_tier_changes_member ON ledger_tier_changes (member_id, change_id);
CREATE INDEX IF NOT EXISTS ledger_entries_tx ON ledger_entries (tx_id);
CREATE INDEX IF NOT EXISTS ledger_accounts_tx ON ledger_accounts (tx_id);
CREATE INDEX IF NOT EXISTS ledger_tier_changes_tx ON ledger_tier_changes (tx_id);
`

/**
 * Everything an order earn reads, in one round trip: the account (with the id of the transaction that last
 * wrote it), the request stored under the idempotency key, whether the order already earned, the points earned
 * in the local day (daily cap) and the qualification figures of the window. With `p_lock` it first locks the
 * member's account row, then reads (a new snapshot in READ COMMITTED, so a write that held the lock before us
 * is visible); the lock is taken by its own statement on purpose: a single `SELECT … FOR UPDATE` with
 * subqueries would read them in the snapshot taken before it waited for the lock. Without the lock the read is
 * one consistent snapshot, and the write that follows checks the account's transaction id instead.
 * A PL/pgSQL function runs unchanged on PGlite and on the server.
 */
const EARN_CONTEXT_FUNCTION = `
CREATE OR REPLACE FUNCTION ledger_earn_context(
  p_member text, p_key text, p_order text,
  p_day_from timestamptz, p_day_to timestamptz, p_win_from timestamptz, p_win_to timestamptz,
  p_lock boolean)
RETURNS TABLE (
  found boolean, balance bigint, debt bigint, tier text, downgrade_due_at timestamptz, account_tx bigint,
  req_member text, req_operation text, req_hash text, req_result text,
  order_exists boolean, earned_today bigint, q_spend numeric, q_orders bigint, q_points bigint)
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
  IF p_lock THEN
    PERFORM 1 FROM ledger_accounts a WHERE a.member_id = p_member FOR UPDATE;
  END IF;
  RETURN QUERY SELECT
    a.member_id IS NOT NULL, a.balance, a.debt, a.tier, a.downgrade_due_at, a.tx_id,
    r.member_id, r.operation, r.request_hash, r.result,
    EXISTS (SELECT 1 FROM ledger_orders o WHERE o.order_id = p_order),
    (SELECT COALESCE(SUM(e.points), 0)::bigint FROM ledger_entries e
       WHERE e.member_id = p_member AND e.kind = 'earn'
         AND e.occurred_at >= p_day_from AND e.occurred_at < p_day_to),
    (SELECT COALESCE(SUM(o.net_amount - o.returned_amount), 0) FROM ledger_orders o
       WHERE o.member_id = p_member AND o.ordered_at >= p_win_from AND o.ordered_at < p_win_to),
    (SELECT count(*) FROM ledger_orders o
       WHERE o.member_id = p_member AND o.ordered_at >= p_win_from AND o.ordered_at < p_win_to
         AND o.returned_amount < o.net_amount),
    (SELECT COALESCE(SUM(e.points), 0)::bigint FROM ledger_entries e
       WHERE e.member_id = p_member AND e.kind IN ('earn', 'reverse')
         AND e.occurred_at >= p_win_from AND e.occurred_at < p_win_to)
  FROM (SELECT 1) one
  LEFT JOIN ledger_accounts a ON a.member_id = p_member
  LEFT JOIN ledger_requests r ON r.idempotency_key = p_key;
END
$fn$`

/** Arbitrary but fixed key of the advisory lock that serialises migrations between instances. */
const SCHEMA_LOCK = 7_301_966

/** One schema change, applied once, in order, and recorded in `ledger_migrations`. */
export interface LedgerMigration {
  readonly version: number
  readonly name: string
  readonly statements: readonly string[]
}

function statementsOf(ddl: string): string[] {
  return ddl
    .split(/;\s*\n/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s !== '')
}

/**
 * The ledger's migrations, oldest first. Version 1 is the schema as ledgers created before migrations were
 * versioned already have it: its statements say `IF NOT EXISTS` / `OR REPLACE`, so such a ledger adopts it
 * without change. Later versions append here and are never edited once released.
 */
export const LEDGER_MIGRATIONS: readonly LedgerMigration[] = [
  {
    version: 1,
    name: 'ledger tables, indexes and the earn-context function',
    statements: [
      ...statementsOf(DDL),
      // The earliest form of the function (without p_lock) is an overload of another signature: drop it.
      `DROP FUNCTION IF EXISTS ledger_earn_context(text, text, text, timestamptz, timestamptz, timestamptz, timestamptz)`,
      EARN_CONTEXT_FUNCTION,
    ],
  },
  {
    version: 2,
    name: 'points holds of the abuse review (holds.ts)',
    statements: [
      `CREATE TABLE IF NOT EXISTS ledger_holds (
  hold_id bigserial PRIMARY KEY,
  member_id text NOT NULL REFERENCES ledger_accounts (member_id),
  idempotency_key text NOT NULL UNIQUE,
  reason text NOT NULL,
  placed_at timestamptz NOT NULL,
  held_until timestamptz NOT NULL CHECK (held_until > placed_at),
  points bigint NOT NULL CHECK (points >= 0),
  released_at timestamptz,
  release_reason text
)`,
      `CREATE INDEX IF NOT EXISTS ledger_holds_member ON ledger_holds (member_id, hold_id)`,
      `CREATE TABLE IF NOT EXISTS ledger_hold_buckets (
  hold_id bigint NOT NULL REFERENCES ledger_holds (hold_id),
  bucket_id bigint NOT NULL REFERENCES ledger_buckets (bucket_id),
  available_before timestamptz NOT NULL,
  PRIMARY KEY (hold_id, bucket_id)
)`,
    ],
  },
]

/** The schema version this code reads and writes. */
export const LEDGER_SCHEMA_VERSION = (LEDGER_MIGRATIONS.at(-1) as LedgerMigration).version

const MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS ledger_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`

/**
 * The ledger's schema version: the highest migration applied, 0 for an empty database (no `ledger_migrations`
 * table). One read of one small table that no write touches: no lock that a live write waits on.
 */
export async function ledgerSchemaVersion(db: SqlExecutor): Promise<number> {
  try {
    const rows = await db.query<{ v: unknown }>(
      'SELECT COALESCE(MAX(version), 0) AS v FROM ledger_migrations',
    )
    return Number(rows[0]?.v ?? 0)
  } catch (error) {
    if (sqlState(error) === '42P01') return 0 // undefined_table: never migrated
    throw error
  }
}

export interface MigrationReport {
  /** Version before. */
  readonly from: number
  /** Version after (= {@link LEDGER_SCHEMA_VERSION}). */
  readonly to: number
  /** The migrations this call applied (none when another instance applied them first). */
  readonly applied: ReadonlyArray<Pick<LedgerMigration, 'version' | 'name'>>
}

function newerThanCode(store: LedgerStore, version: number): ConfigError {
  return new ConfigError(
    `ledger ${store.location} has schema version ${version}, newer than this memberlens understands (${LEDGER_SCHEMA_VERSION}): upgrade memberlens before using this ledger`,
  )
}

/**
 * Applies the missing migrations in one transaction under a transaction-level advisory lock, so several
 * instances starting at once against one server apply each migration exactly once (the others wait, then find
 * nothing left to do). The migration DDL takes locks live writes wait on: it runs here, once, never on open.
 */
export async function migrateLedger(store: LedgerStore): Promise<MigrationReport> {
  return store.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK])
    await tx.query(MIGRATIONS_TABLE)
    const from = await ledgerSchemaVersion(tx)
    if (from > LEDGER_SCHEMA_VERSION) throw newerThanCode(store, from)
    const applied: Array<Pick<LedgerMigration, 'version' | 'name'>> = []
    for (const m of LEDGER_MIGRATIONS) {
      if (m.version <= from) continue
      for (const s of m.statements) await tx.query(s)
      await tx.query('INSERT INTO ledger_migrations (version, name) VALUES ($1, $2)', [
        m.version,
        m.name,
      ])
      applied.push({ version: m.version, name: m.name })
    }
    return { from, to: LEDGER_SCHEMA_VERSION, applied }
  })
}

/**
 * What every open runs: reads the schema version and, only when the ledger is new or behind, migrates it
 * (see {@link migrateLedger}). Opening an up-to-date ledger runs one read and no DDL. A ledger newer than
 * this code is refused rather than written with an older idea of its tables.
 */
export async function ensureLedgerSchema(store: LedgerStore): Promise<MigrationReport> {
  const version = await ledgerSchemaVersion(store)
  if (version === LEDGER_SCHEMA_VERSION) return { from: version, to: version, applied: [] }
  if (version > LEDGER_SCHEMA_VERSION) throw newerThanCode(store, version)
  return migrateLedger(store)
}

/**
 * The secondary indexes (name and CREATE statement, from the DDL above). A bulk load into empty tables drops
 * them and builds them once at the end, in the same transaction, instead of maintaining them row by row.
 */
export const LEDGER_INDEXES: ReadonlyArray<{ readonly name: string; readonly create: string }> = [
  ...DDL.matchAll(/CREATE INDEX IF NOT EXISTS (\w+) ON [^;]+/g),
].map((m) => ({ name: m[1] as string, create: m[0].replace(/\s+/g, ' ') }))

/** Tables in dependency order (children last), for tests and resets. */
export const LEDGER_TABLES = [
  'ledger_migrations',
  'ledger_meta',
  'ledger_accounts',
  'ledger_entries',
  'ledger_buckets',
  'ledger_allocations',
  'ledger_requests',
  'ledger_orders',
  'ledger_returns',
  'ledger_rewards',
  'ledger_tier_changes',
  'ledger_holds',
  'ledger_hold_buckets',
] as const

/** A ledger entry as the library returns it. */
export interface LedgerEntry {
  readonly entryId: number
  readonly memberId: string
  readonly kind: EntryKind
  readonly points: number
  readonly occurredAt: Date
  readonly recordedAt: Date
  readonly reason: string
  readonly sourceType: SourceType
  readonly sourceId: string | null
  readonly idempotencyKey: string
}

/** A points bucket: what one earn added, what is left, and when it becomes spendable and expires. */
export interface PointsBucket {
  readonly bucketId: number
  readonly memberId: string
  readonly entryId: number
  readonly orderId: string | null
  readonly earnedAt: Date
  readonly availableAt: Date
  readonly expiresAt: Date | null
  readonly points: number
  readonly remaining: number
}

/** The account row (locked by every write). */
export interface Account {
  readonly memberId: string
  readonly enrolledAt: Date
  readonly birthday: string | null
  readonly balance: number
  readonly debt: number
  readonly tier: string
  readonly tierSince: Date
  readonly downgradeDueAt: Date | null
  readonly lastCheckIn: string | null
  readonly checkInStreak: number
}

export interface TierChange {
  readonly changeId: number
  readonly memberId: string
  readonly fromTier: string | null
  readonly toTier: string
  readonly kind: 'enroll' | 'upgrade' | 'downgrade' | 'grace_started' | 'grace_cleared'
  readonly changedAt: Date
  readonly reason: string
}
