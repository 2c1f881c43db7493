/**
 * Bulk replay: the ledger of the whole loaded order history, computed member by member in memory and written to
 * the ledger store in large batches (`COPY`) — instead of one locked transaction per order as
 * {@link replayOrderHistory} does.
 *
 * The rules are those of the member engine (`ledger/replay-engine.ts`, no I/O); this module stages the history
 * in DuckDB, places the shared jobs, feeds the engine member by member and writes its rows.
 *
 * It produces the ledger the live replay produces: the same entries, buckets, allocations, orders, returns,
 * tier changes, accounts and stored request results under the same idempotency keys (so a later live replay or
 * live request with one of those keys is answered from them). Members are independent — every rule reads only
 * the member's own history — so each member is replayed alone, with the shared jobs (the expiry run at the start
 * of every day the history crosses, the tier review at the start of every review period) applied at the points
 * of the member's time line where the live replay runs them. Surrogate ids (entry, bucket, change) are numbered
 * member after member instead of in global time order; within a member they are in the same order.
 *
 * Rules covered: spend points (tier, channel and campaign multipliers; rounding; per-order and per-day caps),
 * pending period, expiry, returns with the claw-back rule and debt paid by later earns, immediate upgrades,
 * the tier review with grace periods and downgrades, the points paid in orders (redeemed from the spendable
 * buckets, earliest-expiring first, or refused when too few are spendable), and the check-in (daily, with
 * streaks) and review bonuses. Referral, birthday and campaign bonuses, reward redemptions and adjustments have
 * no source events in the history; they stay on the live path.
 *
 * The ledger store must be empty (the ids are assigned here); the whole replay is one transaction.
 * @module
 */
import { InputError, NotFoundError } from '../../core/errors.js'
import { sql } from '../../engine/sql/fragment.js'
import {
  bulkHistoryDays,
  bulkHistoryMonths,
  dropBulkHistory,
  stageBulkHistory,
} from '../../duckdb/loyalty-history.js'
import { toInt } from '../../ledger/ledger.repository.js'
import { LEDGER_INDEXES } from '../../ledger/ledger.table.js'
import { type Ledger } from '../../ledger/ledger.service.js'
import {
  createReplayEngine,
  LEDGER_ROW_TABLES,
  Rows,
  type LedgerRowTable,
  type ReplayEvent,
  type ReplayJob,
} from '../../ledger/replay-engine.js'
import { dayStart } from '../../ledger/rules.js'
import { copyText, type SqlExecutor } from '../../ledger/stores/store.js'
import type { Database } from '../../store/database.js'
import { historyKinds, type ReplaySummary } from './replay.js'

export interface BulkReplayOptions {
  /** Run the tier review at each review date (default true). */
  readonly reviews?: boolean
  /** Members read from DuckDB and replayed per batch (default 20,000). */
  readonly membersPerBatch?: number
  /** Rows per `COPY` statement (default 20,000). */
  readonly rowsPerInsert?: number
  readonly onProgress?: (done: number) => void
  /** How many refusal reasons the summary keeps (default 20; in member order, not time order). */
  readonly reasons?: number
}

interface EventRow extends ReplayEvent, Record<string, unknown> {
  memberRank: number | bigint
}

function firstOfPeriod(at: Date, months: number): string {
  const y = at.getUTCFullYear()
  const m = Math.floor(at.getUTCMonth() / months) * months
  return `${y}-${String(m + 1).padStart(2, '0')}-01`
}

/**
 * Replays members and their history (orders, points paid, returns, check-ins, reviews) into an empty ledger store,
 * in bulk. Returns the same summary as the live replay.
 */
