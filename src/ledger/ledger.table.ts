/**
 * The ledger's tables (PostgreSQL DDL, run unchanged on PGlite and on a PostgreSQL 15+ server) and their row
 * types. Entries are append-only; balances are derived from them and cached on the account row, which is also
 * the row every write locks.
 * @module
 */
import type { LedgerStore } from './stores/store.js'

export const LEDGER_SCHEMA_VERSION = 1

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

/** Arbitrary but fixed key of the advisory lock that serialises schema creation between instances. */
const SCHEMA_LOCK = 7_301_966

/**
 * Creates the ledger tables if they are missing. Several instances may start at once against one server, and
 * concurrent `CREATE … IF NOT EXISTS` can still collide in the catalog, so creation holds an advisory lock.
 */
export async function ensureLedgerSchema(store: LedgerStore): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK])
    const statements = DDL.split(/;\s*\n/)
      .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
      .filter((s) => s !== '')
    for (const s of statements) await tx.query(s)
    // The earlier form of the function (without p_lock) is an overload of another signature: drop it.
    await tx.query(
      `DROP FUNCTION IF EXISTS ledger_earn_context(text, text, text, timestamptz, timestamptz, timestamptz, timestamptz)`,
    )
    await tx.query(EARN_CONTEXT_FUNCTION)
    await tx.query(
      `INSERT INTO ledger_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO NOTHING`,
      [String(LEDGER_SCHEMA_VERSION)],
    )
  })
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
