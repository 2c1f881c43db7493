/**
 * The ledger's SQL. Every function takes the executor (a transaction) first; locking is explicit
 * ({@link lockAccount}). No rules live here: the service decides, the repository reads and writes.
 * @module
 */
import type {
  Account,
  EntryKind,
  LedgerEntry,
  PointsBucket,
  SourceType,
  TierChange,
} from './ledger.table.js'
import type { SqlExecutor } from './stores/store.js'

type Row = Record<string, unknown>

/** A 64-bit integer column as a JS number: both clients may return strings or bigints for int8. */
export function toInt(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v)
  if (!Number.isSafeInteger(n)) throw new Error(`not a safe integer: ${String(v)}`)
  return n
}

function toDate(v: unknown): Date {
  return v instanceof Date ? v : new Date(String(v))
}

function toDateOrNull(v: unknown): Date | null {
  return v === null || v === undefined ? null : toDate(v)
}

/** A `date` column as YYYY-MM-DD (PGlite and postgres.js both return it as a Date at UTC midnight). */
function toDay(v: unknown): string | null {
  if (v === null || v === undefined) return null
  return v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10)
}

/** A `numeric` as its decimal text, trailing zeros removed. */
export function toDecimal(v: unknown): string {
  const s = String(v)
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s
}

const ACCOUNT_COLUMNS = `member_id, enrolled_at, birthday, balance, debt, tier, tier_since, downgrade_due_at,
  last_check_in, check_in_streak`

function mapAccount(r: Row): Account {
  return {
    memberId: String(r['member_id']),
    enrolledAt: toDate(r['enrolled_at']),
    birthday: toDay(r['birthday']),
    balance: toInt(r['balance']),
    debt: toInt(r['debt']),
    tier: String(r['tier']),
    tierSince: toDate(r['tier_since']),
    downgradeDueAt: toDateOrNull(r['downgrade_due_at']),
    lastCheckIn: toDay(r['last_check_in']),
    checkInStreak: toInt(r['check_in_streak']),
  }
}

function mapEntry(r: Row): LedgerEntry {
  return {
    entryId: toInt(r['entry_id']),
    memberId: String(r['member_id']),
    kind: r['kind'] as EntryKind,
    points: toInt(r['points']),
    occurredAt: toDate(r['occurred_at']),
    recordedAt: toDate(r['recorded_at']),
    reason: String(r['reason']),
    sourceType: r['source_type'] as SourceType,
    sourceId: r['source_id'] === null ? null : String(r['source_id']),
    idempotencyKey: String(r['idempotency_key']),
  }
}

function mapBucket(r: Row): PointsBucket {
  return {
    bucketId: toInt(r['bucket_id']),
    memberId: String(r['member_id']),
    entryId: toInt(r['entry_id']),
    orderId: r['order_id'] === null ? null : String(r['order_id']),
    earnedAt: toDate(r['earned_at']),
    availableAt: toDate(r['available_at']),
    expiresAt: toDateOrNull(r['expires_at']),
    points: toInt(r['points']),
    remaining: toInt(r['remaining']),
  }
}

/** Reads an account without locking it. */
export async function findAccount(tx: SqlExecutor, memberId: string): Promise<Account | undefined> {
  const rows = await tx.query(
    `SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts WHERE member_id = $1`,
    [memberId],
  )
  return rows[0] ? mapAccount(rows[0]) : undefined
}

/**
 * Locks the member's account row until the transaction ends and returns it. Every write but the unlocked order
 * earn takes this lock first, so two writes for one member (a store and the app redeeming at the same moment) run
 * one after the other and the second sees the first's buckets; the unlocked earn writes only if the account is
 * unchanged since its read (see `writeEarn`).
 */
export async function lockAccount(tx: SqlExecutor, memberId: string): Promise<Account | undefined> {
  const rows = await tx.query(
    `SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts WHERE member_id = $1 FOR UPDATE`,
    [memberId],
  )
  return rows[0] ? mapAccount(rows[0]) : undefined
}

