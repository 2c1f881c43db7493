/**
 * Bulk replay: the ledger of a whole history, computed member by member by the rules engine
 * (`replay-engine.ts`) in memory and written to an empty ledger store in large batches (`COPY`) — instead of
 * one locked transaction per event as the live path does.
 *
 * It produces the ledger the live replay produces: the same entries, buckets, allocations, orders, returns,
 * tier changes, accounts and stored request results under the same idempotency keys (so a later live replay or
 * live request with one of those keys is answered from them). Members are independent — every rule reads only
 * the member's own history — so each member is replayed alone, with the shared jobs (the expiry run at the start
 * of every day the history crosses, the tier review at the start of every review period) applied at the points
 * of the member's time line where the live replay runs them. Surrogate ids (entry, bucket, change) are numbered
 * member after member instead of in global time order; within a member they are in the same order.
 *
 * The history comes from a {@link BulkReplaySource}: the member database's staged history (see
 * `analytics/loyalty/bulk-replay.ts`) or any other source in the same shape. Referral, birthday and campaign
 * bonuses, reward redemptions and adjustments have no source events in the history; they stay on the live path.
 *
 * The ledger store must be empty (the ids are assigned here); the whole replay is one transaction.
 * @module
 */
import { availableParallelism } from 'node:os'
import { InputError, NotFoundError } from '../core/errors.js'
import { startModuleWorker } from '../core/worker-thread.js'
import { ledgerIdentity, toInt } from './ledger.repository.js'
import type { Ledger } from './ledger.service.js'
import { LEDGER_INDEXES } from './ledger.table.js'
import type { Program } from './program.js'
import {
  createReplayEngine,
  emptyReplayCounts,
  LEDGER_ROW_TABLES,
  Rows,
  type LedgerRowTable,
  type ReplayEvent,
  type ReplayJob,
  type ReplayMember,
} from './replay-engine.js'
import { dayStart } from './rules.js'
import type {
  ReplayWorkerInit,
  ReplayWorkerMessage,
  ReplayWorkerReply,
} from './replay-worker.js'
import { copyText, type SqlExecutor } from './stores/store.js'

/** What a replay of the history did: the events applied, the refusals and the jobs it ran. */
export interface ReplaySummary {
  readonly members: number
  readonly orders: number
  readonly returns: number
  /** Check-ins credited (at most one a day per member; the points may be capped to none). */
  readonly checkIns: number
  /** Reviews credited with the review bonus. */
  readonly reviewBonuses: number
  /** Orders paid partly with points whose points were redeemed, and those points. */
  readonly redemptions: number
  readonly redeemedPoints: number
  /**
   * Orders paid with points the ledger refused to redeem (the member had fewer spendable points than the order
   * used in the source system), and those points; also counted in `skipped`.
   */
  readonly refusedRedemptions: number
  readonly refusedRedemptionPoints: number
  /** Events the ledger refused (e.g. a return above the order's net amount), with the first reasons. */
  readonly skipped: number
  readonly skippedReasons: readonly string[]
  readonly expiryRuns: number
  readonly reviews: number
}

/** One member of the history with their events in time order. */
export interface MemberHistory {
  readonly member: ReplayMember
  readonly events: readonly ReplayEvent[]
}

/** A history to replay in bulk. Times are epoch milliseconds. */
export interface BulkReplaySource {
  /** Each local day of the history (YYYY-MM-DD in the program's zone) with the time of its first event. */
  days(): Promise<ReadonlyArray<{ readonly localDay: string; readonly first: number }>>
  /** Each UTC month of the history (YYYY-MM-01) with the time of its first event. */
  months(): Promise<ReadonlyArray<{ readonly month: string; readonly first: number }>>
  /** The members in the live replay's enrolment order, a batch of at most `size` at a time. */
  members(size: number): AsyncIterable<readonly MemberHistory[]>
  /** Events of members the history does not hold, in time order (the live path refuses them as unknown). */
  orphans(): Promise<ReadonlyArray<ReplayEvent & { readonly memberId: string }>>
}