export async function bulkReplayOrderHistory(
  db: Database,
  ledger: Ledger,
  options: BulkReplayOptions = {},
): Promise<ReplaySummary> {
  const d = db.driver
  const program = ledger.program
  const now = ledger.clock.now()
  const membersPerBatch = options.membersPerBatch ?? 20_000
  const rowsPerInsert = options.rowsPerInsert ?? 20_000
  const nonEmpty = await ledger.store.query(
    `SELECT (SELECT count(*) FROM ledger_accounts) + (SELECT count(*) FROM ledger_requests) AS n`,
  )
  if (toInt(nonEmpty[0]?.['n'] ?? 0) > 0) {
    throw InputError.single({
      field: 'ledger',
      reason:
        'the bulk replay writes into an empty ledger only (use the live replay to add to one)',
    })
  }

  // The events in one table, with each member's rank in the live replay's enrolment order.
  await stageBulkHistory(d, historyKinds(program))

  // The shared jobs, placed at the event that triggers them in the live replay.
  const jobs: ReplayJob[] = []
  let reviews = 0
  const days = await bulkHistoryDays(d)
  for (const r of days) {
    jobs.push({
      kind: 'expire',
      trigger: Number(r.first),
      at: dayStart(program, r.localDay).getTime(),
      runKey: '',
    })
  }
  if (options.reviews !== false) {
    const months = await bulkHistoryMonths(d)
    const periods = new Map<string, number>()
    for (const r of months) {
      const p = firstOfPeriod(new Date(`${r.month}T00:00:00Z`), program.tiers.review_every_months)
      const first = Number(r.first)
      periods.set(p, Math.min(periods.get(p) ?? first, first))
    }
    const ordered = [...periods.entries()].sort((a, b) => a[1] - b[1])
    for (const [p, first] of ordered.slice(1)) {
      jobs.push({
        kind: 'review',
        trigger: first,
        at: new Date(`${p}T00:00:00Z`).getTime(),
        runKey: `review:${p}`,
      })
      reviews++
    }
  }
  // At one event the expiry run comes before the review.
  jobs.sort(
    (a, b) => a.trigger - b.trigger || (a.kind === b.kind ? 0 : a.kind === 'expire' ? -1 : 1),
  )
  const engine = createReplayEngine(program, now, jobs, { reasons: options.reasons ?? 20 })
  const { rows, counts } = engine
  counts.reviews = reviews

  const memberTotal = toInt(
    (await d.all<{ n: number | bigint }>(sql`SELECT count(*) AS n FROM loyalty_bulk_members`))[0]
      ?.n ?? 0,
  )

  await ledger.store.transaction(async (tx) => {
    // Empty tables: build the secondary indexes once at the end instead of row by row.
    for (const index of LEDGER_INDEXES) await tx.query(`DROP INDEX IF EXISTS ${index.name}`)
    // Likewise the foreign keys: checked once per table at the end rather than by a trigger per row. The
    // statements come from the catalog (names quoted by the server); the ledger tables are empty here.
    const foreignKeys = await tx.query<{ drop: string; add: string }>(
      `SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop,
              format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname,
                     pg_get_constraintdef(oid)) AS add
       FROM pg_constraint
       WHERE contype = 'f' AND conrelid::regclass::text LIKE 'ledger\\_%'
       ORDER BY conname`,
    )
    for (const fk of foreignKeys) await tx.query(fk.drop)
    // Tables are written in foreign-key order, all of them at once, whenever one holds a full insert. The
    // inserts of one batch run while the next batch is computed (one insert in flight at a time).
    let pending: Promise<void> = Promise.resolve()
    const flush = async (all: boolean) => {
      const names = Object.keys(LEDGER_ROW_TABLES) as LedgerRowTable[]
      if (!all && !names.some((n) => rows[n].length >= rowsPerInsert)) return
      engine.drainAllocations()
      const batch = names
        .filter((n) => rows[n].length > 0)
        .map((n) => {
          const r = rows[n]
          rows[n] = new Rows(r.width)
          return [n, r] as const
        })
      await pending
      pending = (async () => {
        for (const [name, r] of batch) await insertRows(tx, name, r, rowsPerInsert)
      })()
      // Awaited at the next flush; this keeps a failure from being reported as unhandled meanwhile.
      pending.catch(() => {})
    }

    for (let lo = 1; lo <= memberTotal; lo += membersPerBatch) {
      const hi = lo + membersPerBatch - 1
      const members = await d.all<{
        memberRank: number | bigint
        memberId: string
        registeredAt: number | bigint
        birthday: string | null
      }>(
        sql`SELECT member_rank, member_id, registered_at, birthday FROM loyalty_bulk_members
            WHERE member_rank BETWEEN ${lo} AND ${hi} ORDER BY member_rank`,
      )
      const events = await d.all<EventRow>(
        sql`SELECT member_rank, kind, id, order_id, ts, channel, amount FROM loyalty_bulk_events
            WHERE member_rank BETWEEN ${lo} AND ${hi} ORDER BY member_rank, ts, seq, id`,
      )
      let ei = 0
      for (const row of members) {
        const rank = Number(row.memberRank)
        const from = ei
        while (ei < events.length && Number((events[ei] as EventRow).memberRank) === rank) ei++
        engine.replayMember(
          {
            memberId: row.memberId,
            enrolledAt: Number(row.registeredAt),
            birthday: row.birthday,
          },
          events.slice(from, ei),
        )
      }
      await flush(false)
      options.onProgress?.(counts.orders + counts.returns + counts.skipped)
    }
    // Events of members the members table does not hold: the live path refuses them as unknown.
    const orphans = await d.all<EventRow>(
      sql`SELECT member_rank, kind, id, order_id, ts, channel, amount, member_id FROM loyalty_bulk_events
          WHERE member_rank = 0 ORDER BY ts, seq, id`,
    )
    for (const e of orphans) {
      engine.skip(
        e,
        e.kind === 'return'
          ? new NotFoundError(`unknown order ${e.orderId} (it never earned points)`)
          : new NotFoundError(
              `unknown member ${String(e['memberId'])} (not enrolled in the program)`,
            ),
      )
    }
    await flush(true)
    await pending
    for (const index of LEDGER_INDEXES) await tx.query(index.create)
    for (const fk of foreignKeys) await tx.query(fk.add)
    const next = engine.nextIds()
    for (const [table, column, id] of [
      ['ledger_entries', 'entry_id', next.entry],
      ['ledger_buckets', 'bucket_id', next.bucket],
      ['ledger_tier_changes', 'change_id', next.change],
    ] as const) {
      await tx.query(
        `SELECT setval(pg_get_serial_sequence('${table}', '${column}'), $1::bigint, $2::boolean)`,
        [Math.max(1, id - 1), id > 1],
      )
    }
  })
  await dropBulkHistory(d)
  return {
    ...counts,
    expiryRuns: engine.expiryRunTimes.size,
    skippedReasons: engine.skippedReasons,
  }
}

/** Writes the rows with `COPY`, at most `size` rows per statement, and empties them. */
async function insertRows(
  tx: SqlExecutor,
  name: LedgerRowTable,
  r: Rows,
  size: number,
): Promise<void> {
  const t = LEDGER_ROW_TABLES[name]
  for (let start = 0; start < r.length; start += size) {
    await tx.copyIn(t.table, t.columns, copyText(r.cols, start, Math.min(r.length, start + size)))
  }
  r.clear()
}