/** Creates an account; returns false when it already exists. */
export async function insertAccount(
  tx: SqlExecutor,
  a: { memberId: string; enrolledAt: Date; birthday: string | null; tier: string; now: Date },
): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO ledger_accounts (member_id, enrolled_at, birthday, tier, tier_since, updated_at)
     VALUES ($1, $2::timestamptz, $3::date, $4, $2::timestamptz, $5::timestamptz)
     ON CONFLICT (member_id) DO NOTHING RETURNING member_id`,
    [a.memberId, a.enrolledAt.toISOString(), a.birthday, a.tier, a.now.toISOString()],
  )
  return rows.length === 1
}

/** The account fields a write may change. */
export type AccountPatch = {
  -readonly [
    K in
      'balance' | 'debt' | 'tier' | 'tierSince' | 'downgradeDueAt' | 'lastCheckIn' | 'checkInStreak'
  ]?: Account[K]
}

/** Writes the account fields a write changed, stamping the transaction id for the incremental sync. */
export async function updateAccount(
  tx: SqlExecutor,
  memberId: string,
  now: Date,
  patch: AccountPatch,
): Promise<void> {
  const sets: string[] = []
  const params: unknown[] = [memberId, now.toISOString()]
  const add = (column: string, value: unknown, cast = '') => {
    params.push(value)
    sets.push(`${column} = $${params.length}${cast}`)
  }
  if (patch.balance !== undefined) add('balance', patch.balance)
  if (patch.debt !== undefined) add('debt', patch.debt)
  if (patch.tier !== undefined) add('tier', patch.tier)
  if (patch.tierSince !== undefined)
    add('tier_since', patch.tierSince.toISOString(), '::timestamptz')
  if (patch.downgradeDueAt !== undefined)
    add('downgrade_due_at', patch.downgradeDueAt?.toISOString() ?? null, '::timestamptz')
  if (patch.lastCheckIn !== undefined) add('last_check_in', patch.lastCheckIn, '::date')
  if (patch.checkInStreak !== undefined) add('check_in_streak', patch.checkInStreak)
  await tx.query(
    `UPDATE ledger_accounts SET ${[...sets, `updated_at = $2::timestamptz`, `tx_id = pg_current_xact_id()::text::bigint`].join(', ')}
     WHERE member_id = $1`,
    params,
  )
}

export interface NewEntry {
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

/** Appends an entry (the ledger is append-only: there is no update or delete of entries). */
export async function insertEntry(tx: SqlExecutor, e: NewEntry): Promise<number> {
  const rows = await tx.query(
    `INSERT INTO ledger_entries
       (member_id, kind, points, occurred_at, recorded_at, reason, source_type, source_id, idempotency_key)
     VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz, $6, $7, $8, $9) RETURNING entry_id`,
    [
      e.memberId,
      e.kind,
      e.points,
      e.occurredAt.toISOString(),
      e.recordedAt.toISOString(),
      e.reason,
      e.sourceType,
      e.sourceId,
      e.idempotencyKey,
    ],
  )
  return toInt(rows[0]?.['entry_id'])
}

export async function insertBucket(
  tx: SqlExecutor,
  b: Omit<PointsBucket, 'bucketId'>,
): Promise<number> {
  const rows = await tx.query(
    `INSERT INTO ledger_buckets
       (member_id, entry_id, order_id, earned_at, available_at, expires_at, points, remaining)
     VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz, $6::timestamptz, $7, $8) RETURNING bucket_id`,
    [
      b.memberId,
      b.entryId,
      b.orderId,
      b.earnedAt.toISOString(),
      b.availableAt.toISOString(),
      b.expiresAt?.toISOString() ?? null,
      b.points,
      b.remaining,
    ],
  )
  return toInt(rows[0]?.['bucket_id'])
}

/**
 * The member's buckets with points left that have not expired by `at`, in consumption order: earliest expiry
 * first (never-expiring last), then oldest. `spendableOnly` leaves out points still pending at `at`.
 * Call with the account locked: the rows are then stable until the transaction ends.
 */
export async function openBuckets(
  tx: SqlExecutor,
  memberId: string,
  at: Date,
  spendableOnly: boolean,
): Promise<PointsBucket[]> {
  const rows = await tx.query(
    `SELECT * FROM ledger_buckets
     WHERE member_id = $1 AND remaining > 0
       AND (expires_at IS NULL OR expires_at > $2::timestamptz)
       AND ($3::boolean = false OR available_at <= $2::timestamptz)
     ORDER BY expires_at ASC NULLS LAST, bucket_id ASC`,
    [memberId, at.toISOString(), spendableOnly],
  )
  return rows.map(mapBucket)
}

export async function getBucket(
  tx: SqlExecutor,
  bucketId: number,
): Promise<PointsBucket | undefined> {
  const rows = await tx.query('SELECT * FROM ledger_buckets WHERE bucket_id = $1', [bucketId])
  return rows[0] ? mapBucket(rows[0]) : undefined
}

/** Takes `points` from a bucket for a debit entry and records the allocation. */
export async function consumeBucket(
  tx: SqlExecutor,
  entryId: number,
  bucketId: number,
  points: number,
): Promise<void> {
  // The `remaining >= $2` guard makes a double consumption fail loudly instead of going negative.
  const rows = await tx.query(
    `UPDATE ledger_buckets SET remaining = remaining - $2 WHERE bucket_id = $1 AND remaining >= $2
     RETURNING bucket_id`,
    [bucketId, points],
  )
  if (rows.length !== 1) throw new Error(`bucket ${bucketId} has fewer than ${points} points left`)
  await tx.query(
    `INSERT INTO ledger_allocations (entry_id, bucket_id, points) VALUES ($1, $2, $3)
     ON CONFLICT (entry_id, bucket_id) DO UPDATE SET points = ledger_allocations.points + EXCLUDED.points`,
    [entryId, bucketId, points],
  )
}

/** The oldest debit entries with points not yet backed by buckets (the debt), oldest first. */
export async function unsettledDebits(
  tx: SqlExecutor,
  memberId: string,
): Promise<Array<{ entryId: number; open: number }>> {
  const rows = await tx.query(
    `SELECT e.entry_id, -e.points - COALESCE(SUM(a.points), 0) AS open
     FROM ledger_entries e LEFT JOIN ledger_allocations a ON a.entry_id = e.entry_id
     WHERE e.member_id = $1 AND e.points < 0
     GROUP BY e.entry_id, e.points
     HAVING -e.points - COALESCE(SUM(a.points), 0) > 0
     ORDER BY e.entry_id`,
    [memberId],
  )
  return rows.map((r) => ({ entryId: toInt(r['entry_id']), open: toInt(r['open']) }))
}

/** Buckets whose expiry has passed at `at` and still hold points, for the expiry job (one member). */
export async function expiredBuckets(
  tx: SqlExecutor,
  memberId: string,
  at: Date,
): Promise<PointsBucket[]> {
  const rows = await tx.query(
    `SELECT * FROM ledger_buckets
     WHERE member_id = $1 AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $2::timestamptz
     ORDER BY expires_at, bucket_id`,
    [memberId, at.toISOString()],
  )
  return rows.map(mapBucket)
}

/** Members with expired buckets still holding points at `at`. */
export async function membersWithExpiredPoints(
  tx: SqlExecutor,
  at: Date,
  limit: number,
): Promise<string[]> {
  const rows = await tx.query(
    `SELECT DISTINCT member_id FROM ledger_buckets
     WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $1::timestamptz
     ORDER BY member_id LIMIT $2`,
    [at.toISOString(), limit],
  )
  return rows.map((r) => String(r['member_id']))
}

export interface StoredRequest {
  readonly memberId: string
  readonly operation: string
  readonly requestHash: string
  readonly result: string
}

export async function findRequest(
  tx: SqlExecutor,
  key: string,
): Promise<StoredRequest | undefined> {
  const rows = await tx.query(
    'SELECT member_id, operation, request_hash, result FROM ledger_requests WHERE idempotency_key = $1',
    [key],
  )
  const r = rows[0]
  return r
    ? {
        memberId: String(r['member_id']),
        operation: String(r['operation']),
        requestHash: String(r['request_hash']),
        result: String(r['result']),
      }
    : undefined
}

/** Records a request's result under its idempotency key (a concurrent duplicate fails with 23505). */
export async function insertRequest(
  tx: SqlExecutor,
  key: string,
  r: StoredRequest,
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO ledger_requests (idempotency_key, member_id, operation, request_hash, result, created_at)
     VALUES ($1, $2, $3, $4, $5, $6::timestamptz)`,
    [key, r.memberId, r.operation, r.requestHash, r.result, now.toISOString()],
  )
}