export interface BulkReplayOptions {
  /** Run the tier review at each review date (default true). */
  readonly reviews?: boolean
  /** Members replayed per batch (default 20,000). */
  readonly membersPerBatch?: number
  /** Rows per `COPY` statement (default 20,000). */
  readonly rowsPerInsert?: number
  /**
   * Worker threads running the rules engine, members spread over them by a hash of the member id (default:
   * the machine's cores, at most 8, when the history holds more than one batch of members; otherwise 0).
   * 0 replays on this thread. Either way the rows are written by this thread,
   * in one transaction.
   */
  readonly workers?: number
  readonly onProgress?: (done: number) => void
  /** How many refusal reasons the summary keeps (default 20; in member order, not time order). */
  readonly reasons?: number
}

/** The first day (YYYY-MM-01) of the review period holding `at`. */
export function reviewPeriodOf(at: Date, months: number): string {
  const y = at.getUTCFullYear()
  const m = Math.floor(at.getUTCMonth() / months) * months
  return `${y}-${String(m + 1).padStart(2, '0')}-01`
}

/**
 * The shared jobs of a history, placed at the event that triggers them in the live replay: the expiry run at
 * the start of each day, the review at the start of each review period after the first. At one event the
 * expiry run comes before the review.
 */
export function replayJobs(
  program: Program,
  days: ReadonlyArray<{ readonly localDay: string; readonly first: number }>,
  months: ReadonlyArray<{ readonly month: string; readonly first: number }> | null,
): ReplayJob[] {
  const jobs: ReplayJob[] = days.map((r) => ({
    kind: 'expire',
    trigger: r.first,
    at: dayStart(program, r.localDay).getTime(),
    runKey: '',
  }))
  if (months !== null) {
    const periods = new Map<string, number>()
    for (const r of months) {
      const p = reviewPeriodOf(new Date(`${r.month}T00:00:00Z`), program.tiers.review_every_months)
      periods.set(p, Math.min(periods.get(p) ?? r.first, r.first))
    }
    const ordered = [...periods.entries()].sort((a, b) => a[1] - b[1])
    for (const [p, first] of ordered.slice(1)) {
      jobs.push({
        kind: 'review',
        trigger: first,
        at: new Date(`${p}T00:00:00Z`).getTime(),
        runKey: `review:${p}`,
      })
    }
  }
  return jobs.sort(
    (a, b) => a.trigger - b.trigger || (a.kind === b.kind ? 0 : a.kind === 'expire' ? -1 : 1),
  )
}

/** Replays a whole history into an empty ledger store, in bulk. Returns the same summary as the live replay. */
export async function bulkReplay(
  source: BulkReplaySource,
  ledger: Ledger,
  options: BulkReplayOptions = {},
): Promise<ReplaySummary> {
  const program = ledger.program
  const now = ledger.clock.now()
  const membersPerBatch = options.membersPerBatch ?? 20_000
  const rowsPerInsert = options.rowsPerInsert ?? 20_000
  const asked = options.workers
  if (asked !== undefined && (!Number.isInteger(asked) || asked < 0)) {
    throw InputError.single({
      field: 'workers',
      value: String(asked),
      reason: 'expected a whole number of worker threads (0 replays on this thread)',
    })
  }
  const reasons = options.reasons ?? 20
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
  const jobs = replayJobs(
    program,
    await source.days(),
    options.reviews === false ? null : await source.months(),
  )
  // By default, threads only for a history of more than one batch: starting them costs more than a small
  // history's replay.
  const batches = source.members(membersPerBatch)[Symbol.asyncIterator]()
  const first = await batches.next()
  const workers =
    asked ??
    (first.done !== true && first.value.length >= membersPerBatch
      ? Math.min(8, availableParallelism())
      : 0)
  const members: BulkReplaySource = {
    days: () => source.days(),
    months: () => source.months(),
    orphans: () => source.orphans(),
    async *members() {
      if (first.done === true) return
      yield first.value
      for (let b = await batches.next(); b.done !== true; b = await batches.next()) yield b.value
    },
  }
  // This thread's engine replays every member when there are no workers, and otherwise only counts the
  // refusals of events that belong to no member.
  const engine = createReplayEngine(program, now, jobs, { reasons })

  const outcome = await ledger.store.transaction(async (tx) => {
    // Empty tables: build the secondary indexes once at the end instead of row by row.
    // A new ledger: copies made of an earlier one (the sync's) must start again.
    await ledgerIdentity(tx, true)
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
    const replayed =
      workers === 0
        ? await replayHere(members, engine, tx, membersPerBatch, rowsPerInsert, options.onProgress)
        : await replayOnWorkers(members, tx, {
            workers,
            membersPerBatch,
            onProgress: options.onProgress,
            init: {
              program,
              now: now.getTime(),
              jobs,
              reasons,
              rowsPerInsert,
              idOffset: 0,
              idStride: workers,
            },
          })
    for (const e of await source.orphans()) {
      engine.skip(
        e,
        e.kind === 'return'
          ? new NotFoundError(`unknown order ${e.orderId} (it never earned points)`)
          : new NotFoundError(`unknown member ${e.memberId} (not enrolled in the program)`),
      )
    }
    for (const index of LEDGER_INDEXES) await tx.query(index.create)
    for (const fk of foreignKeys) await tx.query(fk.add)
    for (const [table, column, last] of [
      ['ledger_entries', 'entry_id', replayed.lastIds.entry],
      ['ledger_buckets', 'bucket_id', replayed.lastIds.bucket],
      ['ledger_tier_changes', 'change_id', replayed.lastIds.change],
    ] as const) {
      // The next id is last + 1: setval(last, true), or setval(1, false) when no row was written.
      await tx.query(
        `SELECT setval(pg_get_serial_sequence('${table}', '${column}'), $1::bigint, $2::boolean)`,
        [Math.max(1, last), last >= 1],
      )
    }
    return replayed
  })
  // Without workers this thread's engine holds every count; with them, it holds the orphans' refusals.
  const counts = { ...engine.counts }
  if (workers > 0) {
    for (const k of Object.keys(counts) as Array<keyof Counts>) counts[k] += outcome.counts[k]
  }
  counts.reviews = jobs.filter((j) => j.kind === 'review').length
  const skippedReasons =
    workers === 0
      ? engine.skippedReasons
      : [...outcome.reasons, ...engine.skippedReasons].slice(0, reasons)
  return { ...counts, expiryRuns: outcome.expiryRuns, skippedReasons }
}

type Engine = ReturnType<typeof createReplayEngine>
type Counts = Engine['counts']

/** What replaying the members did, whichever thread ran the engine. */
interface Replayed {
  readonly counts: Counts
  /** Refusal reasons of the members' events, in member order (at most `reasons`). */
  readonly reasons: readonly string[]
  readonly expiryRuns: number
  readonly lastIds: { readonly entry: number; readonly bucket: number; readonly change: number }
}

/** Replays the members on this thread, writing one batch while the next is computed. */
async function replayHere(
  source: BulkReplaySource,
  engine: Engine,
  tx: SqlExecutor,
  membersPerBatch: number,
  rowsPerInsert: number,
  onProgress: ((done: number) => void) | undefined,
): Promise<Replayed> {
  const { rows, counts } = engine
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
  for await (const batch of source.members(membersPerBatch)) {
    for (const h of batch) engine.replayMember(h.member, h.events)
    await flush(false)
    onProgress?.(counts.orders + counts.returns + counts.skipped)
  }
  await flush(true)
  await pending
  // The caller adds the orphans' refusals to the same engine and reads its counts.
  return {
    counts,
    reasons: [],
    expiryRuns: engine.expiryRunTimes.size,
    lastIds: engine.lastIds(),
  }
}

/** Which of `workers` worker threads replays a member: FNV-1a of the member id. */
export function memberShard(memberId: string, workers: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < memberId.length; i++) {
    h ^= memberId.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % workers
}