export interface OrderRow {
  readonly orderId: string
  readonly memberId: string
  readonly orderedAt: Date
  readonly channel: string
  readonly netAmount: string
  readonly earnedPoints: number
  readonly bucketId: number | null
  readonly returnedAmount: string
  readonly reversedPoints: number
}

function mapOrder(r: Row): OrderRow {
  return {
    orderId: String(r['order_id']),
    memberId: String(r['member_id']),
    orderedAt: toDate(r['ordered_at']),
    channel: String(r['channel']),
    netAmount: toDecimal(r['net_amount']),
    earnedPoints: toInt(r['earned_points']),
    bucketId: r['bucket_id'] === null ? null : toInt(r['bucket_id']),
    returnedAmount: toDecimal(r['returned_amount']),
    reversedPoints: toInt(r['reversed_points']),
  }
}

export async function findOrder(tx: SqlExecutor, orderId: string): Promise<OrderRow | undefined> {
  const rows = await tx.query('SELECT * FROM ledger_orders WHERE order_id = $1', [orderId])
  return rows[0] ? mapOrder(rows[0]) : undefined
}

export async function insertOrder(tx: SqlExecutor, o: OrderRow): Promise<void> {
  await tx.query(
    `INSERT INTO ledger_orders (order_id, member_id, ordered_at, channel, net_amount, earned_points, bucket_id)
     VALUES ($1, $2, $3::timestamptz, $4, $5::numeric, $6, $7)`,
    [
      o.orderId,
      o.memberId,
      o.orderedAt.toISOString(),
      o.channel,
      o.netAmount,
      o.earnedPoints,
      o.bucketId,
    ],
  )
}

export async function recordReturn(
  tx: SqlExecutor,
  r: {
    returnId: string
    orderId: string
    amount: string
    returnedAt: Date
    reversedPoints: number
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO ledger_returns (return_id, order_id, amount, returned_at, reversed_points)
     VALUES ($1, $2, $3::numeric, $4::timestamptz, $5)`,
    [r.returnId, r.orderId, r.amount, r.returnedAt.toISOString(), r.reversedPoints],
  )
  await tx.query(
    `UPDATE ledger_orders SET returned_amount = returned_amount + $2::numeric,
       reversed_points = reversed_points + $3 WHERE order_id = $1`,
    [r.orderId, r.amount, r.reversedPoints],
  )
}

export async function findReturn(
  tx: SqlExecutor,
  returnId: string,
): Promise<{ orderId: string; reversedPoints: number } | undefined> {
  const rows = await tx.query(
    'SELECT order_id, reversed_points FROM ledger_returns WHERE return_id = $1',
    [returnId],
  )
  const r = rows[0]
  return r
    ? { orderId: String(r['order_id']), reversedPoints: toInt(r['reversed_points']) }
    : undefined
}

/** Points that left a bucket through expiry (not through redemption or reversal). */
export async function expiredFromBucket(tx: SqlExecutor, bucketId: number): Promise<number> {
  const rows = await tx.query(
    `SELECT COALESCE(SUM(a.points), 0) AS p FROM ledger_allocations a
     JOIN ledger_entries e ON e.entry_id = a.entry_id WHERE a.bucket_id = $1 AND e.kind = 'expire'`,
    [bucketId],
  )
  return toInt(rows[0]?.['p'] ?? 0)
}

/** Locks a reward's stock row (created on first use) and returns how many were redeemed. */
export async function lockReward(tx: SqlExecutor, rewardId: string): Promise<number> {
  await tx.query(
    'INSERT INTO ledger_rewards (reward_id) VALUES ($1) ON CONFLICT (reward_id) DO NOTHING',
    [rewardId],
  )
  const rows = await tx.query(
    'SELECT redeemed FROM ledger_rewards WHERE reward_id = $1 FOR UPDATE',
    [rewardId],
  )
  return toInt(rows[0]?.['redeemed'] ?? 0)
}

export async function addRedeemed(
  tx: SqlExecutor,
  rewardId: string,
  quantity: number,
): Promise<void> {
  await tx.query('UPDATE ledger_rewards SET redeemed = redeemed + $2 WHERE reward_id = $1', [
    rewardId,
    quantity,
  ])
}

/** Points earned today (local day [from, to)) by the member, for the daily cap. */
export async function earnedBetween(
  tx: SqlExecutor,
  memberId: string,
  from: Date,
  to: Date,
): Promise<number> {
  const rows = await tx.query(
    `SELECT COALESCE(SUM(points), 0) AS p FROM ledger_entries
     WHERE member_id = $1 AND kind = 'earn' AND occurred_at >= $2::timestamptz AND occurred_at < $3::timestamptz`,
    [memberId, from.toISOString(), to.toISOString()],
  )
  return toInt(rows[0]?.['p'] ?? 0)
}

/** Entries of one kind and source id for the member (e.g. the year's birthday bonus). */
export async function countEntriesBySource(
  tx: SqlExecutor,
  memberId: string,
  sourceType: SourceType,
  sourceId: string,
): Promise<number> {
  const rows = await tx.query(
    `SELECT count(*) AS n FROM ledger_entries WHERE member_id = $1 AND source_type = $2 AND source_id = $3`,
    [memberId, sourceType, sourceId],
  )
  return toInt(rows[0]?.['n'] ?? 0)
}

/** Entries of the member since a local-day start with a reason prefix (e.g. reviews per day). */
export async function countEntriesSince(
  tx: SqlExecutor,
  memberId: string,
  reason: string,
  from: Date,
): Promise<number> {
  const rows = await tx.query(
    `SELECT count(*) AS n FROM ledger_entries WHERE member_id = $1 AND reason = $2 AND occurred_at >= $3::timestamptz`,
    [memberId, reason, from.toISOString()],
  )
  return toInt(rows[0]?.['n'] ?? 0)
}

export async function listEntries(
  tx: SqlExecutor,
  memberId: string,
  limit: number,
  beforeEntryId?: number,
): Promise<LedgerEntry[]> {
  const rows = await tx.query(
    `SELECT * FROM ledger_entries WHERE member_id = $1 AND ($2::bigint IS NULL OR entry_id < $2::bigint)
     ORDER BY entry_id DESC LIMIT $3`,
    [memberId, beforeEntryId ?? null, limit],
  )
  return rows.map(mapEntry)
}

/** Qualification figures in [from, to): net spend (text), orders not fully returned, net points earned. */
export async function qualificationFigures(
  tx: SqlExecutor,
  memberId: string,
  from: Date,
  to: Date,
): Promise<{ spend: string; orders: number; pointsEarned: number }> {
  const rows = await tx.query(
    `SELECT
       (SELECT COALESCE(SUM(net_amount - returned_amount), 0) FROM ledger_orders
          WHERE member_id = $1 AND ordered_at >= $2::timestamptz AND ordered_at < $3::timestamptz) AS spend,
       (SELECT count(*) FROM ledger_orders
          WHERE member_id = $1 AND ordered_at >= $2::timestamptz AND ordered_at < $3::timestamptz
            AND returned_amount < net_amount) AS orders,
       (SELECT COALESCE(SUM(points), 0) FROM ledger_entries
          WHERE member_id = $1 AND kind IN ('earn', 'reverse')
            AND occurred_at >= $2::timestamptz AND occurred_at < $3::timestamptz) AS points`,
    [memberId, from.toISOString(), to.toISOString()],
  )
  const r = rows[0] ?? {}
  return {
    spend: toDecimal(r['spend'] ?? '0'),
    orders: toInt(r['orders'] ?? 0),
    pointsEarned: toInt(r['points'] ?? 0),
  }
}

export async function insertTierChange(
  tx: SqlExecutor,
  c: Omit<TierChange, 'changeId'>,
): Promise<void> {
  await tx.query(
    `INSERT INTO ledger_tier_changes (member_id, from_tier, to_tier, kind, changed_at, reason)
     VALUES ($1, $2, $3, $4, $5::timestamptz, $6)`,
    [c.memberId, c.fromTier, c.toTier, c.kind, c.changedAt.toISOString(), c.reason],
  )
}

export async function listTierChanges(tx: SqlExecutor, memberId: string): Promise<TierChange[]> {
  const rows = await tx.query(
    'SELECT * FROM ledger_tier_changes WHERE member_id = $1 ORDER BY change_id',
    [memberId],
  )
  return rows.map((r) => ({
    changeId: toInt(r['change_id']),
    memberId: String(r['member_id']),
    fromTier: r['from_tier'] === null ? null : String(r['from_tier']),
    toTier: String(r['to_tier']),
    kind: r['kind'] as TierChange['kind'],
    changedAt: toDate(r['changed_at']),
    reason: String(r['reason']),
  }))
}

/** Every account's balance and tier (for checking a ledger against a replay). */
export async function listAccountBalances(
  tx: SqlExecutor,
): Promise<{ memberId: string; balance: number; tier: string }[]> {
  const rows = await tx.query('SELECT member_id, balance, tier FROM ledger_accounts')
  return rows.map((r) => ({
    memberId: String(r['member_id']),
    balance: toInt(r['balance']),
    tier: String(r['tier']),
  }))
}

/** Member ids in order, a page at a time (for the review job). */
export async function listMemberIds(
  tx: SqlExecutor,
  afterMemberId: string | null,
  limit: number,
): Promise<string[]> {
  const rows = await tx.query(
    `SELECT member_id FROM ledger_accounts WHERE ($1::text IS NULL OR member_id > $1::text)
     ORDER BY member_id LIMIT $2`,
    [afterMemberId, limit],
  )
  return rows.map((r) => String(r['member_id']))
}

/**
 * The transaction horizon: every transaction with an id below it has finished (committed or rolled back), so
 * rows stamped with such ids can no longer appear. The incremental sync reads `[last horizon, horizon)`.
 */
export async function transactionHorizon(tx: SqlExecutor): Promise<number> {
  const rows = await tx.query('SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS h')
  return toInt(rows[0]?.['h'])
}

/**
 * The ledger's identity: a random id created with the ledger's first read of it and renewed when the ledger is
 * rebuilt from scratch (`renew`, the bulk replay). A copy of the ledger made elsewhere (the sync) records it, so
 * that it recognises a different or rebuilt ledger, whose transaction ids say nothing about the old one's.
 */
export async function ledgerIdentity(tx: SqlExecutor, renew = false): Promise<string> {
  if (renew) {
    const rows = await tx.query(
      `INSERT INTO ledger_meta (key, value) VALUES ('ledger_id', gen_random_uuid()::text)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value RETURNING value`,
    )
    return String(rows[0]?.['value'])
  }
  const found = await tx.query(`SELECT value FROM ledger_meta WHERE key = 'ledger_id'`)
  if (found[0]) return String(found[0]['value'])
  // Two first readers race: the one that inserts second keeps the first one's id.
  await tx.query(
    `INSERT INTO ledger_meta (key, value) VALUES ('ledger_id', gen_random_uuid()::text)
     ON CONFLICT (key) DO NOTHING`,
  )
  const rows = await tx.query(`SELECT value FROM ledger_meta WHERE key = 'ledger_id'`)
  return String(rows[0]?.['value'])
}

export type SyncTable = 'ledger_entries' | 'ledger_accounts' | 'ledger_tier_changes'

const SYNC_KEYS: Record<SyncTable, string> = {
  ledger_entries: 'entry_id',
  ledger_accounts: 'member_id',
  ledger_tier_changes: 'change_id',
}

/** Rows of `table` written by transactions in [fromTx, toTx), a page at a time after `afterKey`. */
export async function rowsWrittenBetween(
  tx: SqlExecutor,
  table: SyncTable,
  fromTx: number,
  toTx: number,
  afterKey: string | number | null,
  limit: number,
): Promise<Row[]> {
  const key = SYNC_KEYS[table]
  const cast = table === 'ledger_accounts' ? 'text' : 'bigint'
  return tx.query(
    `SELECT * FROM ${table} WHERE tx_id >= $1 AND tx_id < $2 AND ($3::${cast} IS NULL OR ${key} > $3::${cast})
     ORDER BY ${key} LIMIT $4`,
    [fromTx, toTx, afterKey, limit],
  )
}

/** What an order earn reads before it decides (see `ledger_earn_context` in the schema). */
export interface EarnContext {
  readonly account:
    | (Pick<Account, 'memberId' | 'balance' | 'debt' | 'tier' | 'downgradeDueAt'> & {
        /** The transaction that last wrote the account (every write does), as text. */
        readonly txId: string
      })
    | undefined
  readonly request: StoredRequest | undefined
  readonly orderExists: boolean
  /** Points of `earn` entries in the local day (for the daily cap). */
  readonly earnedToday: number
  /** Qualification figures of the window before this order. */
  readonly spend: string
  readonly orders: number
  readonly pointsEarned: number
}

/** Reads an order earn's context in one round trip, locking the account first when `lock` is set. */
export async function earnContext(
  tx: SqlExecutor,
  p: {
    memberId: string
    key: string
    orderId: string
    dayFrom: Date
    dayTo: Date
    windowFrom: Date
    windowTo: Date
    lock: boolean
  },
): Promise<EarnContext> {
  const rows = await tx.query(
    `SELECT * FROM ledger_earn_context($1::text, $2::text, $3::text, $4::timestamptz, $5::timestamptz,
       $6::timestamptz, $7::timestamptz, $8::boolean)`,
    [
      p.memberId,
      p.key,
      p.orderId,
      p.dayFrom.toISOString(),
      p.dayTo.toISOString(),
      p.windowFrom.toISOString(),
      p.windowTo.toISOString(),
      p.lock,
    ],
  )
  const r = rows[0] ?? {}
  return {
    account:
      r['found'] === true
        ? {
            memberId: p.memberId,
            balance: toInt(r['balance']),
            debt: toInt(r['debt']),
            tier: String(r['tier']),
            downgradeDueAt: toDateOrNull(r['downgrade_due_at']),
            txId: String(r['account_tx']),
          }
        : undefined,
    request:
      r['req_member'] === null || r['req_member'] === undefined
        ? undefined
        : {
            memberId: String(r['req_member']),
            operation: String(r['req_operation']),
            requestHash: String(r['req_hash']),
            result: String(r['req_result']),
          },
    orderExists: r['order_exists'] === true,
    earnedToday: toInt(r['earned_today'] ?? 0),
    spend: toDecimal(r['q_spend'] ?? '0'),
    orders: toInt(r['q_orders'] ?? 0),
    pointsEarned: toInt(r['q_points'] ?? 0),
  }
}

/** Everything an order earn writes when the member has no debt. */
export interface EarnWrite {
  readonly memberId: string
  readonly orderId: string
  readonly orderedAt: Date
  readonly now: Date
  readonly channel: string
  readonly netAmount: string
  /** Points credited (0: no entry and no bucket). */
  readonly points: number
  readonly reason: string
  readonly availableAt: Date
  readonly expiresAt: Date | null
  readonly key: string
  readonly requestHash: string
  /** The result stored under the key, without `entryId` (added by the statement). */
  readonly result: Readonly<Record<string, unknown>>
  readonly balance: number
  readonly upgrade: { readonly from: string; readonly to: string; readonly reason: string } | null
  /**
   * Without the account lock: the transaction id the context read on the account. The statement writes only
   * if the account still carries it — no other write for the member came between — and writes nothing
   * otherwise. Null when the caller holds the lock.
   */
  readonly expectTxId: string | null
}

/** What {@link writeEarn} did: nothing (another write came first), or the earn with its entry id. */
export type EarnWritten =
  { readonly applied: false } | { readonly applied: true; readonly entryId: number | null }

/**
 * Writes an order earn in one statement (data-modifying CTEs): the account, then — only when the account was
 * written — the entry and its bucket, the order, the tier change of an upgrade and the stored result under the
 * idempotency key. With the account locked (`expectTxId` null) it always writes; without, only while the
 * account still carries `expectTxId`: a write for the member that committed meanwhile changed it (a running
 * one is waited for, then the condition is checked again on the row it wrote), and then nothing is written.
 */
export async function writeEarn(tx: SqlExecutor, w: EarnWrite): Promise<EarnWritten> {
  const rows = await tx.query(
    `WITH a AS (
       UPDATE ledger_accounts SET balance = $15::bigint,
         tier = COALESCE($13::text, tier),
         tier_since = CASE WHEN $13::text IS NULL THEN tier_since ELSE $3::timestamptz END,
         downgrade_due_at = CASE WHEN $13::text IS NULL THEN downgrade_due_at ELSE NULL END,
         updated_at = $4::timestamptz, tx_id = pg_current_xact_id()::text::bigint
       WHERE member_id = $1::text AND ($18::bigint IS NULL OR tx_id = $18::bigint)
       RETURNING member_id),
     e AS (
       INSERT INTO ledger_entries
         (member_id, kind, points, occurred_at, recorded_at, reason, source_type, source_id, idempotency_key)
       SELECT $1::text, 'earn', $2::bigint, $3::timestamptz, $4::timestamptz, $5::text, 'order', $6::text, $7::text
       FROM a WHERE $2::bigint > 0
       RETURNING entry_id),
     b AS (
       INSERT INTO ledger_buckets
         (member_id, entry_id, order_id, earned_at, available_at, expires_at, points, remaining)
       SELECT $1::text, e.entry_id, $6::text, $3::timestamptz, $8::timestamptz, $9::timestamptz, $2::bigint,
         $2::bigint
       FROM e
       RETURNING bucket_id),
     o AS (
       INSERT INTO ledger_orders
         (order_id, member_id, ordered_at, channel, net_amount, earned_points, bucket_id)
       SELECT $6::text, $1::text, $3::timestamptz, $10::text, $11::numeric, $2::bigint,
         (SELECT bucket_id FROM b)
       FROM a),
     t AS (
       INSERT INTO ledger_tier_changes (member_id, from_tier, to_tier, kind, changed_at, reason)
       SELECT $1::text, $12::text, $13::text, 'upgrade', $3::timestamptz, $14::text
       FROM a WHERE $13::text IS NOT NULL),
     r AS (
       INSERT INTO ledger_requests (idempotency_key, member_id, operation, request_hash, result, created_at)
       SELECT $7::text, $1::text, 'earn_order', $16::text,
         ($17::text::jsonb || jsonb_build_object('entryId', (SELECT entry_id FROM e)))::text, $4::timestamptz
       FROM a)
     SELECT (SELECT count(*) FROM a) AS applied, (SELECT entry_id FROM e) AS entry_id`,
    [
      w.memberId,
      w.points,
      w.orderedAt.toISOString(),
      w.now.toISOString(),
      w.reason,
      w.orderId,
      w.key,
      w.availableAt.toISOString(),
      w.expiresAt?.toISOString() ?? null,
      w.channel,
      w.netAmount,
      w.upgrade?.from ?? null,
      w.upgrade?.to ?? null,
      w.upgrade?.reason ?? null,
      w.balance,
      w.requestHash,
      JSON.stringify(w.result),
      w.expectTxId,
    ],
  )
  if (toInt(rows[0]?.['applied'] ?? 0) === 0) return { applied: false }
  const id = rows[0]?.['entry_id']
  return { applied: true, entryId: id === null || id === undefined ? null : toInt(id) }
}