/** One worker thread of the replay: sends it messages and takes its replies in order. */
function replayWorker(init: ReplayWorkerInit) {
  const worker = startModuleWorker(
    new URL(import.meta.url.endsWith('.ts') ? './replay-worker.ts' : './replay-worker.js', import.meta.url),
    init,
  )
  const waiting: Array<{ resolve: (r: ReplayWorkerReply) => void; reject: (e: Error) => void }> = []
  let failure: Error | null = null
  const fail = (error: Error) => {
    failure ??= error
    for (const w of waiting.splice(0)) w.reject(failure)
  }
  worker.on('message', (reply: ReplayWorkerReply) => {
    const w = waiting.shift()
    if (reply.kind === 'failed') {
      const error = new Error(`bulk replay worker thread: ${reply.message}`)
      if (reply.stack !== undefined) error.stack = reply.stack
      if (w) w.reject(error)
      fail(error)
    } else w?.resolve(reply)
  })
  worker.on('error', fail)
  worker.on('exit', (code) =>
    fail(new Error(`a bulk replay worker thread stopped (exit code ${code}) before it finished`)),
  )
  return {
    ask(message: ReplayWorkerMessage): Promise<ReplayWorkerReply> {
      if (failure) return Promise.reject(failure)
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject })
        worker.postMessage(message)
      })
    },
    stop: () => worker.terminate(),
  }
}

/**
 * Replays the members on worker threads, each member on the worker its id hashes to. This thread reads the
 * next batch from the source while the workers compute the current one, and writes the rows they send back
 * (`COPY` text made on the workers) one statement at a time, in the transaction.
 */
async function replayOnWorkers(
  source: BulkReplaySource,
  tx: SqlExecutor,
  o: {
    readonly workers: number
    readonly membersPerBatch: number
    readonly onProgress: ((done: number) => void) | undefined
    readonly init: ReplayWorkerInit
  },
): Promise<Replayed> {
  const pool = Array.from({ length: o.workers }, (_, w) =>
    replayWorker({ ...o.init, idOffset: w }),
  )
  const reasons: Array<readonly [number, string]> = []
  let ordinal = 0
  let written: Promise<void> = Promise.resolve()
  const write = async (replies: readonly ReplayWorkerReply[]) => {
    for (const reply of replies) {
      if (reply.kind !== 'rows') throw new Error(`unexpected bulk replay worker reply ${reply.kind}`)
      for (const [name, bytes] of reply.copies) {
        const t = LEDGER_ROW_TABLES[name]
        await tx.copyIn(t.table, t.columns, bytes)
      }
      reasons.push(...reply.reasons)
    }
  }
  try {
    let done = 0
    for await (const batch of source.members(o.membersPerBatch)) {
      const shares = pool.map(() => ({
        kind: 'members' as const,
        members: [] as MemberHistory[],
        ordinals: [] as number[],
      }))
      for (const h of batch) {
        const share = shares[memberShard(h.member.memberId, o.workers)] as (typeof shares)[number]
        share.members.push(h)
        share.ordinals.push(ordinal++)
        done += h.events.length
      }
      const replies = Promise.all(pool.map((w, i) => w.ask(shares[i] as ReplayWorkerMessage)))
      // Awaited at the next batch; this keeps a failure from being reported as unhandled meanwhile.
      replies.catch(() => {})
      await written
      written = replies.then(write)
      written.catch(() => {})
      o.onProgress?.(done)
    }
    await written
    const finished = await Promise.all(pool.map((w) => w.ask({ kind: 'finish' })))
    const counts = emptyReplayCounts()
    const expiryRunTimes = new Set<number>()
    const lastIds = { entry: 0, bucket: 0, change: 0 }
    for (const f of finished) {
      if (f.kind !== 'finished') throw new Error(`unexpected bulk replay worker reply ${f.kind}`)
      for (const k of Object.keys(counts) as Array<keyof Counts>) counts[k] += f.counts[k] ?? 0
      for (const t of f.expiryRunTimes) expiryRunTimes.add(t)
      lastIds.entry = Math.max(lastIds.entry, f.lastIds.entry)
      lastIds.bucket = Math.max(lastIds.bucket, f.lastIds.bucket)
      lastIds.change = Math.max(lastIds.change, f.lastIds.change)
    }
    // Each worker kept its first reasons; the first overall are among them. Stable: a member's stay in order.
    reasons.sort((a, b) => a[0] - b[0])
    return {
      counts,
      reasons: reasons.slice(0, o.init.reasons).map(([, r]) => r),
      expiryRuns: expiryRunTimes.size,
      lastIds,
    }
  } finally {
    await Promise.all(pool.map((w) => w.stop()))
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
